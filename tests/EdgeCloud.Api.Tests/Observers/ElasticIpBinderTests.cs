using System.Collections.Concurrent;
using EdgeCloud.Core;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Frontend.Networking;
using EdgeCloud.Requests;
using EdgeCloud.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Api.Tests.Observers;

/// <summary>
/// The elastic-IP binder on a command bus fed as a Raft server feeds it: committed change sets, and whole
/// state snapshots installed (no change sets, no events), with a hook that records its calls.
/// </summary>
public sealed class ElasticIpBinderTests
{
    private sealed class RecordingHooks : IElasticIpHooks
    {
        public ConcurrentQueue<string> Calls { get; } = new();

        public bool Exists(string hook) => true;

        public Task RunAsync(string hook, ElasticIpEvent e, CancellationToken ct)
        {
            Calls.Enqueue($"{hook} {e.Action} {e.Ip} VM {e.VmId} {e.HostName}");
            return Task.CompletedTask;
        }
    }

    private sealed class NoLog : IChangeLog
    {
        public Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class NoDrivers : IDriverDispatcher
    {
        public void Enqueue(DriverRequest request) { }
    }

    private static readonly Host[] Hosts = [new() { Id = 0, Name = "h0" }, new() { Id = 1, Name = "h1" }];

    private static VNet ElasticNet()
    {
        var ar = new VectorAttribute("AR");
        ar.Set("AR_ID", "0");
        ar.Set("TYPE", "IP4");
        ar.Set("IP", "100.64.0.1");
        ar.Set("SIZE", "8");
        ar.Set("ELASTIC_IP_HOOK", "eip");
        return new VNet { Id = 0, Name = "public", AddressRanges = [new AddressRange { ArId = 0, Attributes = ar }], NextArId = 1 };
    }

    /// <summary>A VM on host <paramref name="hostId"/> with one NIC leasing <paramref name="ip"/> of the elastic network.</summary>
    private static Vm VmOn(int id, int hostId, string ip, VmState state = VmState.ACTIVE, LcmState lcm = LcmState.RUNNING)
    {
        var nic = new VectorAttribute("NIC");
        nic.Set("NIC_ID", "0");
        nic.Set("NETWORK_ID", "0");
        nic.Set("AR_ID", "0");
        nic.Set("IP", ip);
        var t = new Template();
        t.Add(nic);
        return new Vm
        {
            Id = id, Name = $"vm{id}", Template = t, State = state, LcmState = lcm,
            History = [new HistoryRecord { Oid = id, Seq = 0, Hid = hostId, Hostname = Hosts[hostId].Name }],
        };
    }

    private static StateSnapshot State(long version, params PoolObject[] vms) =>
        StateSnapshot.Load([.. Hosts, ElasticNet(), .. vms], new Dictionary<ObjectType, int>(), version);

    private static StateSnapshot Commit(CommandBus bus, params PoolObject[] changed)
    {
        var cs = new ChangeSet([.. changed.Select(o => new Change(o.Type, o.Id, o))], new Dictionary<ObjectType, int>());
        var next = bus.Current.Apply(cs);
        bus.PublishCommitted(next, [cs]);
        return next;
    }

    [Fact]
    public async Task OnCommitted_WholeSnapshotInstalled_ReseedsWithoutHooks_AndLaterChangesAreReconciledFromIt()
    {
        await using var bus = new CommandBus(State(10, VmOn(1, 0, "100.64.0.1"), VmOn(2, 0, "100.64.0.2")), new NoLog(), TimeProvider.System, NullLogger<CommandBus>.Instance);
        var cloud = new Cloud(bus, new CloudSettings(), TimeProvider.System, new NoDrivers());
        var hooks = new RecordingHooks();
        var binder = new ElasticIpBinder(() => cloud, hooks, NullLogger<ElasticIpBinder>.Instance);
        bus.Subscribe(binder);
        await binder.StartAsync(CancellationToken.None);
        try
        {
            await binder.Started.WaitAsync(TimeSpan.FromSeconds(30));

            // A snapshot from the leader of the time: VM 1 ended (its detach was that leader's), VM 3 was bound on h1 (its attach too).
            bus.PublishCommitted(State(20, VmOn(1, 0, "100.64.0.1", VmState.DONE, LcmState.LCM_INIT), VmOn(2, 0, "100.64.0.2"), VmOn(3, 1, "100.64.0.3")), []);

            // Later commits: VM 1 changes again (not bound before or after: no hook), VM 3 ends (detach), VM 2 migrates (detach + attach).
            var vm1 = bus.Current.Get<Vm>(ObjectType.Vm, 1)!;
            Commit(bus, vm1 with { UserTemplate = Template.Parse("NOTE = \"after the snapshot\"") });
            Commit(bus, VmOn(3, 1, "100.64.0.3", VmState.DONE, LcmState.LCM_INIT));
            Commit(bus, VmOn(2, 1, "100.64.0.2", VmState.ACTIVE, LcmState.MIGRATE) with { History = [
                new HistoryRecord { Oid = 2, Seq = 0, Hid = 0, Hostname = "h0" }, new HistoryRecord { Oid = 2, Seq = 1, Hid = 1, Hostname = "h1" }] });

            var calls = await Wait.ForAsync(() => Task.FromResult(hooks.Calls.ToArray()), c => c.Length >= 3, "the hook calls of the commits after the snapshot");
            // Nothing for what the snapshot merely showed, VM 1's detach not doubled, VM 3's not lost; hooks run in commit order.
            Assert.Equal(["eip detach 100.64.0.3 VM 3 h1", "eip detach 100.64.0.2 VM 2 h0", "eip attach 100.64.0.2 VM 2 h1"], calls);
        }
        finally
        {
            await binder.StopAsync(CancellationToken.None);
        }
    }
}
