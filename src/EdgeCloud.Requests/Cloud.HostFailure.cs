using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>A VM's last checkpoint as its host's agent reported it (sequence, epoch seconds, bytes sent, first of a chain).</summary>
public sealed record VmCheckpointReport(int VmId, long Seq, long Time, long Bytes, bool Full, long TotalBytes);

/// <summary>What the host-failure recovery did with one VM of a failed host.</summary>
public sealed record VmRecovery(int VmId, int FromHost, int ToHost, bool FromCheckpoint, string Message);

/// <summary>
/// Where a VM's checkpoints are recorded: USER_TEMPLATE/CHECKPOINT_LAST = [SEQ, TIME, SIZE (bytes of that
/// checkpoint), FULL (YES when it started a new chain), TOTAL_SIZE (bytes of all its checkpoints), HOST,
/// RESTORE_SEQ (set by the host-failure recovery: the history record whose prolog restores from it)].
/// USER_TEMPLATE is where oned also writes what it reports about a VM (SCHED_MESSAGE, ERROR), and the VM
/// XSD leaves it open, so the VM's XML stays valid.
/// </summary>
public static class VmCheckpoints
{
    public const string Attribute = "CHECKPOINT_LAST";

    /// <summary>The attribute where the recovery logs what it did (and why it could not).</summary>
    public const string RecoveryAttribute = "HOST_FAILURE_RECOVERY";

    public static VectorAttribute? Last(Vm vm) => vm.UserTemplate.Vector(Attribute);

    /// <summary>True when the VM's current placement was made by the host-failure recovery to restart it from its checkpoint.</summary>
    public static bool RestoresNow(Vm vm) =>
        Last(vm)?["RESTORE_SEQ"] is { } s && vm.LastHistory is { } h && s == h.Seq.ToString(CultureInfo.InvariantCulture);
}

public sealed partial class Cloud
{
    /// <summary>
    /// Records the checkpoints a host's agent reports for the VMs it runs (written only when a VM's last
    /// checkpoint changed; reports for VMs that run elsewhere now are ignored).
    /// </summary>
    public Task VmCheckpointsReportedAsync(int hostId, IReadOnlyList<VmCheckpointReport> reports, CancellationToken ct = default)
    {
        bool Changed(Vm? vm, VmCheckpointReport r) =>
            vm is not null && vm.HostId == hostId && vm.State is VmState.ACTIVE or VmState.POWEROFF
            && (VmCheckpoints.Last(vm) is not { } last || last["SEQ"] != r.Seq.ToString(CultureInfo.InvariantCulture)
                || last["TIME"] != r.Time.ToString(CultureInfo.InvariantCulture) || last["HOST"] != hostId.ToString(CultureInfo.InvariantCulture));
        var snapshot = State;
        if (!reports.Any(r => Changed(snapshot.Get<Vm>(ObjectType.Vm, r.VmId), r))) return Task.CompletedTask;
        return bus.ExecuteAsync(tx =>
        {
            foreach (var r in reports)
            {
                var vm = tx.Get<Vm>(ObjectType.Vm, r.VmId);
                if (!Changed(vm, r)) continue;
                var ut = vm!.UserTemplate.Clone();
                var v = new VectorAttribute(VmCheckpoints.Attribute);
                v.Set("SEQ", r.Seq.ToString(CultureInfo.InvariantCulture));
                v.Set("TIME", r.Time.ToString(CultureInfo.InvariantCulture));
                v.Set("SIZE", r.Bytes.ToString(CultureInfo.InvariantCulture));
                v.Set("FULL", r.Full ? "YES" : "NO");
                v.Set("TOTAL_SIZE", r.TotalBytes.ToString(CultureInfo.InvariantCulture));
                v.Set("HOST", hostId.ToString(CultureInfo.InvariantCulture));
                ut.Set(v);
                tx.Put(vm with { UserTemplate = ut });
            }
        }, ct);
    }

