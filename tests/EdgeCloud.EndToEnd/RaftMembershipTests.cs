using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Run-time membership of the front-ends' Raft cluster (one.zone.addserver / delserver) and pre-vote: real
/// <c>edgecloud frontend --raft</c> processes; a fourth server started with <c>--join</c> is added while writes go on.
/// </summary>
[Collection("raft")]
public sealed partial class RaftMembershipTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-raftm-" + Guid.NewGuid().ToString("N"));

    public RaftMembershipTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static async Task<string> ZoneAsync(RaftCluster cluster, int id)
    {
        using var c = cluster.Client(id);
        return await c.CallStringAsync("one.zone.info", 0);
    }

    /// <summary>Server ids and Raft-less facts of zone 0's SERVER_POOL: id → (name, endpoint).</summary>
    private static Dictionary<int, (string Name, string Endpoint)> ServerPool(string zoneXml) =>
        ServerRegex().Matches(zoneXml).ToDictionary(m => int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture), m => (m.Groups["name"].Value, m.Groups["ep"].Value));

    [GeneratedRegex(@"<SERVER><ENDPOINT>(?<ep>[^<]*)</ENDPOINT><ID>(?<id>\d+)</ID><NAME>(?<name>[^<]*)</NAME>")]
    private static partial Regex ServerRegex();

    [Fact]
    public async Task AddServerWhileWriting_DeleteTheLeader_RestartAll_KeepsMembershipAndState()
    {
        var config = Path.Combine(_dir, "raft.yaml");
        // Small snapshots: the joining server misses compacted log and catches up from a snapshot.
        await File.WriteAllTextAsync(config, "raft-snapshot-every: 20\n");
        await using var cluster = await RaftCluster.StartAsync(Path.Combine(_dir, "c"), 3, 1, "--config", config);
        var acknowledged = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"m-{i}";
                try { acknowledged[name] = await RaftTests.AllocateWithRetryAsync(cluster, i, name, stop.Token); }
                catch (OperationCanceledException) { return; }
            }
        });
        await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= 60), "60 writes before the new server joins", TimeSpan.FromSeconds(60));

        // A fourth server, started with --join, is added through a follower (which forwards the call to the leader).
        cluster.Launch(3);
        var leader = await cluster.LeaderAsync();
        var follower = (leader + 1) % 3;
        using (var c = cluster.Client(follower, TimeSpan.FromSeconds(90)))
            Assert.Equal(0, await c.CallIntAsync("one.zone.addserver", 0, cluster.ServerTemplate(3)));
        await Wait.ForAsync(() => Task.FromResult(File.Exists(Path.Combine(cluster.DataDir(3), "one_auth"))), "the new server to learn the replicated credentials");
        var pool = await Wait.ForAsync(async () => ServerPool(await ZoneAsync(cluster, 3)), p => p.Count == 4, "the new server to list four servers in SERVER_POOL");
        Assert.Equal([0, 1, 2, 3], pool.Keys.Order());
        Assert.Equal(("server-3", $"http://127.0.0.1:{cluster.Ports[3]}/RPC2"), pool[3]);
        var joined = await Wait.ForAsync(() => cluster.RaftStatusAsync(3), s => s is { ServerId: 3, State: 2 }, "the new server to be follower 3");
        Assert.NotNull(joined);
        Assert.Contains("snapshot", cluster.Servers[3]!.Output, StringComparison.OrdinalIgnoreCase);

        // The joined server has every write acknowledged so far (and more arrive meanwhile).
        await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= 100), "writes to go on after the join", TimeSpan.FromSeconds(60));
        var snapshotOfAcks = acknowledged.ToArray();
        await Wait.ForAsync(() => cluster.TemplatesAsync(3), t => snapshotOfAcks.All(a => t.TryGetValue(a.Value, out var n) && n == a.Key), "the new server to hold every acknowledged write", TimeSpan.FromSeconds(30));

        // Delete the leader: it leaves, another server leads, writes keep working.
        leader = await cluster.LeaderAsync();
        var termBefore = (await cluster.RaftStatusAsync(leader))!.Value.Term;
        using (var c = cluster.Client((leader + 1) % 4, TimeSpan.FromSeconds(30)))
            Assert.Equal(0, await c.CallIntAsync("one.zone.delserver", 0, leader));
        var newLeader = await Wait.ForAsync(cluster.LeaderAsync, l => l >= 0 && l != leader, "a new leader after deleting the old one", TimeSpan.FromSeconds(30));
        Assert.True((await cluster.RaftStatusAsync(newLeader))!.Value.Term > termBefore);
        await Wait.ForAsync(async () => !ServerPool(await ZoneAsync(cluster, newLeader)).ContainsKey(leader), "the deleted server to leave SERVER_POOL");
        var countAfterDelete = acknowledged.Count;
        try { await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= countAfterDelete + 40), "40 writes after deleting the leader", TimeSpan.FromSeconds(60)); }
        catch (Exception ex) when (ex is not OperationCanceledException) { throw new Xunit.Sdk.XunitException($"{ex.Message} (last retried write: {RaftTests.LastRetryReason})"); }

        // Three members now, the joined one among them: with one more of them stopped, the other two still make a
        // majority of three — so the joined server votes and acknowledges (it counts in the quorum).
        var members = Enumerable.Range(0, 4).Where(i => i != leader).ToList();
        var stopped = members.First(i => i != 3 && i != newLeader);
        cluster.Servers[stopped]!.Kill9();
        cluster.Servers[stopped] = null;
        var countAtStop = acknowledged.Count;
        await Wait.ForAsync(() => Task.FromResult(acknowledged.Count >= countAtStop + 20), "20 writes with two of the three members", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await writer;

        // Restart everything (the deleted server too): the same three members, the same ids, the same state.
        var expected = await cluster.TemplatesAsync(newLeader);
        Assert.True(acknowledged.All(a => expected.TryGetValue(a.Value, out var n) && n == a.Key), "the leader lacks an acknowledged write");
        var poolBefore = ServerPool(await ZoneAsync(cluster, newLeader));
        Assert.Equal(members.Order(), poolBefore.Keys.Order());
        for (var i = 0; i < 4; i++)
        {
            if (cluster.Servers[i] is { } s) Assert.Equal(0, await s.TerminateAsync(TimeSpan.FromSeconds(30)));
            cluster.Servers[i] = null;
        }
        for (var i = 0; i < 4; i++) cluster.Launch(i);
        await Wait.ForAsync(cluster.LeaderAsync, l => members.Contains(l), "a leader among the members after the restart", TimeSpan.FromSeconds(60));
        foreach (var i in members)
        {
            var id = i;
            await Wait.ForAsync(() => cluster.TemplatesAsync(id), t => t.Count == expected.Count && expected.All(e => t.TryGetValue(e.Key, out var n) && n == e.Value), $"server {id} to show the state after the restart", TimeSpan.FromSeconds(30));
            Assert.Equal(poolBefore, ServerPool(await ZoneAsync(cluster, id)));
            Assert.Equal(id, (await cluster.RaftStatusAsync(id))!.Value.ServerId);
        }
        // The deleted server stays out: it never leads, and writes go on without it.
        Assert.NotEqual(3, (await cluster.RaftStatusAsync(leader))?.State ?? 0);
        Assert.True(await RaftTests.AllocateWithRetryAsync(cluster, members[0], "after-restart", CancellationToken.None) > 0);
    }
    /// <summary>
    /// Pre-vote: a follower frozen (SIGSTOP: a partition that keeps its sockets) misses many election timeouts while
    /// writes go on through the leader; thawed, it rejoins as a follower without an election — the leader and the
    /// term (one.zone.raftstatus) are those from before, and no write was refused meanwhile.
    /// </summary>
    [Fact]
    public async Task PartitionedFollowerRejoins_WithoutDeposingTheLeader()
    {
        await using var cluster = await RaftCluster.StartAsync(Path.Combine(_dir, "p"));
        var leader = await cluster.LeaderAsync();
        var follower = (leader + 1) % 3;
        await RaftTests.AllocateWithRetryAsync(cluster, leader, "before", CancellationToken.None);
        var before = (await cluster.RaftStatusAsync(leader))!.Value;
        Assert.Equal(before.Term, (await Wait.ForAsync(() => cluster.RaftStatusAsync(follower), s => s?.Term == before.Term, "the follower to be in the leader's term"))!.Value.Term);

        cluster.Servers[follower]!.Pause();
        try
        {
            // Election timeouts are 300-600 ms: while the follower is frozen for 3 s it misses five or more. Writes
            // go through the leader meanwhile (two of three servers are a majority) and none is refused.
            using var c = cluster.Client(leader);
            var partition = Task.Delay(TimeSpan.FromSeconds(3));
            var written = 0;
            while (!partition.IsCompleted)
            {
                await c.CallIntAsync("one.template.allocate", $"NAME=\"during-{written}\"\nCPU=1\nMEMORY=64");
                written++;
            }
            Assert.True(written > 0);
        }
        finally
        {
            cluster.Servers[follower]!.Resume();
        }

        // The thawed follower catches up as a follower of the same leader, in the same term.
        await Wait.ForAsync(() => cluster.RaftStatusAsync(follower), s => s is { State: 2 } && s.Value.Commit >= before.Commit, "the thawed server to answer as a follower");
        using (var c = cluster.Client(follower))
            Assert.True(await c.CallIntAsync("one.template.allocate", "NAME=\"after\"\nCPU=1\nMEMORY=64") > 0); // forwarded to the leader
        var leaderAfter = (await cluster.RaftStatusAsync(leader))!.Value;
        var followerAfter = (await cluster.RaftStatusAsync(follower))!.Value;
        Assert.Equal(3, leaderAfter.State);
        Assert.Equal(before.Term, leaderAfter.Term);
        Assert.Equal(before.Term, followerAfter.Term);
        Assert.Equal(leader, await cluster.LeaderAsync());
    }
}
