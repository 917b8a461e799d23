using System.Xml.Linq;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Frontend;
using EdgeCloud.Frontend.Agents;
using EdgeCloud.Frontend.HighAvailability;
using EdgeCloud.Frontend.Monitoring;
using EdgeCloud.Requests;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// The host-failure recovery policy on dummy drivers: a host made unreachable (DUMMY_UNREACHABLE) goes to
/// ERROR; the recovery (driven round by round on a clock of the test's own) waits the grace period, then
/// restarts the host's VMs on another host of its cluster — marked to restore from their checkpoint when
/// they have one, recreated from their images otherwise — or leaves them, saying why, when no host can
/// take them. Leader-only: it stops when leadership is lost.
/// </summary>
public sealed class HostFailureRecoveryTests : IAsyncLifetime
{
    private FrontendHandle _fe = null!;
    private readonly ManualClock _clock = new();

    public async Task InitializeAsync() =>
        _fe = await FrontendHandle.StartAsync(Backend.Sqlite, o => o with { HostErrorRecovery = false }); // the test drives its own recovery

    public async Task DisposeAsync() => await _fe.DisposeAsync();

    private HostFailureRecovery Recovery(double grace) =>
        new(() => _fe.Server.Cloud, _fe.Options with { HostErrorGrace = grace, HostErrorRecovery = true }, _clock, NullLogger<HostFailureRecovery>.Instance);

    private async Task<int> HostAsync(string name, int cluster = -1)
    {
        var id = await _fe.Admin.CallIntAsync("one.host.allocate", name + Guid.NewGuid().ToString("N")[..6], "dummy", "dummy", cluster);
        await Wait.ForAsync(async () => (await _fe.Admin.InfoAsync("one.host.info", id)).Int("STATE") == 2, "host MONITORED");
        return id;
    }

    private async Task<int> RunningVmAsync(int host, string extra = "")
    {
        var vm = await _fe.Admin.CallIntAsync("one.vm.allocate", $"NAME=v\nCPU=0.1\nMEMORY=64\nSCHED_REQUIREMENTS=\"ID={host}\"\n{extra}", false);
        await Wait.ForAsync(async () => (await VmAsync(vm)).Int("LCM_STATE") == 3, "VM RUNNING");
        return vm;
    }

    private async Task<int> ClusterAsync()
    {
        var cluster = await _fe.Admin.CallIntAsync("one.cluster.allocate", "c" + Guid.NewGuid().ToString("N")[..6]);
        await _fe.Admin.CallAsync("one.cluster.adddatastore", cluster, 0); // the system datastore serves it too
        return cluster;
    }

    private Task<XElement> VmAsync(int id) => _fe.Admin.InfoAsync("one.vm.info", id, false);

    private async Task FailAsync(int host)
    {
        await _fe.Admin.CallAsync("one.host.update", host, "DUMMY_UNREACHABLE=YES", 1);
        await Wait.ForAsync(async () => (await _fe.Admin.InfoAsync("one.host.info", host)).Int("STATE") == 3, "host ERROR");
    }

    private static int Hid(XElement vm) => vm.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("HID");

    [Fact]
    public async Task VmWithoutCheckpoint_WaitsTheGracePeriod_ThenIsRecreatedOnTheOtherHostOfTheCluster()
    {
        var cluster = await ClusterAsync();
        var a = await HostAsync("a", cluster);
        var b = await HostAsync("b", cluster);
        var elsewhere = await HostAsync("other"); // another cluster: never a target
        var vm = await RunningVmAsync(a);
        await FailAsync(a);
        var recovery = Recovery(grace: 60);

        Assert.Empty(await recovery.RoundAsync(CancellationToken.None)); // ERROR seen now: the grace period starts
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(await recovery.RoundAsync(CancellationToken.None));
        Assert.Equal(a, Hid(await VmAsync(vm)));

        _clock.Advance(TimeSpan.FromSeconds(2));
        var done = Assert.Single(await recovery.RoundAsync(CancellationToken.None));
        Assert.Equal((vm, a, b, false), (done.VmId, done.FromHost, done.ToHost, done.FromCheckpoint));
        var moved = await Wait.ForAsync(() => VmAsync(vm), v => v.Int("LCM_STATE") == 3 && Hid(v) == b, "VM RUNNING on host b");
        Assert.NotEqual(elsewhere, Hid(moved));
        var left = moved.At("HISTORY_RECORDS").Elements("HISTORY").Single(h => h.Int("HID") == a);
        Assert.Equal(14, left.Int("ACTION")); // delete-recreate
        Assert.Contains("recreated on host", moved.At("USER_TEMPLATE/HOST_FAILURE_RECOVERY").Value, StringComparison.Ordinal);
        Assert.Null(moved.Element("USER_TEMPLATE")!.Element("CHECKPOINT_LAST"));
        // Capacity followed the VM.
        Assert.DoesNotContain(vm, (await _fe.Admin.InfoAsync("one.host.info", a)).At("VMS").Elements("ID").Select(e => (int)e));
        Assert.Contains(vm, (await _fe.Admin.InfoAsync("one.host.info", b)).At("VMS").Elements("ID").Select(e => (int)e));
    }

