using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>
/// Disk snapshots, disk resize, disk save-as, backups and restores, as OpenNebula has them
/// (one.vm.disksnapshot*, one.vm.diskresize, one.vm.disksaveas, one.vm.backup, one.vm.backupcancel,
/// one.image.snapshot*, one.image.restore). Each VM action moves the VM into its transient LCM state and
/// sends one driver action (VmDiskActions applies the answer).
/// </summary>
public sealed partial class Cloud
{
    private static bool IsRunning(Vm vm) => vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;

    private static VectorAttribute RequireDisk(Vm vm, int diskId) =>
        vm.Template.Vectors("DISK").FirstOrDefault(d => d.GetInt("DISK_ID") == diskId)
        ?? throw CloudException.Action($"VM {vm.Id} has no DISK with DISK_ID {diskId}.", vm.Id);

    private static DiskSnapshot RequireSnapshot(Vm vm, int diskId, int snapId) =>
        VmDiskActions.SnapshotsOf(vm, diskId)?.Find(snapId)
        ?? throw CloudException.Action($"VM {vm.Id} disk {diskId} has no snapshot {snapId}.", vm.Id);

    /// <summary>one.vm.disksnapshotcreate: RUNNING → DISK_SNAPSHOT, POWEROFF → DISK_SNAPSHOT_POWEROFF, SUSPENDED → DISK_SNAPSHOT_SUSPENDED; returns the snapshot id.</summary>
    public Task<int> VmDiskSnapshotCreateAsync(Caller caller, int id, int diskId, string name, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = IsRunning(vm) ? LcmState.DISK_SNAPSHOT
                : vm.State == VmState.POWEROFF ? LcmState.DISK_SNAPSHOT_POWEROFF
                : vm.State == VmState.SUSPENDED ? LcmState.DISK_SNAPSHOT_SUSPENDED
                : throw VmLifeCycle.NotAvailable("disk-snapshot-create", vm);
            var disk = RequireDisk(vm, diskId);
            if (disk["TYPE"] is "CDROM" || disk["READONLY"] is "YES")
                throw CloudException.Action($"Disk {diskId} of VM {id} is read-only (CD-ROM): it cannot have snapshots.", id);
            var list = VmDiskActions.SnapshotsOf(vm, diskId) ?? new DiskSnapshotList { DiskId = diskId };
            var size = disk.GetInt("SIZE") ?? 0;
            list = list.Take("", tx.Now, size, out var snapId);
            var snapName = string.IsNullOrWhiteSpace(name) ? $"snapshot-{snapId}" : name;
            list = list.Rename(snapId, snapName);
            var nvm = MarkAction(VmDiskActions.WithSnapshots(vm, diskId, list), VmAction.DiskSnapshotCreate);
            LifeCycle.Enter(tx, nvm, VmState.ACTIVE, lcm, DriverOp.DiskSnapshotCreate, VmDiskActions.Arg(diskId, snapId));
            return snapId;
        }, ct);

    /// <summary>one.vm.disksnapshotrevert: only POWEROFF (→ DISK_SNAPSHOT_REVERT_POWEROFF) or SUSPENDED (→ DISK_SNAPSHOT_SUSPENDED), as OpenNebula.</summary>
    public Task<int> VmDiskSnapshotRevertAsync(Caller caller, int id, int diskId, int snapId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = vm.State == VmState.POWEROFF ? LcmState.DISK_SNAPSHOT_REVERT_POWEROFF
                : vm.State == VmState.SUSPENDED ? LcmState.DISK_SNAPSHOT_SUSPENDED
                : throw VmLifeCycle.NotAvailable("disk-snapshot-revert", vm);
            RequireDisk(vm, diskId);
            RequireSnapshot(vm, diskId, snapId);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.DiskSnapshotRevert), VmState.ACTIVE, lcm, DriverOp.DiskSnapshotRevert, VmDiskActions.Arg(diskId, snapId));
            return id;
        }, ct);

    /// <summary>one.vm.disksnapshotdelete: RUNNING, POWEROFF or SUSPENDED; not the active snapshot, not one with children (qcow2: ALLOW_ORPHANS NO).</summary>
    public Task<int> VmDiskSnapshotDeleteAsync(Caller caller, int id, int diskId, int snapId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = IsRunning(vm) ? LcmState.DISK_SNAPSHOT_DELETE
                : vm.State == VmState.POWEROFF ? LcmState.DISK_SNAPSHOT_DELETE_POWEROFF
                : vm.State == VmState.SUSPENDED ? LcmState.DISK_SNAPSHOT_DELETE_SUSPENDED
                : throw VmLifeCycle.NotAvailable("disk-snapshot-delete", vm);
            RequireDisk(vm, diskId);
            var snap = RequireSnapshot(vm, diskId, snapId);
            CheckDeletable(snap, VmDiskActions.SnapshotsOf(vm, diskId)!, id);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.DiskSnapshotDelete), VmState.ACTIVE, lcm, DriverOp.DiskSnapshotDelete, VmDiskActions.Arg(diskId, snapId));
            return id;
        }, ct);

    private static void CheckDeletable(DiskSnapshot snap, DiskSnapshotList list, int id)
    {
        if (snap.Active) throw CloudException.Action($"Cannot delete snapshot {snap.Id}: it is the active snapshot (the disk is at it).", id);
        if (!list.AllowOrphans && snap.Children.Count > 0)
            throw CloudException.Action($"Cannot delete snapshot {snap.Id}: it has children ({string.Join(",", snap.Children)}).", id);
    }

    /// <summary>one.vm.disksnapshotrename: a new NAME, no driver action.</summary>
    public Task<int> VmDiskSnapshotRenameAsync(Caller caller, int id, int diskId, int snapId, string name, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw CloudException.Action("The new snapshot name is empty.", id);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            if (vm.State == VmState.DONE) throw VmLifeCycle.NotAvailable("disk-snapshot-rename", vm);
            RequireDisk(vm, diskId);
            RequireSnapshot(vm, diskId, snapId);
            tx.Put(VmDiskActions.WithSnapshots(vm, diskId, VmDiskActions.SnapshotsOf(vm, diskId)!.Rename(snapId, name)));
            return id;
        }, ct);
    }

    /// <summary>one.vm.diskresize: grow only (MiB); RUNNING → DISK_RESIZE (live), POWEROFF → DISK_RESIZE_POWEROFF.</summary>
    public Task<int> VmDiskResizeAsync(Caller caller, int id, int diskId, string sizeText, CancellationToken ct = default)
    {
        if (!long.TryParse(sizeText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size <= 0)
            throw CloudException.Action($"Invalid disk size \"{sizeText}\": a positive number of MiB is expected.", id);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = IsRunning(vm) ? LcmState.DISK_RESIZE
                : vm.State == VmState.POWEROFF ? LcmState.DISK_RESIZE_POWEROFF
                : throw VmLifeCycle.NotAvailable("disk-resize", vm);
            var disk = RequireDisk(vm, diskId);
            if (disk["TYPE"] is "CDROM") throw CloudException.Action($"Disk {diskId} of VM {id} is a CD-ROM: it cannot be resized.", id);
            var current = disk.GetInt("SIZE") ?? 0;
            if (size <= current) throw CloudException.Action($"New size has to be bigger than current one ({size} MB requested, disk {diskId} has {current} MB).", id);
            if (VmDiskActions.SnapshotsOf(vm, diskId) is { Snapshots.Count: > 0 })
                throw CloudException.Action($"Disk {diskId} of VM {id} has snapshots: delete them before resizing (qcow2 snapshots keep the old size).", id);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.DiskResize), VmState.ACTIVE, lcm, DriverOp.DiskResize, VmDiskActions.Arg(diskId, size));
            return id;
        }, ct);
    }

    /// <summary>
    /// one.vm.disksaveas: a new image (in the disk's image datastore) copied from the disk, or from one of
    /// its snapshots (<paramref name="snapId"/> ≥ 0). The image is LOCKED until the host has copied it, then
    /// READY, or ERROR with the reason. RUNNING → HOTPLUG_SAVEAS (a point-in-time copy of the live disk),
    /// POWEROFF → HOTPLUG_SAVEAS_POWEROFF, SUSPENDED → HOTPLUG_SAVEAS_SUSPENDED. Returns the image id.
    /// </summary>
    public Task<int> VmDiskSaveAsAsync(Caller caller, int id, int diskId, string name, string type, int snapId, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw CloudException.Action("No name for the new image.", id);
        ValidateName(ObjectType.Image, name);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = IsRunning(vm) ? LcmState.HOTPLUG_SAVEAS
                : vm.State == VmState.POWEROFF ? LcmState.HOTPLUG_SAVEAS_POWEROFF
                : vm.State == VmState.SUSPENDED ? LcmState.HOTPLUG_SAVEAS_SUSPENDED
                : throw VmLifeCycle.NotAvailable("disk-saveas", vm);
            var disk = RequireDisk(vm, diskId);
            if (snapId >= 0) RequireSnapshot(vm, diskId, snapId);
            if (disk.GetInt("IMAGE_ID") is not int srcId || tx.Get<Image>(ObjectType.Image, srcId) is not { } src)
                throw CloudException.Action($"Disk {diskId} of VM {id} is a volatile disk: only disks of images can be saved as images.", id);
            var ds = Demand<Datastore>(tx, caller, ObjectType.Datastore, src.DatastoreId, AuthOp.Use);
            if (ds.DsType != DatastoreType.IMAGE_DS) throw CloudException.Action($"Datastore {ds.Id} is a {ds.DsType} datastore: a saved disk goes to an image datastore.", id);
            var imageType = src.ImageType;
            if (type.Length > 0 && !(Enum.TryParse(type.ToUpperInvariant(), out imageType) && !int.TryParse(type, out _) && imageType is ImageType.OS or ImageType.DATABLOCK or ImageType.CDROM))
                throw CloudException.Action($"Unknown image type \"{type}\" for a saved disk; use OS, DATABLOCK or CDROM.", id);
            DemandCreate(tx, caller, ObjectType.Image);
            CheckNameFreeForAllocate(tx, ObjectType.Image, name, caller.Uid);
            var size = disk.GetInt("SIZE") ?? src.Size;
            if (ds.TotalMb > 0 && size > ds.FreeMb)
                throw CloudException.Action($"Not enough space in datastore {ds.Id}: {size} MB needed, {ds.FreeMb} MB free.", id);
            var t = new Template();
            t.Set("TYPE", imageType.ToString());
            t.Set("SAVED_VM_ID", id);
            t.Set("SAVED_DISK_ID", diskId);
            t.Set("SAVED_SNAPSHOT_ID", snapId);
            t.Set("SAVED_IMAGE_ID", srcId);
            if (src.Template.Get("DEV_PREFIX") is { } prefix) t.Set("DEV_PREFIX", prefix);
            var nid = tx.NextId(ObjectType.Image);
            AddLockedImage(tx, caller, new Image { Id = nid, Name = name, Template = t, ImageType = imageType, Size = size, Format = "qcow2" }, ds);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.DiskSaveAs), VmState.ACTIVE, lcm, DriverOp.DiskSaveAs, VmDiskActions.Arg(diskId, snapId, nid));
            return nid;
        }, ct);
    }

    /// <summary>
    /// True for images a host fills (disk save-as, backups, restores) or LOCKED for a snapshot operation on their
    /// file: datastore drivers must not import them from PATH.
    /// </summary>
    public static bool FilledByHostOrBackup(Image image) =>
        image.ImageType == ImageType.BACKUP || image.Template.Contains("SAVED_VM_ID") || image.Template.Contains("RESTORED_FROM")
        || image.Template.Contains(ImageSnapshotOpAttribute);

    /// <summary>The disks a backup copies: every DISK but CD-ROMs; volatile disks only with BACKUP_CONFIG/BACKUP_VOLATILE=YES.</summary>
    private static List<int> BackupDisks(Vm vm)
    {
        var volatileToo = vm.Template.Vector("BACKUP_CONFIG")?["BACKUP_VOLATILE"] is { } bv && bv.Equals("YES", StringComparison.OrdinalIgnoreCase);
        return vm.Template.Vectors("DISK")
            .Where(d => d["TYPE"] is not "CDROM" && (d.GetInt("IMAGE_ID") is not null || volatileToo))
            .Select(d => d.GetInt("DISK_ID") ?? -1).Where(i => i >= 0).ToList();
    }

    /// <summary>
    /// one.vm.backup: every disk of the VM into a BACKUP image of a BACKUP_DS datastore. With
    /// BACKUP_CONFIG/MODE=INCREMENT the VM's current chain (INCREMENTAL_BACKUP_ID) gets a new increment
    /// in the same image; <paramref name="reset"/>, a FULL mode or no chain makes a new image with a full
    /// backup. RUNNING → BACKUP, POWEROFF → BACKUP_POWEROFF. <paramref name="dsId"/> -1 = the last one used.
    /// </summary>
    public Task<int> VmBackupAsync(Caller caller, int id, int dsId, bool reset, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var lcm = IsRunning(vm) ? LcmState.BACKUP
                : vm.State == VmState.POWEROFF ? LcmState.BACKUP_POWEROFF
                : throw VmLifeCycle.NotAvailable("backup", vm);
            var config = vm.Template.Vector("BACKUP_CONFIG");
            if (dsId < 0) dsId = config?.GetInt("LAST_DATASTORE_ID") ?? throw CloudException.Action("No backup datastore given, and the VM has no previous backup.", id);
            var ds = Demand<Datastore>(tx, caller, ObjectType.Datastore, dsId, AuthOp.Use);
            if (ds.DsType != DatastoreType.BACKUP_DS) throw CloudException.Action($"Datastore {dsId} is not a backup datastore (TYPE is {ds.DsType}; BACKUP_DS is needed).", id);
            var disks = BackupDisks(vm);
            if (disks.Count == 0) throw CloudException.Action($"VM {id} has no disk to back up.", id);
            var incremental = config?["MODE"] is { } mode && mode.Equals("INCREMENT", StringComparison.OrdinalIgnoreCase);
            var chainImage = !reset && incremental && config?.GetInt("INCREMENTAL_BACKUP_ID") is int cid && config.GetInt("LAST_INCREMENT_ID") is int
                ? tx.Get<Image>(ObjectType.Image, cid) : null;
            if (chainImage is not null && (chainImage.DatastoreId != dsId || chainImage.State != ImageState.READY || chainImage.BackupIncrements.Count == 0)) chainImage = null;
            var sizeMb = disks.Sum(d => (long)(vm.Template.Vectors("DISK").First(x => x.GetInt("DISK_ID") == d).GetInt("SIZE") ?? 0));
            if (chainImage is null && ds.TotalMb > 0 && sizeMb > ds.FreeMb)
                throw CloudException.Action($"Not enough space in datastore {dsId}: {sizeMb} MB needed for a full backup, {ds.FreeMb} MB free.", id);
            Image image;
            BackupOrder order;
            if (chainImage is not null)
            {
                var last = chainImage.BackupIncrements[^1].Id;
                image = chainImage with { State = ImageState.LOCKED, PrevState = chainImage.State };
                order = new BackupOrder
                {
                    ImageId = image.Id, IncrementId = last + 1, Incremental = true, DiskIds = disks,
                    SinceCheckpoint = VmDiskActions.CheckpointName(id, image.Id, last),
                    NewCheckpoint = VmDiskActions.CheckpointName(id, image.Id, last + 1),
                };
            }
            else
            {
                DemandCreate(tx, caller, ObjectType.Image);
                var nid = tx.NextId(ObjectType.Image);
                var t = new Template();
                t.Set("TYPE", "BACKUP");
                t.Set("VM_ID", id);
                t.Set("VM_NAME", vm.Name);
                // What a restore rebuilds the VM template from.
                t.Set("VM_TEMPLATE64", Convert.ToBase64String(Encoding.UTF8.GetBytes(vm.Template.ToString())));
                var name = $"{id} {DateTimeOffset.FromUnixTimeSeconds(tx.Now).UtcDateTime.ToString("dd-MMM HH.mm.ss", CultureInfo.InvariantCulture)} #{nid}";
                image = AddLockedImage(tx, new Caller(vm.Uid, vm.Uname, vm.Gid, vm.Gname, [vm.Gid]),
                    new Image { Id = nid, Name = name, Template = t, ImageType = ImageType.BACKUP, Size = sizeMb, Format = "qcow2" }, ds);
                order = new BackupOrder
                {
                    ImageId = nid, IncrementId = 0, Incremental = incremental, DiskIds = disks,
                    NewCheckpoint = incremental ? VmDiskActions.CheckpointName(id, nid, 0) : "",
                };
            }
            tx.Put(image);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.Backup), VmState.ACTIVE, lcm, DriverOp.Backup, JsonSerializer.Serialize(order, VmDiskActions.Json));
            return id;
        }, ct);

    /// <summary>one.vm.backupcancel: asks the host to abort the running backup; the backup action then fails and the VM goes back.</summary>
    public Task<int> VmBackupCancelAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            if (!(vm.State == VmState.ACTIVE && vm.LcmState is LcmState.BACKUP or LcmState.BACKUP_POWEROFF) || vm.LastHistory is not { } h)
                throw VmLifeCycle.NotAvailable("backup-cancel", vm);
            LifeCycle.Send(tx, new DriverRequest(vm.Id, DriverOp.BackupCancel, h.Hid, -1, "", vm.DriverActions));
            tx.Put(MarkAction(vm, VmAction.BackupCancel));
            return id;
        }, ct);
}
