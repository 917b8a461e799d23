using System.Text.RegularExpressions;
using System.Threading.Channels;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using EdgeCloud.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// The front-end side of what hosts copy out of VM disks, for <c>DS_MAD = fs</c> datastores:
/// <list type="bullet">
/// <item><c>PUT /uploads/images/{id}</c> (agents' port, the agent's certificate): a disk save-as — the body
/// becomes the LOCKED image's file after the usual checks (qemu-img opens it, no backing file) and the
/// image READY with its SIZE, FORMAT and SHA256.</item>
/// <item><c>PUT /uploads/backups/{id}/{file}</c>: one disk of a backup increment (<c>disk.N.INC.qcow2</c>)
/// into the BACKUP image's directory of the BACKUP_DS datastore.</item>
/// <item><c>PUT /uploads/persistent/{id}</c>: a persistent image's disk written back by the host of the VM that
/// used it, in that VM's epilog: it replaces the image's file atomically (<see cref="ImageImporter.ReplaceAsync"/>:
/// checked, then renamed over the old file; a bad upload leaves the old file), with its internal snapshots; SIZE,
/// FORMAT and SHA256 (the version replica caches key on) follow. The image is LOCKED_USED_PERS meanwhile.</item>
/// <item>one.image.restore: the increments of each disk up to the one asked for are chained (each
/// increment re-based on the one before) and converted into one standalone qcow2, the new image's file.</item>
/// </list>
/// Restores from a datastore of another DS_MAD (dummy) are simulated: the images become READY with no file.
/// </summary>
public sealed partial class HostCopyStore(Func<Cloud> cloud, FsDatastoreDriver fs, ImageImporter importer, ILogger<HostCopyStore> logger)
    : BackgroundService, IStateObserver
{
    private readonly Channel<object> _work = Channel.CreateUnbounded<object>();

    [GeneratedRegex(@"^disk\.\d{1,4}\.\d{1,6}\.qcow2$")]
    private static partial Regex BackupFileName();

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
            if (e is BackupRestoreRequested or ImageDeleted) _work.Writer.TryWrite(e);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A write-back a restart cut off: the image goes back to USED_PERS; the host's epilog failed and is retried.
        await cloud().ReleaseInterruptedWriteBacksAsync(stoppingToken).ConfigureAwait(false);
        // Restores interrupted by a restart (or a change of leader) start again.
        foreach (var i in cloud().State.All<Image>(ObjectType.Image).Where(i => i.State == ImageState.LOCKED && i.Template.Contains("RESTORED_FROM")))
        {
            if (i.Template.Get("RESTORED_FROM") is { } b && i.Template.Get("RESTORED_INCREMENT") is { } inc && i.Template.Get("RESTORED_DISK_ID") is { } d
                && int.TryParse(b, out var backupId) && int.TryParse(inc, out var incId) && int.TryParse(d, out var diskId))
                _work.Writer.TryWrite(new BackupRestoreRequested(backupId, incId, diskId, i.Id));
        }
        await foreach (var item in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                switch (item)
                {
                    case BackupRestoreRequested r: await RestoreAsync(r, stoppingToken).ConfigureAwait(false); break;
                    case ImageDeleted d: DeleteBackupDirectory(d); break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "Backup store action {Item} failed", item); }
        }
    }

    private QemuImg Qemu => importer.Qemu ?? throw new StorageException("qemu-img is not available on the front-end.");

    /// <summary>Maps the upload endpoints; <paramref name="hostOf"/> names the joined host an agent request comes from (null: not an agent).</summary>
    public void Map(IEndpointRouteBuilder routes, Func<HttpContext, int?> hostOf)
    {
        routes.MapPut("/uploads/images/{id:int}", (HttpContext ctx, int id) => UploadImageAsync(ctx, id, hostOf(ctx)));
        routes.MapPut("/uploads/persistent/{id:int}", (HttpContext ctx, int id) => WriteBackAsync(ctx, id, hostOf(ctx)));
        routes.MapPut("/uploads/backups/{id:int}/{file}", (HttpContext ctx, int id, string file) => UploadBackupAsync(ctx, id, file, hostOf(ctx)));
    }

    /// <summary>The image waiting for a host's copy, if the caller is the agent of the host running the VM it comes from.</summary>
    private (Image Image, Datastore Ds)? Expecting(HttpContext ctx, int imageId, int? hostId, string vmKey, out IResult? refusal)
    {
        refusal = null;
        var state = cloud().State;
        if (hostId is null) { refusal = Results.StatusCode(StatusCodes.Status403Forbidden); return null; }
        if (state.Get<Image>(ObjectType.Image, imageId) is not { State: ImageState.LOCKED } image)
        {
            refusal = Results.Conflict($"Image {imageId} is not waiting for a copy.\n");
            return null;
        }
        var vmId = image.Template.Get(vmKey) is { } v && int.TryParse(v, out var n) ? n : -1;
        if (state.Get<Vm>(ObjectType.Vm, vmId)?.HostId != hostId)
        {
            refusal = Results.StatusCode(StatusCodes.Status403Forbidden);
            return null;
        }
        if (state.Get<Datastore>(ObjectType.Datastore, image.DatastoreId) is not { DsMad: FsDatastoreDriver.DsMad } ds)
        {
            refusal = Results.Conflict($"Datastore {image.DatastoreId} keeps no files (DS_MAD is not fs).\n");
            return null;
        }
        return (image, ds);
    }

    private async Task<IResult> UploadImageAsync(HttpContext ctx, int id, int? hostId)
    {
        if (Expecting(ctx, id, hostId, "SAVED_VM_ID", out var refusal) is not var (image, ds)) return refusal!;
        var dest = fs.ImageFile(ds, image);
        var upload = dest + ".upload";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            var written = await ReceiveAsync(ctx, upload, ds).ConfigureAwait(false);
            var r = await importer.ImportAsync(new ImportRequest { Source = upload, Destination = dest, Inspect = importer.Qemu is not null }, null, ctx.RequestAborted).ConfigureAwait(false);
            await cloud().ImageCopiedAsync(id, new ImageCopyOutcome
            {
                Ok = true, Source = r.Path, Format = r.Format, SizeMb = Math.Max(1, (r.VirtualSize + (1 << 20) - 1) >> 20),
                Attributes = new Dictionary<string, string> { ["SHA256"] = r.Sha256 },
            }, ctx.RequestAborted).ConfigureAwait(false);
            logger.LogInformation("Disk save-as: image {ImageId} received from host {HostId}: {Bytes} bytes", id, hostId, written);
            return Results.Ok();
        }
        catch (StorageException ex)
        {
            ImageImporter.TryDelete(dest);
            return Results.BadRequest(ex.Message + "\n");
        }
        finally
        {
            ImageImporter.TryDelete(upload);
        }
    }

    /// <summary>A persistent disk written back at the end of its VM's stay on the calling host.</summary>
    private async Task<IResult> WriteBackAsync(HttpContext ctx, int id, int? hostId)
    {
        if (hostId is null) return Results.StatusCode(StatusCodes.Status403Forbidden);
        var c = cloud();
        if (c.State.Get<Image>(ObjectType.Image, id) is { } known
            && c.State.Get<Datastore>(ObjectType.Datastore, known.DatastoreId) is not { DsMad: FsDatastoreDriver.DsMad })
        {
            // A simulated datastore (dummy) keeps no files: there is nothing to replace, as OpenNebula's dummy TM.
            logger.LogInformation("Persistent image {ImageId} is in datastore {DatastoreId}, which keeps no files: write-back from host {HostId} skipped", id, known.DatastoreId, hostId);
            return Results.NoContent();
        }
        Image image;
        try
        {
            image = await c.WriteBackBeginAsync(id, hostId.Value, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (CloudException ex)
        {
            return ex.Code switch
            {
                ErrorCode.Authorization => Results.Text(ex.Message + "\n", statusCode: StatusCodes.Status403Forbidden),
                ErrorCode.NoExists => Results.NotFound(ex.Message + "\n"),
                _ => Results.Conflict(ex.Message + "\n"),
            };
        }
        var ds = c.State.Get<Datastore>(ObjectType.Datastore, image.DatastoreId)!;
        var dest = image.Source.Length > 0 ? image.Source : fs.ImageFile(ds, image);
        var upload = dest + ".writeback";
        var outcome = new ImageCopyOutcome { Ok = false };
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            var written = await ReceiveAsync(ctx, upload, ds).ConfigureAwait(false);
            var r = await ImageImporter.ReplaceAsync(Qemu, upload, dest, $"The write-back of image {id}", ctx.RequestAborted).ConfigureAwait(false);
            outcome = new ImageCopyOutcome
            {
                Ok = true, Source = r.Path, Format = r.Format, SizeMb = Math.Max(1, (r.VirtualSize + (1 << 20) - 1) >> 20),
                Attributes = new Dictionary<string, string> { ["SHA256"] = r.Sha256 },
            };
            logger.LogInformation("Persistent image {ImageId} written back from host {HostId}: {Bytes} bytes, SHA256 {Sha256}", id, hostId, written, r.Sha256);
            return Results.Ok();
        }
        catch (Exception ex) when (ex is StorageException or IOException)
        {
            logger.LogWarning("Write-back of persistent image {ImageId} from host {HostId} refused: {Reason} (the image keeps its file)", id, hostId, ex.Message);
            return Results.BadRequest(ex.Message + "\n");
        }
        finally
        {
            ImageImporter.TryDelete(upload);
            await c.WriteBackDoneAsync(id, outcome, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<IResult> UploadBackupAsync(HttpContext ctx, int id, string file, int? hostId)
    {
        if (!BackupFileName().IsMatch(file)) return Results.BadRequest($"{file}: a backup file is named disk.N.INCREMENT.qcow2.\n");
        if (Expecting(ctx, id, hostId, "VM_ID", out var refusal) is not var (image, ds)) return refusal!;
        if (image.ImageType != ImageType.BACKUP) return Results.Conflict($"Image {id} is not a BACKUP image.\n");
        var dir = fs.ImageFile(ds, image);
        var dest = Path.Combine(dir, file);
        var part = dest + ".part";
        try
        {
            Directory.CreateDirectory(dir);
            var written = await ReceiveAsync(ctx, part, ds).ConfigureAwait(false);
            if (importer.Qemu is { } qemu)
            {
                var check = await qemu.CheckAsync(part, "qcow2", ctx.RequestAborted).ConfigureAwait(false);
                if (!check.Ok) throw new StorageException($"{file} is corrupt or truncated: {check.Detail}");
            }
            File.Move(part, dest, overwrite: true);
            if (image.Source != dir) await cloud().BackupSourceAsync(id, dir, ctx.RequestAborted).ConfigureAwait(false);
            logger.LogInformation("Backup: {File} of image {ImageId} received from host {HostId}: {Bytes} bytes", file, id, hostId, written);
            return Results.Ok();
        }
        catch (StorageException ex)
        {
            return Results.BadRequest(ex.Message + "\n");
        }
        finally
        {
            ImageImporter.TryDelete(part);
        }
    }

    /// <summary>The request body into <paramref name="path"/>, refusing more than the datastore has free.</summary>
    private static async Task<long> ReceiveAsync(HttpContext ctx, string path, Datastore ds)
    {
        long max = ds.TotalMb > 0 ? Math.Max(0, ds.FreeMb) << 20 : long.MaxValue;
        if (ctx.Request.ContentLength is long len && len > max)
            throw new StorageException($"Not enough space in datastore {ds.Id}: {len >> 20} MB needed, {ds.FreeMb} MB free.");
        long total = 0;
        var buffer = new byte[1 << 20];
        await using var dst = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            total += n;
            if (total > max) throw new StorageException($"Not enough space in datastore {ds.Id}: the upload is larger than the {ds.FreeMb} MB free.");
            await dst.WriteAsync(buffer.AsMemory(0, n), ctx.RequestAborted).ConfigureAwait(false);
        }
        return total;
    }

    /// <summary>Files of one disk of a BACKUP image from its full backup up to <paramref name="incrementId"/>, oldest first.</summary>
    public static List<string> Chain(Image backup, int diskId, int incrementId)
    {
        var files = new List<string>();
        foreach (var inc in backup.BackupIncrements)
        {
            if (inc.Type == "FULL") files.Clear();
            files.Add(Path.Combine(backup.Source, $"disk.{diskId}.{inc.Id}.qcow2"));
            if (inc.Id == incrementId) break;
        }
        return files;
    }

    private async Task RestoreAsync(BackupRestoreRequested r, CancellationToken ct)
    {
        var c = cloud();
        var state = c.State;
        if (state.Get<Image>(ObjectType.Image, r.ImageId) is not { State: ImageState.LOCKED } image) return;
        var backup = state.Get<Image>(ObjectType.Image, r.BackupImageId);
        var backupDs = backup is null ? null : state.Get<Datastore>(ObjectType.Datastore, backup.DatastoreId);
        var ds = state.Get<Datastore>(ObjectType.Datastore, image.DatastoreId);
        if (backup is null || ds is null || backupDs is null)
        {
            await c.ImageCopiedAsync(r.ImageId, new ImageCopyOutcome { Ok = false, Error = $"Backup image {r.BackupImageId} or its datastore is gone." }, ct).ConfigureAwait(false);
            return;
        }
        if (backupDs.DsMad != FsDatastoreDriver.DsMad || ds.DsMad != FsDatastoreDriver.DsMad)
        {
            // Simulated datastores (dummy): nothing to copy.
            await c.ImageCopiedAsync(r.ImageId, new ImageCopyOutcome { Ok = true, SizeMb = image.Size, Format = "qcow2" }, ct).ConfigureAwait(false);
            return;
        }
        ImageCopyOutcome outcome;
        var dest = fs.ImageFile(ds, image);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            await BackupChain.MergeAsync(Qemu, Chain(backup, r.DiskId, r.IncrementId), dest, ct).ConfigureAwait(false);
            var (format, virtualSize) = await ImageImporter.InspectAsync(Qemu, dest, $"Restored disk {r.DiskId}", ct).ConfigureAwait(false);
            var (sha, _) = await ImageImporter.DigestsAsync(dest, ct).ConfigureAwait(false);
            outcome = new ImageCopyOutcome
            {
                Ok = true, Source = dest, Format = format, SizeMb = Math.Max(1, (virtualSize + (1 << 20) - 1) >> 20),
                Attributes = new Dictionary<string, string> { ["SHA256"] = sha },
            };
            logger.LogInformation("Restored disk {DiskId} of backup {BackupId} (increment {Inc}) into image {ImageId}", r.DiskId, r.BackupImageId, r.IncrementId, r.ImageId);
        }
        catch (Exception ex) when (ex is StorageException or IOException)
        {
            ImageImporter.TryDelete(dest);
            outcome = new ImageCopyOutcome { Ok = false, Error = $"Restore of disk {r.DiskId} from backup {r.BackupImageId}: {ex.Message}" };
        }
        await c.ImageCopiedAsync(r.ImageId, outcome, ct).ConfigureAwait(false);
    }

    /// <summary>A deleted BACKUP image's directory goes with it (only inside its datastore's directory).</summary>
    private void DeleteBackupDirectory(ImageDeleted d)
    {
        if (d.Source.Length == 0 || !Directory.Exists(d.Source)) return;
        if (cloud().State.Get<Datastore>(ObjectType.Datastore, d.DatastoreId) is not { DsType: DatastoreType.BACKUP_DS } ds) return;
        var dir = fs.DirectoryOf(ds);
        var full = Path.GetFullPath(d.Source);
        if (full.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal)) Directory.Delete(full, recursive: true);
    }
}