    [Fact]
    public async Task VmWithPersistentDisk_Recreated_ImageKeepsItsLastContentAndTheLogSaysSo()
    {
        var cluster = await ClusterAsync();
        await _fe.Admin.CallAsync("one.cluster.adddatastore", cluster, 1); // the image's datastore
        var a = await HostAsync("a", cluster);
        await HostAsync("b", cluster);
        var image = await _fe.Admin.CallIntAsync("one.image.allocate", $"NAME=p{Guid.NewGuid().ToString("N")[..6]}\nTYPE=DATABLOCK\nSIZE=4\nPERSISTENT=YES", 1, false);
        await Wait.ForAsync(async () => (await _fe.Admin.InfoAsync("one.image.info", image)).Int("STATE") == 1, "image READY");
        var vm = await RunningVmAsync(a, $"DISK=[IMAGE_ID={image}]");
        await _fe.Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "on-a");
        await Wait.ForAsync(async () => (await VmAsync(vm)).Int("LCM_STATE") == 3, "disk snapshot taken");
        await FailAsync(a);
        var recovery = Recovery(grace: 60);

        Assert.Empty(await recovery.RoundAsync(CancellationToken.None)); // ERROR seen now: the grace period starts
        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Single(await recovery.RoundAsync(CancellationToken.None));

