using EdgeCloud.Api.XmlRpc;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class XmlRpcValueTests
{
    [Fact]
    public void Default_IsNil()
    {
        Assert.True(default(XmlRpcValue).IsNil);
        Assert.Equal(XmlRpcValue.Nil, default);
        Assert.Equal("nil", default(XmlRpcValue).TypeName);
    }

    [Fact]
    public void Equals_IntAndI8WithSameNumber_AreDifferent()
    {
        Assert.NotEqual(XmlRpcValue.FromInt(5), XmlRpcValue.FromI8(5));
        Assert.Equal(5L, XmlRpcValue.FromInt(5).AsLong());
    }

    [Fact]
    public void Equals_ArraysAndStructs_CompareStructurally()
    {
        var a = XmlRpcValue.FromArray(1, "x", XmlRpcValue.FromStruct([new("k", true)]));
        var b = XmlRpcValue.FromArray(1, "x", XmlRpcValue.FromStruct([new("k", true)]));
        var c = XmlRpcValue.FromArray(1, "x", XmlRpcValue.FromStruct([new("k", false)]));

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.True(a == b);
        Assert.True(a != c);
    }

    [Fact]
    public void FromArray_CopiesInput_SoLaterChangesDoNotLeak()
    {
        var items = new XmlRpcValue[] { 1, 2 };
        var value = XmlRpcValue.FromArray(items);

        items[0] = 99;

        Assert.Equal(1, value.AsArray()[0].AsInt());
    }

    [Fact]
    public void FromBase64_CopiesInput()
    {
        var bytes = new byte[] { 1, 2, 3 };
        var value = XmlRpcValue.FromBase64(bytes);

        bytes[0] = 9;

        Assert.Equal(new byte[] { 1, 2, 3 }, value.AsBase64().ToArray());
    }

    [Fact]
    public void FromStruct_DuplicateNames_Throws()
    {
        Assert.Throws<ArgumentException>(() => XmlRpcValue.FromStruct([new("a", 1), new("a", 2)]));
    }

    [Fact]
    public void FromDouble_NaN_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => XmlRpcValue.FromDouble(double.NaN));
    }

    [Fact]
    public void FromString_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => XmlRpcValue.FromString(null!));
    }

    [Fact]
    public void AsInt_OnString_ThrowsNamingBothTypes()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => XmlRpcValue.FromString("5").AsInt());

        Assert.Equal("XML-RPC value is string, not int.", ex.Message);
    }

    [Fact]
    public void TryGetMember_MissingOrNotStruct_ReturnsFalse()
    {
        var value = XmlRpcValue.FromStruct([new("a", 1)]);

        Assert.False(value.TryGetMember("b", out _));
        Assert.False(XmlRpcValue.FromInt(1).TryGetMember("a", out _));
        Assert.True(value.TryGetMember("a", out var a));
        Assert.Equal(1, a.AsInt());
    }

    [Fact]
    public void ToString_MatchesWireCaptureStyle()
    {
        var value = XmlRpcValue.FromArray(2, "capuser", false, XmlRpcValue.FromI8(7), XmlRpcValue.FromIntArray([1]));

        Assert.Equal("array [i4 2, string \"capuser\", boolean false, i8 7, array [i4 1]]", value.ToString());
    }

    [Fact]
    public void DateTime_RoundTripsThroughValue()
    {
        var time = new DateTime(2024, 2, 29, 23, 59, 58, DateTimeKind.Utc);

        Assert.Equal(time, XmlRpcValue.FromDateTime(time).AsDateTime());
        Assert.Equal(DateTimeKind.Utc, XmlRpcValue.FromDateTime(time).AsDateTime().Kind);
    }
}