    /// <summary>
    /// The host-failure recovery of one host (run by the leader's <c>HostFailureRecovery</c> once the host has
    /// been in ERROR past the grace period), as OpenNebula's host_error hook with <c>-r</c>: every ACTIVE VM of
    /// the host leaves it (its history record closed as delete-recreate, its capacity given back) and starts
    /// again on another MONITORED host of the same cluster with room for it (most free memory first). A VM
    /// with a checkpoint is marked to restore from it (its new host's prolog rebuilds the disks from the
    /// cluster replica's chain); one without is recreated from its images. What happened goes to the VM's
    /// USER_TEMPLATE/HOST_FAILURE_RECOVERY; a VM no host can take stays, with the reason there.
    /// </summary>
    public async Task<IReadOnlyList<VmRecovery>> RecoverFailedHostAsync(int hostId, CancellationToken ct = default)
    {
        var done = new List<VmRecovery>();
        await bus.ExecuteAsync(tx =>
        {
            done.Clear();
            if (tx.Get<Host>(ObjectType.Host, hostId) is not { State: HostState.ERROR } failed) return;
            var when = DateTimeOffset.FromUnixTimeSeconds(tx.Now).UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
            foreach (var id in tx.All<Vm>(ObjectType.Vm).Where(v => v.HostId == hostId && v.State == VmState.ACTIVE).Select(v => v.Id).ToList())
            {
                var vm = tx.Get<Vm>(ObjectType.Vm, id)!;
                var (cpu, mem, _) = VmLifeCycle.Footprint(vm);
                var target = tx.All<Host>(ObjectType.Host)
                    .Where(h => h.Id != hostId && h.ClusterId == failed.ClusterId && h.State == HostState.MONITORED)
                    .Where(h => h.Share.CpuUsage + cpu <= h.Share.MaxCpu && h.Share.MemUsage + mem <= h.Share.MaxMem)
                    .OrderByDescending(h => h.Share.MaxMem - h.Share.MemUsage).ThenBy(h => h.Id)
                    .FirstOrDefault();
                if (target is null)
                {
                    var why = $"host {failed.Id} ({failed.Name}) failed; no other enabled host of cluster {failed.ClusterId} has room for the VM";
                    if (vm.UserTemplate.Get(VmCheckpoints.RecoveryAttribute)?.EndsWith(why, StringComparison.Ordinal) != true)
                    {
                        var t = vm.UserTemplate.Clone();
                        t.Set(VmCheckpoints.RecoveryAttribute, $"{when}: {why}");
                        tx.Put(vm with { UserTemplate = t });
                    }
                    done.Add(new VmRecovery(id, hostId, -1, false, why));
                    continue;
                }
                // As recover --recreate: leave the failed host, back to PENDING, then straight onto the chosen host.
                vm = VmLifeCycle.CloseHistory(tx, vm, VmAction.DeleteRecreate);
                VmLifeCycle.ReleaseHost(tx, vm, hostId);
                var ut = vm.UserTemplate.Clone();
                var checkpoint = VmCheckpoints.Last(vm);
                string message;
                if (checkpoint is not null)
                {
                    var v = new VectorAttribute(VmCheckpoints.Attribute, checkpoint.Values);
                    v.Set("RESTORE_SEQ", vm.History.Count.ToString(CultureInfo.InvariantCulture)); // the record Deploy adds next
                    ut.Set(v);
                    var taken = long.TryParse(checkpoint["TIME"], CultureInfo.InvariantCulture, out var t0)
                        ? DateTimeOffset.FromUnixTimeSeconds(t0).UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture) : "?";
                    message = $"host {failed.Id} ({failed.Name}) failed; restarted on host {target.Id} ({target.Name}) from checkpoint {checkpoint["SEQ"]} taken {taken}";
                }
                else
                {
                    message = $"host {failed.Id} ({failed.Name}) failed; recreated on host {target.Id} ({target.Name}) from its images (no checkpoint)";
                }
                // Persistent disks were never written back from the failed host: the images keep their last content,
                // and the disks start again from it with the snapshots that content has.
                var persistent = vm.Template.Vectors("DISK")
                    .Where(d => d["PERSISTENT"] is "YES" && d.GetInt("IMAGE_ID") is not null && d.GetInt("DISK_ID") is not null)
                    .Select(d => (DiskId: d.GetInt("DISK_ID")!.Value, Image: tx.Get<Image>(ObjectType.Image, d.GetInt("IMAGE_ID")!.Value)))
                    .Where(x => x.Image is not null).ToList();
                if (persistent.Count > 0)
                {
                    message += $"; persistent image{(persistent.Count > 1 ? "s" : "")} {string.Join(",", persistent.Select(x => x.Image!.Id))} keep their last written-back content "
                        + $"(what the VM wrote to them on host {failed.Id} is lost)";
                    foreach (var (diskId, image) in persistent)
                        vm = VmDiskActions.WithSnapshots(vm with { DiskSnapshots = vm.DiskSnapshots.RemoveAll(l => l.DiskId == diskId) }, diskId, image!.Snapshots with { DiskId = diskId });
                }
                ut.Set(VmCheckpoints.RecoveryAttribute, $"{when}: {message}");
                vm = LifeCycle.Enter(tx, vm with { DeployId = "", UserTemplate = ut }, VmState.PENDING, LcmState.LCM_INIT);
                Deploy(tx, vm, tx.Get<Host>(ObjectType.Host, target.Id)!, -1, enforce: false, Caller.System, VmAction.DeleteRecreate);
                done.Add(new VmRecovery(id, hostId, target.Id, checkpoint is not null, message));
            }
        }, ct).ConfigureAwait(false);
        return done;
    }
}
