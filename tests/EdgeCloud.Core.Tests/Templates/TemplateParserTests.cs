using EdgeCloud.Core.Templates;
using static EdgeCloud.Core.Tests.Templates.TemplateAssert;

namespace EdgeCloud.Core.Tests.Templates;

/// <summary>The text form: singles, quoting, comments, vectors, names (see TemplateParserErrorTests for failures).</summary>
public sealed class TemplateParserTests
{
    [Fact]
    public void Parse_EmptyString_EmptyTemplate() => Assert.True(Template.Parse("").IsEmpty);

    [Fact]
    public void Parse_OnlyWhitespaceAndComments_EmptyTemplate()
    {
        var t = Template.Parse("  \n\t\r\n# a comment\n   # another = [ \"x\n\n#last without newline");
        Assert.True(t.IsEmpty);
    }

    [Fact]
    public void Parse_BareWords_SingleAttributes()
    {
        var t = Template.Parse("CPU = 0.5\nMEMORY=512\n  NAME  =  my-vm.example:1/2 ");
        Assert.Equal("0.5", t.Get("CPU"));
        Assert.Equal("512", t.Get("MEMORY"));
        Assert.Equal("my-vm.example:1/2", t.Get("NAME"));
        Assert.Equal(3, t.Attributes.Count);
    }

    [Fact]
    public void Parse_SeveralAttributesOnOneLine_SeparatedByBlanks()
    {
        var t = Template.Parse("A=1 B=\"two\"\tC=3");
        Assert.Equal(["A", "B", "C"], t.Attributes.Select(a => a.Name));
        Assert.Equal("two", t.Get("B"));
        Assert.Equal("3", t.Get("C"));
    }

    [Fact]
    public void Parse_BareWordWithQuoteInside_KeepsQuoteAsOnedDoes() =>
        Assert.Equal("ab\"c\"", Template.Parse("A = ab\"c\"").Get("A"));

    [Fact]
    public void Parse_QuotedValue_KeepsBlanksAndSpecialCharacters() =>
        Assert.Equal("  a = b, [c] #d  ", Template.Parse("A = \"  a = b, [c] #d  \"").Get("A"));

    [Fact]
    public void Parse_QuotedValueWithEscapedQuote_KeepsQuote() =>
        Assert.Equal("say \"hi\"", Template.Parse("A = \"say \\\"hi\\\"\"").Get("A"));

    [Fact]
    public void Parse_QuotedValueWithOtherBackslashes_KeptLiterally() =>
        Assert.Equal(@"C:\dir\n \\ \t", Template.Parse(@"A = ""C:\dir\n \\ \t""").Get("A"));

    [Fact]
    public void Parse_DoubleBackslashBeforeQuote_OnlyTheLastPairIsAnEscape() =>
        // \\" is a literal backslash then an escaped quote: the string continues to the next bare quote.
        Assert.Equal("a\\\"b", Template.Parse("A = \"a\\\\\"b\"").Get("A"));

    [Fact]
    public void Parse_QuotedValueEndingInBackslashAtEndOfInput_ClosesAtLastQuoteLikeFlex()
    {
        var t = Template.Parse("B = 1\nA = \"C:\\\"");
        Assert.Equal("C:\\", t.Get("A"));
        Assert.Equal("1", t.Get("B"));
    }

    [Fact]
    public void Parse_QuotedMultiLineValue_KeepsNewlines()
    {
        var t = Template.Parse("START_SCRIPT = \"#!/bin/sh\necho 'x = [1]'\r\n  exit 0\n\"\nNEXT = 1");
        Assert.Equal("#!/bin/sh\necho 'x = [1]'\r\n  exit 0\n", t.Get("START_SCRIPT"));
        Assert.Equal("1", t.Get("NEXT"));
    }

    [Fact]
    public void Parse_EmptyQuotedValue_EmptyString()
    {
        var t = Template.Parse("A = \"\"\nB = \"\"");
        Assert.Equal("", t.Get("A"));
        Assert.Equal("", t.Get("B"));
    }

