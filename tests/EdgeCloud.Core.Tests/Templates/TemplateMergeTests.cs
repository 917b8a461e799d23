using EdgeCloud.Core.Templates;
using static EdgeCloud.Core.Tests.Templates.TemplateAssert;

namespace EdgeCloud.Core.Tests.Templates;

/// <summary>Template.Merge is one.*.update with append=1: a name present in the update replaces all of that name.</summary>
public sealed class TemplateMergeTests
{
    [Fact]
    public void Merge_NamePresentInUpdate_ReplacesEveryAttributeOfThatName()
    {
        var t = Template.Parse("DISK = [ IMAGE_ID = 0 ]\nDISK = [ IMAGE_ID = 1 ]\nMEMORY = 512\nLABEL = old");
        t.Merge(Template.Parse("DISK = [ IMAGE_ID = 7 ]\nLABEL = new"));
        Assert.Equal(["7"], t.Vectors("DISK").Select(d => d["IMAGE_ID"]));
        Assert.Equal(["new"], t.GetAll("LABEL").Cast<SingleAttribute>().Select(a => a.Value));
        Assert.Equal("512", t.Get("MEMORY"));
    }

    [Fact]
    public void Merge_RepeatedNameInUpdate_AllAddedInOrder()
    {
        var t = Template.Parse("NIC = [ NETWORK = a ]\nCPU = 1");
        t.Merge(Template.Parse("NIC = [ NETWORK = b ]\nNIC = [ NETWORK = c ]"));
        Assert.Equal(["b", "c"], t.Vectors("NIC").Select(n => n["NETWORK"]));
        Assert.Equal("1", t.Get("CPU"));
    }

    [Fact]
    public void Merge_NewNames_AddedInSortedPlace()
    {
        var t = Template.Parse("A = 1\nZ = 26");
        t.Merge(Template.Parse("M = 13\nB = [ X = y ]"));
        Assert.Equal(["A", "B", "M", "Z"], t.Attributes.Select(a => a.Name));
    }

    [Fact]
    public void Merge_SingleReplacedByVectorOfSameName_TypeChanges()
    {
        var t = Template.Parse("CONTEXT = none");
        t.Merge(Template.Parse("CONTEXT = [ NETWORK = YES ]"));
        Assert.Equal("YES", AsVector(Assert.Single(t.Attributes))["NETWORK"]);
    }

    [Fact]
    public void Merge_EmptyUpdate_LeavesTemplateUnchanged()
    {
        var t = Template.Parse("A = 1\nD = [ X = 1 ]");
        var before = t.Clone();
        t.Merge(new Template());
        Equal(before, t);
    }

    [Fact]
    public void Merge_CopiesAttributes_LaterChangesToUpdateDoNotLeak()
    {
        var t = Template.Parse("A = 1");
        var update = Template.Parse("D = [ X = 1 ]\nS = v");
        t.Merge(update);
        update.Vector("D")!.Set("X", "changed");
        ((SingleAttribute)update.GetAll("S").Single()).Value = "changed";
        Assert.Equal("1", t.Vector("D")!["X"]);
        Assert.Equal("v", t.Get("S"));
    }

    [Fact]
    public void Merge_ThenToText_RoundTrips()
    {
        var t = Template.Parse("A = 1\nB = \"x \\\"y\\\"\"\nDISK = [ ID = 0 ]");
        t.Merge(Template.Parse("DISK = [ ID = 1, TARGET = vda ]\nC = \"multi\nline\""));
        Equal(t, Template.Parse(t.ToText()));
        Assert.Equal("x \"y\"", t.Get("B"));
    }
}
