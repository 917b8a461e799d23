using System.Text.Json;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Hypervisor;

namespace EdgeCloud.Agent;

/// <summary>
/// Live migration between two agent hosts (kvm). The front-end's agent driver runs it in steps
/// (<see cref="LiveMigrationSteps"/>): the new host prepares the VM's disks and network
/// (<see cref="LiveMigrationSteps.MigrateLiveIn"/>), the old host runs libvirt's live migration with the disks
/// copied by QEMU and then forgets the VM (<see cref="DriverOp.MigrateLive"/>), and the new host keeps it as
/// running (<see cref="LiveMigrationSteps.MigrateLiveAdopt"/>) — or, when the migration failed and the VM still
/// runs on the old host, removes what it had prepared (<see cref="LiveMigrationSteps.MigrateLiveAbort"/>).
/// </summary>
public sealed partial class CommandExecutor
{
    private static bool IsLiveMigrationStep(string op) =>
        op is LiveMigrationSteps.MigrateLiveIn or LiveMigrationSteps.MigrateLiveAdopt or LiveMigrationSteps.MigrateLiveAbort;

    private KvmHypervisor Kvm => hypervisor as KvmHypervisor
        ?? throw new HostDriverException($"Live migration needs the kvm driver; this host runs {hypervisor.Name}.");

    private async Task<(string DeployId, string Data)> LiveMigrationStepAsync(Command command, VmSpec spec, CancellationToken ct)
    {
        switch (command.Op)
        {
            case LiveMigrationSteps.MigrateLiveIn:
            {
                var kvm = Kvm;
                if (await IsRunningAsync(spec.DomainName, ct).ConfigureAwait(false))
                    throw new HostDriverException($"{spec.DomainName} already runs on this host.");
                // Known here from now on (not running yet): an abort, a retry or a restarted agent finds the files.
                Keep(spec, DesiredState.Stopped);
                spec = await PrepareDisksAsync(spec, ct).ConfigureAwait(false);
                Keep(spec, DesiredState.Stopped);
                await kvm.PrepareIncomingAsync(spec, ct).ConfigureAwait(false);
                await NetworkPreAsync(spec, ct).ConfigureAwait(false);
                var storage = await StorageModeAsync(spec, ct).ConfigureAwait(false);
                var target = new LiveMigrationTarget(options.EffectiveMigrationUri, spec.VmDir, storage.ToString());
                return ("", JsonSerializer.Serialize(target, LocalState.Json));
            }
            case LiveMigrationSteps.MigrateLiveAdopt:
            {
                // The domain runs here now: keep the VM (with the disks as prepared here) as running.
                var kept = state.Vm(spec.VmId)?.Spec ?? spec;
                if (!await IsRunningAsync(spec.DomainName, ct).ConfigureAwait(false))
                    throw new HostDriverException($"{spec.DomainName} does not run on this host after its live migration.");
                Keep(kept, DesiredState.Running);
                await NetworkPostAsync(kept, ct).ConfigureAwait(false);
                return (spec.DomainName, "");
            }
            default: // MigrateLiveAbort
            {
                if (await IsRunningAsync(spec.DomainName, ct).ConfigureAwait(false))
                    throw new HostDriverException($"{spec.DomainName} runs on this host: its files are not removed.");
                await ForgetAsync(state.Vm(spec.VmId)?.Spec ?? spec, ct).ConfigureAwait(false);
                return ("", "");
            }
        }
    }

    /// <summary>The old host's step: libvirt's live migration to the new host, then the VM's files and local state go.</summary>
    private async Task MigrateLiveOutAsync(VmSpec spec, string argument, CancellationToken ct)
    {
        var kvm = Kvm;
        LiveMigrationTarget target;
        try
        {
            target = JsonSerializer.Deserialize<LiveMigrationTarget>(argument, LocalState.Json) ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"Bad live migration target \"{argument}\": {ex.Message}", ex);
        }
        if (target.LibvirtUri.Length == 0 || target.VmDir.Length == 0 || !Enum.TryParse<MigrationStorage>(target.Storage, out var storage))
            throw new ArgumentException($"Bad live migration target \"{argument}\": the new host's libvirt URI, VM directory and storage mode are needed.");
        await kvm.MigrateLiveAsync(spec.DomainName, target.LibvirtUri, spec.VmDir, target.VmDir, storage, ct).ConfigureAwait(false);
        // The VM runs on the new host: this host forgets it (its files, cache pins, NICs' host side).
        await ForgetAsync(state.Vm(spec.VmId)?.Spec ?? spec, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Incremental when every disk QEMU copies is an overlay here (on this host's cached base image): only its top
    /// layer crosses. Otherwise whole disks; none when the VM has no writable disk.
    /// </summary>
    private async Task<MigrationStorage> StorageModeAsync(VmSpec spec, CancellationToken ct)
    {
        var copied = spec.Disks.Where(d => !d.ReadOnly && d.Device != "cdrom").ToList();
        if (copied.Count == 0) return MigrationStorage.Shared; // nothing QEMU would copy
        foreach (var d in copied)
        {
            if (!File.Exists(d.Path)) return MigrationStorage.All;
            try
            {
                var info = await disks.Qemu.InfoAsync(d.Path, null, ct).ConfigureAwait(false);
                if (info.BackingFile is not { Length: > 0 }) return MigrationStorage.All;
            }
            catch (EdgeCloud.Storage.StorageException ex)
            {
                throw new HostDriverException($"Live migration: disk {d.DiskId}: {ex.Message}", ex);
            }
        }
        return MigrationStorage.Incremental;
    }

    /// <summary>Removes a VM that does not run here (any more): its NICs' host side, its disks (cache pins), local state and directory.</summary>
    private async Task ForgetAsync(VmSpec spec, CancellationToken ct)
    {
        if (network is not null) await network.CleanAsync(spec.VmId, spec.Nics, NicsInUse(spec.VmId), ct).ConfigureAwait(false);
        foreach (var d in spec.Disks) await disks.RemoveAsync(spec, d, ct).ConfigureAwait(false);
        state.RemoveVm(spec.VmId);
        if (Directory.Exists(spec.VmDir)) Directory.Delete(spec.VmDir, recursive: true);
    }
}
