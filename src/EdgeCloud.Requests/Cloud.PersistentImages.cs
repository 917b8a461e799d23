using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Requests;

/// <summary>An image snapshot operation on a file datastore (revert, delete, flatten) for its datastore driver to run.</summary>
public sealed record ImageSnapshotRequested(int ImageId, string Operation, int SnapshotId);

/// <summary>
/// Persistent images are the VM's disk, as in OpenNebula: when a VM leaves its host (terminate, undeploy,
/// stop), the host uploads each persistent disk and the front-end makes it the image's file
/// (<see cref="WriteBackBeginAsync"/> / <see cref="WriteBackDoneAsync"/>); the image is LOCKED_USED_PERS
/// while the copy lands, USED_PERS again after, and READY once the VM is DONE. Image snapshot operations on
/// a file datastore change the file (<see cref="ImageSnapshotRequested"/>, then <see cref="ImageSnapshotDoneAsync"/>).
/// </summary>
public sealed partial class Cloud
{
    /// <summary>TEMPLATE attribute of an image LOCKED for a snapshot operation on its file ("revert 2").</summary>
    public const string ImageSnapshotOpAttribute = "SNAPSHOT_OPERATION";

    /// <summary>The VM states in which a host may write a persistent disk back: the epilogs that remove the VM's disks.</summary>
    public static bool WritesBack(Vm vm) =>
        vm.State == VmState.ACTIVE && vm.LcmState is LcmState.EPILOG or LcmState.EPILOG_STOP or LcmState.EPILOG_UNDEPLOY;

    /// <summary>
    /// A host starts writing a persistent disk back: the image must be a persistent image used by a VM of that
    /// host that is in an epilog; it becomes LOCKED_USED_PERS. A write-back interrupted before (already
    /// LOCKED_USED_PERS, by the same VM) may start again. Returns the image.
    /// </summary>
    public Task<Image> WriteBackBeginAsync(int imageId, int hostId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Image>(ObjectType.Image, imageId) is not { } image) throw CloudException.NotFound(ObjectType.Image, imageId);
            if (!image.Persistent || image.State is not (ImageState.USED_PERS or ImageState.LOCKED_USED_PERS))
                throw CloudException.Action($"Image {imageId} is not a persistent image in use (state {image.State}): nothing to write back.", imageId);
            var vm = image.Vms.Select(v => tx.Get<Vm>(ObjectType.Vm, v)).FirstOrDefault(v => v is not null && v.HostId == hostId && WritesBack(v));
            if (vm is null)
                throw new CloudException(ErrorCode.Authorization, $"No VM of host {hostId} using image {imageId} is in an epilog: the write-back is refused.");
            if (image.State != ImageState.LOCKED_USED_PERS)
            {
                image = image with { State = ImageState.LOCKED_USED_PERS, PrevState = image.State };
                tx.Put(image);
            }
            return image;
        }, ct);

    /// <summary>
    /// The write-back ended: with <paramref name="outcome"/> Ok the new file is in place (SIZE, FORMAT and SHA256
    /// — the image's version, which replica caches key on — are updated); either way the image is USED_PERS again
    /// (READY when its VM is already gone).
    /// </summary>
    public Task WriteBackDoneAsync(int imageId, ImageCopyOutcome outcome, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Image>(ObjectType.Image, imageId) is not { State: ImageState.LOCKED_USED_PERS } image) return;
            var back = image.RunningVms > 0 ? ImageState.USED_PERS : ImageState.READY;
            if (outcome.Ok)
            {
                var t = image.Template.Clone();
                foreach (var (k, v) in outcome.Attributes) t.Set(k, v);
                t.Set("WRITTEN_BACK", tx.Now.ToString(CultureInfo.InvariantCulture));
                var delta = outcome.SizeMb - image.Size;
                if (delta != 0)
                    LifeCycle.ChargeOwnerQuota(tx, image.Uid, image.Gid, q => QuotaEngine.AddDatastore(q.Quotas, q.Defaults, image.DatastoreId,
                        new Dictionary<string, double> { ["SIZE"] = delta }, q.Who, check: false));
                image = image with
                {
                    Template = t, Size = outcome.SizeMb,
                    Format = outcome.Format.Length > 0 ? outcome.Format : image.Format,
                    Source = outcome.Source.Length > 0 ? outcome.Source : image.Source,
                };
            }
            tx.Put(image with { State = back, PrevState = image.State });
        }, ct);

    /// <summary>Images LOCKED_USED_PERS by a write-back a front-end restart interrupted: back to USED_PERS (the host retries).</summary>
    public Task ReleaseInterruptedWriteBacksAsync(CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            foreach (var image in tx.All<Image>(ObjectType.Image).Where(i => i.State == ImageState.LOCKED_USED_PERS).ToList())
                tx.Put(image with { State = image.RunningVms > 0 ? ImageState.USED_PERS : ImageState.READY, PrevState = image.State });
        }, ct);

    /// <summary>
    /// The datastore driver ran an image snapshot operation on the file: on success the image's SNAPSHOTS follow
    /// it (and SHA256/SIZE the file); on failure they stay and the reason is in TEMPLATE/ERROR. READY either way.
    /// </summary>
    public Task ImageSnapshotDoneAsync(int imageId, bool ok, string error, IReadOnlyDictionary<string, string>? attributes, long sizeMb, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Image>(ObjectType.Image, imageId) is not { State: ImageState.LOCKED } image
                || image.Template.Get(ImageSnapshotOpAttribute) is not { } pending) return;
            var parts = pending.Split(' ');
            var t = image.Template.Clone();
            t.Remove(ImageSnapshotOpAttribute);
            var list = image.Snapshots;
            if (ok)
            {
                list = ApplySnapshotOperation(list, parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), imageId);
                foreach (var (k, v) in attributes ?? new Dictionary<string, string>()) t.Set(k, v);
                t.Remove("ERROR");
            }
            else t.Set("ERROR", $"Error on snapshot {parts[0]} of image {imageId}: {error}");
            tx.Put(image with { State = ImageState.READY, PrevState = image.State, Template = t, Snapshots = list, Size = ok && sizeMb > 0 ? sizeMb : image.Size });
        }, ct);

    /// <summary>What an image snapshot operation does to the image's SNAPSHOTS list.</summary>
    private static DiskSnapshotList ApplySnapshotOperation(DiskSnapshotList list, string operation, int snapId, int imageId) => operation switch
    {
        "revert" => list.Revert(snapId),
        "delete" => list.Remove(snapId),
        // The image becomes the snapshot's content, with no snapshots left (OpenNebula's flatten).
        "flatten" => new DiskSnapshotList { NextSnapshot = list.NextSnapshot },
        _ => throw CloudException.Api($"Unknown snapshot operation \"{operation}\".", imageId),
    };
}