    [Fact]
    public void Parse_NameEqualsAtEndOfLine_EmptyValue()
    {
        var t = Template.Parse("A =\nB =   \t\nC = 3\nD =");
        Assert.Equal(["A", "B", "C", "D"], t.Attributes.Select(a => a.Name));
        Assert.Equal("", t.Get("A"));
        Assert.Equal("", t.Get("B"));
        Assert.Equal("3", t.Get("C"));
        Assert.Equal("", t.Get("D"));
        Assert.IsType<SingleAttribute>(t.Attributes[3]);
    }

    [Fact]
    public void Parse_NameEqualsThenComment_EmptyValue()
    {
        var t = Template.Parse("A = # nothing here\nB = 2");
        Assert.Equal("", t.Get("A"));
        Assert.Equal("2", t.Get("B"));
    }

    [Fact]
    public void Parse_LineComments_Ignored()
    {
        var t = Template.Parse("# header\nA = 1\n   # indented comment with = and [ and \"\nB = 2\n#");
        Assert.Equal(["A", "B"], t.Attributes.Select(a => a.Name));
    }

    [Fact]
    public void Parse_TrailingComments_EndTheValue()
    {
        var t = Template.Parse("A = 1 # one\nB = \"two\"# two\nC = three#3\nD = \"# not a comment\" # comment");
        Assert.Equal("1", t.Get("A"));
        Assert.Equal("two", t.Get("B"));
        Assert.Equal("three", t.Get("C"));
        Assert.Equal("# not a comment", t.Get("D"));
    }

    [Fact]
    public void Parse_CrLfLineEnds_SameAsLf()
    {
        var t = Template.Parse("A = 1\r\nB = \"x\"\r\nC = [ D = 2,\r\n E = 3 ]\r\n");
        Assert.Equal("1", t.Get("A"));
        Assert.Equal("x", t.Get("B"));
        Assert.Equal("2", t.Vector("C")!["D"]);
        Assert.Equal("3", t.Vector("C")!["E"]);
    }

    [Fact]
    public void Parse_NewlineBetweenNameAndEquals_Allowed() =>
        Assert.Equal("1", Template.Parse("A\n  = 1").Get("A"));

    [Fact]
    public void Parse_Vector_SubAttributesUpperCasedAndSorted()
    {
        var t = Template.Parse("DISK = [ image_id = 3, Cache = \"none\", DEV_PREFIX = vd ]");
        var disk = AsVector(Assert.Single(t.Attributes));
        Assert.Equal("DISK", disk.Name);
        Assert.Equal(["CACHE", "DEV_PREFIX", "IMAGE_ID"], disk.Values.Keys);
        Assert.Equal(["none", "vd", "3"], disk.Values.Values);
    }

    [Fact]
    public void Parse_EmptyVector_VectorWithNoValues()
    {
        var t = Template.Parse("A = [ ]\nB = []\nC = [\n\n]");
        Assert.Equal(3, t.Attributes.Count);
        Assert.All(t.Attributes, a => Assert.Empty(AsVector(a).Values));
    }

    [Fact]
    public void Parse_MultiLineVectorWithComments_ReadsAllSubAttributes()
    {
        var t = Template.Parse("""
            NIC = [
              NETWORK = "private",   # the network
              # IP = 10.0.0.1,
              MODEL = virtio
              ,
              IP = "10.0.0.2"
            ]
            CPU = 1
            """);
        var nic = t.Vector("NIC")!;
        Assert.Equal(["IP", "MODEL", "NETWORK"], nic.Values.Keys);
        Assert.Equal("10.0.0.2", nic["IP"]);
        Assert.Equal("virtio", nic["MODEL"]);
        Assert.Equal("1", t.Get("CPU"));
    }

    [Fact]
    public void Parse_VectorDuplicateSubNames_FirstWins()
    {
        var v = Template.Parse("D = [ A = first, b = x, a = second, A = third ]").Vector("D")!;
        Assert.Equal(2, v.Values.Count);
        Assert.Equal("first", v["A"]);
    }

    [Fact]
    public void Parse_VectorQuotedValues_KeepCommasBracketsAndEscapes()
    {
        var v = Template.Parse("CONTEXT = [ SCRIPT = \"a, b ] [c] \\\"d\\\"\nline2\", E = \"\" ]").Vector("CONTEXT")!;
        Assert.Equal("a, b ] [c] \"d\"\nline2", v["SCRIPT"]);
        Assert.Equal("", v["E"]);
    }

