using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.EndToEnd;

/// <summary>Three (or five) <c>edgecloud frontend --raft</c> processes on loopback, each on its own data directory.</summary>
public sealed partial class RaftCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly string[] _extra;

    private RaftCluster(string root, int[] ports, int[] raftPorts, int initial, string[] extra)
    {
        _root = root;
        Ports = ports;
        RaftPorts = raftPorts;
        AgentPorts = [.. ports.Select(_ => FrontendProcess.FreePort())];
        Initial = initial;
        _extra = extra;
        Servers = new FrontendProcess?[ports.Length];
    }

    public int[] Ports { get; }
    public int[] RaftPorts { get; }

    /// <summary>Each server's host agents' port (the same across its restarts).</summary>
    public int[] AgentPorts { get; }

    /// <summary>Servers 0..Initial-1 form the cluster (--peers); the others are spares that start with --join.</summary>
    public int Initial { get; }

    public string AgentUrl(int id) => $"https://127.0.0.1:{AgentPorts[id]}";

    /// <summary>The running processes by server id (null while a server is stopped).</summary>
    public FrontendProcess?[] Servers { get; }

    public string Peers => string.Join(',', RaftPorts.Take(Initial).Select(p => $"127.0.0.1:{p}"));

    public string DataDir(int id) => Path.Combine(_root, $"server{id}");

    /// <summary>Starts every server and waits until they all answer with the same replicated credentials.</summary>
    public static Task<RaftCluster> StartAsync(string root, int servers = 3, params string[] extra) => StartAsync(root, servers, 0, extra);

    /// <summary>Starts <paramref name="servers"/> servers; <paramref name="spares"/> more get ports and data directories for <see cref="Launch"/> with --join.</summary>
    public static async Task<RaftCluster> StartAsync(string root, int servers, int spares, params string[] extra)
    {
        var ports = Enumerable.Range(0, servers + spares).Select(_ => FrontendProcess.FreePort()).ToArray();
        var raftPorts = Enumerable.Range(0, servers + spares).Select(_ => FrontendProcess.FreePort()).ToArray();
        var c = new RaftCluster(root, ports, raftPorts, servers, extra);
        try
        {
            for (var i = 0; i < servers; i++) c.Launch(i);
            await c.WaitAllAnswerAsync().ConfigureAwait(false);
            return c;
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false); // no server outlives a cluster that failed to start
            throw;
        }
    }

    /// <summary>Starts server <paramref name="id"/> (a spare with --join: it waits until the leader adds it).</summary>
    public void Launch(int id) =>
        Servers[id] = FrontendProcess.Launch(DataDir(id), Ports[id],
            ["--raft", $"127.0.0.1:{RaftPorts[id]}", "--peers", Peers, "--agent-port", AgentPorts[id].ToString(CultureInfo.InvariantCulture), .. id >= Initial ? ["--join"] : Array.Empty<string>(), .. _extra]);

    /// <summary>one.zone.addserver's template for spare <paramref name="id"/>.</summary>
    public string ServerTemplate(int id) =>
        $"SERVER=[NAME=\"server-{id}\", ENDPOINT=\"http://127.0.0.1:{Ports[id]}/RPC2\", RAFT_ENDPOINT=\"127.0.0.1:{RaftPorts[id]}\"]";

    public OneClient Client(int id, TimeSpan? timeout = null) =>
        new(new Uri($"http://127.0.0.1:{Ports[id]}/RPC2"), Session, options: new OneClientOptions { Timeout = timeout ?? TimeSpan.FromSeconds(15) });

    /// <summary>oneadmin's credentials (the same on every server).</summary>
    public string Session => Enumerable.Range(0, Servers.Length).Select(i => Path.Combine(DataDir(i), "one_auth")).Where(File.Exists).Select(f => File.ReadAllText(f).Trim()).First();

    public async Task WaitAllAnswerAsync(TimeSpan? timeout = null)
    {
        await Wait.ForAsync(async () =>
        {
            foreach (var (s, i) in Servers.Select((s, i) => (s, i)))
            {
                if (s is null) continue;
                if (s.HasExited) throw new InvalidOperationException($"server {i} exited with {s.ExitCode}:\n{s.Output}");
                if (!File.Exists(Path.Combine(DataDir(i), "one_auth"))) return false;
            }
            var sessions = Servers.Select((s, i) => s is null ? null : File.ReadAllText(Path.Combine(DataDir(i), "one_auth")).Trim()).Where(x => x is not null).Distinct().Count();
            if (sessions != 1) return false;
            return await LeaderAsync().ConfigureAwait(false) >= 0;
        }, "every Raft server to write the replicated one_auth and a leader to be elected", timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>The id of the server that says it leads (STATE 3 in one.zone.raftstatus), or -1.</summary>
    public async Task<int> LeaderAsync()
    {
        for (var i = 0; i < Servers.Length; i++)
        {
            if (Servers[i] is null || !File.Exists(Path.Combine(DataDir(i), "one_auth"))) continue;
            var status = await RaftStatusAsync(i).ConfigureAwait(false);
            if (status is { State: 3 }) return i;
        }
        return -1;
    }

    public async Task<(int ServerId, int State, long Term, long Commit)?> RaftStatusAsync(int id)
    {
        try
        {
            using var c = Client(id, TimeSpan.FromSeconds(2));
            var xml = await c.CallStringAsync("one.zone.raftstatus").ConfigureAwait(false);
            long Get(string e) => long.Parse(Regex.Match(xml, $"<{e}>(-?\\d+)</{e}>").Groups[1].Value, CultureInfo.InvariantCulture);
            return ((int)Get("SERVER_ID"), (int)Get("STATE"), Get("TERM"), Get("COMMIT"));
        }
        catch (OneException)
        {
            return null;
        }
    }

    /// <summary>The templates a server has, id → name.</summary>
    public async Task<Dictionary<int, string>> TemplatesAsync(int id)
    {
        using var c = Client(id, TimeSpan.FromSeconds(30));
        var pool = await c.CallStringAsync("one.templatepool.info", -2, -1, -1).ConfigureAwait(false);
        return TemplateRegex().Matches(pool).ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => m.Groups[2].Value);
    }

    [GeneratedRegex(@"<VMTEMPLATE><ID>(\d+)</ID>.*?<NAME>([^<]*)</NAME>")]
    private static partial Regex TemplateRegex();

    public string Output => string.Join("\n", Servers.Select((s, i) => $"---- server {i}\n" + (s?.Output ?? "(stopped)")));

    public async ValueTask DisposeAsync()
    {
        foreach (var s in Servers)
            if (s is not null) await s.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