        var moved = await Wait.ForAsync(() => VmAsync(vm), v => v.Int("LCM_STATE") == 3 && Hid(v) != a, "VM RUNNING on host b");
        Assert.Contains($"persistent image {image} keep", moved.At("USER_TEMPLATE/HOST_FAILURE_RECOVERY").Value, StringComparison.Ordinal);
        // The snapshot taken on the failed host was never written back: the disk starts from the image's (none).
        Assert.Empty(moved.Elements("SNAPSHOTS"));
        Assert.Equal(8, (await _fe.Admin.InfoAsync("one.image.info", image)).Int("STATE")); // still the VM's: USED_PERS
    }

    [Fact]
    public async Task NoOtherHostInTheCluster_TheVmStaysAndSaysWhy()
    {
        var cluster = await ClusterAsync();
        var a = await HostAsync("a", cluster);
        await HostAsync("other"); // in the default cluster
        var vm = await RunningVmAsync(a);
        await FailAsync(a);

        var done = Assert.Single(await Recovery(grace: 0).RoundAsync(CancellationToken.None));
        Assert.Equal(-1, done.ToHost);
        var stays = await VmAsync(vm);
        Assert.Equal(a, Hid(stays));
        Assert.Contains("no other enabled host", stays.At("USER_TEMPLATE/HOST_FAILURE_RECOVERY").Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VmWithCheckpoint_IsMarkedToRestoreFromIt_AndItsNewSpecPullsFromTheClusterReplica()
    {
        var cluster = await ClusterAsync();
        var replica = await HostAsync("replica", cluster);
        await _fe.Admin.CallAsync("one.host.update", replica, "AGENT_ENDPOINT=\"https://replica.example:2635\"", 1);
        await _fe.Admin.CallAsync("one.host.status", replica, 1); // disabled: stores checkpoints, runs no VMs
        await _fe.Admin.CallAsync("one.cluster.update", cluster, $"REPLICA_HOST={replica}", 1);
        var a = await HostAsync("a", cluster);
        var b = await HostAsync("b", cluster);
        var vm = await RunningVmAsync(a, "CHECKPOINT=[INTERVAL=30]");
        var spec = VmSpecs.Build(_fe.Server.Cloud.State, _fe.Server.Cloud.State.Get<Vm>(ObjectType.Vm, vm)!);
        Assert.Equal((30.0, "https://replica.example:2635", ""), (spec.CheckpointInterval, spec.CheckpointReplica, spec.CheckpointRestoreFrom));

        // The agent of host a reports a checkpoint (as its monitoring does); a stale report from another host is ignored.
        await _fe.Server.Cloud.VmCheckpointsReportedAsync(a, [new VmCheckpointReport(vm, 3, 1_700_000_000, 65_536, false, 400_000)]);
        await _fe.Server.Cloud.VmCheckpointsReportedAsync(b, [new VmCheckpointReport(vm, 9, 1_700_000_100, 1, false, 1)]);
        var last = (await VmAsync(vm)).At("USER_TEMPLATE/CHECKPOINT_LAST");
        Assert.Equal(("3", "65536", "NO", a.ToString()), (last.At("SEQ").Value, last.At("SIZE").Value, last.At("FULL").Value, last.At("HOST").Value));

        await FailAsync(a);
        var done = Assert.Single(await Recovery(grace: 0).RoundAsync(CancellationToken.None));
        Assert.Equal((b, true), (done.ToHost, done.FromCheckpoint));
        var moved = await Wait.ForAsync(() => VmAsync(vm), v => v.Int("LCM_STATE") == 3 && Hid(v) == b, "VM RUNNING on host b");
        Assert.Contains("from checkpoint 3", moved.At("USER_TEMPLATE/HOST_FAILURE_RECOVERY").Value, StringComparison.Ordinal);
        var restoring = VmSpecs.Build(_fe.Server.Cloud.State, _fe.Server.Cloud.State.Get<Vm>(ObjectType.Vm, vm)!);
        Assert.Equal("https://replica.example:2635", restoring.CheckpointRestoreFrom);
        Assert.Equal(moved.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("SEQ"), restoring.CheckpointGeneration);
        Schemas.AssertValid(moved.ToString(), "vm.xsd"); // the record keeps the VM's XML valid
    }

    [Fact]
    public async Task LeaderOnly_StopsWhenLeadershipIsLost_AndACanceledRoundMovesNothing()
    {
        var a = await HostAsync("a");
        await HostAsync("b");
        var vm = await RunningVmAsync(a);
        await FailAsync(a);

        var recovery = Recovery(grace: 0);
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => recovery.RoundAsync(canceled.Token));
        Assert.Equal(a, Hid(await VmAsync(vm)));

        var leadership = new Leadership();
        var gated = LeaderOnlyService.Wrap(leadership, recovery, NullLoggerFactory.Instance);
        await gated.StartAsync(CancellationToken.None);
        Assert.Null(recovery.ExecuteTask); // a follower does not run it
        leadership.Set(true);
        await Wait.ForAsync(() => Task.FromResult(recovery.ExecuteTask is { IsCompleted: false }), "the recovery runs on the leader");
        leadership.Set(false);
        await Wait.ForAsync(() => Task.FromResult(recovery.ExecuteTask is { IsCompleted: true }), "the recovery stopped with the leadership");
        await gated.StopAsync(CancellationToken.None);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class Leadership : ILeadership
    {
        public bool IsLeader { get; private set; }
        public event Action<bool>? Changed;

        public void Set(bool leader)
        {
            IsLeader = leader;
            Changed?.Invoke(leader);
        }
    }

    [Fact]
    public async Task CheckpointCollector_VmsOfAFailedHostAndEndedVms_KeepsTheFormerChainsOnly()
    {
        var cluster = await ClusterAsync();
        var replica = await HostAsync("replica", cluster);
        var a = await HostAsync("a", cluster);
        var replicaName = (await _fe.Admin.InfoAsync("one.host.info", replica)).Str("NAME");
        await _fe.Admin.CallAsync("one.cluster.update", cluster, $"REPLICA_HOST={replicaName}", 1);
        var stays = await RunningVmAsync(a, "CHECKPOINT=[INTERVAL=5]");
        var terminated = await RunningVmAsync(a, "CHECKPOINT=[INTERVAL=5]");
        var deleted = await RunningVmAsync(a, "CHECKPOINT=[INTERVAL=5]");
        await _fe.Admin.CallAsync("one.vm.action", "terminate-hard", terminated);
        await _fe.Admin.CallAsync("one.vm.recover", deleted, 3); // recover --delete
        foreach (var vm in new[] { terminated, deleted })
            await Wait.ForAsync(async () => (await VmAsync(vm)).Int("STATE") == 6, $"VM {vm} DONE");
        await FailAsync(a); // its host dies: the VM left on it is not DONE, its chain is what recovery needs

        var state = _fe.Server.Cloud.State;
        var keep = CheckpointCollector.KeepList(state);
        Assert.Contains(stays, keep.Live);
        Assert.DoesNotContain(terminated, keep.Live);
        Assert.DoesNotContain(deleted, keep.Live);
        Assert.True(keep.LastId >= deleted, $"last VM id {keep.LastId}");
        // The replica of the cluster the ended VMs were last on, named by name or by id.
        Assert.Equal(replica, CheckpointCollector.ReplicaHostOf(state, state.Get<Vm>(ObjectType.Vm, terminated)!));
        Assert.Contains(replica, CheckpointCollector.ReplicaHosts(state));
        await _fe.Admin.CallAsync("one.cluster.update", cluster, $"REPLICA_HOST={replica}", 1);
        Assert.Equal(replica, CheckpointCollector.ReplicaHostOf(_fe.Server.Cloud.State, state.Get<Vm>(ObjectType.Vm, deleted)!));
    }
}
