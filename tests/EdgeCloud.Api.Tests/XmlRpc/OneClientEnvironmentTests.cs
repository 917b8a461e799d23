using EdgeCloud.Client;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class OneClientEnvironmentTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oneclient-env-").FullName;

    private string Home => Path.Combine(_root, "home");

    private string System => Path.Combine(_root, "var-lib-one");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void WriteFile(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private (Uri Endpoint, string Session) Resolve(Dictionary<string, string?> variables) =>
        OneClient.ResolveEnvironment(name => variables.GetValueOrDefault(name), Home, System);

    [Fact]
    public void ResolveEnvironment_VariablesSet_UsesOneXmlrpcAndOneAuthFileTrimmed()
    {
        var authFile = Path.Combine(_root, "auth");
        WriteFile(authFile, "  capuser:token123 \n\n");

        var (endpoint, session) = Resolve(new() { ["ONE_XMLRPC"] = "http://front:2633/RPC2", ["ONE_AUTH"] = authFile });

        Assert.Equal(new Uri("http://front:2633/RPC2"), endpoint);
        Assert.Equal("capuser:token123", session);
    }

    [Fact]
    public void ResolveEnvironment_NothingSet_UsesHomeFilesThenDefaultEndpoint()
    {
        WriteFile(Path.Combine(Home, ".one", "one_auth"), "oneadmin:pw\n");

        var (endpoint, session) = Resolve([]);

        Assert.Equal(new Uri(OneClient.DefaultEndpoint), endpoint);
        Assert.Equal("oneadmin:pw", session);
    }

    [Fact]
    public void ResolveEnvironment_EndpointFile_IsUsedWhenVariableUnset()
    {
        WriteFile(Path.Combine(Home, ".one", "one_auth"), "a:b");
        WriteFile(Path.Combine(Home, ".one", "one_endpoint"), "http://other:2633/RPC2\n");

        Assert.Equal(new Uri("http://other:2633/RPC2"), Resolve([]).Endpoint);
    }

    [Fact]
    public void ResolveEnvironment_OnlySystemFiles_FallsBackToOpenNebulaHome()
    {
        WriteFile(Path.Combine(System, ".one", "one_auth"), "serveradmin:x");

        Assert.Equal("serveradmin:x", Resolve([]).Session);
    }

    [Fact]
    public void ResolveEnvironment_OneAuthPointsToMissingFile_FallsBackToHome()
    {
        WriteFile(Path.Combine(Home, ".one", "one_auth"), "home:pw");

        Assert.Equal("home:pw", Resolve(new() { ["ONE_AUTH"] = Path.Combine(_root, "missing") }).Session);
    }

    [Fact]
    public void ResolveEnvironment_NoCredentials_ThrowsNotDefinedListingPlaces()
    {
        var ex = Assert.Throws<OneException>(() => Resolve([]));

        Assert.Equal(OneErrorCodes.NotDefined, ex.Code);
        Assert.Contains(Path.Combine(Home, ".one", "one_auth"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveEnvironment_EndpointNotAUrl_Throws()
    {
        WriteFile(Path.Combine(Home, ".one", "one_auth"), "a:b");

        var ex = Assert.Throws<OneException>(() => Resolve(new() { ["ONE_XMLRPC"] = "not a url" }));

        Assert.Contains("not an absolute URL", ex.Message, StringComparison.Ordinal);
    }
}
