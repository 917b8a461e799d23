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
