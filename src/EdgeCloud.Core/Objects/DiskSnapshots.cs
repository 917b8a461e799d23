using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// One disk snapshot (VM/SNAPSHOTS/SNAPSHOT and IMAGE/SNAPSHOTS/SNAPSHOT in OpenNebula's XML). Snapshots
/// form a tree: <see cref="Parent"/> is the snapshot the disk was at when this one was taken (-1 = none),
/// <see cref="Active"/> marks the one the disk is at now (the last taken or the last reverted to).
/// </summary>
public sealed record DiskSnapshot
{
    public int Id { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Epoch seconds.</summary>
    public long Date { get; init; }
    public int Parent { get; init; } = -1;
    public ImmutableSortedSet<int> Children { get; init; } = [];
    public bool Active { get; init; }
    /// <summary>MiB: the disk's virtual size when it was taken.</summary>
    public long SizeMb { get; init; }
}

/// <summary>The snapshots of one disk (VM) or image: oned's <c>Snapshots</c> class.</summary>
public sealed record DiskSnapshotList
{
    public int DiskId { get; init; } = -1;
    public int NextSnapshot { get; init; }
    public int CurrentBase { get; init; } = -1;
    /// <summary>ALLOW_ORPHANS: qcow2 keeps a snapshot's children when it is deleted? OpenNebula's qcow2 says NO.</summary>
    public bool AllowOrphans { get; init; }
    public ImmutableList<DiskSnapshot> Snapshots { get; init; } = [];

    public DiskSnapshot? Find(int id) => Snapshots.FirstOrDefault(s => s.Id == id);

    public DiskSnapshot? ActiveSnapshot => Snapshots.FirstOrDefault(s => s.Active);

    /// <summary>Adds a snapshot taken now: its parent is the active one, and it becomes active.</summary>
    public DiskSnapshotList Take(string name, long now, long sizeMb, out int id)
    {
        id = NextSnapshot;
        var parent = ActiveSnapshot?.Id ?? -1;
        var taken = new DiskSnapshot { Id = id, Name = name, Date = now, Parent = parent, Active = true, SizeMb = sizeMb };
        var newId = id;
        var list = Snapshots.Select(s => s with
        {
            Active = false,
            Children = s.Id == parent ? s.Children.Add(newId) : s.Children,
        }).ToImmutableList().Add(taken);
        return this with { Snapshots = list, NextSnapshot = id + 1 };
    }

    /// <summary>The disk is back at snapshot <paramref name="id"/>.</summary>
    public DiskSnapshotList Revert(int id) =>
        this with { Snapshots = Snapshots.Select(s => s with { Active = s.Id == id }).ToImmutableList() };

    /// <summary>Removes a snapshot (and its id from its parent's children).</summary>
    public DiskSnapshotList Remove(int id)
    {
        var gone = Find(id);
        if (gone is null) return this;
        var list = Snapshots.Where(s => s.Id != id)
            .Select(s => s with { Children = s.Children.Remove(id), Parent = s.Parent == id ? gone.Parent : s.Parent })
            .ToImmutableList();
        return this with { Snapshots = list };
    }

    public DiskSnapshotList Rename(int id, string name) =>
        this with { Snapshots = Snapshots.Select(s => s.Id == id ? s with { Name = name } : s).ToImmutableList() };
}

/// <summary>One backup increment of a BACKUP image (IMAGE/BACKUP_INCREMENTS/INCREMENT).</summary>
public sealed record BackupIncrement
{
    public int Id { get; init; }
    public long Date { get; init; }
    public int ParentId { get; init; } = -1;
    /// <summary>MiB actually stored for this increment (all its disks).</summary>
    public long SizeMb { get; init; }
    /// <summary>Where its files are in the backup datastore (a directory per increment).</summary>
    public string Source { get; init; } = "";
    /// <summary>FULL or INCREMENT.</summary>
    public string Type { get; init; } = "FULL";
    /// <summary>Bytes stored (the exact figure behind <see cref="SizeMb"/>).</summary>
    public long Bytes { get; init; }
}
