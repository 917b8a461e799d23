using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Client;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class XmlRpcResponseWriterTests
{
    private const string Prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    private static string Written(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static object?[] ParsedItems(Action<IBufferWriter<byte>> write)
    {
        var response = OneXmlRpc.ParseResponse(Written(write));
        Assert.False(response.IsFault);
        return Assert.IsType<object?[]>(response.Value);
    }

    [Fact]
    public void WriteSuccess_Int_WritesOpenNebulaSuccessArray()
    {
        var xml = Written(o => XmlRpcResponseWriter.WriteSuccess(o, 42));

        Assert.Equal(
            Prolog + "<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value><i4>42</i4></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>",
            xml);
    }

    [Fact]
    public void WriteSuccess_EachScalarKind_RoundTripsThroughClientParser()
    {
        Assert.Equal(new object?[] { true, -7, 0 }, ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, -7)));
        Assert.Equal(new object?[] { true, 1L << 40, 0 }, ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, 1L << 40)));
        Assert.Equal(new object?[] { true, false, 0 }, ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, false)));
        Assert.Equal(new object?[] { true, "7.5.80", 0 }, ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, "7.5.80")));
    }

    [Fact]
    public void WriteSuccess_I8_UsesI8Tag()
    {
        Assert.Contains("<value><i8>5</i8></value>", Written(o => XmlRpcResponseWriter.WriteSuccess(o, 5L)), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteSuccess_XmlDocumentString_IsEscapedAndReadsBackExactly()
    {
        const string document = "<VM><ID>0</ID><NAME><![CDATA[a & b]]></NAME><T>x]]>y\r\n\t</T></VM>";

        var xml = Written(o => XmlRpcResponseWriter.WriteSuccess(o, document));

        Assert.Contains("&lt;VM&gt;&lt;ID&gt;0&lt;/ID&gt;", xml, StringComparison.Ordinal);
        Assert.Contains("a &amp; b]]&gt;", xml, StringComparison.Ordinal);
        Assert.Contains("x]]&gt;y&#13;\n\t", xml, StringComparison.Ordinal);
        Assert.Equal(new object?[] { true, document, 0 }, ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, document)));
    }

    [Fact]
    public void WriteSuccess_StringWithIllegalControlChars_StaysParseable()
    {
        var items = ParsedItems(o => XmlRpcResponseWriter.WriteSuccess(o, "a\u0001b\u0000c\u001Bd"));

        Assert.Equal("abcd", items[1]);
    }

    [Fact]
    public void WriteFailure_WritesFiveElementArrayWithI8ReplicationIndex()
    {
        var xml = Written(o => XmlRpcResponseWriter.WriteFailure(o, "[one.vm.info] Error getting virtual machine [5].", 0x0400, 5));

        Assert.Equal(
            Prolog + "<methodResponse><params><param><value><array><data><value><boolean>0</boolean></value><value><string>[one.vm.info] Error getting virtual machine [5].</string></value><value><i4>1024</i4></value><value><i4>5</i4></value><value><i8>0</i8></value></data></array></value></param></params></methodResponse>",
            xml);
        Assert.Equal(
            new object?[] { false, "[one.vm.info] Error getting virtual machine [5].", 0x400, 5, 0L },
            ParsedItems(o => XmlRpcResponseWriter.WriteFailure(o, "[one.vm.info] Error getting virtual machine [5].", 0x0400, 5)));
    }

    [Fact]
    public void WriteFailure_MessageWithMarkup_IsEscaped()
    {
        var items = ParsedItems(o => XmlRpcResponseWriter.WriteFailure(o, "[one.x] bad <TEMPLATE> & \"stuff\"", 0x1000, -1, 17));

        Assert.Equal(new object?[] { false, "[one.x] bad <TEMPLATE> & \"stuff\"", 0x1000, -1, 17L }, items);
    }

    [Fact]
    public void WriteFault_WritesStandardFaultStruct()
    {
        var xml = Written(o => XmlRpcResponseWriter.WriteFault(o, XmlRpcFaultCodes.NoSuchMethodError, "Method 'one.nope' not defined <x>"));

        Assert.Equal(
            Prolog + "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-506</int></value></member><member><name>faultString</name><value><string>Method 'one.nope' not defined &lt;x&gt;</string></value></member></struct></value></fault></methodResponse>",
            xml);
        var parsed = OneXmlRpc.ParseResponse(xml);
        Assert.True(parsed.IsFault);
        Assert.Equal(-506, parsed.FaultCode);
        Assert.Equal("Method 'one.nope' not defined <x>", parsed.FaultString);
    }

    [Fact]
    public void WriteFault_FromException_UsesItsCodeAndMessage()
    {
        var exception = new XmlRpcArgumentException("Type mismatch: expected int at parameter 1, got string", 1);

        var parsed = OneXmlRpc.ParseResponse(Written(o => XmlRpcResponseWriter.WriteFault(o, exception)));

        Assert.Equal(XmlRpcFaultCodes.TypeError, parsed.FaultCode);
        Assert.Equal(exception.Message, parsed.FaultString);
    }

    [Fact]
    public void StreamingString_MixedChunkKinds_EqualsWholeStringAnswer()
    {
        var cachedVm0 = XmlRpcEscaper.EscapeUtf8("<VM><ID>0</ID><NAME>a&b</NAME></VM>");
        var cachedVm1 = XmlRpcEscaper.EscapeUtf8("<VM><ID>1</ID><NAME>ü</NAME></VM>");
        const string whole = "<VM_POOL><VM><ID>0</ID><NAME>a&b</NAME></VM><VM><ID>1</ID><NAME>ü</NAME></VM><X>&amp;</X></VM_POOL>";

        var streamed = Written(o =>
        {
            XmlRpcResponseWriter.WriteSuccessStringStart(o);
            XmlRpcResponseWriter.WriteTextChunk(o, "<VM_POOL>");
            XmlRpcResponseWriter.WriteEscapedChunk(o, cachedVm0);
            XmlRpcResponseWriter.WriteEscapedChunk(o, cachedVm1);
            XmlRpcResponseWriter.WriteUtf8TextChunk(o, "<X>&amp;</X>"u8);
            XmlRpcResponseWriter.WriteTextChunk(o, "</VM_POOL>");
            XmlRpcResponseWriter.WriteSuccessStringEnd(o);
        });

        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteSuccess(o, whole)), streamed);
        Assert.Equal(whole, OneXmlRpc.ParseResponse(streamed).Items![1]);
    }

    [Fact]
    public async Task StreamingString_ManyMegabytesThroughPipeWriter_ReadsBackIntact()
    {
        var vm = XmlRpcEscaper.EscapeUtf8("<VM><ID>1</ID><TEMPLATE><CPU>1</CPU><DESC>a < b & c</DESC></TEMPLATE></VM>");
        const int count = 80_000; // about 7 MB escaped
        var stream = new MemoryStream();
        var pipe = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));

        XmlRpcResponseWriter.WriteSuccessStringStart(pipe);
        XmlRpcResponseWriter.WriteTextChunk(pipe, "<VM_POOL>");
        for (var i = 0; i < count; i++)
        {
            XmlRpcResponseWriter.WriteEscapedChunk(pipe, vm);
            if (i % 1000 == 0)
            {
                await pipe.FlushAsync();
            }
        }

        XmlRpcResponseWriter.WriteTextChunk(pipe, "</VM_POOL>");
        XmlRpcResponseWriter.WriteSuccessStringEnd(pipe);
        await pipe.CompleteAsync();

        var value = Assert.IsType<string>(OneXmlRpc.ParseResponse(stream.ToArray()).Items![1]);
        Assert.StartsWith("<VM_POOL><VM><ID>1</ID><TEMPLATE><CPU>1</CPU><DESC>a < b & c</DESC>", value, StringComparison.Ordinal);
        Assert.Equal(count, CountOccurrences(value, "<VM>"));
        Assert.True(stream.Length > 5_000_000);
    }

    [Fact]
    public void WriteResponse_EveryValueType_RoundTripsThroughClientParser()
    {
        var time = new DateTime(2025, 1, 2, 3, 4, 5);
        var value = XmlRpcValue.FromArray(
            1,
            XmlRpcValue.FromI8(long.MinValue),
            true,
            "s <&>",
            XmlRpcValue.FromDouble(-0.25),
            XmlRpcValue.FromDateTime(time),
            XmlRpcValue.FromBase64([0, 255, 7]),
            XmlRpcValue.Nil,
            XmlRpcValue.FromArray(),
            XmlRpcValue.FromStruct([new("a<b", 1), new("n", XmlRpcValue.FromArray("x"))]));

        var parsed = OneXmlRpc.ParseResponse(Written(o => XmlRpcResponseWriter.WriteResponse(o, value)));

        var items = Assert.IsType<object?[]>(parsed.Value);
        Assert.Equal(1, items[0]);
        Assert.Equal(long.MinValue, items[1]);
        Assert.Equal(true, items[2]);
        Assert.Equal("s <&>", items[3]);
        Assert.Equal(-0.25, items[4]);
        Assert.Equal(time, items[5]);
        Assert.Equal(new byte[] { 0, 255, 7 }, items[6]);
        Assert.Null(items[7]);
        Assert.Empty(Assert.IsType<object?[]>(items[8]));
        var members = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(items[9]);
        Assert.Equal(1, members["a<b"]);
        Assert.Equal(new object?[] { "x" }, members["n"]);
    }

    [Theory]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1.5, "1.5")]
    [InlineData(1e-7, "0.0000001")]
    [InlineData(-3d, "-3")]
    public void WriteValue_Double_HasNoExponent(double number, string expected)
    {
        Assert.Equal($"<value><double>{expected}</double></value>", Written(o => XmlRpcResponseWriter.WriteValue(o, XmlRpcValue.FromDouble(number))));
    }

    [Fact]
    public void WriteSuccess_GenericValueOverload_MatchesTypedOverload()
    {
        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteSuccess(o, 5)), Written(o => XmlRpcResponseWriter.WriteSuccess(o, XmlRpcValue.FromInt(5))));
        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteSuccess(o, "a<")), Written(o => XmlRpcResponseWriter.WriteSuccess(o, XmlRpcValue.FromString("a<"))));
    }

    [Fact]
    public async Task StreamOverloads_WriteSameBytesAsBufferWriter()
    {
        var success = new MemoryStream();
        var failure = new MemoryStream();
        var fault = new MemoryStream();

        await XmlRpcResponseWriter.WriteSuccessAsync(success, "x");
        await XmlRpcResponseWriter.WriteFailureAsync(failure, "[m] no", 0x100, -1, 0);
        await XmlRpcResponseWriter.WriteFaultAsync(fault, -503, "bad");

        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteSuccess(o, "x")), Encoding.UTF8.GetString(success.ToArray()));
        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteFailure(o, "[m] no", 0x100)), Encoding.UTF8.GetString(failure.ToArray()));
        Assert.Equal(Written(o => XmlRpcResponseWriter.WriteFault(o, -503, "bad")), Encoding.UTF8.GetString(fault.ToArray()));
    }

    [Fact]
    public void WriteResponse_OutputParsesWithServerParserWhenWrappedAsCall()
    {
        // The writer's value encoding and the parser's value decoding agree on every type.
        var value = XmlRpcValue.FromStruct([new("i", 1), new("s", " spaced \r\n"), new("b", XmlRpcValue.FromBase64("hi"u8)), new("t", XmlRpcValue.FromDateTime(new DateTime(2020, 5, 6, 7, 8, 9)))]);
        var valueXml = Written(o => XmlRpcResponseWriter.WriteValue(o, value));

        var parsed = XmlRpcRequestParser.Parse($"<methodCall><methodName>m</methodName><params><param>{valueXml}</param></params></methodCall>");

        Assert.Equal(value, parsed.Params[0]);
    }

    private static int CountOccurrences(string text, string fragment)
    {
        var count = 0;
        for (var i = text.IndexOf(fragment, StringComparison.Ordinal); i >= 0; i = text.IndexOf(fragment, i + fragment.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
