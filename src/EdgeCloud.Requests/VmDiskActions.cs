using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>
/// The life-cycle side of the disk actions — disk snapshots, disk resize, disk save-as and backups: which
/// driver op each LCM state waits for, and what a driver's answer changes (the VM's SNAPSHOTS, the DISK's
/// SIZE, the saved image, the BACKUP image's increments and the VM's BACKUPS). The requests that start
/// them are in Cloud.DiskActions.cs.
/// </summary>
public static class VmDiskActions
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The driver ops a disk-action LCM state accepts a result for (null: not a disk-action state).</summary>
    public static Func<DriverOp, bool>? Op(LcmState lcm) => lcm switch
    {
        LcmState.DISK_SNAPSHOT or LcmState.DISK_SNAPSHOT_POWEROFF or LcmState.DISK_SNAPSHOT_SUSPENDED => op => op == DriverOp.DiskSnapshotCreate,
        LcmState.DISK_SNAPSHOT_REVERT_POWEROFF => op => op == DriverOp.DiskSnapshotRevert,
        LcmState.DISK_SNAPSHOT_DELETE or LcmState.DISK_SNAPSHOT_DELETE_POWEROFF or LcmState.DISK_SNAPSHOT_DELETE_SUSPENDED => op => op == DriverOp.DiskSnapshotDelete,
        LcmState.DISK_RESIZE or LcmState.DISK_RESIZE_POWEROFF => op => op == DriverOp.DiskResize,
        LcmState.HOTPLUG_SAVEAS or LcmState.HOTPLUG_SAVEAS_POWEROFF or LcmState.HOTPLUG_SAVEAS_SUSPENDED => op => op == DriverOp.DiskSaveAs,
        LcmState.BACKUP or LcmState.BACKUP_POWEROFF => op => op == DriverOp.Backup,
        _ => null,
    };

    /// <summary>"1 2 3" → [1, 2, 3] (the disk actions' arguments).</summary>
    public static int[] Ints(string argument) =>
        argument.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();

    public static string Arg(params long[] values) => string.Join(' ', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    public static DiskSnapshotList? SnapshotsOf(Vm vm, int diskId) => vm.DiskSnapshots.FirstOrDefault(l => l.DiskId == diskId);

    public static Vm WithSnapshots(Vm vm, int diskId, DiskSnapshotList list)
    {
        var rest = vm.DiskSnapshots.Where(l => l.DiskId != diskId);
        var all = list.Snapshots.Count == 0 ? rest : rest.Append(list);
        return vm with { DiskSnapshots = all.OrderBy(l => l.DiskId).ToImmutableList() };
    }

    /// <summary>Sets one attribute of one DISK of the VM's template.</summary>
    public static Vm SetDisk(Vm vm, int diskId, string key, string? value)
    {
        var t = vm.Template.Clone();
        if (t.Vectors("DISK").FirstOrDefault(d => d.GetInt("DISK_ID") == diskId) is not { } disk) return vm;
        if (value is null) disk.Remove(key);
        else disk.Set(key, value);
        return vm with { Template = t };
    }

    internal static Vm OnSuccess(StateTransaction tx, VmLifeCycle lc, Vm vm, DriverRequest request, DriverReply reply)
    {
        switch (request.Op)
        {
            case DriverOp.DiskSnapshotCreate:
            {
                var a = Ints(request.Argument);
                if (SnapshotsOf(vm, a[0]) is { } list && Size(reply) is long mb)
                    vm = WithSnapshots(vm, a[0], list with { Snapshots = list.Snapshots.Select(s => s.Id == a[1] ? s with { SizeMb = mb } : s).ToImmutableList() });
                break;
            }
            case DriverOp.DiskSnapshotRevert:
            {
                var a = Ints(request.Argument);
                if (SnapshotsOf(vm, a[0]) is { } list) vm = WithSnapshots(vm, a[0], list.Revert(a[1]));
                // The disk's content went back: the dirty bitmap of the last backup no longer tells what changed.
                vm = ResetBackupChain(vm);
                break;
            }
            case DriverOp.DiskSnapshotDelete:
            {
                var a = Ints(request.Argument);
                if (SnapshotsOf(vm, a[0]) is { } list) vm = WithSnapshots(vm, a[0], list.Remove(a[1]));
                break;
            }
            case DriverOp.DiskResize:
            {
                var a = Ints(request.Argument);
                vm = SetDisk(vm, a[0], "SIZE", a[1].ToString(CultureInfo.InvariantCulture));
                break;
            }
            case DriverOp.DiskSaveAs:
            {
                // A real datastore had the copy uploaded (and the image made READY then); the dummy one only simulates it.
                EndSaveAs(tx, Ints(request.Argument)[2], error: null);
                break;
            }
            case DriverOp.Backup:
                vm = BackupDone(tx, lc, vm, request, reply);
                break;
        }
        return vm;
    }

    internal static Vm OnFailure(StateTransaction tx, VmLifeCycle lc, Vm vm, DriverRequest request, DriverReply reply)
    {
        switch (request.Op)
        {
            case DriverOp.DiskSnapshotCreate:
            {
                // The snapshot was listed when asked for: take it out, the disk is still at its parent.
                var a = Ints(request.Argument);
                if (SnapshotsOf(vm, a[0]) is { } list && list.Find(a[1]) is { } failed)
                {
                    var back = list.Remove(a[1]);
                    if (failed.Parent >= 0) back = back.Revert(failed.Parent);
                    vm = WithSnapshots(vm, a[0], back);
                }
                break;
            }
            case DriverOp.DiskSaveAs:
            {
                var a = Ints(request.Argument);
                EndSaveAs(tx, a[2], $"Disk save-as of VM {vm.Id} disk {a[0]} failed: {reply.Message}");
                break;
            }
            case DriverOp.Backup:
            {
                var order = JsonSerializer.Deserialize<BackupOrder>(request.Argument, Json)!;
                if (tx.Get<Image>(ObjectType.Image, order.ImageId) is { State: ImageState.LOCKED } image)
                {
                    var t = image.Template.Clone();
                    // A backup image with no increment holds nothing: ERROR with the reason; an existing chain stays usable.
                    if (image.BackupIncrements.Count == 0) t.Set("ERROR", $"Backup of VM {vm.Id} failed: {reply.Message}");
                    tx.Put(image with { State = image.BackupIncrements.Count == 0 ? ImageState.ERROR : ImageState.READY, PrevState = image.State, Template = t });
                }
                break;
            }
        }
        return vm;
    }

    /// <summary>The image a save-as fills, if still LOCKED: READY, or ERROR with <paramref name="error"/>.</summary>
    private static void EndSaveAs(StateTransaction tx, int imageId, string? error)
    {
        if (tx.Get<Image>(ObjectType.Image, imageId) is not { State: ImageState.LOCKED } image) return;
        var t = image.Template.Clone();
        t.Remove("TRANSFER_PROGRESS");
        if (error is not null) t.Set("ERROR", error);
        tx.Put(image with { State = error is null ? ImageState.READY : ImageState.ERROR, PrevState = image.State, Template = t });
    }

    private static long? Size(DriverReply reply)
    {
        if (reply.Data.Length == 0) return null;
        try { return JsonSerializer.Deserialize<DiskSizeResult>(reply.Data, Json) is { } r ? Math.Max(1, (r.VirtualSize + (1 << 20) - 1) >> 20) : null; }
        catch (JsonException) { return null; }
    }

    /// <summary>The next backup starts a new full chain.</summary>
    public static Vm ResetBackupChain(Vm vm)
    {
        if (vm.Template.Vector("BACKUP_CONFIG") is not { } bc || bc["INCREMENTAL_BACKUP_ID"] is null) return vm;
        var t = vm.Template.Clone();
        var nbc = t.Vector("BACKUP_CONFIG")!;
        nbc.Remove("INCREMENTAL_BACKUP_ID");
        nbc.Remove("LAST_INCREMENT_ID");
        return vm with { Template = t };
    }

    /// <summary>The checkpoint (dirty bitmap) name of a backup increment: what the next incremental starts from.</summary>
    public static string CheckpointName(int vmId, int imageId, int incrementId) =>
        string.Create(CultureInfo.InvariantCulture, $"one-{vmId}-{imageId}-{incrementId}");

    /// <summary>
    /// A backup finished: the increment is recorded on the BACKUP image (READY), the VM lists the image in
    /// BACKUP_IDS, and BACKUP_CONFIG says where the chain is (LAST_*; INCREMENTAL_BACKUP_ID and
    /// LAST_INCREMENT_ID while an incremental chain can go on).
    /// </summary>
    private static Vm BackupDone(StateTransaction tx, VmLifeCycle lc, Vm vm, DriverRequest request, DriverReply reply)
    {
        var order = JsonSerializer.Deserialize<BackupOrder>(request.Argument, Json)!;
        var result = reply.Data.Length > 0 ? JsonSerializer.Deserialize<BackupResult>(reply.Data, Json)! : Simulated(vm, order);
        if (tx.Get<Image>(ObjectType.Image, order.ImageId) is not { } image) return vm;
        var bytes = result.Files.Sum(f => f.Bytes);
        var mb = Math.Max(1, (bytes + (1 << 20) - 1) >> 20);
        var increment = new BackupIncrement
        {
            Id = order.IncrementId, Date = tx.Now, ParentId = result.Type == "INCREMENT" && image.BackupIncrements.Count > 0 ? image.BackupIncrements[^1].Id : -1,
            SizeMb = mb, Bytes = bytes, Type = result.Type,
            Source = string.Join(",", result.Files.Select(f => f.Name)),
        };
        // A full backup in an image that had a chain replaces it (the host could not go on incrementally).
        var increments = result.Type == "FULL" ? [increment] : image.BackupIncrements.Add(increment);
        var virtualMb = result.Files.Sum(f => Math.Max(1, (f.VirtualSize + (1 << 20) - 1) >> 20));
        var it = image.Template.Clone();
        it.Remove("ERROR");
        var sizeDelta = virtualMb - image.Size;
        if (sizeDelta != 0)
            lc.ChargeOwnerQuota(tx, image.Uid, image.Gid, q => QuotaEngine.AddDatastore(q.Quotas, q.Defaults, image.DatastoreId,
                new Dictionary<string, double> { ["SIZE"] = sizeDelta }, q.Who, check: false));
        tx.Put(image with
        {
            State = ImageState.READY, PrevState = image.State, Template = it, BackupIncrements = increments, Size = virtualMb,
            BackupDiskIds = result.Files.Select(f => f.DiskId).ToImmutableSortedSet(),
            Format = "qcow2",
        });

        var t = vm.Template.Clone();
        var bc = t.Vector("BACKUP_CONFIG");
        if (bc is null)
        {
            bc = new VectorAttribute("BACKUP_CONFIG");
            t.Add(bc);
        }
        bc.Set("LAST_BACKUP_ID", image.Id.ToString(CultureInfo.InvariantCulture));
        bc.Set("LAST_BACKUP_SIZE", mb.ToString(CultureInfo.InvariantCulture));
        bc.Set("LAST_DATASTORE_ID", image.DatastoreId.ToString(CultureInfo.InvariantCulture));
        if (order.Incremental && result.Checkpoint.Length > 0)
        {
            bc.Set("INCREMENTAL_BACKUP_ID", image.Id.ToString(CultureInfo.InvariantCulture));
            bc.Set("LAST_INCREMENT_ID", order.IncrementId.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            bc.Remove("INCREMENTAL_BACKUP_ID");
            bc.Remove("LAST_INCREMENT_ID");
        }
        return vm with { Template = t, BackupIds = vm.BackupIds.Add(image.Id) };
    }

    /// <summary>The dummy driver's backup: no files, the disks' sizes as they are in the template.</summary>
    private static BackupResult Simulated(Vm vm, BackupOrder order) => new()
    {
        Type = order.Incremental && order.SinceCheckpoint.Length > 0 ? "INCREMENT" : "FULL",
        Checkpoint = order.NewCheckpoint,
        Files = order.DiskIds.Select(id =>
        {
            var size = (vm.Template.Vectors("DISK").FirstOrDefault(d => d.GetInt("DISK_ID") == id)?.GetInt("SIZE") ?? 0) * (1L << 20);
            return new BackupFile(id, $"disk.{id}.{order.IncrementId}.qcow2", order.Incremental && order.SinceCheckpoint.Length > 0 ? 0 : size, size);
        }).ToList(),
    };

    /// <summary>
    /// The VM is DONE: the disk snapshots of its persistent image disks stay with their images (image
    /// SNAPSHOTS), as OpenNebula keeps them, so a later VM of the image sees them.
    /// </summary>
    internal static void KeepSnapshotsOnImages(StateTransaction tx, Vm vm)
    {
        foreach (var list in vm.DiskSnapshots)
        {
            var disk = vm.Template.Vectors("DISK").FirstOrDefault(d => d.GetInt("DISK_ID") == list.DiskId);
            if (disk?.GetInt("IMAGE_ID") is not int imageId || tx.Get<Image>(ObjectType.Image, imageId) is not { Persistent: true } image) continue;
            tx.Put(image with { Snapshots = list with { DiskId = -1 } });
        }
    }
}
