using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Agents;

/// <summary>
/// Keeps the clusters' replica hosts holding checkpoints only of VMs that still exist (leader-only: wrapped in
/// <c>LeaderOnlyService</c>). Two paths, both idempotent agent commands (<see cref="CheckpointCommands"/>):
/// <list type="bullet">
/// <item>Fast: a VM committed as DONE (terminate, recover --delete) has its chains dropped by the replica host of the
/// cluster it was last on (<c>CheckpointsForget</c>, id <c>ckgc.vmN</c>: a resend is answered from the agent's journal).
/// Skipped when that replica's agent is not connected.</item>
/// <item>Robust: whenever a replica host's agent connects to this front-end (and every <see cref="ReconcileInterval"/>),
/// it is sent the VMs that are not DONE and the last VM id (<c>CheckpointsReconcile</c>); it drops the chains of every
/// other VM with an id up to that one. A VM in FAILURE or UNKNOWN is not DONE: its chain stays (recovery needs it).</item>
/// </list>
/// </summary>
public sealed class CheckpointCollector(Func<Cloud> cloud, AgentHub hub, FrontendOptions options, TimeProvider time, ILogger<CheckpointCollector> logger)
    : BackgroundService, IStateObserver
{
    private readonly Channel<(int HostId, int VmId)> _work = Channel.CreateUnbounded<(int, int)>(new UnboundedChannelOptions { SingleReader = true });
    private volatile bool _running;

    /// <summary>How often every connected replica host is reconciled, besides when its agent connects.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromMinutes(10);

    private const int AllVms = -1;

    /// <summary>In place of a host id: the replica of the cluster the VM was last on, looked up off the bus's writer.</summary>
    private const int ReplicaOfTheVm = -1;

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        if (!_running) return; // not leading: the next leader reconciles every replica as its agent connects there
        foreach (var cs in changeSets)
            foreach (var c in cs.Changes)
                if (c is { Type: ObjectType.Vm, Value: Vm { State: VmState.DONE } })
                    _work.Writer.TryWrite((ReplicaOfTheVm, c.Id));
    }

    private void OnAgentConnected(int hostId)
    {
        if (_running && ReplicaHosts(cloud().State).Contains(hostId)) _work.Writer.TryWrite((hostId, AllVms));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _running = true;
        hub.AgentConnected += OnAgentConnected;
        try
        {
            var ticks = TickAsync(stoppingToken);
            await foreach (var (hostId, vmId) in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var target = hostId;
                if (target == ReplicaOfTheVm)
                {
                    var state = cloud().State;
                    if (state.Get<Vm>(ObjectType.Vm, vmId) is not { } vm || ReplicaHostOf(state, vm) is not int replica) continue;
                    target = replica;
                }
                _ = SendAsync(target, vmId, stoppingToken); // one replica away must not hold up the others
            }
            await ticks.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            hub.AgentConnected -= OnAgentConnected;
            _running = false;
        }
    }

    private async Task TickAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // At once: replicas already connected when this front-end started leading (or started).
            foreach (var h in ReplicaHosts(cloud().State).Where(hub.IsConnected)) _work.Writer.TryWrite((h, AllVms));
            await Task.Delay(ReconcileInterval, time, ct).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(int hostId, int vmId, CancellationToken ct)
    {
        if (!hub.IsConnected(hostId)) return; // the reconcile when its agent connects does it
        Command command;
        if (vmId == AllVms)
        {
            var keep = KeepList(cloud().State);
            command = new Command
            {
                CommandId = string.Create(CultureInfo.InvariantCulture, $"ckgc.reconcile.h{hostId}.{Guid.NewGuid():N}"),
                VmId = AllVms,
                Op = CheckpointCommands.Reconcile,
                Argument = JsonSerializer.Serialize(keep, AgentHub.Json),
            };
        }
        else
            command = new Command { CommandId = string.Create(CultureInfo.InvariantCulture, $"ckgc.vm{vmId}"), VmId = vmId, Op = CheckpointCommands.Forget };
        try
        {
            var r = await hub.ExecuteAsync(hostId, command, TimeSpan.FromSeconds(options.AgentActionTimeout), ct).ConfigureAwait(false);
            if (!r.Success) logger.LogWarning("Checkpoints on replica host {HostId}: {Op} failed: {Reason}", hostId, command.Op, r.Message);
            else if (r.DataJson is { Length: > 2 } gone) // "[]" when nothing was there
                logger.LogInformation("Replica host {HostId} deleted the checkpoints of ended VMs {Vms}", hostId, gone);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // No longer leading: the next leader reconciles.
        }
        catch (Exception ex)
        {
            // Sent without being awaited: nothing else would see this. The next reconcile tries again.
            logger.LogWarning("Checkpoints on replica host {HostId}: {Op} failed: {Reason}", hostId, command.Op, ex.Message);
        }
    }

    /// <summary>What a replica keeps: every VM that is not DONE, and any VM made after this state (id above the last).</summary>
    public static CheckpointReconcile KeepList(StateSnapshot state) =>
        new(state.All<Vm>(ObjectType.Vm).Where(v => v.State != VmState.DONE).Select(v => v.Id).Order().ToList(), state.LastId(ObjectType.Vm));

    /// <summary>The replica host (REPLICA_HOST, a name or an id) of the cluster the VM was last on; null when none.</summary>
    public static int? ReplicaHostOf(StateSnapshot state, Vm vm)
    {
        if (vm.LastHistory is not { } last) return null;
        var cluster = state.Get<Cluster>(ObjectType.Cluster, last.Cid)
                      ?? (state.Get<Host>(ObjectType.Host, last.Hid) is { } h ? state.Get<Cluster>(ObjectType.Cluster, h.ClusterId) : null);
        return cluster is null ? null : VmSpecs.ReplicaHost(state, cluster)?.Id;
    }

    /// <summary>Every host that is some cluster's replica host.</summary>
    public static IReadOnlySet<int> ReplicaHosts(StateSnapshot state) =>
        state.All<Cluster>(ObjectType.Cluster).Select(c => VmSpecs.ReplicaHost(state, c)?.Id).OfType<int>().ToHashSet();
}
