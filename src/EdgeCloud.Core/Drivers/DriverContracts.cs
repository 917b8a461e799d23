using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Drivers;

/// <summary>What a VM driver is asked to do (OpenNebula's VMM and TM actions, merged).</summary>
public enum DriverOp
{
    Prolog,
    Deploy,
    Shutdown,
    Cancel,
    Save,
    Restore,
    Reboot,
    Reset,
    Migrate,
    MigrateLive,
    PrologMigrate,
    Epilog,
    AttachDisk,
    DetachDisk,
    AttachNic,
    DetachNic,
    SnapshotCreate,
    SnapshotRevert,
    SnapshotDelete,
    Resize,
    DiskSnapshotCreate,
    DiskSnapshotRevert,
    DiskSnapshotDelete,
    DiskResize,
    /// <summary>Re-apply the security groups of a running VM's NICs (a group it uses changed).</summary>
    UpdateSecurity,
    /// <summary>Copy a VM disk (or one of its snapshots) into a new image: argument "DISK SNAP IMAGE" (SNAP -1 = the disk now).</summary>
    DiskSaveAs,
    /// <summary>Back the VM's disks up into a BACKUP image: argument is a <see cref="BackupOrder"/> as JSON.</summary>
    Backup,
    /// <summary>Abort the backup job running for the VM.</summary>
    BackupCancel,
}

/// <summary>
/// One driver action for one VM. <see cref="Seq"/> is the VM's history sequence it belongs to;
/// <see cref="ActionId"/> numbers the VM's driver actions (Vm.DriverActions when it was asked), so
/// <see cref="CommandId"/> names one action everywhere: an agent that sees the same id twice (a resend
/// after a reconnect or a front-end restart) answers it again without executing it again.
/// </summary>
public sealed record DriverRequest(int VmId, DriverOp Op, int HostId, int Seq, string Argument = "", long ActionId = 0)
{
    public string CommandId => $"vm{VmId}.{ActionId}.{Seq}.{Op}";
}

/// <summary>The answer of a driver action.</summary>
/// <param name="Data">JSON of what an action that produces data reports (disk sizes, a backup's files); empty otherwise.</param>
public sealed record DriverReply(bool Success, string Message = "", string DeployId = "", string Data = "");

/// <summary>Runs VM driver actions after the state change that asked for them is committed.</summary>
public interface IDriverDispatcher
{
    void Enqueue(DriverRequest request);
}

/// <summary>A VM (hypervisor + transfer) driver: dummy, kvm through the agent, lxc...</summary>
public interface IVmDriver
{
    /// <summary>VM_MAD name this driver serves ("dummy", "kvm", "lxc").</summary>
    string Name { get; }

    Task<DriverReply> ExecuteAsync(DriverRequest request, Vm vm, Host host, CancellationToken cancellationToken);
}

/// <summary>A host information (monitoring) driver, by IM_MAD name.</summary>
public interface IHostProbe
{
    string Name { get; }

    /// <summary>Probes a host: capacity and usage; throws or returns null when the host is unreachable.</summary>
    Task<HostProbeResult?> ProbeAsync(Host host, CancellationToken cancellationToken);
}

/// <summary>What a probe found. CPU in percent (100 = one core), memory KiB, disk MiB.</summary>
public sealed record HostProbeResult(long TotalCpu, long TotalMemory, long TotalDisk, long UsedCpu, long UsedMemory, long FreeDisk, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Agent commands that are steps of a live migration (<see cref="DriverOp.MigrateLive"/>) between two agent hosts,
/// sent by the front-end's agent driver; each step's id is the action's command id with a suffix, so a resent
/// action repeats no step. Order: <see cref="MigrateLiveIn"/> on the new host, <see cref="DriverOp.MigrateLive"/> on
/// the old host (argument: a <see cref="LiveMigrationTarget"/> as JSON), then <see cref="MigrateLiveAdopt"/> on the
/// new host, or <see cref="MigrateLiveAbort"/> there when the migration failed.
/// </summary>
public static class LiveMigrationSteps
{
    /// <summary>New host: disks made locally (overlays on its own cached base), context CD, network pre steps. Data: a <see cref="LiveMigrationTarget"/>.</summary>
    public const string MigrateLiveIn = "MigrateLiveIn";

    /// <summary>New host, after the migration: the VM is kept there, desired running; network post steps (security groups).</summary>
    public const string MigrateLiveAdopt = "MigrateLiveAdopt";

    /// <summary>New host, after a failed migration: what <see cref="MigrateLiveIn"/> made is removed (never a running domain).</summary>
    public const string MigrateLiveAbort = "MigrateLiveAbort";

    public const string InSuffix = ".in", AdoptSuffix = ".adopt", AbortSuffix = ".abort";
}

/// <summary>
/// Agent commands to the cluster's replica host about the VM checkpoints it stores (DATA/checkpoints/VMID/), sent
/// by the front-end's checkpoint collector; both are idempotent. <see cref="Forget"/>: the command's VM has ended
/// (DONE), its chains go (id <c>ckgc.vmN</c>). <see cref="Reconcile"/>: the argument is a
/// <see cref="CheckpointReconcile"/> as JSON; the chains of every VM not in it go.
/// </summary>
public static class CheckpointCommands
{
    public const string Forget = "CheckpointsForget";
    public const string Reconcile = "CheckpointsReconcile";

    public static bool Handles(string op) => op is Forget or Reconcile;
}

/// <summary>
/// The VMs whose checkpoints a replica keeps: every VM that is not DONE (<paramref name="Live"/>), and every VM with
/// an id above <paramref name="LastId"/> (made after the list was taken: a stale or late reconcile never deletes them).
/// </summary>
public sealed record CheckpointReconcile(IReadOnlyList<int> Live, int LastId);

/// <summary>Where a live-migrated VM goes: the new host's libvirt URI, its VM directory, and how the disks are copied
/// (<c>Incremental</c>: every disk exists there, overlays on its own base; <c>All</c>: whole disks; <c>Shared</c>: none).</summary>
public sealed record LiveMigrationTarget(string LibvirtUri, string VmDir, string Storage);
