using EdgeCloud.Core.Templates;
using EdgeCloud.Core.Xml;
using static EdgeCloud.Core.Tests.Templates.TemplateAssert;

namespace EdgeCloud.Core.Tests.Templates;

/// <summary>The XML form Template.Parse accepts when the text starts with '&lt;' (pyone, Sunstone and oned's own output).</summary>
public sealed class TemplateParserXmlTests
{
    private static TemplateParseException Fails(string xml)
    {
        var ex = Assert.Throws<TemplateParseException>(() => Template.Parse(xml));
        Assert.StartsWith("Parse error: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($" at line {ex.Line}, columns {ex.Column}:", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Line >= 1 && ex.Column >= 1);
        return ex;
    }

    [Fact]
    public void ParseXml_SinglesAndVector_Read()
    {
        var t = Template.Parse("<TEMPLATE><NAME>v</NAME><DISK><IMAGE_ID>0</IMAGE_ID><CACHE>none</CACHE></DISK></TEMPLATE>");
        Assert.Equal(["DISK", "NAME"], t.Attributes.Select(a => a.Name));
        Assert.Equal("v", t.Get("NAME"));
        var disk = t.Vector("DISK")!;
        Assert.Equal(["CACHE", "IMAGE_ID"], disk.Values.Keys);
        Assert.Equal("0", disk["IMAGE_ID"]);
    }

    [Fact]
    public void ParseXml_PyoneCdataVector_Read()
    {
        var t = Template.Parse("<TEMPLATE><CONTEXT><A><![CDATA[b]]></A></CONTEXT></TEMPLATE>");
        Assert.Equal("b", t.Vector("CONTEXT")!["A"]);
    }

    [Fact]
    public void ParseXml_CdataKeepsMarkupAndQuotes() =>
        Assert.Equal("<x a=\"1\"> & ]] \\", Template.Parse("<TEMPLATE><S><![CDATA[<x a=\"1\"> & ]] \\]]></S></TEMPLATE>").Get("S"));

    [Fact]
    public void ParseXml_TextCdataAndCommentPieces_Concatenated() =>
        Assert.Equal("a<b>cd", Template.Parse("<T><A>a<![CDATA[<b>]]>c<!-- skip -->d</A></T>").Get("A"));

    [Fact]
    public void ParseXml_Entities_Decoded() =>
        Assert.Equal("a<b & \"c\" 'd' ]]> \r\n\t", Template.Parse("<T><A>a&lt;b &amp; &quot;c&quot; &apos;d&apos; ]]&gt; &#13;&#10;&#9;</A></T>").Get("A"));

    [Fact]
    public void ParseXml_AnyRootNameAndLeadingWhitespace_Accepted()
    {
        var t = Template.Parse("\n  \t<USER_TEMPLATE><LABELS>a,b</LABELS></USER_TEMPLATE>\n");
        Assert.Equal("a,b", t.Get("LABELS"));
    }

    [Fact]
    public void ParseXml_XmlDeclarationAndRootAttributes_Accepted() =>
        Assert.Equal("1", Template.Parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?><VM id=\"3\"><CPU>1</CPU></VM>").Get("CPU"));

    [Fact]
    public void ParseXml_PrettyPrintedVector_LayoutWhitespaceIgnored()
    {
        var t = Template.Parse("""
            <TEMPLATE>
              <NIC>
                <NETWORK>public</NETWORK>
                <IP> 10.0.0.1 </IP>
              </NIC>
              <SPACES>   </SPACES>
            </TEMPLATE>
            """);
        var nic = AsVector(t.GetAll("NIC").Single());
        Assert.Equal(["IP", "NETWORK"], nic.Values.Keys);
        Assert.Equal(" 10.0.0.1 ", nic["IP"]);
        Assert.Equal("   ", t.Get("SPACES"));
    }

    [Fact]
    public void ParseXml_SelfClosingIsEmptyVector_OpenCloseIsEmptySingle()
    {
        var t = Template.Parse("<TEMPLATE><EMPTY/><NONE></NONE><V><S/><T></T></V></TEMPLATE>");
        Assert.Empty(AsVector(t.GetAll("EMPTY").Single()).Values);
        Assert.Equal("", Single(t.GetAll("NONE").Single()).Value);
        Assert.Equal("", t.Vector("V")!["S"]);
        Assert.Equal("", t.Vector("V")!["T"]);
    }