    [Fact]
    public void Parse_RepeatedTopLevelNames_KeepTheirOrder()
    {
        var t = Template.Parse("DISK = [ IMAGE_ID = 2 ]\nNIC = [ NETWORK_ID = 0 ]\nDISK = [ IMAGE_ID = 0 ]\nDISK = [ IMAGE_ID = 1 ]");
        Assert.Equal(["2", "0", "1"], t.Vectors("DISK").Select(d => d["IMAGE_ID"]));
        Assert.Single(t.Vectors("NIC"));
    }

    [Fact]
    public void Parse_Attributes_SortedByNameStableForRepeats()
    {
        var t = Template.Parse("Z = 1\nB = [ X = 1 ]\nA = 2\nB = 3\nM = 4\nA = 5");
        Assert.Equal(["A", "A", "B", "B", "M", "Z"], t.Attributes.Select(a => a.Name));
        Assert.Equal("2", Single(t.Attributes[0]).Value);
        Assert.Equal("5", Single(t.Attributes[1]).Value);
        Assert.IsType<VectorAttribute>(t.Attributes[2]);
        Assert.Equal("3", Single(t.Attributes[3]).Value);
    }

    [Fact]
    public void Parse_SameNameAsSingleAndVector_BothKept()
    {
        var t = Template.Parse("A = 1\nA = [ B = 2 ]");
        Assert.Equal(2, t.GetAll("A").Count());
        Assert.Equal("1", t.Get("A"));
        Assert.Equal("2", t.Vector("A")!["B"]);
    }

    [Theory]
    [InlineData("memory", "MEMORY")]
    [InlineData("Cpu_Model", "CPU_MODEL")]
    [InlineData("_private", "_PRIVATE")]
    [InlineData("1abc", "ONE_1ABC")]
    [InlineData("xmlfoo", "ONE_XMLFOO")]
    [InlineData("XML_RPC", "ONE_XML_RPC")]
    [InlineData("XM", "XM")]
    public void Parse_Names_Normalized(string name, string expected)
    {
        var t = Template.Parse(name + " = v\nD = [ " + name + " = w ]");
        Assert.Equal(expected, t.Attributes.First(a => a is SingleAttribute).Name);
        Assert.Equal(expected, Assert.Single(t.Vector("D")!.Values.Keys));
    }

    [Fact]
    public void Parse_NonAsciiValue_Kept() =>
        Assert.Equal("café 日本 🚀", Template.Parse("D = \"café 日本 🚀\"").Get("D"));

    [Fact]
    public void Parse_TypicalVmTemplate_AllAttributes()
    {
        var t = Template.Parse("""
            NAME   = "web-1"
            CPU    = 0.5
            VCPU   = 2
            MEMORY = 1024
            DISK   = [ IMAGE = "ubuntu", IMAGE_UNAME = oneadmin ]
            NIC    = [ NETWORK = "public" ]
            GRAPHICS = [ TYPE = VNC, LISTEN = "0.0.0.0" ]
            CONTEXT = [ NETWORK = "YES", SSH_PUBLIC_KEY = "$USER[SSH_PUBLIC_KEY]" ]
            SCHED_REQUIREMENTS = "CLUSTER_ID = 100 & FREE_CPU > 50"
            """);
        Assert.Equal(["CONTEXT", "CPU", "DISK", "GRAPHICS", "MEMORY", "NAME", "NIC", "SCHED_REQUIREMENTS", "VCPU"], t.Attributes.Select(a => a.Name));
        Assert.Equal("$USER[SSH_PUBLIC_KEY]", t.Vector("CONTEXT")!["SSH_PUBLIC_KEY"]);
        Assert.Equal("CLUSTER_ID = 100 & FREE_CPU > 50", t.Get("SCHED_REQUIREMENTS"));
        Assert.True(t.TryGetLong("MEMORY", out var mem));
        Assert.Equal(1024, mem);
    }

    [Fact]
    public void Parse_LargeTemplate_AllAttributesRead()
    {
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"DISK = [ IMAGE_ID = {i}, TARGET = \"vd{i}\" ]\nA{i} = \"v{i}\"\n"));
        var t = Template.Parse(text);
        Assert.Equal(4000, t.Attributes.Count);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), t.Vectors("DISK").Select(d => d["IMAGE_ID"]));
        Assert.Equal("v1999", t.Get("A1999"));
    }
}
