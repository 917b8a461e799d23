using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using EdgeCloud.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// The "fs" image datastore driver (DS_MAD = fs): images are files in the datastore's directory on the
/// front-end (BASE_PATH; relative paths are under the data directory). one.image.allocate with PATH (a
/// local file or an http(s) URL) copies the file in through <see cref="ImageImporter"/> — the image is
/// LOCKED with TEMPLATE/TRANSFER_PROGRESS meanwhile, then READY with SIZE (virtual, MiB), FORMAT and
/// TEMPLATE/SHA256 from qemu-img, or ERROR with the reason in TEMPLATE/ERROR. An empty DATABLOCK is
/// created with qemu-img; a clone copies its source image; deleting an image deletes its file. Capacity
/// (TOTAL_MB/FREE_MB/USED_MB) comes from the filesystem, capped by the datastore's LIMIT_MB.
/// </summary>
/// <remarks>
/// Local PATHs are a privilege: images owned by oneadmin's group may come from anywhere on the
/// front-end; other users' only from the datastore's SAFE_DIRS (space-separated directories), as
/// OpenNebula restricts them. Other DS_MADs are left to their own drivers (dummy).
/// </remarks>
public sealed class FsDatastoreDriver(Func<Cloud> cloud, FrontendOptions options, ImageImporter importer, ILogger<FsDatastoreDriver> logger)
    : BackgroundService, IStateObserver
{
    public const string DsMad = "fs";

    private readonly Channel<object> _work = Channel.CreateUnbounded<object>();
    private readonly SemaphoreSlim _copies = new(4);

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case ImageCopyRequested ic when IsFs(snapshot, snapshot.Get<Image>(ObjectType.Image, ic.ImageId)?.DatastoreId):
                case ImageSnapshotRequested sr when IsFs(snapshot, snapshot.Get<Image>(ObjectType.Image, sr.ImageId)?.DatastoreId):
                case ImageDeleted id when IsFs(snapshot, id.DatastoreId):
                case DatastoreAdded da when IsFs(snapshot, da.DatastoreId):
                    _work.Writer.TryWrite(e);
                    break;
            }
        }
    }

    internal static bool IsFs(StateSnapshot s, int? dsId) => dsId is int id && s.Get<Datastore>(ObjectType.Datastore, id)?.DsMad == DsMad;

    /// <summary>The datastore's directory on this front-end.</summary>
    public string DirectoryOf(Datastore ds) =>
        Path.GetFullPath(Path.IsPathRooted(ds.BasePath) ? ds.BasePath : Path.Combine(options.DataDir, ds.BasePath.Length > 0 ? ds.BasePath : $"datastores/{ds.Id}"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var state = cloud().State;
        foreach (var i in state.All<Image>(ObjectType.Image).Where(i => i.State == ImageState.LOCKED && IsFs(state, i.DatastoreId) && !Cloud.FilledByHostOrBackup(i)))
            _work.Writer.TryWrite(new ImageCopyRequested(i.Id));
        foreach (var d in state.All<Datastore>(ObjectType.Datastore).Where(d => d.DsMad == DsMad))
            _work.Writer.TryWrite(new DatastoreAdded(d.Id));
        // Snapshot operations a restart interrupted run again (each is safe to repeat: see SnapshotAsync).
        foreach (var i in state.All<Image>(ObjectType.Image).Where(i => i.State == ImageState.LOCKED && IsFs(state, i.DatastoreId)))
            if (i.Template.Get(Cloud.ImageSnapshotOpAttribute)?.Split(' ') is [var op, var sid] && int.TryParse(sid, out var snapId))
                _work.Writer.TryWrite(new ImageSnapshotRequested(i.Id, op, snapId));
        _ = MeasureLoopAsync(stoppingToken);

        await foreach (var item in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                switch (item)
                {
                    case ImageCopyRequested ic: _ = CopyAsync(ic.ImageId, stoppingToken); break;
                    case ImageDeleted d: await DeleteAsync(d, stoppingToken).ConfigureAwait(false); break;
                    case ImageSnapshotRequested sr: await SnapshotAsync(sr, stoppingToken).ConfigureAwait(false); break;
                    case DatastoreAdded da: await MeasureAsync(da.DatastoreId, stoppingToken).ConfigureAwait(false); break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "fs datastore action {Item} failed", item); }
        }
    }

    private async Task MeasureLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.MonitorInterval)));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                foreach (var d in cloud().State.All<Datastore>(ObjectType.Datastore).Where(d => d.DsMad == DsMad))
                    await MeasureAsync(d.Id, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) { logger.LogError(ex, "fs datastore monitoring stopped"); }
    }

    /// <summary>The file an image of this datastore lives in: a name derived from the image id and registration time.</summary>
    public string ImageFile(Datastore ds, Image image) =>
        Path.Combine(DirectoryOf(ds), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{image.Id}:{image.RegTime}")))[..32]);

    private async Task CopyAsync(int imageId, CancellationToken ct)
    {
        await _copies.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var c = cloud();
            if (c.State.Get<Image>(ObjectType.Image, imageId) is not { State: ImageState.LOCKED } image) return;
            if (c.State.Get<Datastore>(ObjectType.Datastore, image.DatastoreId) is not { } ds) return;
            ImageCopyOutcome outcome;
            try
            {
                outcome = await CopyInAsync(c, ds, image, ct).ConfigureAwait(false);
            }
            catch (StorageException ex)
            {
                outcome = new ImageCopyOutcome { Ok = false, Error = ex.Message };
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Copy of image {ImageId} failed", imageId);
                outcome = new ImageCopyOutcome { Ok = false, Error = $"Internal error copying the image: {ex.Message}" };
            }
            if (!outcome.Ok) logger.LogWarning("Image {ImageId} could not be copied into datastore {DatastoreId}: {Error}", imageId, ds.Id, outcome.Error);
            await c.ImageCopiedAsync(imageId, outcome, ct).ConfigureAwait(false);
            // Deleted (forced) while it was being copied: the file is nobody's.
            if (outcome.Ok && c.State.Get<Image>(ObjectType.Image, imageId) is null) ImageImporter.TryDelete(outcome.Source);
            await MeasureAsync(ds.Id, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { logger.LogError(ex, "Copy of image {ImageId} failed", imageId); }
        finally
        {
            _copies.Release();
        }
    }

    private async Task<ImageCopyOutcome> CopyInAsync(Cloud c, Datastore ds, Image image, CancellationToken ct)
    {
        var dest = ImageFile(ds, image);
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        long? maxBytes = ds.TotalMb > 0 ? Math.Max(0, ds.FreeMb) << 20 : null;
        if (image.Path.Length == 0)
        {
            // An empty DATABLOCK of SIZE MiB.
            var format = image.Format.Length > 0 ? image.Format : "raw";
            if (maxBytes is { } max && image.Size << 20 > max)
                throw new StorageException($"Not enough space in datastore {ds.Id}: {image.Size} MB needed, {ds.FreeMb} MB free.");
            var qemu = importer.Qemu ?? throw new StorageException("qemu-img is not available on the front-end: empty datablocks cannot be created.");
            var tmp = dest + ".part";
            await qemu.CreateAsync(tmp, format, image.Size << 20, ct).ConfigureAwait(false);
            File.Move(tmp, dest, overwrite: true);
            var (sha, _) = await ImageImporter.DigestsAsync(dest, ct).ConfigureAwait(false);
            return new ImageCopyOutcome
            {
                Ok = true, Source = dest, SizeMb = image.Size, Format = format,
                Attributes = new Dictionary<string, string> { ["SHA256"] = sha },
            };
        }

        if (!ImageImporter.IsHttp(image.Path) && image.CloningId < 0 && image.Gid != 0 && image.Uid != 0 && !InSafeDir(ds, image.Path))
            throw new StorageException($"PATH {image.Path} is not in a safe directory of datastore {ds.Id} (SAFE_DIRS); only oneadmin may import local files from elsewhere.");

        var request = new ImportRequest
        {
            Source = image.Path, Destination = dest, MaxBytes = maxBytes,
            Sha256 = image.Template.Get("SHA256") is { Length: > 0 } s ? s : null,
            Md5 = image.Template.Get("MD5") is { Length: > 0 } m ? m : null,
            Inspect = importer.Qemu is not null,
        };
        var progress = new ProgressWriter(c, image.Id, options.TransferProgressInterval);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var r = await importer.ImportAsync(request, progress, ct).ConfigureAwait(false);
                return new ImageCopyOutcome
                {
                    Ok = true, Source = r.Path, Format = r.Format, SizeMb = Math.Max(1, (r.VirtualSize + (1 << 20) - 1) >> 20),
                    Attributes = new Dictionary<string, string> { ["SHA256"] = r.Sha256 },
                };
            }
            catch (TransferInterruptedException ex) when (attempt < 3)
            {
                logger.LogWarning("Transfer of image {ImageId} interrupted ({Reason}); resuming (attempt {Attempt})", image.Id, ex.Message, attempt + 1);
                await Task.Delay(TimeSpan.FromSeconds(attempt), ct).ConfigureAwait(false);
            }
            catch (TransferInterruptedException)
            {
                ImageImporter.TryDelete(dest + ".part"); // the image goes to ERROR: nothing half-written stays
                throw;
            }
        }
    }

    /// <summary>
    /// one.image.snapshotrevert / snapshotdelete / snapshotflatten on the image's file (its internal qcow2 snapshot
    /// snap-ID): revert applies the snapshot, delete removes it, flatten makes the snapshot's content the whole
    /// image with no snapshots (qemu-img convert -l). Each works on a copy next to the file that replaces it only
    /// when checked (<see cref="ImageImporter.ReplaceAsync"/>), so a failure leaves the image as it was. Repeating
    /// one after a restart is safe: a snapshot already deleted (or flattened away) counts as done.
    /// </summary>
    private async Task SnapshotAsync(ImageSnapshotRequested r, CancellationToken ct)
    {
        var c = cloud();
        if (c.State.Get<Image>(ObjectType.Image, r.ImageId) is not { State: ImageState.LOCKED } image || !image.Template.Contains(Cloud.ImageSnapshotOpAttribute)) return;
        var name = $"snap-{r.SnapshotId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var work = image.Source + ".snapshot";
        try
        {
            var qemu = importer.Qemu ?? throw new StorageException("qemu-img is not available on the front-end.");
            var snapshots = await qemu.SnapshotListAsync(image.Source, ct).ConfigureAwait(false);
            var present = snapshots.Any(s => s.Name == name);
            var attributes = new Dictionary<string, string>();
            long sizeMb = 0;
            if (present || r.Operation == "revert" || (r.Operation == "flatten" && snapshots.Count > 0))
            {
                if (!present) throw new StorageException($"The image file has no snapshot {name} (it has {(snapshots.Count == 0 ? "none" : string.Join(", ", snapshots.Select(s => s.Name)))}).");
                ImageImporter.TryDelete(work);
                if (r.Operation == "flatten") await qemu.CopyOutAsync(image.Source, name, work, ct: ct).ConfigureAwait(false);
                else
                {
                    File.Copy(image.Source, work, overwrite: true);
                    if (r.Operation == "revert") await qemu.SnapshotApplyAsync(work, name, ct).ConfigureAwait(false);
                    else await qemu.SnapshotDeleteAsync(work, name, ct).ConfigureAwait(false);
                }
                var result = await ImageImporter.ReplaceAsync(qemu, work, image.Source, $"Image {r.ImageId} after snapshot {r.Operation}", ct).ConfigureAwait(false);
                attributes["SHA256"] = result.Sha256;
                sizeMb = Math.Max(1, (result.VirtualSize + (1 << 20) - 1) >> 20);
            }
            logger.LogInformation("Image {ImageId}: snapshot {Operation} of {Snapshot} done on its file", r.ImageId, r.Operation, name);
            await c.ImageSnapshotDoneAsync(r.ImageId, true, "", attributes, sizeMb, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StorageException or IOException or UnauthorizedAccessException)
        {
            ImageImporter.TryDelete(work);
            logger.LogWarning("Image {ImageId}: snapshot {Operation} of {Snapshot} failed: {Reason}", r.ImageId, r.Operation, name, ex.Message);
            await c.ImageSnapshotDoneAsync(r.ImageId, false, ex.Message, null, 0, ct).ConfigureAwait(false);
        }
    }

    private static bool InSafeDir(Datastore ds, string path)
    {
        var full = Path.GetFullPath(ImageImporter.LocalPath(path));
        var safe = (ds.Template.Get("SAFE_DIRS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return safe.Any(d => full.StartsWith(Path.GetFullPath(d).TrimEnd('/') + "/", StringComparison.Ordinal));
    }

    private Task DeleteAsync(ImageDeleted d, CancellationToken ct)
    {
        if (d.Source.Length == 0 || cloud().State.Get<Datastore>(ObjectType.Datastore, d.DatastoreId) is not { } ds) return Task.CompletedTask;
        var dir = DirectoryOf(ds);
        var full = Path.GetFullPath(d.Source);
        // Only files of this datastore's directory are ever deleted.
        if (full.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            ImageImporter.TryDelete(full);
            ImageImporter.TryDelete(full + ".part");
        }
        return MeasureAsync(ds.Id, ct);
    }

    /// <summary>Capacity from the filesystem holding the datastore's directory; LIMIT_MB caps it.</summary>
    private Task MeasureAsync(int datastoreId, CancellationToken ct)
    {
        var c = cloud();
        if (c.State.Get<Datastore>(ObjectType.Datastore, datastoreId) is not { } ds) return Task.CompletedTask;
        var dir = DirectoryOf(ds);
        Directory.CreateDirectory(dir);
        var drive = new DriveInfo(dir);
        var used = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) >> 20;
        var total = drive.TotalSize >> 20;
        var free = drive.AvailableFreeSpace >> 20;
        if (ds.Template.TryGetLong("LIMIT_MB", out var limit) && limit > 0)
        {
            total = Math.Min(total, limit);
            free = Math.Max(0, Math.Min(free, limit - used));
        }
        return c.DatastoresMonitoredAsync([new DatastoreCapacity(ds.Id, total, free, used)], ct);
    }

    /// <summary>Writes TRANSFER_PROGRESS when the percentage moved and at most once per interval.</summary>
    private sealed class ProgressWriter(Cloud cloud, int imageId, double intervalSeconds) : IProgress<TransferProgress>
    {
        private long _lastTicks;
        private int _lastPercent = -1;

        public void Report(TransferProgress value)
        {
            var p = value.Percent;
            if (p < 0 || p == _lastPercent) return;
            var now = Environment.TickCount64;
            if (p < 100 && now - _lastTicks < intervalSeconds * 1000) return;
            _lastTicks = now;
            _lastPercent = p;
            cloud.ImageTransferProgressAsync(imageId, p).ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }
}
