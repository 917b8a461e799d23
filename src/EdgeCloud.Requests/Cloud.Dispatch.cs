using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>The scheduler's decision for one VM: start it on (host, system datastore), or move it there.</summary>
public sealed record Dispatch(int VmId, int HostId, int DatastoreId, bool Migrate = false, bool Live = false);

public sealed partial class Cloud
{
    /// <summary>
    /// Carries out a scheduler plan as commands (batched so one command stays small). Each decision is
    /// checked again against the state it is applied to: a VM that is no longer PENDING (or RESCHED),
    /// or a host that is no longer usable, is skipped, never double-placed. Unplaced VMs get the
    /// reason in USER_TEMPLATE/SCHED_MESSAGE (written only when the reason changes).
    /// </summary>
    public async Task<int> DispatchAsync(IReadOnlyList<Dispatch> decisions, IReadOnlyList<(int VmId, string Message)> unplaced, CancellationToken ct = default)
    {
        var done = 0;
        foreach (var chunk in decisions.Chunk(256))
        {
            done += await bus.ExecuteAsync(tx =>
            {
                var n = 0;
                foreach (var d in chunk)
                {
                    if (tx.Get<Vm>(ObjectType.Vm, d.VmId) is not { } vm) continue;
                    if (tx.Get<Host>(ObjectType.Host, d.HostId) is not { State: HostState.MONITORED } host) continue;
                    if (!d.Migrate && vm.State == VmState.PENDING)
                    {
                        if (PickAutoNics(tx, vm, host) is null) continue; // no free address on an auto NIC's network there: stays PENDING
                        Deploy(tx, ClearSchedMessage(vm), host, d.DatastoreId, enforce: false, Caller.System, VmAction.Deploy);
                        n++;
                    }
                    else if (d.Migrate && vm.Resched == 1 && vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING && vm.HostId != d.HostId)
                    {
                        var moved = VmLifeCycle.AddHistory(tx, vm with { Resched = 0 }, host, tx.Get<Datastore>(ObjectType.Datastore, d.DatastoreId), d.Live ? VmAction.LiveMigrate : VmAction.Migrate, 0, 0);
                        LifeCycle.Enter(tx, moved, VmState.ACTIVE, d.Live ? LcmState.MIGRATE : LcmState.SAVE_MIGRATE);
                        n++;
                    }
                }
                return n;
            }, ct).ConfigureAwait(false);
        }
        var changed = unplaced.Where(u => bus.Current.Get<Vm>(ObjectType.Vm, u.VmId) is { } vm && vm.UserTemplate.Get("SCHED_MESSAGE") is var m && !(m?.EndsWith(u.Message, StringComparison.Ordinal) ?? false)).ToList();
        foreach (var chunk in changed.Chunk(256))
        {
            await bus.ExecuteAsync(tx =>
            {
                foreach (var (vmId, message) in chunk)
                {
                    if (tx.Get<Vm>(ObjectType.Vm, vmId) is not { State: VmState.PENDING } vm) continue;
                    var ut = vm.UserTemplate.Clone();
                    var when = DateTimeOffset.FromUnixTimeSeconds(tx.Now).UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", System.Globalization.CultureInfo.InvariantCulture);
                    ut.Set("SCHED_MESSAGE", $"{when} : {message}");
                    tx.Put(vm with { UserTemplate = ut });
                }
            }, ct).ConfigureAwait(false);
        }
        return done;
    }

    private static Vm ClearSchedMessage(Vm vm)
    {
        if (vm.UserTemplate.Get("SCHED_MESSAGE") is null) return vm;
        var ut = vm.UserTemplate.Clone();
        ut.Remove("SCHED_MESSAGE");
        return vm with { UserTemplate = ut };
    }
}
