using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Front-end high availability: three real <c>edgecloud frontend --raft</c> processes. Writes go through
/// every server (followers forward them), the leader is killed with SIGKILL mid-load, a stopped follower
/// falls behind log compaction and catches up by itself, and a restart of all servers keeps the state.
/// </summary>
[Collection("raft")] // one cluster at a time: the machine has few cores
public sealed partial class RaftTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-raft-" + Guid.NewGuid().ToString("N"));

    public RaftTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// Allocates template NAME through <paramref name="server"/>, moving to the next server on any failure.
    /// A retry of a write that did commit finds its name taken and takes that id: each logical write lands once.
    /// </summary>
    internal static async Task<int> AllocateWithRetryAsync(RaftCluster cluster, int server, string name, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var id = (server + attempt) % cluster.Ports.Length;
            if (cluster.Servers[id] is null) continue;
            try
            {
                using var c = cluster.Client(id, TimeSpan.FromSeconds(5));
                return await c.CallIntAsync("one.template.allocate", $"NAME=\"{name}\"\nCPU=1\nMEMORY=64");
            }
            catch (OneException ex) when (TakenRegex().Match(ex.Message) is { Success: true } m)
            {
                return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            catch (OneException ex)
            {
                LastRetryReason = $"server {id}: {ex.Message}";
                await Task.Delay(50, ct);
            }
        }
    }

    /// <summary>Why the last write in <see cref="AllocateWithRetryAsync"/> was retried (for failure messages).</summary>
    internal static string LastRetryReason { get; private set; } = "";

    [GeneratedRegex(@"NAME is already taken by TEMPLATE (\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex TakenRegex();

    [Fact]
    public async Task KillLeaderUnderWriteLoad_NewLeaderKeepsEveryAcknowledgedWriteOnce()
    {
        await using var cluster = await RaftCluster.StartAsync(_dir);
        var acknowledged = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"w{w}-{i}";
                try { acknowledged[name] = await AllocateWithRetryAsync(cluster, w, name, stop.Token); }
                catch (OperationCanceledException) { return; }
            }
        })).ToArray();

        await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= 300), "300 writes through all three servers", TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync();
        Assert.True(leader >= 0, "no leader before the kill");
        var termBefore = (await cluster.RaftStatusAsync(leader))!.Value.Term;
        cluster.Servers[leader]!.Kill9();
        cluster.Servers[leader] = null;
        var countAtKill = acknowledged.Count;

        // A survivor takes over, and the retrying clients keep writing through it.
        var newLeader = await Wait.ForAsync(cluster.LeaderAsync, l => l >= 0 && l != leader, "a new leader among the survivors", TimeSpan.FromSeconds(15));
        Assert.True((await cluster.RaftStatusAsync(newLeader))!.Value.Term > termBefore);
        await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= countAtKill + 300), "300 more writes after the failover", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        foreach (var survivor in Enumerable.Range(0, 3).Where(i => i != leader))
        {
            var templates = await Wait.ForAsync(() => cluster.TemplatesAsync(survivor),
                t => acknowledged.All(a => t.TryGetValue(a.Value, out var n) && n == a.Key), $"server {survivor} to hold every acknowledged write", TimeSpan.FromSeconds(30));
            var duplicates = templates.Values.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(duplicates.Count == 0, $"server {survivor} applied writes twice: {string.Join(", ", duplicates.Take(5))}");
            Assert.Equal(acknowledged.Count, templates.Count(t => acknowledged.ContainsKey(t.Value)));
        }
    }

    [Fact]
    public async Task StoppedFollower_FallsBehindCompaction_AndCatchesUpBySnapshot()
    {
        var config = Path.Combine(_dir, "raft.yaml");
        await File.WriteAllTextAsync(config, "raft-snapshot-every: 500\n");
        await using var cluster = await RaftCluster.StartAsync(Path.Combine(_dir, "c"), 3, "--config", config);
        var leader = await cluster.LeaderAsync();
        var follower = (leader + 1) % 3;

        const int Clients = 64;
        const int Writes = 100_000;
        var ids = new int[Clients];
        for (var i = 0; i < Clients; i++) ids[i] = await AllocateWithRetryAsync(cluster, leader, $"catchup-{i}", CancellationToken.None);
        await Wait.ForAsync(async () => (await cluster.TemplatesAsync(follower)).Count >= Clients, "the follower to have the templates");

        cluster.Servers[follower]!.Kill9();
        cluster.Servers[follower] = null;

        // 100,000 replicated updates from many concurrent clients (group commit batches them into fewer log entries).
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(w => Task.Run(async () =>
        {
            using var c = cluster.Client(leader, TimeSpan.FromSeconds(30));
            for (var i = 0; i < Writes / Clients; i++)
            {
                // A client retries a write the cluster could not replicate (a leader change under load):
                // the update is idempotent, so a retry after an unknown outcome is safe.
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        await c.CallIntAsync("one.template.update", ids[w], $"NOTE=\"{w}-{i}\"", 1);
                        break;
                    }
                    catch (OneException ex) when (ex.Code == OneErrorCodes.Replication && attempt < 100)
                    {
                        await Task.Delay(100);
                    }
                }
                Interlocked.Increment(ref done);
            }
        })));
        Assert.Equal(Writes / Clients * Clients, done);
        var expected = await cluster.TemplatesAsync(leader);
        using (var lc = cluster.Client(leader))
        {
            var last = await lc.CallStringAsync("one.template.info", ids[Clients - 1]);
            Assert.Contains($"{Clients - 1}-{Writes / Clients - 1}", last);
        }

        cluster.Launch(follower);
        await Wait.ForAsync(async () =>
        {
            if (!File.Exists(Path.Combine(cluster.DataDir(follower), "one_auth"))) return false;
            try
            {
                using var fc = cluster.Client(follower, TimeSpan.FromSeconds(5));
                var t = await fc.CallStringAsync("one.template.info", ids[Clients - 1]);
                return t.Contains($"{Clients - 1}-{Writes / Clients - 1}", StringComparison.Ordinal);
            }
            catch (OneException) { return false; }
        }, "the restarted follower to catch up", TimeSpan.FromSeconds(120));
        Assert.Equal(expected, await cluster.TemplatesAsync(follower));
        // It caught up from the leader's snapshot: the log it missed had been compacted.
        Assert.Contains("snapshot", cluster.Servers[follower]!.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RestartAllServers_StateIdentical()
    {
        string before;
        string users;
        string session;
        var root = Path.Combine(_dir, "r");
        await using var cluster = await RaftCluster.StartAsync(root);
        session = cluster.Session;
        for (var i = 0; i < 100; i++) await AllocateWithRetryAsync(cluster, i % 3, $"keep-{i}", CancellationToken.None);
        using (var c = cluster.Client(await cluster.LeaderAsync()))
        {
            await c.CallIntAsync("one.user.allocate", "alice", "secret", "", Array.Empty<int>());
            before = await c.CallStringAsync("one.templatepool.info", -2, -1, -1);
            users = await c.CallStringAsync("one.userpool.info");
        }
        foreach (var i in Enumerable.Range(0, 3))
            await Wait.ForAsync(async () => (await cluster.TemplatesAsync(i)).Count == 100, $"server {i} to apply every write");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, await cluster.Servers[i]!.TerminateAsync(TimeSpan.FromSeconds(30)));
            cluster.Servers[i] = null;
        }
        for (var i = 0; i < 3; i++) cluster.Launch(i);
        await cluster.WaitAllAnswerAsync();
        Assert.Equal(session, cluster.Session);
        for (var i = 0; i < 3; i++)
        {
            var id = i;
            var (t, u) = await Wait.ForAsync(async () =>
            {
                using var c = cluster.Client(id);
                return (await c.CallStringAsync("one.templatepool.info", -2, -1, -1), await c.CallStringAsync("one.userpool.info"));
            }, x => x.Item1 == before && x.Item2 == users, $"server {id} to show the state from before the restart", TimeSpan.FromSeconds(30));
            Assert.Equal(before, t);
            Assert.Equal(users, u);
        }
    }

    [Fact]
    public async Task FollowerForwardsWrites_AndFaultsWithReplicationWhenNoLeader()
    {
        await using var cluster = await RaftCluster.StartAsync(Path.Combine(_dir, "f"));
        var leader = await cluster.LeaderAsync();
        var follower = (leader + 1) % 3;
        using (var c = cluster.Client(follower))
        {
            var id = await c.CallIntAsync("one.template.allocate", "NAME=\"via-follower\"\nCPU=1\nMEMORY=64");
            var zone = await c.CallStringAsync("one.zone.info", 0);
            Assert.Contains("<SERVER_POOL><SERVER>", zone);
            Assert.Equal(3, Regex.Count(zone, "<SERVER>"));
            await Wait.ForAsync(async () => (await cluster.TemplatesAsync(follower)).ContainsKey(id), "the follower to apply its forwarded write");

            // Every server writes the VM's log from the replicated changes (as each oned does).
            var vm = await c.CallIntAsync("one.vm.allocate", "NAME=\"held\"\nCPU=0.1\nMEMORY=32", true);
            foreach (var i in Enumerable.Range(0, 3))
            {
                var log = Path.Combine(cluster.DataDir(i), "vms", $"{vm}.log");
                await Wait.ForAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("[VM][I]: New state is HOLD", StringComparison.Ordinal)),
                    $"server {i}'s log of VM {vm}");
            }
        }

        // The other two servers gone: the last one cannot reach a majority. Reads still work; writes fail with REPLICATION.
        foreach (var i in Enumerable.Range(0, 3).Where(i => i != follower))
        {
            cluster.Servers[i]!.Kill9();
            cluster.Servers[i] = null;
        }
        using var lone = cluster.Client(follower, TimeSpan.FromSeconds(30));
        Assert.Contains("via-follower", await lone.CallStringAsync("one.templatepool.info", -2, -1, -1));
        var ex = await Assert.ThrowsAsync<OneException>(() => lone.CallIntAsync("one.template.allocate", "NAME=\"lost\"\nCPU=1\nMEMORY=64"));
        Assert.Equal(OneErrorCodes.Replication, ex.Code);
        Assert.StartsWith("[one.template.allocate]", ex.Message);
    }
}