    [Fact]
    public void ParseXml_EmptyRoot_EmptyTemplate()
    {
        Assert.True(Template.Parse("<TEMPLATE/>").IsEmpty);
        Assert.True(Template.Parse("<TEMPLATE></TEMPLATE>").IsEmpty);
        Assert.True(Template.Parse("<TEMPLATE>stray text</TEMPLATE>").IsEmpty);
    }

    [Fact]
    public void ParseXml_RepeatsKeepOrderAndTemplateIsSorted()
    {
        var t = Template.Parse("<T><Z>1</Z><DISK><ID>2</ID></DISK><A>x</A><DISK><ID>0</ID></DISK></T>");
        Assert.Equal(["A", "DISK", "DISK", "Z"], t.Attributes.Select(a => a.Name));
        Assert.Equal(["2", "0"], t.Vectors("DISK").Select(d => d["ID"]));
    }

    [Fact]
    public void ParseXml_Names_Normalized()
    {
        var t = Template.Parse("<T><memory>1</memory><xmlthing>2</xmlthing><disk><image_id>3</image_id><Image_Id>4</Image_Id></disk></T>");
        Assert.Equal("1", t.Get("MEMORY"));
        Assert.Equal("ONE_XMLTHING", t.Attributes.Single(a => a.Name.EndsWith("XMLTHING", StringComparison.Ordinal)).Name);
        Assert.Equal("3", Assert.Single(t.Vector("DISK")!.Values).Value); // duplicate sub-names: first wins
    }

    [Fact]
    public void ParseXml_TemplateXmlOutput_ReadsBackEqual()
    {
        var t = new Template();
        t.Add("MEMORY", "512");
        t.Add(Vector("DISK", ("IMAGE_ID", "0"), ("CACHE", "none")));
        t.Add(Vector("DISK", ("IMAGE_ID", "1")));
        t.Add(new VectorAttribute("EMPTY"));
        t.Add("NONE", "");
        t.Add("SCRIPT", "a < b && \"c\" ]]> \r\n\tz");
        Equal(t, Template.Parse(TemplateXml.ToXml(t)));
    }

    [Fact]
    public void ParseXml_MalformedXml_LineAndColumnFromXmlReader()
    {
        var ex = Fails("<TEMPLATE>\n  <A>1</B>\n</TEMPLATE>");
        Assert.Equal(2, ex.Line);
        Assert.Contains("malformed XML", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseXml_LeadingBlankLines_CountedInLine()
    {
        var ex = Fails("\n\n<TEMPLATE><A>1</B></TEMPLATE>");
        Assert.Equal(3, ex.Line);
    }

    [Fact]
    public void ParseXml_LeadingBlanksOnFirstLine_CountedInColumn()
    {
        var plain = Fails("<T><A>1</B></T>");
        var indented = Fails("    <T><A>1</B></T>");
        Assert.Equal(1, indented.Line);
        Assert.Equal(plain.Column + 4, indented.Column);
    }

    [Fact]
    public void ParseXml_Unclosed_Fails() => Fails("<TEMPLATE><A>1</A>");

    [Fact]
    public void ParseXml_TrailingGarbage_Fails() => Fails("<TEMPLATE><A>1</A></TEMPLATE><X/>");

    [Fact]
    public void ParseXml_Dtd_Prohibited()
    {
        var ex = Fails("<!DOCTYPE T [<!ENTITY e \"boom\">]><T><A>&e;</A></T>");
        Assert.Contains("DTD", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ParseXml_ExternalEntity_NotResolved()
    {
        var ex = Fails("<!DOCTYPE T [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><T><A>&x;</A></T>");
        Assert.DoesNotContain("root:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseXml_UndeclaredEntity_Fails() => Fails("<T><A>&nope;</A></T>");

    [Fact]
    public void ParseXml_NestedVector_Fails()
    {
        var ex = Fails("<T>\n<V><S><X>1</X></S></V></T>");
        Assert.Contains("vectors cannot nest", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Line);
    }
}
