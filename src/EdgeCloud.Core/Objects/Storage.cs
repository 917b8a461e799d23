using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

public sealed record Image : OwnedObject
{
    public override ObjectType Type => ObjectType.Image;
    public ImageType ImageType { get; init; }
    public int DiskType { get; init; }
    public bool Persistent { get; init; }
    public long RegTime { get; init; }
    public string Source { get; init; } = "";
    public string Path { get; init; } = "";
    public string Format { get; init; } = "";
    public string Fs { get; init; } = "";
    /// <summary>MiB.</summary>
    public long Size { get; init; }
    public ImageState State { get; init; }
    public ImageState PrevState { get; init; }
    public int RunningVms { get; init; }
    public int CloningOps { get; init; }
    public int CloningId { get; init; } = -1;
    public int TargetSnapshot { get; init; } = -1;
    public int DatastoreId { get; init; }
    public string Datastore { get; init; } = "";
    public ImmutableSortedSet<int> Vms { get; init; } = [];
    public ImmutableSortedSet<int> Clones { get; init; } = [];
    public ImmutableSortedSet<int> AppClones { get; init; } = [];
    /// <summary>Disk snapshots kept on the image (a persistent image's disk snapshots when its VM ended).</summary>
    public DiskSnapshotList Snapshots { get; init; } = new();
    /// <summary>BACKUP images: the full backup and its increments, oldest first.</summary>
    public ImmutableList<BackupIncrement> BackupIncrements { get; init; } = [];
    /// <summary>BACKUP images: the VM disks it holds (BACKUP_DISK_IDS).</summary>
    public ImmutableSortedSet<int> BackupDiskIds { get; init; } = [];
}
