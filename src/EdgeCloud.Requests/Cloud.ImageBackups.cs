using System.Globalization;
using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>A restore was asked for: the datastore driver merges increments up to <paramref name="IncrementId"/> of disk <paramref name="DiskId"/> of the BACKUP image into the new image.</summary>
public sealed record BackupRestoreRequested(int BackupImageId, int IncrementId, int DiskId, int ImageId);

public sealed partial class Cloud
{
    /// <summary>
    /// one.image.snapshotrevert / snapshotdelete / snapshotflatten: on the snapshots an image keeps (a persistent
    /// image's disk snapshots, written back with its file when its VM ended). Only while no VM uses the image
    /// (READY), as OpenNebula. On a file datastore (DS_MAD fs) the image is LOCKED while its driver changes the
    /// file with qemu-img (revert: apply the snapshot; delete; flatten: the snapshot's content becomes the image
    /// and every snapshot goes), and the SNAPSHOTS list follows when that succeeded
    /// (<see cref="ImageSnapshotDoneAsync"/>); on other datastores (dummy) only the list changes.
    /// </summary>
    public Task<int> ImageSnapshotAsync(Caller caller, int id, int snapId, string operation, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var image = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Manage);
            if (image.State != ImageState.READY)
                throw CloudException.Action($"Cannot {operation} a snapshot of image {id} in state {image.State}: it must be READY (not used by a VM).", id);
            var list = image.Snapshots;
            var snap = list.Find(snapId) ?? throw CloudException.Action($"Image {id} has no snapshot {snapId}.", id);
            if (operation == "delete") CheckDeletable(snap, list, id);
            var changed = ApplySnapshotOperation(list, operation, snapId, id);
            if (tx.Get<Datastore>(ObjectType.Datastore, image.DatastoreId) is { DsMad: "fs" } && image.Source.Length > 0)
            {
                var t = image.Template.Clone();
                t.Set(ImageSnapshotOpAttribute, $"{operation} {snapId.ToString(CultureInfo.InvariantCulture)}");
                tx.Put(image with { State = ImageState.LOCKED, PrevState = image.State, Template = t });
                tx.Raise(new ImageSnapshotRequested(id, operation, snapId));
                return id;
            }
            tx.Put(image with { Snapshots = changed });
            return id;
        }, ct);

    /// <summary>
    /// one.image.restore: a BACKUP image (its full backup plus increments, merged) becomes one new image per
    /// disk in <paramref name="dsId"/> (an image datastore) and a VM template using them, which an operator
    /// instantiates. Options (template syntax): NAME (prefix of the new objects), INCREMENT_ID (restore up to
    /// this increment; default the last), DISK_ID (only that disk), NO_NIC=YES (no NICs in the template),
    /// NO_IP=YES (NICs without their IP/MAC). Returns "IMAGE_IDS=a,b TEMPLATE_ID=t" (OpenNebula answers a
    /// message string too).
    /// </summary>
    public Task<string> ImageRestoreAsync(Caller caller, int id, int dsId, string options, CancellationToken ct = default)
    {
        var o = ParseTemplate(options ?? "", ErrorCode.Action);
        return bus.ExecuteAsync(tx =>
        {
            var backup = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Use);
            if (backup.ImageType != ImageType.BACKUP) throw CloudException.Action($"Image {id} is not a BACKUP image (TYPE {backup.ImageType}).", id);
            if (backup.State != ImageState.READY || backup.BackupIncrements.Count == 0)
                throw CloudException.Action($"Backup image {id} cannot be restored in state {backup.State}{(backup.BackupIncrements.Count == 0 ? " (it holds no backup)" : "")}.", id);
            var ds = Demand<Datastore>(tx, caller, ObjectType.Datastore, dsId, AuthOp.Use);
            if (ds.DsType != DatastoreType.IMAGE_DS) throw CloudException.Action($"Datastore {dsId} is a {ds.DsType} datastore: a backup is restored into an image datastore.", id);
            var incrementId = o.TryGetLong("INCREMENT_ID", out var inc) ? (int)inc : backup.BackupIncrements[^1].Id;
            if (!backup.BackupIncrements.Any(i => i.Id == incrementId))
                throw CloudException.Action($"Backup image {id} has no increment {incrementId} (it has {string.Join(",", backup.BackupIncrements.Select(i => i.Id))}).", id);
            int? onlyDisk = o.TryGetLong("DISK_ID", out var od) ? (int)od : null;
            var disks = backup.BackupDiskIds.Where(d => onlyDisk is null || d == onlyDisk).ToList();
            if (disks.Count == 0) throw CloudException.Action($"Backup image {id} holds no disk {onlyDisk}.", id);
            var vmTemplate = backup.Template.Get("VM_TEMPLATE64") is { Length: > 0 } b64
                ? Template.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(b64)))
                : new Template();
            var prefix = o.Get("NAME") is { Length: > 0 } n ? n : $"{backup.Template.Get("VM_NAME") ?? $"vm-{backup.Template.Get("VM_ID")}"}-backup-{id}-{incrementId}";
            var sizeMb = disks.Sum(d => (long)(vmTemplate.Vectors("DISK").FirstOrDefault(x => x.GetInt("DISK_ID") == d)?.GetInt("SIZE") ?? 0));
            if (ds.TotalMb > 0 && sizeMb > ds.FreeMb)
                throw CloudException.Action($"Not enough space in datastore {dsId}: {sizeMb} MB needed, {ds.FreeMb} MB free.", id);
            DemandCreate(tx, caller, ObjectType.Image);
            DemandCreate(tx, caller, ObjectType.Template);

            var imageIds = new Dictionary<int, int>();
            foreach (var diskId in disks)
            {
                var src = vmTemplate.Vectors("DISK").FirstOrDefault(x => x.GetInt("DISK_ID") == diskId);
                var name = $"{prefix}-disk-{diskId}";
                CheckNameFreeForAllocate(tx, ObjectType.Image, name, caller.Uid);
                var t = new Template();
                var type = src?["IMAGE_ID"] is null ? ImageType.DATABLOCK : diskId == disks[0] ? ImageType.OS : ImageType.DATABLOCK;
                t.Set("TYPE", type.ToString());
                t.Set("RESTORED_FROM", id);
                t.Set("RESTORED_INCREMENT", incrementId);
                t.Set("RESTORED_DISK_ID", diskId);
                if (src?["DEV_PREFIX"] is { } prefixDev) t.Set("DEV_PREFIX", prefixDev);
                var nid = tx.NextId(ObjectType.Image);
                var size = (long)(src?.GetInt("SIZE") ?? 0);
                AddLockedImage(tx, caller, new Image { Id = nid, Name = name, Template = t, ImageType = type, Size = size, Format = "qcow2" }, ds);
                tx.Raise(new BackupRestoreRequested(id, incrementId, diskId, nid));
                imageIds[diskId] = nid;
            }

            var vt = RestoredTemplate(vmTemplate, imageIds, noNic: Yes(o.Get("NO_NIC")), noIp: Yes(o.Get("NO_IP")));
            CheckNameFreeForAllocate(tx, ObjectType.Template, prefix, caller.Uid);
            var tid = tx.NextId(ObjectType.Template);
            tx.Put(Stamp(new VmTemplate { Id = tid, Name = prefix, Template = vt, RegTime = tx.Now }, tx, caller));
            return $"IMAGE_IDS={string.Join(",", imageIds.Values)} TEMPLATE_ID={tid.ToString(CultureInfo.InvariantCulture)}";
        }, ct);
    }

    /// <summary>A BACKUP image's files are in this directory of its datastore (set by the first upload).</summary>
    public Task BackupSourceAsync(int imageId, string directory, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Image>(ObjectType.Image, imageId) is { } image && image.Source != directory) tx.Put(image with { Source = directory });
        }, ct);

    private static bool Yes(string? v) => v is not null && v.Equals("YES", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The VM template of a restore: the backed-up VM's template without what oned set at instantiation
    /// (VMID, TEMPLATE_ID, leases, snapshots, backup state), its backed-up disks pointing at the restored
    /// images, volatile disks kept as volatile ones.
    /// </summary>
    private static Template RestoredTemplate(Template vm, IReadOnlyDictionary<int, int> imageIds, bool noNic, bool noIp)
    {
        string[] drop = ["VMID", "TEMPLATE_ID", "TM_MAD_SYSTEM", "AUTOMATIC_REQUIREMENTS", "AUTOMATIC_DS_REQUIREMENTS", "AUTOMATIC_NIC_REQUIREMENTS",
            "SNAPSHOT", "BACKUP_CONFIG", "SECURITY_GROUP_RULE", "NIC_ALIAS"];
        var t = new Template();
        foreach (var a in vm.Attributes)
        {
            if (drop.Contains(a.Name)) continue;
            if (a is VectorAttribute { Name: "DISK" } d)
            {
                var diskId = d.GetInt("DISK_ID") ?? -1;
                var nd = new VectorAttribute("DISK");
                if (imageIds.TryGetValue(diskId, out var imageId)) nd.Set("IMAGE_ID", imageId.ToString(CultureInfo.InvariantCulture));
                else if (d["IMAGE_ID"] is null && d["TYPE"] is { } type && d["SIZE"] is { } size)
                {
                    nd.Set("TYPE", type);
                    nd.Set("SIZE", size);
                    if (d["FORMAT"] is { } f) nd.Set("FORMAT", f);
                }
                else continue; // a disk that is not in the backup (CD-ROM, or restored alone with DISK_ID)
                foreach (var k in new[] { "DEV_PREFIX", "TARGET", "CACHE", "DRIVER" })
                    if (d[k] is { } v) nd.Set(k, v);
                t.Add(nd);
                continue;
            }
            if (a is VectorAttribute { Name: "NIC" } nic)
            {
                if (noNic) continue;
                var nn = new VectorAttribute("NIC");
                foreach (var k in new[] { "NETWORK_ID", "MODEL", "SECURITY_GROUPS" })
                    if (nic[k] is { } v) nn.Set(k, v);
                if (!noIp)
                    foreach (var k in new[] { "IP", "MAC" })
                        if (nic[k] is { } v) nn.Set(k, v);
                t.Add(nn);
                continue;
            }
            t.Add(a.Clone());
        }
        return t;
    }
}
