using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Client;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class OneXmlRpcTests
{
    private enum Color
    {
        Red = 3,
    }

    [Fact]
    public void FormatCall_EveryMappedType_ParsesBackWithServerParser()
    {
        var time = new DateTime(2025, 6, 7, 8, 9, 10);
        var parameters = new object?[]
        {
            "a:b", 1, (short)2, (byte)3, 4L, 5u, true, 1.25, 2.5f, 0.5m, time, new byte[] { 1, 2 }, null, Color.Red,
            new[] { 1, 2 }, new List<string> { "x" }, new Dictionary<string, object?> { ["k"] = 1, ["n"] = null },
        };

        var request = XmlRpcRequestParser.Parse(OneXmlRpc.EncodeCall("one.test", parameters));

        Assert.Equal("one.test", request.MethodName);
        Assert.Equal(
            new XmlRpcValue[]
            {
                "a:b", 1, 2, 3, XmlRpcValue.FromI8(4), XmlRpcValue.FromI8(5), true, 1.25, 2.5, 0.5, XmlRpcValue.FromDateTime(time),
                XmlRpcValue.FromBase64([1, 2]), XmlRpcValue.Nil, 3, XmlRpcValue.FromIntArray([1, 2]), XmlRpcValue.FromArray("x"),
                XmlRpcValue.FromStruct([new("k", 1), new("n", XmlRpcValue.Nil)]),
            },
            request.Params);
    }

    [Fact]
    public void FormatCall_TextNeedingEscapes_SurvivesExactly()
    {
        const string template = "NAME = \"a&b\"\r\nCONTEXT = [ X = \"<y>\" ]\n\t]]>";

        var request = XmlRpcRequestParser.Parse(OneXmlRpc.FormatCall("one.template.allocate", ["s", template]));

        Assert.Equal(template, request.Args.Str(1));
    }

    [Theory]
    [InlineData(OneIntegerTag.I4, "<value><i4>-2</i4></value>")]
    [InlineData(OneIntegerTag.Int, "<value><int>-2</int></value>")]
    public void FormatCall_IntegerTag_ChoosesElement(OneIntegerTag tag, string expected)
    {
        Assert.Contains(expected, OneXmlRpc.FormatCall("m", [-2], tag), StringComparison.Ordinal);
    }

    [Fact]
    public void FormatCall_NoParameters_WritesEmptyParams()
    {
        Assert.Equal(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>one.system.version</methodName><params></params></methodCall>",
            OneXmlRpc.FormatCall("one.system.version", []));
    }

    [Fact]
    public void FormatCall_UnsupportedType_ThrowsNamingPosition()
    {
        var ex = Assert.Throws<ArgumentException>(() => OneXmlRpc.FormatCall("m", ["s", new object()]));

        Assert.Contains("Parameter 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatCall_NonFiniteDouble_Throws()
    {
        Assert.Throws<ArgumentException>(() => OneXmlRpc.FormatCall("m", [double.PositiveInfinity]));
    }

    [Fact]
    public void ParseResponse_Fault_ReturnsCodeAndString()
    {
        const string body = """
            <?xml version="1.0"?>
            <methodResponse>
              <fault>
                <value><struct>
                  <member><name>faultCode</name><value><int>-506</int></value></member>
                  <member><name>faultString</name><value><string>Method 'x' not defined</string></value></member>
                </struct></value>
              </fault>
            </methodResponse>
            """;

        var response = OneXmlRpc.ParseResponse(body);

        Assert.True(response.IsFault);
        Assert.Equal(-506, response.FaultCode);
        Assert.Equal("Method 'x' not defined", response.FaultString);
        Assert.Null(response.Items);
    }

    [Fact]
    public void ParseResponse_PrettyPrintedSuccess_IgnoresStructuralWhitespace()
    {
        const string body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <methodResponse>
            <params>
            <param>
            <value><array><data>
            <value><boolean>1</boolean></value>
            <value><string>  keep  </string></value>
            <value>bare</value>
            <value><i4>0</i4></value>
            </data></array></value>
            </param>
            </params>
            </methodResponse>
            """;

        Assert.Equal(new object?[] { true, "  keep  ", "bare", 0 }, OneXmlRpc.ParseResponse(body).Items);
    }

    [Theory]
    [InlineData("<methodResponse/>")]
    [InlineData("<methodCall><methodName>m</methodName></methodCall>")]
    [InlineData("<methodResponse><params><param><value><foo/></value></param></params></methodResponse>")]
    [InlineData("<methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>")]
    [InlineData("<methodResponse><fault><value><i4>1</i4></value></fault></methodResponse>")]
    [InlineData("<!DOCTYPE x [<!ENTITY a \"b\">]><methodResponse><params><param><value>&a;</value></param></params></methodResponse>")]
    [InlineData("<methodResponse><params><param><value><boolean>yes</boolean></value></param></params></methodResponse>")]
    public void ParseResponse_Invalid_ThrowsFormatException(string body)
    {
        Assert.Throws<FormatException>(() => OneXmlRpc.ParseResponse(body));
    }

    [Fact]
    public void Describe_NestedValues_UsesCaptureStyle()
    {
        var described = OneXmlRpc.Describe(new object?[] { 1, "x", false, 2L, null, new Dictionary<string, object?> { ["a"] = 1 } });

        Assert.Equal("array [i4 1, string \"x\", boolean false, i8 2, nil, struct {a: i4 1}]", described);
    }
}
