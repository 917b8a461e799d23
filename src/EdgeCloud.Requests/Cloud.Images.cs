using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    /// <summary>
    /// one.image.allocate: the image is LOCKED while its datastore driver copies it in, then READY
    /// (or ERROR with the driver's message). Datastore quota (IMAGES, SIZE) is charged here.
    /// </summary>
    public Task<int> ImageAllocateAsync(Caller caller, string text, int dsId, bool skipCapacityCheck, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        ApplyFromApp(caller, t); // FROM_APP: an import from a marketplace (Cloud.Markets.cs)
        var name = t.Get("NAME");
        if (string.IsNullOrEmpty(name)) throw CloudException.Allocate(ObjectType.Image, "No NAME in template.");
        ValidateName(ObjectType.Image, name);
        var path = t.Get("PATH") ?? "";
        var size = t.TryGetLong("SIZE", out var s) ? s : -1;
        var typeText = (t.Get("TYPE") ?? (path.Length == 0 && size > 0 ? "DATABLOCK" : "OS")).ToUpperInvariant();
        if (!Enum.TryParse<ImageType>(typeText, out var type) || int.TryParse(typeText, out _))
            throw CloudException.Allocate(ObjectType.Image, $"Unknown image TYPE \"{typeText}\"; use OS, CDROM, DATABLOCK, KERNEL, RAMDISK or CONTEXT.");
        if (path.Length == 0 && type != ImageType.DATABLOCK)
            throw CloudException.Allocate(ObjectType.Image, "No PATH in template (only DATABLOCK images can be created empty with SIZE).");
        if (type == ImageType.DATABLOCK && path.Length == 0 && size <= 0)
            throw CloudException.Allocate(ObjectType.Image, "An empty DATABLOCK needs a positive SIZE (MiB).");
        var persistent = (t.Get("PERSISTENT") ?? "NO").Equals("YES", StringComparison.OrdinalIgnoreCase);
        t.Set("TYPE", type.ToString());
        t.Remove("NAME");
        return bus.ExecuteAsync(tx =>
        {
            var ds = Demand<Datastore>(tx, caller, ObjectType.Datastore, dsId, AuthOp.Use);
            var fileTypes = type is ImageType.KERNEL or ImageType.RAMDISK or ImageType.CONTEXT;
            if (ds.DsType == DatastoreType.SYSTEM_DS || ds.DsType == DatastoreType.BACKUP_DS)
                throw CloudException.Allocate(ObjectType.Image, $"Datastore {dsId} is a {ds.DsType} datastore; images go to image or file datastores.");
            if (fileTypes != (ds.DsType == DatastoreType.FILE_DS))
                throw CloudException.Allocate(ObjectType.Image, $"{type} images must go to a {(fileTypes ? "FILE_DS" : "IMAGE_DS")} datastore.");
            if (ds.State == DatastoreState.DISABLED) throw CloudException.Allocate(ObjectType.Image, $"Datastore {dsId} is disabled.");
            DemandCreate(tx, caller, ObjectType.Image);
            CheckNameFreeForAllocate(tx, ObjectType.Image, name, caller.Uid);
            var mb = size > 0 ? size : 0;
            if (!skipCapacityCheck && ds.TotalMb > 0 && mb > ds.FreeMb)
                throw CloudException.Allocate(ObjectType.Image, $"Not enough space in datastore {dsId}: {mb} MB needed, {ds.FreeMb} MB free.");
            var id = tx.NextId(ObjectType.Image);
            AddLockedImage(tx, caller, new Image
            {
                Id = id, Name = name, Template = t, ImageType = type, Persistent = persistent,
                Path = path, Size = mb, Format = t.Get("FORMAT") ?? "", Fs = t.Get("FS") ?? "", DiskType = 0,
            }, ds);
            tx.Raise(new ImageCopyRequested(id));
            return id;
        }, ct);
    }

    /// <summary>
    /// Registers a new image whose file is still to come (allocate, clone, save-as, backup, restore): LOCKED,
    /// owned by <paramref name="owner"/>, its IMAGES and SIZE charged to the owner's datastore quota, and
    /// listed in its datastore. The caller raises what fills the file.
    /// </summary>
    private Image AddLockedImage(StateTransaction tx, Caller owner, Image image, Datastore ds)
    {
        image = Stamp(image with { State = ImageState.LOCKED, PrevState = ImageState.INIT, DatastoreId = ds.Id, Datastore = ds.Name, RegTime = tx.Now }, tx, owner);
        LifeCycle.ChargeOwnerQuota(tx, image.Uid, image.Gid, q => QuotaEngine.AddDatastore(q.Quotas, q.Defaults, ds.Id,
            new Dictionary<string, double> { ["IMAGES"] = 1, ["SIZE"] = image.Size }, q.Who, check: true));
        tx.Put(image);
        var dsNow = Require<Datastore>(tx, ObjectType.Datastore, ds.Id);
        tx.Put(dsNow with { Images = dsNow.Images.Add(image.Id) });
        return image;
    }

    /// <summary>The datastore driver finished copying an image in: READY with its source and size, or ERROR with a message.</summary>
    public Task ImageReadyAsync(int id, bool ok, string source, long sizeMb, string format, string error, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx => ImageReady(tx, id, ok, source, sizeMb, format, error, null), ct);

    /// <summary>
    /// <see cref="ImageReadyAsync"/> inside a command; <paramref name="attributes"/> are set in the image's TEMPLATE
    /// (e.g. the SHA256 a real driver computed), and a TRANSFER_PROGRESS left by the copy is removed.
    /// </summary>
    private void ImageReady(StateTransaction tx, int id, bool ok, string source, long sizeMb, string format, string error, IReadOnlyDictionary<string, string>? attributes)
    {
        if (tx.Get<Image>(ObjectType.Image, id) is not { State: ImageState.LOCKED } image) return;
        if (attributes is not null || image.Template.Contains("TRANSFER_PROGRESS"))
        {
            var at = image.Template.Clone();
            at.Remove("TRANSFER_PROGRESS");
            foreach (var (k, v) in attributes ?? new Dictionary<string, string>()) at.Set(k, v);
            image = image with { Template = at };
        }
        if (!ok)
        {
            var t = image.Template.Clone();
            t.Set("ERROR", error);
            tx.Put(image with { State = ImageState.ERROR, PrevState = image.State, Template = t });
            foreach (var vm in CloningVmsOf(tx, id))
                LifeCycle.Enter(tx, VmLifeCycle.WithError(vm, tx.Now, $"Copy of image {id} failed: {error}"), VmState.CLONING_FAILURE, LcmState.LCM_INIT);
            return;
        }
        var delta = sizeMb - image.Size;
        if (delta != 0)
            LifeCycle.ChargeOwnerQuota(tx, image.Uid, image.Gid, q => QuotaEngine.AddDatastore(q.Quotas, q.Defaults, image.DatastoreId,
                new Dictionary<string, double> { ["SIZE"] = delta }, q.Who, check: false));
        var ready = image.RunningVms == 0 ? ImageState.READY : image.Persistent ? ImageState.USED_PERS : ImageState.USED;
        tx.Put(image with { State = ready, PrevState = image.State, Source = source, Size = sizeMb, Format = format.Length > 0 ? format : image.Format });
        foreach (var vm in CloningVmsOf(tx, id))
        {
            var waiting = vm.Template.Vectors("DISK").Any(d => d.GetInt("IMAGE_ID") is int other && tx.Get<Image>(ObjectType.Image, other)?.State == ImageState.LOCKED);
            if (waiting) continue;
            var hold = vm.Template.Get("SUBMIT_ON_HOLD") is { } h && h.Equals("YES", StringComparison.OrdinalIgnoreCase);
            LifeCycle.Enter(tx, vm, hold ? VmState.HOLD : VmState.PENDING, LcmState.LCM_INIT);
            if (!hold) tx.Raise(new VmPending(vm.Id));
        }
    }

    /// <summary>VMs in CLONING that wait for this image's copy.</summary>
    private static List<Vm> CloningVmsOf(StateTransaction tx, int imageId) =>
        tx.All<Vm>(ObjectType.Vm).Where(v => v.State == VmState.CLONING && v.Template.Vectors("DISK").Any(d => d.GetInt("IMAGE_ID") == imageId)).ToList();

    public Task<int> ImageDeleteAsync(Caller caller, int id, bool force, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var image = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Manage);
            DeleteImage(tx, image, force);
            return id;
        }, ct);

    /// <summary>Deletes an image inside a command: refused while VMs use it (or it is LOCKED) unless forced.</summary>
    private void DeleteImage(StateTransaction tx, Image image, bool force = false)
    {
        var id = image.Id;
        if (image.RunningVms > 0 && !force)
            throw CloudException.Action($"Cannot delete image {id}: it is used by VMs {string.Join(",", image.Vms)}.", id);
        if (image.State is ImageState.LOCKED && !force) throw CloudException.Action($"Cannot delete image {id} while it is LOCKED.", id);
        LifeCycle.ChargeOwnerQuota(tx, image.Uid, image.Gid, q => QuotaEngine.AddDatastore(q.Quotas, q.Defaults, image.DatastoreId,
            new Dictionary<string, double> { ["IMAGES"] = -1, ["SIZE"] = -image.Size }, q.Who, check: false));
        if (tx.Get<Datastore>(ObjectType.Datastore, image.DatastoreId) is { } ds) tx.Put(ds with { Images = ds.Images.Remove(id) });
        tx.Delete(ObjectType.Image, id);
        tx.Raise(new ImageDeleted(id, image.DatastoreId, image.Source));
    }

    public Task<int> ImageEnableAsync(Caller caller, int id, bool enable, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var image = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Manage);
            if (enable && image.State == ImageState.DISABLED) tx.Put(image with { State = ImageState.READY, PrevState = image.State });
            else if (!enable && image.State == ImageState.READY) tx.Put(image with { State = ImageState.DISABLED, PrevState = image.State });
            else if (!(enable ? image.State is ImageState.READY or ImageState.USED or ImageState.USED_PERS : image.State == ImageState.DISABLED))
                throw CloudException.Action($"Image {id} cannot be {(enable ? "enabled" : "disabled")} in state {image.State}.", id);
            return id;
        }, ct);

    public Task<int> ImagePersistentAsync(Caller caller, int id, bool persistent, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var image = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Manage);
            if (image.RunningVms > 0) throw CloudException.Action($"Cannot change persistence of image {id}: it is used by VMs.", id);
            var t = image.Template.Clone();
            t.Set("PERSISTENT", persistent ? "YES" : "NO");
            tx.Put(image with { Persistent = persistent, Template = t });
            return id;
        }, ct);

    public Task<int> ImageChtypeAsync(Caller caller, int id, string typeText, CancellationToken ct = default)
    {
        if (!Enum.TryParse<ImageType>(typeText.ToUpperInvariant(), out var type) || int.TryParse(typeText, out _))
            throw CloudException.Action($"Unknown image type \"{typeText}\".", id);
        return bus.ExecuteAsync(tx =>
        {
            var image = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Manage);
            var ds = Require<Datastore>(tx, ObjectType.Datastore, image.DatastoreId);
            var fileType = type is ImageType.KERNEL or ImageType.RAMDISK or ImageType.CONTEXT;
            if (fileType != (ds.DsType == DatastoreType.FILE_DS))
                throw CloudException.Action($"Type {type} does not fit datastore {ds.Id} ({ds.DsType}).", id);
            var t = image.Template.Clone();
            t.Set("TYPE", type.ToString());
            tx.Put(image with { ImageType = type, Template = t });
            return id;
        }, ct);
    }

    /// <summary>one.image.clone: a new image copied from a READY/USED one (its driver copies it, it starts LOCKED).</summary>
    public Task<int> ImageCloneAsync(Caller caller, int id, string name, int dsId, CancellationToken ct = default)
    {
        ValidateName(ObjectType.Image, name);
        return bus.ExecuteAsync(tx => CloneImage(tx, caller, id, name, dsId), ct);
    }

    /// <summary>A copy of a READY/USED image as a new LOCKED image its driver fills in (inside a command).</summary>
    private int CloneImage(StateTransaction tx, Caller caller, int id, string name, int dsId)
    {
        var src = Demand<Image>(tx, caller, ObjectType.Image, id, AuthOp.Use, checkLock: false);
        if (src.State is not (ImageState.READY or ImageState.USED or ImageState.USED_PERS))
            throw CloudException.Action($"Cannot clone image {id} in state {src.State}.", id);
        var ds = Demand<Datastore>(tx, caller, ObjectType.Datastore, dsId < 0 ? src.DatastoreId : dsId, AuthOp.Use);
        DemandCreate(tx, caller, ObjectType.Image);
        CheckNameFreeForAllocate(tx, ObjectType.Image, name, caller.Uid);
        var nid = tx.NextId(ObjectType.Image);
        AddLockedImage(tx, caller, src with
        {
            Id = nid, Name = name, Template = src.Template.Clone(), RunningVms = 0, Vms = [], Clones = [], AppClones = [],
            CloningId = id, Lock = null, Persistent = false, Path = src.Source,
        }, ds);
        var srcNow = Require<Image>(tx, ObjectType.Image, id);
        tx.Put(srcNow with { Clones = srcNow.Clones.Add(nid) });
        tx.Raise(new ImageCopyRequested(nid));
        return nid;
    }

    internal static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>An image needs its datastore driver to copy it in.</summary>
public sealed record ImageCopyRequested(int ImageId);

/// <summary>An image was deleted: its datastore driver removes the file at SOURCE.</summary>
public sealed record ImageDeleted(int ImageId, int DatastoreId, string Source);
