using System.Text;
using EdgeCloud.Api.XmlRpc;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class XmlRpcRequestParserTests
{
    private static string Call(string method, params string[] values)
    {
        var builder = new StringBuilder("<?xml version=\"1.0\"?><methodCall><methodName>").Append(method).Append("</methodName><params>");
        foreach (var value in values)
        {
            builder.Append("<param><value>").Append(value).Append("</value></param>");
        }

        return builder.Append("</params></methodCall>").ToString();
    }

    private static XmlRpcValue Single(string valueInnerXml) => XmlRpcRequestParser.Parse(Call("m", valueInnerXml)).Params[0];

    private static XmlRpcFormatException Rejects(string body) =>
        Assert.Throws<XmlRpcFormatException>(() => XmlRpcRequestParser.Parse(body));

    [Fact]
    public void Parse_RubyCliCall_ReadsMethodAndTypedParams()
    {
        const string body = """
            <?xml version="1.0" ?><methodCall><methodName>one.vmpool.info</methodName><params>
            <param><value><string>oneadmin:pw</string></value></param>
            <param><value><i4>-2</i4></value></param>
            <param><value><i4>-1</i4></value></param>
            <param><value><i4>-1</i4></value></param>
            <param><value><i4>-1</i4></value></param>
            <param><value><string></string></value></param>
            </params></methodCall>
            """;

        var request = XmlRpcRequestParser.Parse(Encoding.UTF8.GetBytes(body));

        Assert.Equal("one.vmpool.info", request.MethodName);
        Assert.Equal(
            new XmlRpcValue[] { "oneadmin:pw", -2, -1, -1, -1, "" },
            request.Params);
    }

    [Fact]
    public void Parse_PyoneIntTag_IsSameTypeAsI4()
    {
        var request = XmlRpcRequestParser.Parse(Call("one.vm.action", "<string>hold</string>", "<int>3</int>"));

        Assert.Equal(XmlRpcType.Int, request.Params[1].Type);
        Assert.Equal(3, request.Params[1].AsInt());
    }

    [Theory]
    [InlineData("<i4>2147483647</i4>", int.MaxValue)]
    [InlineData("<i4>-2147483648</i4>", int.MinValue)]
    [InlineData("<int>+7</int>", 7)]
    [InlineData("<i4> 42 </i4>", 42)]
    [InlineData("<int>0</int>", 0)]
    public void Parse_IntegerForms_ParsesValue(string xml, int expected)
    {
        Assert.Equal(XmlRpcValue.FromInt(expected), Single(xml));
    }

    [Fact]
    public void Parse_I8_ParsesLong()
    {
        Assert.Equal(XmlRpcValue.FromI8(9_000_000_000L), Single("<i8>9000000000</i8>"));
    }

    [Theory]
    [InlineData("<boolean>1</boolean>", true)]
    [InlineData("<boolean>0</boolean>", false)]
    [InlineData("<boolean> 1\n</boolean>", true)]
    public void Parse_Boolean_ParsesZeroOrOne(string xml, bool expected)
    {
        Assert.Equal(XmlRpcValue.FromBool(expected), Single(xml));
    }

    [Fact]
    public void Parse_Double_ParsesInvariant()
    {
        Assert.Equal(-12.5, Single("<double>-12.5</double>").AsDouble());
    }

    [Fact]
    public void Parse_DateTime_ParsesIso8601BasicFormat()
    {
        Assert.Equal(new DateTime(1998, 7, 17, 14, 8, 55), Single("<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>").AsDateTime());
    }

    [Fact]
    public void Parse_Base64_DecodesBytesIgnoringLineBreaks()
    {
        var value = Single("<base64>aGVs\nbG8=</base64>");

        Assert.Equal("hello"u8.ToArray(), value.AsBase64().ToArray());
    }

    [Fact]
    public void Parse_Nil_IsNil()
    {
        Assert.True(Single("<nil/>").IsNil);
    }

    [Theory]
    [InlineData("<string></string>")]
    [InlineData("<string/>")]
    [InlineData("")]
    public void Parse_EmptyStringForms_AreEmptyString(string xml)
    {
        Assert.Equal(XmlRpcValue.FromString(string.Empty), Single(xml));
    }

    [Fact]
    public void Parse_SelfClosingValue_IsEmptyString()
    {
        var request = XmlRpcRequestParser.Parse("<methodCall><methodName>m</methodName><params><param><value/></param></params></methodCall>");

        Assert.Equal(XmlRpcValue.FromString(string.Empty), request.Params[0]);
    }

    [Fact]
    public void Parse_BareTextValue_IsStringWithWhitespaceKept()
    {
        Assert.Equal(XmlRpcValue.FromString("  user:pass \t"), Single("  user:pass \t"));
    }

    [Fact]
    public void Parse_WhitespaceOnlyValue_IsWhitespaceString()
    {
        Assert.Equal(XmlRpcValue.FromString("   "), Single("   "));
    }

    [Fact]
    public void Parse_StringWithEntitiesNewlinesAndCr_KeepsTextExactly()
    {
        var value = Single("<string> a &lt;b&gt; &amp; \"c\"\n  line2&#13;\n\t</string>");

        Assert.Equal(" a <b> & \"c\"\n  line2\r\n\t", value.AsString());
    }

    [Fact]
    public void Parse_StringWithCdata_IsConcatenatedText()
    {
        var value = Single("<string>x<![CDATA[<TEMPLATE><A>1</A></TEMPLATE>]]>y</string>");

        Assert.Equal("x<TEMPLATE><A>1</A></TEMPLATE>y", value.AsString());
    }

    [Fact]
    public void Parse_TypedValueSurroundedByWhitespace_IgnoresWhitespace()
    {
        Assert.Equal(XmlRpcValue.FromInt(5), Single("\n   <i4>5</i4>\n  "));
    }

    [Fact]
    public void Parse_NonAsciiString_DecodesUtf8()
    {
        var request = XmlRpcRequestParser.Parse(Encoding.UTF8.GetBytes(Call("m", "<string>héllo ✓ 🚀</string>")));

        Assert.Equal("héllo ✓ 🚀", request.Params[0].AsString());
    }

    [Fact]
    public void Parse_GroupListArray_ParsesIntItems()
    {
        var value = Single("<array><data><value><i4>1</i4></value>\n<value><int>100</int></value></data></array>");

        Assert.Equal(XmlRpcValue.FromArray(1, 100), value);
    }

    [Fact]
    public void Parse_EmptyArray_ParsesEmptyBothWays()
    {
        Assert.Empty(Single("<array><data/></array>").AsArray());
        Assert.Empty(Single("<array>\n<data>\n</data>\n</array>").AsArray());
    }

    [Fact]
    public void Parse_NestedArraysAndStructs_ParsesStructure()
    {
        var value = Single("""
            <struct>
              <member><name>ids</name><value><array><data><value><i4>1</i4></value><value><array><data><value>x</value></data></array></value></data></array></value></member>
              <member><name>flag</name><value><boolean>1</boolean></value></member>
              <member><name>inner</name><value><struct><member><name>n</name><value><nil/></value></member></struct></value></member>
            </struct>
            """);

        var expected = XmlRpcValue.FromStruct(
        [
            new("ids", XmlRpcValue.FromArray(1, XmlRpcValue.FromArray("x"))),
            new("flag", true),
            new("inner", XmlRpcValue.FromStruct([new("n", XmlRpcValue.Nil)])),
        ]);
        Assert.Equal(expected, value);
        Assert.True(value.TryGetMember("flag", out var flag) && flag.AsBool());
    }

    [Fact]
    public void Parse_NoParams_ReturnsEmptyList()
    {
        Assert.Empty(XmlRpcRequestParser.Parse("<methodCall><methodName>one.system.version</methodName></methodCall>").Params);
        Assert.Empty(XmlRpcRequestParser.Parse("<methodCall><methodName>m</methodName><params/></methodCall>").Params);
    }

    [Fact]
    public void Parse_MethodNameWithWhitespace_IsTrimmed()
    {
        Assert.Equal("one.vm.info", XmlRpcRequestParser.Parse("<methodCall><methodName>\n one.vm.info \n</methodName></methodCall>").MethodName);
    }

    [Fact]
    public void Parse_CommentsAndProcessingInstructions_AreIgnored()
    {
        var request = XmlRpcRequestParser.Parse("<methodCall><!-- c --><methodName>m</methodName><?pi x?><params><param><value><i4>1<!--x-->2</i4></value></param></params></methodCall>");

        Assert.Equal(12, request.Params[0].AsInt());
    }

    [Fact]
    public void Parse_Utf16Document_HonoursByteOrderMark()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(Call("m", "<string>ü</string>"))).ToArray();

        Assert.Equal("ü", XmlRpcRequestParser.Parse(bytes).Params[0].AsString());
    }

    [Fact]
    public void Parse_SpanAndStreamInputs_GiveSameResult()
    {
        var bytes = Encoding.UTF8.GetBytes(Call("one.vm.info", "<string>a:b</string>", "<i4>7</i4>", "<boolean>0</boolean>"));

        var fromSpan = XmlRpcRequestParser.Parse(bytes.AsSpan());
        var fromStream = XmlRpcRequestParser.Parse(new MemoryStream(bytes));

        Assert.Equal(fromSpan.Params, fromStream.Params);
        Assert.Equal(new XmlRpcValue[] { "a:b", 7, false }, fromSpan.Params);
    }

    [Fact]
    public async Task ParseAsync_BodyLargerThanInitialBuffer_ReadsAll()
    {
        var big = new string('x', 100_000);
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(Call("one.template.allocate", "<string>a:b</string>", $"<string>{big}</string>")));

        var request = await XmlRpcRequestParser.ParseAsync(stream, cancellationToken: CancellationToken.None);

        Assert.Equal(big, request.Params[1].AsString());
    }

    [Fact]
    public async Task ParseAsync_BodyOverLimit_ThrowsLimitExceeded()
    {
        var options = new XmlRpcParserOptions { MaxDocumentSize = 1000 };
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(Call("m", $"<string>{new string('x', 5000)}</string>")));

        var ex = await Assert.ThrowsAsync<XmlRpcFormatException>(() => XmlRpcRequestParser.ParseAsync(stream, options, CancellationToken.None));

        Assert.Equal(XmlRpcFaultCodes.LimitExceededError, ex.FaultCode);
    }

    [Fact]
    public void Parse_StreamOverCharacterLimit_ThrowsLimitExceeded()
    {
        var options = new XmlRpcParserOptions { MaxDocumentSize = 1000 };
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(Call("m", $"<string>{new string('x', 5000)}</string>")));

        var ex = Assert.Throws<XmlRpcFormatException>(() => XmlRpcRequestParser.Parse(stream, options));

        Assert.Equal(XmlRpcFaultCodes.LimitExceededError, ex.FaultCode);
    }

    [Fact]
    public void Parse_NestingDeeperThanLimit_ThrowsLimitExceeded()
    {
        var options = new XmlRpcParserOptions { MaxDepth = 3 };
        var deep = string.Concat(Enumerable.Repeat("<array><data><value>", 4)) + "<i4>1</i4>" + string.Concat(Enumerable.Repeat("</value></data></array>", 4));

        var ex = Assert.Throws<XmlRpcFormatException>(() => XmlRpcRequestParser.Parse(Call("m", deep), options));

        Assert.Equal(XmlRpcFaultCodes.LimitExceededError, ex.FaultCode);
        Assert.Contains("deeper than the limit of 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingAtLimit_IsAccepted()
    {
        var options = new XmlRpcParserOptions { MaxDepth = 3 };
        var deep = string.Concat(Enumerable.Repeat("<array><data><value>", 3)) + "<i4>1</i4>" + string.Concat(Enumerable.Repeat("</value></data></array>", 3));

        var value = XmlRpcRequestParser.Parse(Call("m", deep), options).Params[0];

        Assert.Equal(1, value.AsArray()[0].AsArray()[0].AsArray()[0].AsInt());
    }

    [Fact]
    public void Parse_BillionLaughsDtd_IsRejectedWithoutExpansion()
    {
        const string body = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
              <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
            ]>
            <methodCall><methodName>m</methodName><params><param><value><string>&lol9;</string></value></param></params></methodCall>
            """;

        var ex = Rejects(body);

        Assert.Equal(XmlRpcFaultCodes.ParseError, ex.FaultCode);
        Assert.Contains("DTD", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExternalEntity_IsRejected()
    {
        const string body = """
            <?xml version="1.0"?>
            <!DOCTYPE x [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <methodCall><methodName>m</methodName><params><param><value><string>&xxe;</string></value></param></params></methodCall>
            """;

        var ex = Rejects(body);

        Assert.DoesNotContain("root:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DTD", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UndeclaredEntity_IsRejected()
    {
        Rejects(Call("m", "<string>&nbsp;</string>"));
    }

    [Theory]
    [InlineData("<methodCall><methodName>m</methodName>")]
    [InlineData("<methodCall><methodName>m</methodName></methodCal>")]
    [InlineData("not xml at all")]
    [InlineData("")]
    [InlineData("<methodCall><methodName>m</methodName></methodCall><methodCall/>")]
    [InlineData("<methodCall><methodName>m</methodName></methodCall>trailing")]
    public void Parse_MalformedXml_ThrowsParseError(string body)
    {
        var ex = Rejects(body);

        Assert.Equal(XmlRpcFaultCodes.ParseError, ex.FaultCode);
    }

    [Fact]
    public void Parse_InvalidUtf8_ThrowsParseError()
    {
        var bytes = Encoding.UTF8.GetBytes(Call("m", "<string>ab</string>"));
        var index = Array.IndexOf(bytes, (byte)'a');
        bytes[index] = 0xC3; // starts a 2-byte sequence, followed by 'b': invalid
        bytes[index + 1] = 0x28;

        var ex = Assert.Throws<XmlRpcFormatException>(() => XmlRpcRequestParser.Parse(bytes));

        Assert.Equal(XmlRpcFaultCodes.ParseError, ex.FaultCode);
    }

    [Theory]
    [InlineData("<methodResponse><params/></methodResponse>", "<methodCall>")]
    [InlineData("<methodCall/>", "no <methodName>")]
    [InlineData("<methodCall><params/></methodCall>", "<methodName>")]
    [InlineData("<methodCall><methodName>  </methodName></methodCall>", "empty")]
    [InlineData("<methodCall><methodName>m</methodName><extra/></methodCall>", "<extra>")]
    [InlineData("<methodCall><methodName>m</methodName><params><value><i4>1</i4></value></params></methodCall>", "<param>")]
    [InlineData("<methodCall><methodName>m</methodName><params><param/></params></methodCall>", "no <value>")]
    [InlineData("<methodCall><methodName>m</methodName><params><param><value/><value/></param></params></methodCall>", "exactly one <value>")]
    [InlineData("<methodCall><methodName>m</methodName><params>junk<param><value/></param></params></methodCall>", "unexpected text 'junk'")]
    [InlineData("<methodCall><methodName>m<b/></methodName></methodCall>", "only text")]
    public void Parse_WrongStructure_ThrowsWithExplanation(string body, string expectedFragment)
    {
        var ex = Rejects(body);

        Assert.Equal(XmlRpcFaultCodes.ParseError, ex.FaultCode);
        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<i4>1</i4><i4>2</i4>", "more than one type element")]
    [InlineData("abc<i4>1</i4>", "mixes text")]
    [InlineData("<i4>1</i4>abc", "text after")]
    [InlineData("<string>a<b/></string>", "only text")]
    [InlineData("<array/>", "<data>")]
    [InlineData("<array><value><i4>1</i4></value></array>", "<data>")]
    [InlineData("<array><data><i4>1</i4></data></array>", "<value>")]
    [InlineData("<struct><member><value><i4>1</i4></value></member></struct>", "<name>")]
    [InlineData("<struct><member><name>a</name></member></struct>", "<value>")]
    [InlineData("<struct><member><name>a</name><value/></member><member><name>a</name><value/></member></struct>", "duplicate struct member 'a'")]
    [InlineData("<nil>x</nil>", "<nil> must be empty")]
    public void Parse_WrongValueStructure_ThrowsWithExplanation(string valueXml, string expectedFragment)
    {
        var ex = Rejects(Call("m", valueXml));

        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<integer>1</integer>", "unknown XML-RPC type <integer>")]
    [InlineData("<I4>1</I4>", "unknown XML-RPC type <I4>")]
    [InlineData("<ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/>", "unknown XML-RPC type <ex:nil>")]
    public void Parse_UnknownTypeTag_Throws(string valueXml, string expectedFragment)
    {
        var ex = Rejects(Call("m", valueXml));

        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<i4>2147483648</i4>", "out of the 32-bit range")]
    [InlineData("<int>-2147483649</int>", "out of the 32-bit range")]
    [InlineData("<i4>99999999999999999999999</i4>", "out of the 32-bit range")]
    [InlineData("<i8>9223372036854775808</i8>", "out of the 64-bit range")]
    public void Parse_IntegerOverflow_Throws(string valueXml, string expectedFragment)
    {
        var ex = Rejects(Call("m", valueXml));

        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<i4>abc</i4>")]
    [InlineData("<i4></i4>")]
    [InlineData("<i4>1.5</i4>")]
    [InlineData("<i4>0x10</i4>")]
    [InlineData("<i4>1 2</i4>")]
    [InlineData("<int>-</int>")]
    [InlineData("<i8>12a</i8>")]
    public void Parse_BadInteger_ThrowsNotAnInteger(string valueXml)
    {
        var ex = Rejects(Call("m", valueXml));

        Assert.Contains("not an integer", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<boolean>true</boolean>")]
    [InlineData("<boolean>2</boolean>")]
    [InlineData("<boolean/>")]
    [InlineData("<double>NaN</double>")]
    [InlineData("<double>Infinity</double>")]
    [InlineData("<double>1,5</double>")]
    [InlineData("<dateTime.iso8601>yesterday</dateTime.iso8601>")]
    [InlineData("<base64>!!!</base64>")]
    public void Parse_BadScalar_Throws(string valueXml)
    {
        var ex = Rejects(Call("m", valueXml));

        Assert.StartsWith("Invalid XML-RPC call: invalid <", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Error_ReportsLineAndPosition()
    {
        var ex = Rejects("<methodCall>\n<methodName>m</methodName>\n<params><param><value><i4>x</i4></value></param></params></methodCall>");

        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
    }
}
