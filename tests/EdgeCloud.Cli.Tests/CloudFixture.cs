using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Frontend;

namespace EdgeCloud.Cli.Tests;

/// <summary>
/// One in-process front-end per test class, with what most verbs need: two monitored dummy hosts (h1, h2), an image
/// (img, READY) and a network with 100 addresses (net). The binary talks to it through ONE_XMLRPC and ONE_AUTH (a
/// copy of oneadmin's credentials, so <c>user login</c> may overwrite it), with HOME pointing at an empty directory.
/// </summary>
public sealed class CloudFixture : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgecloud-cli-" + Guid.NewGuid().ToString("N")[..10]);
    private FrontendServer? _server;

    public FrontendServer Server => _server ?? throw new InvalidOperationException("not started");

    public OneClient Client { get; private set; } = null!;

    public string AuthFile => Path.Combine(_dir, "one_auth_cli");

    public string Home => Path.Combine(_dir, "home");

    public string Dir => _dir;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Home);
        _server = await FrontendServer.StartAsync(
            new FrontendOptions { DataDir = Path.Combine(_dir, "data"), Port = 0, AgentPort = 0, DummyActionDelay = 0.01, MonitorInterval = 1, SchedulerInterval = 1 },
            logging: _ => { });
        await File.WriteAllTextAsync(AuthFile, Server.OneAdminSession + "\n");
        Client = new OneClient(Server.Endpoint, Server.OneAdminSession);

        foreach (var host in new[] { "h1", "h2" }) await Client.CallIntAsync("one.host.allocate", host, "dummy", "dummy", -1);
        var image = await Client.CallIntAsync("one.image.allocate", "NAME=\"img\"\nPATH=\"/tmp/img.raw\"\nTYPE=\"OS\"\n", 1, false);
        await Client.CallIntAsync("one.vn.allocate", "NAME=\"net\"\nVN_MAD=\"dummy\"\nBRIDGE=\"br0\"\nAR=[TYPE=\"IP4\",IP=\"10.0.0.1\",SIZE=\"100\"]\n", -1);
        await WaitAsync(async () => (await Client.CallXmlAsync("one.hostpool.info")).Root!.Elements("HOST").All(h => (string?)h.Element("STATE") == "2"), "hosts MONITORED");
        await WaitAsync(async () => (string?)(await Client.CallXmlAsync("one.image.info", image, false)).Root!.Element("STATE") == "1", "image READY");
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The environment a user of this cloud has: ONE_XMLRPC, ONE_AUTH and an empty HOME.</summary>
    public Dictionary<string, string?> Env(string? auth = null, string? endpoint = null) => new()
    {
        ["ONE_XMLRPC"] = endpoint ?? Server.Endpoint.ToString(),
        ["ONE_AUTH"] = auth ?? AuthFile,
        ["HOME"] = Home,
    };

    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync(Env(), null, args);

    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => Cli.RunAsync(Env(), stdin, args);

    /// <summary>Runs and asserts success; returns stdout.</summary>
    public async Task<string> OkAsync(params string[] args) => (await RunAsync(args)).Ok();

    /// <summary>The id a create verb printed (<c>ID: n</c>).</summary>
    public async Task<int> CreateAsync(params string[] args)
    {
        var output = await OkAsync(args);
        var line = output.Split('\n').First(l => l.Contains("ID: ", StringComparison.Ordinal));
        return int.Parse(line[(line.IndexOf("ID: ", StringComparison.Ordinal) + 4)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<XElement> InfoAsync(string method, int id) => (await Client.CallXmlAsync(method, id, false)).Root!;

    /// <summary>A file in the fixture's directory with <paramref name="text"/>.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A TCP port nothing listens on.</summary>
    public static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
