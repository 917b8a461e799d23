using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Testing;
using Grpc.Net.Client;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// A host agent in a Raft zone: three <c>edgecloud frontend --raft</c> processes and one <c>edgecloud agent</c>
/// process (dummy hypervisor: this is about the connection, not the guests). The zone has one agent CA, the
/// agent joins through a follower (which sends it to the leader), and when the leader is killed in the middle
/// of a VM action the agent finds the new leader by itself, the action completes exactly once, the host stays
/// MONITORED, and new actions run through the new leader.
/// </summary>
[Collection("raft")] // one cluster at a time: the machine has few cores
public sealed partial class RaftAgentTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-raft-agent-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private const int Active = 3, Running = 3, Poweroff = 8, HostMonitored = 2;

    [Fact]
    public async Task AgentJoinedThroughAFollower_FollowsTheLeaderAcrossAKill_AndNoCommandRunsTwice()
    {
        Directory.CreateDirectory(_dir);
        await using var cluster = await RaftCluster.StartAsync(Path.Combine(_dir, "zone"));
        var leader = await cluster.LeaderAsync();
        var follower = (leader + 1) % 3;
        using var c = cluster.Client(leader);
        var (hostId, token) = await AddHostAsync(c, "edge-1");

        // One CA for the zone: every server's agent endpoint shows the same CA, the one the token pins.
        var caHash = token.Split('.')[3];
        for (var i = 0; i < 3; i++)
            Assert.Equal(caHash, await Wait.ForAsync(() => CaHashAtAsync(cluster.AgentUrl(i)), h => h is not null, $"server {i}'s agent CA", TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 3; i++)
            Assert.False(Directory.Exists(Path.Combine(cluster.DataDir(i), "pki")), "a Raft server keeps no CA of its own");

        // Joined through a follower: the CA checks out there, and the join itself is sent on to the leader.
        // The shutdown of the dummy hypervisor takes 3 s, so the leader can be killed in the middle of one.
        AgentProcess agent;
        Environment.SetEnvironmentVariable("EDGECLOUD_DUMMY_DELAY_MS", "3000");
        try { agent = AgentProcess.Start(Path.Combine(_dir, "agent"), cluster.AgentUrl(follower), token, "dummy"); }
        finally { Environment.SetEnvironmentVariable("EDGECLOUD_DUMMY_DELAY_MS", null); }
        await using (agent)
        {
            string Context() => agent.Output + "\n" + cluster.Output;
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(30), Context);
            Assert.Contains($"does not lead the zone: joining at the leader {cluster.AgentUrl(leader)}", agent.Output, StringComparison.Ordinal);
            var known = JsonSerializer.Deserialize<List<string>>(await File.ReadAllTextAsync(Path.Combine(agent.DataDir, "identity", "frontends.json")))!;
            Assert.Equal(Enumerable.Range(0, 3).Select(cluster.AgentUrl).Order(), known.Order());

            var vm1 = await c.CallIntAsync("one.vm.allocate", "NAME=before\nCPU=0.1\nMEMORY=64", false);
            await WaitVmAsync(c, vm1, Active, Running, TimeSpan.FromSeconds(30), Context);

            // Poweroff: the leader sends the shutdown, and dies a second into it.
            await c.CallIntAsync("one.vm.action", "poweroff", vm1);
            await Task.Delay(1000);
            cluster.Servers[leader]!.Kill9();
            cluster.Servers[leader] = null;
            var survivors = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();

            // Watch the host's state on the survivors from now on: it must not drop out of MONITORED.
            var seen = new ConcurrentBag<string>();
            using var stopWatching = new CancellationTokenSource();
            var watcher = WatchHostAsync(cluster, survivors, hostId, seen, stopWatching.Token);

            var newLeader = await Wait.ForAsync(cluster.LeaderAsync, l => l >= 0 && l != leader, "a new leader among the survivors", TimeSpan.FromSeconds(30));
            using var c2 = cluster.Client(newLeader);
            await WaitUntilAsync(() => agent.Output.Contains($"Connected to the front-end {cluster.AgentUrl(newLeader)} as host {hostId}", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "the agent to connect to the new leader by itself");
            // The interrupted shutdown completes through the new leader (its result, or the same command sent again).
            await WaitVmAsync(c2, vm1, Poweroff, -1, TimeSpan.FromSeconds(60), Context);
            await WaitHostMonitoredAsync(c2, hostId, TimeSpan.FromSeconds(30), Context);

            // New actions through the new leader: the VM back on, and a new VM deployed.
            await c2.CallIntAsync("one.vm.action", "resume", vm1);
            var vm2 = await c2.CallIntAsync("one.vm.allocate", "NAME=after\nCPU=0.1\nMEMORY=64", false);
            await WaitVmAsync(c2, vm1, Active, Running, TimeSpan.FromSeconds(30), Context);
            await WaitVmAsync(c2, vm2, Active, Running, TimeSpan.FromSeconds(30), Context);
            await stopWatching.CancelAsync();
            await watcher;
            Assert.True(seen.IsEmpty, $"the host left MONITORED during the failover: {string.Join(", ", seen.Distinct())}\n{Context()}");

            // Exactly once: every execution on the host is one journal entry (one command id); none ran twice.
            var executions = ExecutionRegex().Matches(agent.Output).Select(m => m.Value).ToList();
            var journal = Directory.GetFiles(Path.Combine(agent.DataDir, "journal"), "*.json");
            Assert.Equal(journal.Length, executions.Count);
            Assert.Single(executions, e => e == $"VM {vm1}: Shutdown done");
            Assert.Single(executions, e => e == $"VM {vm2}: Deploy done");
            output.WriteLine(agent.Output);
        }
    }

    /// <summary>SHA-256 of the CA a front-end's agent endpoint hands out (Discover), or null while it cannot.</summary>
    private static async Task<string?> CaHashAtAsync(string url)
    {
#pragma warning disable CA5359 // the CA is public: read it unverified, as an agent does before it checks the token's hash
        using var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { SslOptions = new() { RemoteCertificateValidationCallback = (_, _, _, _) => true } },
            DisposeHttpClient = true,
        });
#pragma warning restore CA5359
        try
        {
            var reply = await new HostAgent.HostAgentClient(channel).DiscoverAsync(new DiscoverRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
            using var ca = X509Certificate2.CreateFromPem(reply.CaCertificatePem);
            return Convert.ToHexStringLower(SHA256.HashData(ca.RawData));
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    /// <summary>Polls the host on the survivors and records every state other than MONITORED it is seen in.</summary>
    private static async Task WatchHostAsync(RaftCluster cluster, int[] servers, int hostId, ConcurrentBag<string> seen, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            foreach (var s in servers)
            {
                try
                {
                    using var client = cluster.Client(s, TimeSpan.FromSeconds(2));
                    var h = XElement.Parse(await client.CallStringAsync("one.host.info", hostId));
                    if ((int)h.Element("STATE")! != HostMonitored)
                        seen.Add($"STATE={h.Element("STATE")?.Value} on server {s}: {h.Element("TEMPLATE")?.Element("ERROR")?.Value}");
                }
                catch (EdgeCloud.Client.OneException) { /* a server between leaders may not answer */ }
            }
            try { await Task.Delay(100, ct); } catch (OperationCanceledException) { return; }
        }
    }

    [GeneratedRegex(@"VM \d+: \w+ (done|failed)")]
    private static partial Regex ExecutionRegex();
}
