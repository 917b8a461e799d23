using EdgeCloud.Api.XmlRpc;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class XmlRpcArgsTests
{
    private static XmlRpcArgs Args(params XmlRpcValue[] values) => new(values);

    [Fact]
    public void TypedGetters_MatchingTypes_ReturnValues()
    {
        var args = Args("oneadmin:pw", 5, true, "name", XmlRpcValue.FromI8(1L << 40), XmlRpcValue.FromIntArray([1, 100]));

        Assert.Equal(6, args.Count);
        Assert.Equal("oneadmin:pw", args.Str(0));
        Assert.Equal(5, args.Int(1));
        Assert.True(args.Bool(2));
        Assert.Equal("name", args.Str(3));
        Assert.Equal(1L << 40, args.Long(4));
        Assert.Equal(new[] { 1, 100 }, args.IntArray(5));
    }

    [Fact]
    public void Long_AcceptsI4()
    {
        Assert.Equal(-1L, Args("s", -1).Long(1));
    }

    [Fact]
    public void Int_GivenString_ThrowsTypeMismatchNamingPosition()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", 1, "x").Int(2));

        Assert.Equal("Type mismatch: expected int at parameter 2, got string", ex.Message);
        Assert.Equal(2, ex.ParameterIndex);
        Assert.Equal(XmlRpcFaultCodes.TypeError, ex.FaultCode);
    }

    [Fact]
    public void Int_GivenBool_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", true).Int(1));

        Assert.Equal("Type mismatch: expected int at parameter 1, got boolean", ex.Message);
    }

    [Fact]
    public void Bool_GivenInt_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", 1).Bool(1));

        Assert.Equal("Type mismatch: expected boolean at parameter 1, got int", ex.Message);
    }

    [Fact]
    public void Int_GivenI8_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", XmlRpcValue.FromI8(1)).Int(1));

        Assert.Contains("got i8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Str_GivenNil_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", XmlRpcValue.Nil).Str(1));

        Assert.Equal("Type mismatch: expected string at parameter 1, got nil", ex.Message);
    }

    [Fact]
    public void Long_GivenString_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", "1").Long(1));

        Assert.Equal("Type mismatch: expected i8 at parameter 1, got string", ex.Message);
    }

    [Fact]
    public void Int_Missing_ThrowsIndexError()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", 1).Int(2));

        Assert.Equal("Missing parameter 2: expected int, but the call has only 2 parameters", ex.Message);
        Assert.Equal(XmlRpcFaultCodes.IndexError, ex.FaultCode);
    }

    [Fact]
    public void Str_MissingFromSingleParameterCall_UsesSingular()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s").Str(1));

        Assert.EndsWith("only 1 parameter", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_WhenMissing_AreReturned()
    {
        var args = Args("s");

        Assert.Equal(-1, args.Int(1, -1));
        Assert.False(args.Bool(2, false));
        Assert.Equal("", args.Str(3, ""));
        Assert.Equal(7L, args.Long(4, 7L));
        Assert.Empty(args.IntArray(5, []));
    }

    [Fact]
    public void Defaults_WhenPresentWithWrongType_StillThrow()
    {
        var args = Args("s", "notanint", 1);

        Assert.Throws<XmlRpcArgumentException>(() => args.Int(1, -1));
        Assert.Throws<XmlRpcArgumentException>(() => args.Bool(2, false));
    }

    [Fact]
    public void ExtraTrailingParams_AreIgnored()
    {
        // The Ruby OCA sends a 4th int to one.imagepool.info, which takes 3.
        var args = Args("s", -2, -1, -1, -1);

        Assert.Equal(-2, args.Int(1));
        Assert.Equal(-1, args.Int(3));
        Assert.Equal(5, args.Count);
    }

    [Fact]
    public void IntArray_WithNonIntItem_ThrowsNamingElement()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", XmlRpcValue.FromArray(1, "2")).IntArray(1));

        Assert.Equal("Type mismatch: expected array of int at parameter 1, element 1 is string", ex.Message);
    }

    [Fact]
    public void IntArray_GivenInt_ThrowsTypeMismatch()
    {
        var ex = Assert.Throws<XmlRpcArgumentException>(() => Args("s", 1).IntArray(1));

        Assert.Equal("Type mismatch: expected array of int at parameter 1, got int", ex.Message);
    }

    [Fact]
    public void DefaultStruct_BehavesAsEmpty()
    {
        var args = default(XmlRpcArgs);

        Assert.Equal(0, args.Count);
        Assert.False(args.Has(0));
        Assert.Throws<XmlRpcArgumentException>(() => args.Str(0));
    }

    [Fact]
    public void Request_Args_ReadsParsedParameters()
    {
        var request = XmlRpcRequestParser.Parse(
            "<methodCall><methodName>one.vm.info</methodName><params><param><value>a:b</value></param><param><value><int>3</int></value></param></params></methodCall>");

        Assert.Equal("a:b", request.Args.Str(0));
        Assert.Equal(3, request.Args.Int(1));
        Assert.False(request.Args.Bool(2, false));
    }
}
