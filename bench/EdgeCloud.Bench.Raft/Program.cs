using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EdgeCloud.Client;

// Front-end high availability, measured with real `edgecloud frontend` processes on loopback:
//   write throughput (template updates from many clients) on 1 stand-alone server vs a 3-server Raft cluster,
//   failover time after SIGKILL of the leader under write load (several runs; every acknowledged write checked),
//   catch-up time of a follower that was stopped while the others took N writes (past log compaction),
//   failover with a host agent (dummy hypervisor): SIGKILL of the leader → the agent connected to the new leader,
//   the host MONITORED there, and the first VM action (poweroff) done through it.
// Usage: dotnet run -c Release --project bench/EdgeCloud.Bench.Raft [failover-runs [catch-up-writes [seconds [parts]]]]
//   parts: any of t (throughput), f (failover), c (catch-up), a (agent failover); default "tfca".
var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var catchUpWrites = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000;
var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
var parts = args.Length > 3 ? args[3] : "tfca"; // t = throughput, f = failover, c = catch-up, a = agent failover
var root = Path.Combine(Path.GetTempPath(), "ec-bench-raft-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(root);
try
{
    Console.WriteLine($"EdgeCloud Raft benchmark ({Environment.ProcessorCount} cores)");
    // 1. Throughput, 1 vs 3 replicas.
    if (parts.Contains('t'))
    await using (var solo = await Cluster.StartAsync(Path.Combine(root, "solo"), 1, raft: false))
    {
        var rate = await Bench.ThroughputAsync(solo, 0, 32, seconds);
        Console.WriteLine($"throughput, 1 stand-alone front-end: {rate:F0} writes/s (32 clients, {seconds:F0} s)");
    }
    if (parts.Contains('t'))
    await using (var c = await Cluster.StartAsync(Path.Combine(root, "tp"), 3, raft: true))
    {
        var leader = await c.LeaderAsync();
        var rate = await Bench.ThroughputAsync(c, leader, 32, seconds);
        Console.WriteLine($"throughput, 3 Raft replicas (to the leader): {rate:F0} writes/s (32 clients, {seconds:F0} s)");
        var follower = (leader + 1) % 3;
        var rateF = await Bench.ThroughputAsync(c, follower, 32, seconds);
        Console.WriteLine($"throughput, 3 Raft replicas (through a follower, forwarded): {rateF:F0} writes/s");
    }

    // 2. Failover.
    if (parts.Contains('f'))
    await using (var c = await Cluster.StartAsync(Path.Combine(root, "fo"), 3, raft: true))
    {
        var elections = new List<double>();
        var firstWrites = new List<double>();
        var lost = 0;
        for (var run = 0; run < runs; run++)
        {
            var r = await Bench.FailoverAsync(c, run);
            elections.Add(r.Election);
            firstWrites.Add(r.FirstWrite);
            lost += r.Lost;
            Console.WriteLine($"failover run {run + 1}: new leader after {r.Election * 1000:F0} ms, first acknowledged write after {r.FirstWrite * 1000:F0} ms, {r.Acknowledged} acknowledged writes, {r.Lost} lost");
        }
        Console.WriteLine($"failover over {runs} runs: leader election min/median/max {elections.Min() * 1000:F0}/{Median(elections) * 1000:F0}/{elections.Max() * 1000:F0} ms; " +
                          $"writes again after min/median/max {firstWrites.Min() * 1000:F0}/{Median(firstWrites) * 1000:F0}/{firstWrites.Max() * 1000:F0} ms; acknowledged writes lost: {lost}");
    }

    // 3. Catch-up past compaction.
    var yaml = Path.Combine(root, "raft.yaml");
    await File.WriteAllTextAsync(yaml, "raft-snapshot-every: 1000\n");
    if (parts.Contains('c'))
    await using (var c = await Cluster.StartAsync(Path.Combine(root, "cu"), 3, raft: true, "--config", yaml))
    {
        var (seconds2, rate) = await Bench.CatchUpAsync(c, catchUpWrites);
        Console.WriteLine($"catch-up: a follower stopped during {catchUpWrites} writes ({rate:F0} writes/s with 2 of 3 up) was current {seconds2:F1} s after its restart");
    }

    // 4. Failover with a host agent.
    if (parts.Contains('a'))
    await using (var c = await Cluster.StartAsync(Path.Combine(root, "ag"), 3, raft: true, agents: true))
    {
        var r = await Bench.AgentFailoverAsync(c, Path.Combine(root, "ag", "agent"), runs);
        Console.WriteLine($"failover with an agent over {runs} runs: agent on the new leader min/median/max {r.Connected.Min() * 1000:F0}/{Median(r.Connected) * 1000:F0}/{r.Connected.Max() * 1000:F0} ms, " +
                          $"host MONITORED there {r.Monitored.Min() * 1000:F0}/{Median(r.Monitored) * 1000:F0}/{r.Monitored.Max() * 1000:F0} ms, " +
                          $"first VM action (poweroff) done {r.FirstAction.Min() * 1000:F0}/{Median(r.FirstAction) * 1000:F0}/{r.FirstAction.Max() * 1000:F0} ms after the kill");
    }
}
finally
{
    try { Directory.Delete(root, recursive: true); } catch (IOException) { }
}

static double Median(List<double> v) { var s = v.Order().ToList(); return s[s.Count / 2]; }

internal static partial class Bench
{
    /// <summary>Template updates from <paramref name="clients"/> concurrent clients for <paramref name="seconds"/>: acknowledged writes per second.</summary>
    public static async Task<double> ThroughputAsync(Cluster c, int server, int clients, double seconds)
    {
        var ids = new int[clients];
        using (var a = c.Client(server))
            for (var i = 0; i < clients; i++) ids[i] = await a.CallIntAsync("one.template.allocate", $"NAME=\"tp-{server}-{Guid.NewGuid():N}\"\nCPU=1\nMEMORY=64");
        long done = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(w => Task.Run(async () =>
        {
            using var cl = c.Client(server);
            for (var i = 0; sw.Elapsed.TotalSeconds < seconds; i++)
            {
                await cl.CallIntAsync("one.template.update", ids[w], $"NOTE=\"{i}\"", 1);
                Interlocked.Increment(ref done);
            }
        })));
        return done / sw.Elapsed.TotalSeconds;
    }

    public static async Task<(double Election, double FirstWrite, int Acknowledged, int Lost)> FailoverAsync(Cluster c, int run)
    {
        var acknowledged = new ConcurrentDictionary<string, int>();
        long killed = long.MaxValue; // when the kill had completed
        long firstAfter = long.MaxValue; // first acknowledgement of a write attempted after it
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"fo{run}-w{w}-{i}";
                try
                {
                    var (id, attempt) = await AllocateAsync(c, w, name, stop.Token);
                    acknowledged[name] = id;
                    if (attempt > Interlocked.Read(ref killed))
                    {
                        var now = Stopwatch.GetTimestamp();
                        if (now < Interlocked.Read(ref firstAfter)) Interlocked.Exchange(ref firstAfter, now);
                    }
                }
                catch (OperationCanceledException) { return; }
            }
        })).ToArray();
        while (acknowledged.Count < 200) await Task.Delay(10);
        var leader = await c.LeaderAsync();
        var killedAt = Stopwatch.GetTimestamp();
        c.Kill(leader);
        Interlocked.Exchange(ref killed, Stopwatch.GetTimestamp());
        double election;
        while (true)
        {
            var l = await c.LeaderAsync(TimeSpan.FromMilliseconds(250));
            if (l >= 0 && l != leader) { election = Stopwatch.GetElapsedTime(killedAt).TotalSeconds; break; }
            await Task.Delay(5);
        }
        while (Interlocked.Read(ref firstAfter) == long.MaxValue) await Task.Delay(5);
        var firstWrite = Stopwatch.GetElapsedTime(killedAt, Interlocked.Read(ref firstAfter)).TotalSeconds;
        var countAfter = acknowledged.Count;
        while (acknowledged.Count < countAfter + 100) await Task.Delay(10);
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        var newLeader = await c.LeaderAsync();
        var templates = await c.TemplatesAsync(newLeader);
        var lost = acknowledged.Count(a => !templates.TryGetValue(a.Value, out var n) || n != a.Key);
        // Bring the killed server back for the next run and let it catch up.
        c.Launch(leader);
        await c.WaitAllAnswerAsync();
        return (election, firstWrite, acknowledged.Count, lost);
    }

    public static async Task<(double Seconds, double Rate)> CatchUpAsync(Cluster c, int writes)
    {
        var leader = await c.LeaderAsync();
        var follower = (leader + 1) % 3;
        const int Clients = 32;
        var ids = new int[Clients];
        using (var a = c.Client(leader))
            for (var i = 0; i < Clients; i++) ids[i] = await a.CallIntAsync("one.template.allocate", $"NAME=\"cu-{i}\"\nCPU=1\nMEMORY=64");
        c.Kill(follower);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(w => Task.Run(async () =>
        {
            using var cl = c.Client(leader);
            for (var i = 0; i < writes / Clients; i++) await cl.CallIntAsync("one.template.update", ids[w], $"NOTE=\"{w}-{i}\"", 1);
        })));
        var rate = writes / Clients * Clients / sw.Elapsed.TotalSeconds;
        var marker = $"{Clients - 1}-{writes / Clients - 1}";
        sw.Restart();
        c.Launch(follower);
        while (true)
        {
            try
            {
                using var fc = c.Client(follower, TimeSpan.FromSeconds(2));
                if ((await fc.CallStringAsync("one.template.info", ids[Clients - 1])).Contains(marker, StringComparison.Ordinal)) break;
            }
            catch (OneException) { }
            catch (IOException) { }
            await Task.Delay(20);
        }
        return (sw.Elapsed.TotalSeconds, rate);
    }

    /// <summary>
    /// One host agent (dummy hypervisor) and one VM; each run kills the leader and times, from the kill: the agent's
    /// stream on the new leader, the host MONITORED on it, and a poweroff of the VM done through it.
    /// </summary>
    public static async Task<(List<double> Connected, List<double> Monitored, List<double> FirstAction)> AgentFailoverAsync(Cluster c, string agentDir, int runs)
    {
        var leader = await c.LeaderAsync();
        int hostId, vmId;
        string token;
        using (var a = c.Client(leader))
        {
            hostId = await a.CallIntAsync("one.host.allocate", "edge-1", "kvm", "kvm", -1);
            token = await a.CallStringAsync("one.host.jointoken", hostId, 600);
        }
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "edgecloud.dll"), "agent", "--data", agentDir, "--hypervisor", "dummy", "--log-format", "text",
                     "--frontend", c.AgentUrl((leader + 1) % c.Size), "--join-token", token, "--listen", "127.0.0.1:0", "--advertise", "127.0.0.1" })
            psi.ArgumentList.Add(a);
        using var agent = Process.Start(psi)!;
        var connections = new ConcurrentQueue<(string Url, long At)>();
        agent.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } l && ConnectedLine().Match(l) is { Success: true } m) connections.Enqueue((m.Groups[1].Value, Stopwatch.GetTimestamp()));
        };
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        try
        {
            using (var a = c.Client(leader))
            {
                await UntilAsync(async () => await HostStateAsync(a, hostId) == 2, "the host MONITORED");
                vmId = await a.CallIntAsync("one.vm.allocate", "NAME=bench\nCPU=0.1\nMEMORY=64", false);
                await UntilAsync(async () => await VmStateAsync(a, vmId) == (3, 3), "the VM RUNNING");
            }
            var connected = new List<double>();
            var monitored = new List<double>();
            var first = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                leader = await c.LeaderAsync();
                var killedAt = Stopwatch.GetTimestamp();
                c.Kill(leader);
                var newLeader = -1;
                await UntilAsync(async () => (newLeader = await c.LeaderAsync(TimeSpan.FromMilliseconds(500))) >= 0 && newLeader != leader, "a new leader");
                var url = c.AgentUrl(newLeader);
                await UntilAsync(() => Task.FromResult(connections.Any(x => x.Url == url && x.At > killedAt)), "the agent on the new leader");
                connected.Add(Stopwatch.GetElapsedTime(killedAt, connections.First(x => x.Url == url && x.At > killedAt).At).TotalSeconds);
                using (var a = c.Client(newLeader))
                {
                    await UntilAsync(async () => await HostStateAsync(a, hostId) == 2, "the host MONITORED on the new leader");
                    monitored.Add(Stopwatch.GetElapsedTime(killedAt).TotalSeconds);
                    await a.CallIntAsync("one.vm.action", "poweroff", vmId);
                    await UntilAsync(async () => (await VmStateAsync(a, vmId)).State == 8, "the VM POWEROFF");
                    first.Add(Stopwatch.GetElapsedTime(killedAt).TotalSeconds);
                    Console.WriteLine($"agent failover run {run + 1}: agent on the new leader after {connected[^1] * 1000:F0} ms, host MONITORED {monitored[^1] * 1000:F0} ms, poweroff done {first[^1] * 1000:F0} ms");
                    // Back on for the next run, and the killed server back in the zone.
                    await a.CallIntAsync("one.vm.action", "resume", vmId);
                    await UntilAsync(async () => await VmStateAsync(a, vmId) == (3, 3), "the VM RUNNING again");
                }
                c.Launch(leader);
                await c.WaitAllAnswerAsync();
            }
            return (connected, monitored, first);
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }

    private static async Task<int> HostStateAsync(OneClient c, int id)
    {
        var xml = await c.CallStringAsync("one.host.info", id);
        return int.Parse(Regex.Match(xml, "<STATE>(\\d+)</STATE>").Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static async Task<(int State, int Lcm)> VmStateAsync(OneClient c, int id)
    {
        var xml = await c.CallStringAsync("one.vm.info", id);
        int Get(string e) => int.Parse(Regex.Match(xml, $"<{e}>(\\d+)</{e}>").Groups[1].Value, CultureInfo.InvariantCulture);
        return (Get("STATE"), Get("LCM_STATE"));
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            try { if (await condition()) return; }
            catch (OneException) { }
            await Task.Delay(20);
        }
        throw new TimeoutException($"timed out waiting for {what}");
    }

    [GeneratedRegex(@"Connected to the front-end (\S+) as host")]
    private static partial Regex ConnectedLine();

    /// <summary>Allocates NAME, retrying on the next server; returns the id and when the successful attempt started.</summary>
    private static async Task<(int Id, long Attempt)> AllocateAsync(Cluster c, int start, string name, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var id = (start + attempt) % c.Size;
            if (!c.IsUp(id)) continue;
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var cl = c.Client(id, TimeSpan.FromSeconds(5));
                return (await cl.CallIntAsync("one.template.allocate", $"NAME=\"{name}\"\nCPU=1\nMEMORY=64"), started);
            }
            catch (OneException ex) when (Taken().Match(ex.Message) is { Success: true } m)
            {
                return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), started);
            }
            catch (OneException)
            {
                await Task.Delay(20, ct);
            }
        }
    }

    [GeneratedRegex(@"NAME is already taken by template (\d+)")]
    private static partial Regex Taken();
}

