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
/// Carries a security group's change to the VMs that use it, as OpenNebula does: each VM in the
/// group's OUTDATED_VMS is re-filtered by its host's agent (the rules replaced in place on every NIC)
/// and moves to UPDATED_VMS, or to ERROR_VMS when the host fails (one.secgroup.commit retries).
/// A VM that is not running is done at once: its host applies the current rules when it boots.
/// </summary>
public sealed class SecurityGroupUpdater(Func<Cloud> cloud, AgentHub hub, FrontendOptions options, ILogger<SecurityGroupUpdater> logger)
    : BackgroundService, IStateObserver
{
    private readonly Channel<int> _groups = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
            if (e is SecGroupOutdated o) _groups.Writer.TryWrite(o.SecGroupId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Groups left outdated by a previous run (the front-end stopped while updating).
        foreach (var sg in cloud().State.All<SecGroup>(ObjectType.SecGroup))
            if (!sg.OutdatedVms.IsEmpty) _groups.Writer.TryWrite(sg.Id);
        await foreach (var sgId in _groups.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try { await UpdateAsync(sgId, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) when (ex is CloudException or IOException or InvalidOperationException)
            {
                logger.LogWarning("Security group {SecGroupId} could not be propagated: {Reason}", sgId, ex.Message);
            }
        }
    }

    private async Task UpdateAsync(int sgId, CancellationToken ct)
    {
        var c = cloud();
        if (c.State.Get<SecGroup>(ObjectType.SecGroup, sgId) is not { } sg) return;
        await Task.WhenAll(sg.OutdatedVms.Select(async vmId =>
        {
            var state = c.State;
            var ok = true;
            if (state.Get<Vm>(ObjectType.Vm, vmId) is { State: VmState.ACTIVE, LcmState: LcmState.RUNNING } vm
                && state.Get<Host>(ObjectType.Host, vm.HostId) is { VmMad: "kvm" or "qemu" or "lxc" } host)
            {
                var command = new Command
                {
                    CommandId = $"sg{sgId}.vm{vmId}.{Guid.NewGuid():N}",
                    VmId = vmId,
                    Op = nameof(DriverOp.UpdateSecurity),
                    SpecJson = JsonSerializer.Serialize(VmSpecs.Build(state, vm), AgentHub.Json),
                };
                var result = await hub.ExecuteAsync(host.Id, command, TimeSpan.FromSeconds(options.AgentActionTimeout), ct).ConfigureAwait(false);
                ok = result.Success;
                if (!ok) logger.LogWarning("Security group {SecGroupId} on VM {VmId}: {Reason}", sgId, vmId, result.Message);
            }
            await c.SecGroupVmDoneAsync(sgId, vmId, ok, ct).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }
}
