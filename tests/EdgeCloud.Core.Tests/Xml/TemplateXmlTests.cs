using System.Xml.Linq;
using EdgeCloud.Core.Templates;
using EdgeCloud.Core.Xml;

namespace EdgeCloud.Core.Tests.Xml;

public sealed class TemplateXmlTests
{
    [Fact]
    public void ToXml_SinglesAndVectors_InTemplateOrder()
    {
        var t = new Template();
        t.Add("MEMORY", "512");
        t.Add(Samples.Vector("DISK", ("IMAGE_ID", "0"), ("CACHE", "none")));
        t.Add("CPU", "0.5");
        t.Add(Samples.Vector("DISK", ("IMAGE_ID", "1")));
        Assert.Equal(
            "<TEMPLATE><CPU>0.5</CPU><DISK><CACHE>none</CACHE><IMAGE_ID>0</IMAGE_ID></DISK><DISK><IMAGE_ID>1</IMAGE_ID></DISK><MEMORY>512</MEMORY></TEMPLATE>",
            TemplateXml.ToXml(t));
    }

    [Fact]
    public void ToXml_EmptyTemplateAndEmptyVector_SelfClosing()
    {
        Assert.Equal("<USER_TEMPLATE/>", TemplateXml.ToXml(new Template(), "USER_TEMPLATE"));
        var t = new Template([new VectorAttribute("EMPTY"), new SingleAttribute("NONE", "")]);
        Assert.Equal("<TEMPLATE><EMPTY/><NONE></NONE></TEMPLATE>", TemplateXml.ToXml(t));
    }

    [Fact]
    public void ToXml_Values_EscapedNotCdata()
    {
        var t = new Template([new SingleAttribute("SCRIPT", "a < b && c > \"d\" 'e' ]]>")]);
        var xml = TemplateXml.ToXml(t);
        Assert.DoesNotContain("CDATA", xml, StringComparison.Ordinal);
        Assert.Equal("<TEMPLATE><SCRIPT>a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos; ]]&gt;</SCRIPT></TEMPLATE>", xml);
        Assert.Equal("a < b && c > \"d\" 'e' ]]>", XDocument.Parse(xml).Root!.Element("SCRIPT")!.Value);
    }

    [Fact]
    public void ToXml_IllegalXmlCharacters_DroppedAndResultParses()
    {
        var value = "ok\u0001\u0008\u000B\u001F\uFFFE\uFFFF\uD800x\uDC00y\tz\nw\r!";
        var xml = TemplateXml.ToXml(new Template([new SingleAttribute("CTRL", value)]));
        Assert.Equal("okxy\tz\nw\r!", XDocument.Parse(xml).Root!.Element("CTRL")!.Value);
    }

    [Fact]
    public void ToXml_NonAscii_IsUtf8AndRoundTrips()
    {
        var value = "café ñandú 日本 🚀";
        var t = new Template([new SingleAttribute("DESCRIPTION", value)]);
        var w = new OneXmlWriter(16);
        TemplateXml.Write(w, t);
        Assert.Equal(value, XDocument.Parse(System.Text.Encoding.UTF8.GetString(w.ToArray())).Root!.Element("DESCRIPTION")!.Value);
    }

    [Fact]
    public void Write_CustomRootName_UsedForRoot() =>
        Assert.StartsWith("<USER_TEMPLATE><A>", TemplateXml.ToXml(new Template([new SingleAttribute("A", "1")]), "USER_TEMPLATE"), StringComparison.Ordinal);
}

public sealed class OneXmlWriterTests
{
    [Theory]
    [InlineData(-1.0, "-1")]
    [InlineData(-2.0, "-2")]
    [InlineData(0.0, "0")]
    [InlineData(0.5, "0.5")]
    [InlineData(1024.0, "1024")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.00001, "0.00001")]
    [InlineData(1e20, "100000000000000000000")]
    public void FormatDecimal_PrintsAsOnedWithoutExponent(double value, string expected) =>
        Assert.Equal(expected, OneXmlWriter.FormatDecimal(value));

    [Fact]
    public void Element_OddNames_SanitisedIntoXmlNames()
    {
        var w = new OneXmlWriter(8);
        w.Element("1ABC", "x");
        w.Element("A B", "y");
        w.Empty("");
        var xml = "<R>" + w + "</R>";
        Assert.Equal("<R><ONE_1ABC>x</ONE_1ABC><A_B>y</A_B><ONE_/></R>", xml);
        Assert.NotNull(XDocument.Parse(xml));
    }

    [Fact]
    public void Buffer_GrowsFromTinyCapacity()
    {
        var w = new OneXmlWriter(1);
        for (var i = 0; i < 1000; i++) w.Element("N", i);
        Assert.Equal(1000, XDocument.Parse("<R>" + w + "</R>").Root!.Elements().Count());
        w.Clear();
        Assert.Equal(0, w.Length);
    }

    [Fact]
    public void ElementHex_UpperCaseWithoutPrefix()
    {
        var w = new OneXmlWriter();
        w.ElementHex("R", 0x125429400000000L);
        Assert.Equal("<R>125429400000000</R>", w.ToString());
        w.Clear();
        w.ElementHex("R", 0xABCDEFL);
        Assert.Equal("<R>ABCDEF</R>", w.ToString());
    }
}
