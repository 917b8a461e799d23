namespace EdgeCloud.Core.Drivers;

// What the disk actions (disk snapshots, resize, save-as, backups) send to a host and get back.
// Disk snapshots are qcow2 internal snapshots named "snap-<ID>" inside the VM's disk file, so the disk
// keeps its path (migration, checkpoints and the hypervisor never see a chain change).

/// <summary>A backup to take: the argument of <see cref="DriverOp.Backup"/> (JSON).</summary>
public sealed record BackupOrder
{
    /// <summary>The BACKUP image the files go to, and the increment being made.</summary>
    public required int ImageId { get; init; }
    public required int IncrementId { get; init; }
    /// <summary>Incremental is asked for: copy only what changed since <see cref="SinceCheckpoint"/>.</summary>
    public bool Incremental { get; init; }
    /// <summary>The checkpoint (persistent dirty bitmap) of the previous backup of the chain; empty for a full.</summary>
    public string SinceCheckpoint { get; init; } = "";
    /// <summary>The checkpoint to create now, so the next backup can be incremental.</summary>
    public string NewCheckpoint { get; init; } = "";
    /// <summary>The disks to back up (every disk of the VM but CD-ROMs and context).</summary>
    public IReadOnlyList<int> DiskIds { get; init; } = [];
}

/// <summary>What a host reports after a backup (CommandResult.data_json).</summary>
public sealed record BackupResult
{
    /// <summary>FULL or INCREMENT: an incremental asked for is made full when the host has no checkpoint to start from.</summary>
    public string Type { get; init; } = "FULL";
    /// <summary>The checkpoint the next incremental can start from (empty = none: the next backup is full).</summary>
    public string Checkpoint { get; init; } = "";
    public IReadOnlyList<BackupFile> Files { get; init; } = [];
}

/// <summary>One disk of a backup increment, as uploaded to the front-end.</summary>
public sealed record BackupFile(int DiskId, string Name, long Bytes, long VirtualSize);

/// <summary>What a host reports after a disk snapshot or resize: the disk's virtual size.</summary>
public sealed record DiskSizeResult(int DiskId, long VirtualSize);

/// <summary>
/// The disk operations a hypervisor does on a running domain (the agent does them with qemu-img when the
/// VM is off). Implemented by the kvm driver; a hypervisor without it gets only the offline path.
/// </summary>
public interface IHypervisorDisks
{
    /// <summary>An internal qcow2 snapshot of one disk of a running domain, taken live.</summary>
    Task DiskSnapshotCreateAsync(string domain, DiskSpec disk, string name, CancellationToken ct);

    Task DiskSnapshotDeleteAsync(string domain, DiskSpec disk, string name, CancellationToken ct);

    /// <summary>Grows a disk of a running domain (the guest sees the new size).</summary>
    Task DiskResizeAsync(string domain, DiskSpec disk, long sizeBytes, CancellationToken ct);

    /// <summary>
    /// A point-in-time copy of disks of a running domain into new qcow2 files (a backup job). With
    /// <paramref name="sinceCheckpoint"/> only what changed since that checkpoint is copied (the other clusters
    /// stay unallocated); <paramref name="newCheckpoint"/> (optional) starts tracking changes from now.
    /// Returns false when an incremental was asked for but the checkpoint is unknown: nothing was copied.
    /// </summary>
    Task<bool> BackupAsync(string domain, IReadOnlyList<(DiskSpec Disk, string Target)> disks, string sinceCheckpoint, string newCheckpoint, CancellationToken ct);

    /// <summary>Aborts the backup job of the domain, if any.</summary>
    Task BackupAbortAsync(string domain, CancellationToken ct);

    /// <summary>Forgets a checkpoint (its changes merge into the one before it).</summary>
    Task CheckpointDeleteAsync(string domain, string checkpoint, CancellationToken ct);
}