/// <summary>1 stand-alone or N Raft front-end processes on loopback.</summary>
internal sealed partial class Cluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly bool _raft;
    private readonly string[] _extra;
    private readonly int[] _ports;
    private readonly int[] _raftPorts;
    private readonly int[]? _agentPorts;
    private readonly Process?[] _procs;
    private readonly ConcurrentQueue<string>[] _output;

    private Cluster(string root, int n, bool raft, bool agents, string[] extra)
    {
        _agentPorts = agents ? Enumerable.Range(0, n).Select(_ => FreePort()).ToArray() : null;
        _root = root;
        _raft = raft;
        _extra = extra;
        _ports = Enumerable.Range(0, n).Select(_ => FreePort()).ToArray();
        _raftPorts = Enumerable.Range(0, n).Select(_ => FreePort()).ToArray();
        _procs = new Process?[n];
        _output = Enumerable.Range(0, n).Select(_ => new ConcurrentQueue<string>()).ToArray();
    }

    public int Size => _procs.Length;

    public bool IsUp(int id) => _procs[id] is { HasExited: false };

    /// <summary>Server <paramref name="id"/>'s host agents' endpoint (with agents: true).</summary>
    public string AgentUrl(int id) => $"https://127.0.0.1:{_agentPorts![id]}";

    public static Task<Cluster> StartAsync(string root, int n, bool raft, params string[] extra) => StartAsync(root, n, raft, false, extra);

    public static async Task<Cluster> StartAsync(string root, int n, bool raft, bool agents, params string[] extra)
    {
        var c = new Cluster(root, n, raft, agents, extra);
        for (var i = 0; i < n; i++) c.Launch(i);
        await c.WaitAllAnswerAsync();
        return c;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private string Dir(int id) => Path.Combine(_root, $"server{id}");

    public void Launch(int id)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edgecloud.dll"));
        // Host agents' endpoint: off unless asked for (then a port of its own per server: they share one machine).
        var agentPort = _agentPorts is null ? "-1" : _agentPorts[id].ToString(CultureInfo.InvariantCulture);
        foreach (var a in new[] { "frontend", "--data", Dir(id), "--port", _ports[id].ToString(CultureInfo.InvariantCulture), "--agent-port", agentPort }) psi.ArgumentList.Add(a);
        if (_raft)
        {
            psi.ArgumentList.Add("--raft");
            psi.ArgumentList.Add($"127.0.0.1:{_raftPorts[id]}");
            psi.ArgumentList.Add("--peers");
            psi.ArgumentList.Add(string.Join(',', _raftPorts.Select(p => $"127.0.0.1:{p}")));
        }
        foreach (var a in _extra) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var output = new ConcurrentQueue<string>();
        _output[id] = output;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null && !e.Data.Contains("\"Information\"", StringComparison.Ordinal)) { output.Enqueue(e.Data); while (output.Count > 50) output.TryDequeue(out string? _); } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _procs[id] = p;
    }

    public void Kill(int id)
    {
        _procs[id]!.Kill(entireProcessTree: true);
        _procs[id]!.WaitForExit();
        _procs[id]!.Dispose();
        _procs[id] = null;
    }

    private string Session => Enumerable.Range(0, Size).Select(i => Path.Combine(Dir(i), "one_auth")).Where(File.Exists).Select(f => File.ReadAllText(f).Trim()).First();

    public OneClient Client(int id, TimeSpan? timeout = null) =>
        new(new Uri($"http://127.0.0.1:{_ports[id]}/RPC2"), Session, options: new OneClientOptions { Timeout = timeout ?? TimeSpan.FromSeconds(30) });

    public async Task WaitAllAnswerAsync()
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            for (var i = 0; i < Size; i++)
                if (_procs[i] is { HasExited: true } dead)
                    throw new InvalidOperationException($"server {i} exited with {dead.ExitCode}:\n{string.Join('\n', _output[i].Select(l => l.Length > 2000 ? l[..2000] : l))}");
            if (Enumerable.Range(0, Size).All(i => !IsUp(i) || File.Exists(Path.Combine(Dir(i), "one_auth"))))
            {
                var ok = true;
                for (var i = 0; i < Size && ok; i++)
                {
                    if (!IsUp(i)) continue;
                    try { using var cl = Client(i, TimeSpan.FromSeconds(2)); await cl.CallStringAsync("one.system.version"); }
                    catch (OneException) { ok = false; }
                }
                if (ok && (!_raft || await LeaderAsync() >= 0)) return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("the front-ends did not come up");
    }

    public async Task<int> LeaderAsync(TimeSpan? timeout = null)
    {
        if (!_raft) return 0;
        for (var i = 0; i < Size; i++)
        {
            if (!IsUp(i)) continue;
            try
            {
                using var cl = Client(i, timeout ?? TimeSpan.FromSeconds(1));
                if ((await cl.CallStringAsync("one.zone.raftstatus")).Contains("<STATE>3</STATE>", StringComparison.Ordinal)) return i;
            }
            catch (OneException) { }
        }
        return -1;
    }

    public async Task<Dictionary<int, string>> TemplatesAsync(int id)
    {
        using var cl = Client(id);
        var pool = await cl.CallStringAsync("one.templatepool.info", -2, -1, -1);
        return TemplateRegex().Matches(pool).ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => m.Groups[2].Value);
    }

    [GeneratedRegex(@"<VMTEMPLATE><ID>(\d+)</ID>.*?<NAME>([^<]*)</NAME>")]
    private static partial Regex TemplateRegex();

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < Size; i++) if (_procs[i] is not null) Kill(i);
        return ValueTask.CompletedTask;
    }
}
