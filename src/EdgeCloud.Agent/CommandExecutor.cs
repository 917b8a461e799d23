using EdgeCloud.Core;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>
/// Runs the front-end's commands on this host, one at a time per VM, in the driver order storage →
/// network (pre) → hypervisor → network (post). Every result is journaled by command id before it is
/// sent: a command seen again (resent after a reconnect or a front-end restart) is answered from the
/// journal and never executed twice. The VM's spec and desired state are kept in <see cref="LocalState"/>.
/// </summary>
public sealed partial class CommandExecutor(LocalState state, IHypervisor hypervisor, IHostNetwork? network, LocalDisks disks, AgentOptions options, ILogger logger,
    MigrationReceiver? migrations = null)
{
    private readonly KeyedLocks<int> _locks = new();
    private readonly ConcurrentDictionary<string, Task<LocalState.CommandResultData>> _running = new(StringComparer.Ordinal);
    private readonly AgentDiskActions _diskActions = new(hypervisor, disks, logger);

    public IHypervisor Hypervisor => hypervisor;

    public LocalDisks Disks => disks;

    /// <summary>Periodic checkpoints to the cluster's replica (kvm agents); null where the hypervisor has none.</summary>
    public VmCheckpointer? Checkpoints { get; set; }

    /// <summary>This host's store of the cluster's checkpoints (when it is a replica host); null where none is kept.</summary>
    public CheckpointStore? CheckpointStore { get; set; }

    /// <summary>Runs work for a VM under the same per-VM lock as its commands (checkpoints never overlap an action).</summary>
    public async Task<T> WithVmLockAsync<T>(int vmId, Func<Task<T>> work, CancellationToken ct)
    {
        using (await _locks.AcquireAsync(vmId, ct).ConfigureAwait(false))
            return await work().ConfigureAwait(false);
    }

    /// <summary>VMs with an action under way (monitoring leaves them to the action's result).</summary>
    public bool IsBusy(int vmId) => _locks.IsHeld(vmId);

    public Task<LocalState.CommandResultData> ExecuteAsync(Command command, CancellationToken ct)
    {
        if (state.Result(command.CommandId) is { } done)
        {
            logger.LogInformation("Command {CommandId} was already executed: answering from the journal", command.CommandId);
            return Task.FromResult(done.Result);
        }
        // The same command twice at once (a resend while it runs): one execution, both get its result.
        // A backup cancel must not wait behind the backup it cancels: it runs outside the VM's queue.
        if (command.Op == nameof(DriverOp.BackupCancel)) return _running.GetOrAdd(command.CommandId, _ => RunAsync(command, ct, queued: false));
        // The replica's stored checkpoints: not a VM of this host (the store has its own per-VM lock).
        if (CheckpointCommands.Handles(command.Op)) return _running.GetOrAdd(command.CommandId, _ => RunAsync(command, ct, queued: false));
        return _running.GetOrAdd(command.CommandId, _ => RunAsync(command, ct));
    }

    private async Task<LocalState.CommandResultData> RunAsync(Command command, CancellationToken ct, bool queued = true)
    {
        var held = queued ? await _locks.AcquireAsync(command.VmId, ct).ConfigureAwait(false) : null;
        LocalState.CommandResultData result;
        try
        {
            var started = DateTimeOffset.UtcNow;
            try
            {
                var data = "";
                var deployId = "";
                var stored = CheckpointCommands.Handles(command.Op);
                // Checkpoint layers go back into disk.N first: every action finds the VM's disks where they always are.
                if (!stored && Checkpoints is not null) await Checkpoints.SettleAsync(command.VmId, ct).ConfigureAwait(false);
                if (stored)
                    data = await StoredCheckpointsAsync(command, ct).ConfigureAwait(false);
                else if (IsLiveMigrationStep(command.Op))
                    (deployId, data) = await LiveMigrationStepAsync(command, SpecOf(command), ct).ConfigureAwait(false);
                else if (Enum.TryParse<DriverOp>(command.Op, out var diskOp) && AgentDiskActions.Handles(diskOp))
                {
                    var spec = SpecOf(command);
                    data = await _diskActions.RunAsync(diskOp, spec, command.Argument, ct).ConfigureAwait(false);
                    deployId = spec.DomainName;
                }
                else deployId = await ApplyAsync(command, ct).ConfigureAwait(false);
                result = new(command.CommandId, true, "", deployId, data);
                logger.LogInformation("VM {VmId}: {Op} done in {Ms} ms", command.VmId, command.Op, (DateTimeOffset.UtcNow - started).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is HostDriverException or IOException or UnauthorizedAccessException or JsonException or ArgumentException or InvalidOperationException)
            {
                logger.LogWarning("VM {VmId}: {Op} failed: {Reason}", command.VmId, command.Op, ex.Message);
                result = new(command.CommandId, false, ex.Message, "");
            }
            state.Record(result);
            return result;
        }
        finally
        {
            held?.Dispose();
            _running.TryRemove(command.CommandId, out _);
        }
    }

    /// <summary>
    /// The replica's checkpoints of VMs that ended (<see cref="CheckpointCommands"/>): the VM's chains, or those of every
    /// VM not in the front-end's list. Data: the VMs whose chains went, as JSON. Without a store there is nothing to drop.
    /// </summary>
    private async Task<string> StoredCheckpointsAsync(Command command, CancellationToken ct)
    {
        IReadOnlyList<int> gone;
        if (CheckpointStore is not { } store) gone = [];
        else if (command.Op == CheckpointCommands.Forget)
            gone = await store.ForgetAsync(command.VmId, ct).ConfigureAwait(false) ? [command.VmId] : [];
        else
        {
            var keep = JsonSerializer.Deserialize<CheckpointReconcile>(command.Argument, LocalState.Json)
                       ?? throw new ArgumentException("The reconcile carries no list of VMs.");
            gone = await store.ReconcileAsync(keep, ct).ConfigureAwait(false);
            if (gone.Count > 0) logger.LogInformation("Checkpoints of ended VMs {Vms} deleted (reconciled with the front-end)", string.Join(",", gone));
        }
        return JsonSerializer.Serialize(gone, LocalState.Json);
    }

    /// <summary>The spec with its paths made absolute on this host (the front-end sends them relative to DATA).</summary>
    public VmSpec Resolve(VmSpec spec)
    {
        var vmDir = Path.IsPathRooted(spec.VmDir) ? spec.VmDir : Path.Combine(state.DataDir, spec.VmDir);
        return spec with
        {
            VmDir = vmDir,
            Disks = spec.Disks.Select(d => d with { Path = Path.IsPathRooted(d.Path) ? d.Path : Path.Combine(vmDir, d.Path) }).ToList(),
        };
    }

    /// <summary>The command's VM spec (sent with it, or the one this host keeps), paths resolved.</summary>
    private VmSpec SpecOf(Command command)
    {
        var spec = command.SpecJson.Length > 0
            ? Resolve(JsonSerializer.Deserialize<VmSpec>(command.SpecJson, LocalState.Json) ?? throw new ArgumentException("The command carries no VM spec."))
            : state.Vm(command.VmId)?.Spec ?? throw new ArgumentException($"VM {command.VmId} is not known on this host.");
        if (spec.VmId != command.VmId) throw new ArgumentException($"The spec is for VM {spec.VmId}, the command for VM {command.VmId}.");
        return spec;
    }

    private async Task<string> ApplyAsync(Command command, CancellationToken ct)
    {
        if (!Enum.TryParse<DriverOp>(command.Op, out var op)) throw new ArgumentException($"Unknown command \"{command.Op}\" (is the agent older than the front-end?).");
        var spec = command.SpecJson.Length > 0
            ? Resolve(JsonSerializer.Deserialize<VmSpec>(command.SpecJson, LocalState.Json) ?? throw new ArgumentException("The command carries no VM spec."))
            : state.Vm(command.VmId)?.Spec ?? throw new ArgumentException($"VM {command.VmId} is not known on this host.");
        if (spec.VmId != command.VmId) throw new ArgumentException($"The spec is for VM {spec.VmId}, the command for VM {command.VmId}.");
        var domain = spec.DomainName;
        var arg = int.TryParse(command.Argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var shutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeout);

        switch (op)
        {
            case DriverOp.Prolog:
                // Restarted here after its host failed: the disks come from the VM's last checkpoint on the replica.
                if (spec.CheckpointRestoreFrom.Length > 0)
                    await (Checkpoints ?? throw new HostDriverException("This agent cannot restore VMs from checkpoints (its hypervisor has no disk checkpoints).")).RestoreAsync(spec, ct).ConfigureAwait(false);
                spec = await PrepareDisksAsync(spec, ct).ConfigureAwait(false);
                Keep(spec, DesiredState.Stopped);
                return "";
            case DriverOp.PrologMigrate:
                // The VM comes from another host (the argument is that host's agent endpoint): pull its
                // disks and memory checkpoint, re-base the disks on this host's cached images.
                if (command.Argument.Length > 0)
                {
                    if (migrations is null) throw new HostDriverException("This agent cannot receive migrations (no peer transfer configured).");
                    if (!Uri.TryCreate(command.Argument, UriKind.Absolute, out var from)) throw new ArgumentException($"Bad migration source \"{command.Argument}\".");
                    Keep(spec, DesiredState.Stopped);
                    await migrations.ReceiveAsync(spec, from, ct).ConfigureAwait(false);
                }
                spec = await PrepareDisksAsync(spec, ct).ConfigureAwait(false);
                Keep(spec, DesiredState.Stopped);
                return "";
            case DriverOp.Deploy:
                spec = await PrepareDisksAsync(spec, ct).ConfigureAwait(false);
                Keep(spec, DesiredState.Running);
                await NetworkPreAsync(spec, ct).ConfigureAwait(false);
                var id = await hypervisor.DeployAsync(spec, ct).ConfigureAwait(false);
                await NetworkPostAsync(spec, ct).ConfigureAwait(false);
                return id;
            case DriverOp.Restore:
                spec = await PrepareDisksAsync(spec, ct).ConfigureAwait(false);
                Keep(spec, DesiredState.Running);
                await NetworkPreAsync(spec, ct).ConfigureAwait(false);
                await hypervisor.RestoreAsync(spec, Checkpoint(spec), ct).ConfigureAwait(false);
                await NetworkPostAsync(spec, ct).ConfigureAwait(false);
                File.Delete(Checkpoint(spec)); // used: a later boot must not find a stale memory image
                return domain;
            case DriverOp.Shutdown:
                Keep(spec, DesiredState.Stopped);
                await hypervisor.ShutdownAsync(domain, shutdownTimeout, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Cancel:
                Keep(spec, DesiredState.Stopped);
                await hypervisor.DestroyAsync(domain, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Save:
                Keep(spec, DesiredState.Stopped);
                await hypervisor.SaveAsync(domain, Checkpoint(spec), ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Reboot:
                await hypervisor.RebootAsync(domain, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Reset:
                await hypervisor.ResetAsync(domain, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Epilog:
                // After a migration the VM runs elsewhere (it was saved here): only its files go.
                if (command.Argument != "migrated") await hypervisor.DestroyAsync(domain, ct).ConfigureAwait(false);
                // The VM ends here (terminate, undeploy, stop): its persistent disks go back to their images before
                // anything is deleted. A failed upload fails the epilog with every file still in place (a retry
                // uploads again). Not after a migration or when fenced: the VM's disks live on elsewhere.
                if (command.Argument.Length == 0) await _diskActions.WriteBackAsync(spec, ct).ConfigureAwait(false);
                if (network is not null) await network.CleanAsync(spec.VmId, spec.Nics, NicsInUse(spec.VmId), ct).ConfigureAwait(false);
                foreach (var d in spec.Disks) await disks.RemoveAsync(spec, d, ct).ConfigureAwait(false);
                state.RemoveVm(spec.VmId);
                if (Directory.Exists(spec.VmDir)) Directory.Delete(spec.VmDir, recursive: true);
                return "";
            case DriverOp.MigrateLive:
                await MigrateLiveOutAsync(spec, command.Argument, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.AttachDisk:
            {
                var disk = spec.Disks.FirstOrDefault(d => d.DiskId == arg) ?? throw new ArgumentException($"Disk {command.Argument} is not in the VM's spec.");
                disk = await disks.PrepareAsync(spec, disk, hypervisor.RequiredDiskFormat, ct).ConfigureAwait(false);
                spec = spec with { Disks = spec.Disks.Select(d => d.DiskId == arg ? disk : d).ToList() };
                Keep(spec, Desired(spec));
                if (await IsRunningAsync(domain, ct).ConfigureAwait(false)) await hypervisor.AttachDiskAsync(domain, disk, ct).ConfigureAwait(false);
                return domain;
            }
            case DriverOp.DetachDisk:
            {
                var disk = spec.Disks.FirstOrDefault(d => d.DiskId == arg) ?? throw new ArgumentException($"Disk {command.Argument} is not in the VM's spec.");
                if (await IsRunningAsync(domain, ct).ConfigureAwait(false)) await hypervisor.DetachDiskAsync(domain, disk, ct).ConfigureAwait(false);
                Keep(spec with { Disks = spec.Disks.Where(d => d.DiskId != arg).ToList() }, Desired(spec));
                await disks.RemoveAsync(spec, disk, ct).ConfigureAwait(false);
                return domain;
            }
            case DriverOp.AttachNic when spec.Nics.Any(n => n.Aliases.Any(a => a.NicId == arg)):
            case DriverOp.DetachNic when !spec.Nics.Any(n => n.NicId == arg):
                // A NIC_ALIAS is an address the guest configures on its parent's interface (context): no device to change.
                Keep(spec, Desired(spec));
                return domain;
            case DriverOp.AttachNic:
            {
                var nic = spec.Nics.FirstOrDefault(x => x.NicId == arg) ?? throw new ArgumentException($"NIC {command.Argument} is not in the VM's spec.");
                Keep(spec, Desired(spec));
                if (await IsRunningAsync(domain, ct).ConfigureAwait(false))
                {
                    if (network is not null) await network.PreAsync(nic, ct).ConfigureAwait(false);
                    await hypervisor.AttachNicAsync(domain, nic, ct).ConfigureAwait(false);
                    if (network is not null) await network.PostAsync(spec.VmId, nic, ct).ConfigureAwait(false);
                }
                return domain;
            }
            case DriverOp.DetachNic:
            {
                var nic = spec.Nics.FirstOrDefault(x => x.NicId == arg) ?? throw new ArgumentException($"NIC {command.Argument} is not in the VM's spec.");
                if (await IsRunningAsync(domain, ct).ConfigureAwait(false)) await hypervisor.DetachNicAsync(domain, nic, ct).ConfigureAwait(false);
                var rest = spec with { Nics = spec.Nics.Where(x => x.NicId != arg).ToList() };
                Keep(rest, Desired(spec));
                if (network is not null) await network.CleanAsync(spec.VmId, [nic], NicsInUse(-1), ct).ConfigureAwait(false);
                return domain;
            }
            case DriverOp.SnapshotCreate:
                await hypervisor.SnapshotCreateAsync(domain, $"snap-{arg}", ct).ConfigureAwait(false);
                return domain;
            case DriverOp.SnapshotRevert:
                await hypervisor.SnapshotRevertAsync(domain, $"snap-{arg}", ct).ConfigureAwait(false);
                return domain;
            case DriverOp.SnapshotDelete:
                await hypervisor.SnapshotDeleteAsync(domain, $"snap-{arg}", ct).ConfigureAwait(false);
                return domain;
            case DriverOp.UpdateSecurity:
                Keep(spec, Desired(spec));
                if (network is not null && await IsRunningAsync(domain, ct).ConfigureAwait(false))
                    foreach (var nic in spec.Nics) await network.UpdateSecurityAsync(spec.VmId, nic, ct).ConfigureAwait(false);
                return domain;
            case DriverOp.Resize:
                Keep(spec, Desired(spec));
                if (await IsRunningAsync(domain, ct).ConfigureAwait(false))
                    await hypervisor.ResizeAsync(domain, spec.Vcpu, spec.MemoryMb, ct).ConfigureAwait(false);
                return domain;
            default:
                throw new HostDriverException($"{op} is not supported by the agent's {hypervisor.Name} driver yet.");
        }
    }

    /// <summary>Every disk made (or found) in the VM's directory, with the format it really has.</summary>
    private async Task<VmSpec> PrepareDisksAsync(VmSpec spec, CancellationToken ct)
    {
        var prepared = new List<DiskSpec>(spec.Disks.Count);
        foreach (var d in spec.Disks) prepared.Add(await disks.PrepareAsync(spec, d, hypervisor.RequiredDiskFormat, ct).ConfigureAwait(false));
        return spec with { Disks = prepared };
    }

    private DesiredState Desired(VmSpec spec) => state.Vm(spec.VmId)?.Desired ?? DesiredState.Stopped;

    private void Keep(VmSpec spec, DesiredState desired) => state.PutVm(new LocalVm(spec, desired, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private static string Checkpoint(VmSpec spec) => Path.Combine(spec.VmDir, "checkpoint");

    private async Task<bool> IsRunningAsync(string domain, CancellationToken ct) =>
        (await hypervisor.ListAsync(ct).ConfigureAwait(false)).Any(d => d.Name == domain && d.State is DomainState.Running or DomainState.Paused);

    /// <summary>Every NIC of the other VMs this host keeps (what network clean-up must leave in place).</summary>
    private List<NicSpec> NicsInUse(int exceptVm) => state.Vms.Where(v => v.Spec.VmId != exceptVm).SelectMany(v => v.Spec.Nics).ToList();

    private async Task NetworkPreAsync(VmSpec spec, CancellationToken ct)
    {
        if (network is null) return;
        foreach (var nic in spec.Nics) await network.PreAsync(nic, ct).ConfigureAwait(false);
    }

    private async Task NetworkPostAsync(VmSpec spec, CancellationToken ct)
    {
        if (network is null) return;
        foreach (var nic in spec.Nics) await network.PostAsync(spec.VmId, nic, ct).ConfigureAwait(false);
    }
}
