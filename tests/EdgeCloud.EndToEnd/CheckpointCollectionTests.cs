using System.Globalization;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The cluster replica's checkpoints of ended VMs, end to end with processes: a front-end, the replica host's agent
/// and a host agent (both the dummy hypervisor: this is about the front-end's collector and the replica's store; the
/// chains are put in the replica's DATA/checkpoints as its store keeps them — real shipping is HostFailureTests').
/// A VM that ends has its chains dropped at once; one that ends while the replica's agent is down has them dropped
/// when the agent connects again (reconcile); the chains of VMs that still exist stay.
/// </summary>
public sealed class CheckpointCollectionTests : IDisposable
{
    private const int Active = 3, Running = 3, Done = 6;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-ckgc-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ITestOutputHelper _out;

    public CheckpointCollectionTests(ITestOutputHelper output)
    {
        _out = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A one-layer chain of disk 0 of the VM, as the replica's store keeps it.</summary>
    private static void Chain(string replicaData, int vm)
    {
        var disk = Path.Combine(replicaData, "checkpoints", vm.ToString(CultureInfo.InvariantCulture), "0");
        Directory.CreateDirectory(disk);
        File.WriteAllBytes(Path.Combine(disk, "1.qcow2"), new byte[4096]);
        File.WriteAllText(Path.Combine(disk, "chain.json"), """{"imageId":0,"deltas":[{"seq":1,"file":"1.qcow2","bytes":4096,"at":1}],"generation":1}""");
    }

    private static string VmDir(string replicaData, int vm) => Path.Combine(replicaData, "checkpoints", vm.ToString(CultureInfo.InvariantCulture));

    [Fact]
    public async Task VmEnds_ReplicaDropsItsChainAtOnce_OrOnReconnectWhenItsAgentWasDown_AndLiveChainsStay()
    {
        var config = Path.Combine(_dir, "fe.yaml");
        await File.WriteAllTextAsync(config, "monitor-interval: 1\nscheduler-interval: 1\n");
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort(), "--config", config);
        using var c = fe.Client();
        await c.CallIntAsync("one.cluster.update", 0, "REPLICA_HOST=replica", 1);
        var (replica, tokenR) = await AddHostAsync(c, "replica");
        var (edge, tokenE) = await AddHostAsync(c, "edge");
        var replicaData = Path.Combine(_dir, "replica");
        var r = AgentProcess.Start(replicaData, fe.AgentUrl, tokenR, "dummy");
        var replicaAgents = new List<AgentProcess> { r };
        await using var e = AgentProcess.Start(Path.Combine(_dir, "edge"), fe.AgentUrl, tokenE, "dummy");
        string Logs() => $"replica:\n{r.Output}\nedge:\n{e.Output}\nfront-end:\n{fe.Output}";
        try
        {
            await WaitHostMonitoredAsync(c, replica, TimeSpan.FromSeconds(60), Logs);
            await WaitHostMonitoredAsync(c, edge, TimeSpan.FromSeconds(60), Logs);
            var vms = new List<int>();
            for (var i = 0; i < 3; i++)
                vms.Add(await c.CallIntAsync("one.vm.allocate", $"NAME=v{i}\nCPU=0.1\nMEMORY=64\nSCHED_REQUIREMENTS=\"ID={edge}\"\nCHECKPOINT=[INTERVAL=60]", false));
            foreach (var vm in vms) await WaitVmAsync(c, vm, Active, Running, TimeSpan.FromSeconds(60), Logs);
            var (ended, endedWhileDown, stays) = (vms[0], vms[1], vms[2]);
            foreach (var vm in vms) Chain(replicaData, vm);

            // ---- fast path: the VM ends, the replica (connected) drops its chains.
            await c.CallIntAsync("one.vm.action", "terminate-hard", ended);
            await WaitVmAsync(c, ended, Done, -1, TimeSpan.FromSeconds(30), Logs);
            await Wait.ForAsync(() => Task.FromResult(!Directory.Exists(VmDir(replicaData, ended))), $"the replica drops the chains of VM {ended}", TimeSpan.FromSeconds(30));
            Assert.True(Directory.Exists(VmDir(replicaData, endedWhileDown)) && Directory.Exists(VmDir(replicaData, stays)), "the chains of the other VMs stay");

            // ---- the replica's agent is down while a VM ends; meanwhile a late layer brought back a chain of the VM that
            //      ended first (its forget is journaled: only a reconcile removes it now).
            r.Kill9();
            await Wait.ForAsync(() => Task.FromResult(fe.Output.Contains($"Agent of host {replica} disconnected", StringComparison.Ordinal)), "the front-end sees the replica's agent gone", TimeSpan.FromSeconds(30));
            await c.CallIntAsync("one.vm.action", "terminate-hard", endedWhileDown);
            await WaitVmAsync(c, endedWhileDown, Done, -1, TimeSpan.FromSeconds(30), Logs);
            Chain(replicaData, ended);

            r = AgentProcess.Start(replicaData, null, null, "dummy");
            replicaAgents.Add(r);
            await Wait.ForAsync(() => Task.FromResult(!Directory.Exists(VmDir(replicaData, endedWhileDown)) && !Directory.Exists(VmDir(replicaData, ended))),
                "the replica drops the chains of the VMs that ended while its agent was down, when it connects again", TimeSpan.FromSeconds(60));
            var restarted = r;
            await Wait.ForAsync(() => Task.FromResult(restarted.Output.Contains("reconciled with the front-end", StringComparison.Ordinal)), "the replica's agent says it reconciled", TimeSpan.FromSeconds(10));
            Assert.True(File.Exists(Path.Combine(VmDir(replicaData, stays), "0", "chain.json")), $"VM {stays} still exists: its chain stays");

            // ---- the last VM ends too: nothing of the cluster's VMs is left on the replica.
            await c.CallIntAsync("one.vm.action", "terminate-hard", stays);
            await WaitVmAsync(c, stays, Done, -1, TimeSpan.FromSeconds(30), Logs);
            await Wait.ForAsync(() => Task.FromResult(!Directory.Exists(VmDir(replicaData, stays))), $"the replica drops the chains of VM {stays}", TimeSpan.FromSeconds(30));
        }
        catch
        {
            _out.WriteLine(Logs());
            throw;
        }
        finally
        {
            foreach (var a in replicaAgents) await a.DisposeAsync();
        }
    }
}
