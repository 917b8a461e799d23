using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>
/// The disk actions on this host: disk snapshots (qcow2 internal snapshots "snap-ID" in the VM's disk file),
/// disk resize, disk save-as and backups. A running VM's disks are changed through the hypervisor
/// (<see cref="IHypervisorDisks"/>: live snapshot, blockresize, backup job); a VM that is off gets qemu-img
/// on the files. Save-as and backup files are uploaded to the front-end (PUT on its agents' endpoint, with
/// this agent's certificate) and deleted here afterwards.
/// </summary>
public sealed class AgentDiskActions(IHypervisor hypervisor, LocalDisks disks, ILogger logger)
{
    public static bool Handles(DriverOp op) => op is DriverOp.DiskSnapshotCreate or DriverOp.DiskSnapshotRevert or DriverOp.DiskSnapshotDelete
        or DriverOp.DiskResize or DriverOp.DiskSaveAs or DriverOp.Backup or DriverOp.BackupCancel;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private QemuImg Qemu => disks.Qemu;

    /// <summary>Runs one disk action; returns the JSON data to report (empty when none).</summary>
    public async Task<string> RunAsync(DriverOp op, VmSpec spec, string argument, CancellationToken ct)
    {
        var domain = spec.DomainName;
        var live = hypervisor as IHypervisorDisks;
        var running = live is not null && await IsRunningAsync(domain, ct).ConfigureAwait(false);
        try
        {
            switch (op)
            {
                case DriverOp.DiskSnapshotCreate:
                {
                    var (disk, name) = DiskAndSnapshot(spec, argument);
                    if (running) await live!.DiskSnapshotCreateAsync(domain, disk, name, ct).ConfigureAwait(false);
                    else if (!(await Qemu.SnapshotListAsync(disk.Path, ct).ConfigureAwait(false)).Any(s => s.Name == name))
                        await Qemu.SnapshotCreateAsync(disk.Path, name, ct).ConfigureAwait(false);
                    return "";
                }
                case DriverOp.DiskSnapshotRevert:
                {
                    var (disk, name) = DiskAndSnapshot(spec, argument);
                    if (running) throw new HostDriverException($"Disk snapshots are reverted with the VM powered off ({domain} is running).");
                    // qemu does not apply a snapshot under dirty bitmaps, and after a revert they would not tell
                    // what changed anyway: the incremental backup chain ends here (the front-end starts a new one).
                    foreach (var bitmap in (await Qemu.InfoAsync(disk.Path, null, ct).ConfigureAwait(false)).Bitmaps)
                        await Qemu.BitmapRemoveAsync(disk.Path, bitmap, ct).ConfigureAwait(false);
                    await Qemu.SnapshotApplyAsync(disk.Path, name, ct).ConfigureAwait(false);
                    return "";
                }
                case DriverOp.DiskSnapshotDelete:
                {
                    var (disk, name) = DiskAndSnapshot(spec, argument);
                    if (running) await live!.DiskSnapshotDeleteAsync(domain, disk, name, ct).ConfigureAwait(false);
                    else if ((await Qemu.SnapshotListAsync(disk.Path, ct).ConfigureAwait(false)).Any(s => s.Name == name))
                        await Qemu.SnapshotDeleteAsync(disk.Path, name, ct).ConfigureAwait(false);
                    return "";
                }
                case DriverOp.DiskResize:
                {
                    var a = Ints(argument);
                    var disk = Disk(spec, a[0]);
                    var bytes = (long)a[1] << 20;
                    if (running) await live!.DiskResizeAsync(domain, disk, bytes, ct).ConfigureAwait(false);
                    else
                    {
                        var info = await Qemu.InfoAsync(disk.Path, null, ct).ConfigureAwait(false);
                        if (info.VirtualSize < bytes) await Qemu.ResizeAsync(disk.Path, info.Format, bytes, ct: ct).ConfigureAwait(false);
                    }
                    return JsonSerializer.Serialize(new DiskSizeResult(disk.DiskId, bytes), Json);
                }
                case DriverOp.DiskSaveAs:
                    await SaveAsAsync(spec, argument, running ? live : null, ct).ConfigureAwait(false);
                    return "";
                case DriverOp.Backup:
                    return JsonSerializer.Serialize(await BackupAsync(spec, JsonSerializer.Deserialize<BackupOrder>(argument, Json)!, running ? live : null, ct).ConfigureAwait(false), Json);
                case DriverOp.BackupCancel:
                    if (live is not null) await live.BackupAbortAsync(domain, ct).ConfigureAwait(false);
                    return "";
                default:
                    throw new HostDriverException($"{op} is not a disk action.");
            }
        }
        catch (StorageException ex)
        {
            throw new HostDriverException(ex.Message, ex);
        }
    }

    private static int[] Ints(string argument) =>
        argument.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();

    private static DiskSpec Disk(VmSpec spec, int diskId) =>
        spec.Disks.FirstOrDefault(d => d.DiskId == diskId) ?? throw new ArgumentException($"Disk {diskId} is not in the VM's spec.");

    /// <summary>The qcow2 internal snapshot name of disk snapshot ID.</summary>
    public static string SnapshotName(int id) => $"snap-{id.ToString(CultureInfo.InvariantCulture)}";

    private static (DiskSpec Disk, string Name) DiskAndSnapshot(VmSpec spec, string argument)
    {
        var a = Ints(argument);
        return (Disk(spec, a[0]), SnapshotName(a[1]));
    }

    private async Task<bool> IsRunningAsync(string domain, CancellationToken ct) =>
        (await hypervisor.ListAsync(ct).ConfigureAwait(false)).Any(d => d.Name == domain && d.State is DomainState.Running or DomainState.Paused);

    /// <summary>
    /// "DISK SNAP IMAGE": a standalone qcow2 of the disk (a running VM's through a backup job, so the copy is one
    /// point in time) or of its snapshot, uploaded as the new image's file.
    /// </summary>
    private async Task SaveAsAsync(VmSpec spec, string argument, IHypervisorDisks? live, CancellationToken ct)
    {
        var a = Ints(argument);
        var disk = Disk(spec, a[0]);
        var dir = Path.Combine(spec.VmDir, "saveas");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"image.{a[2].ToString(CultureInfo.InvariantCulture)}.qcow2");
        try
        {
            if (a[1] >= 0) await Qemu.CopyOutAsync(disk.Path, SnapshotName(a[1]), file, forceShare: live is not null, ct).ConfigureAwait(false);
            else if (live is not null) await live.BackupAsync(spec.DomainName, [(disk, file)], "", "", ct).ConfigureAwait(false);
            else await Qemu.CopyOutAsync(disk.Path, null, file, ct: ct).ConfigureAwait(false);
            await UploadAsync($"/uploads/images/{a[2].ToString(CultureInfo.InvariantCulture)}", file, ct).ConfigureAwait(false);
        }
        finally
        {
            ImageImporter.TryDelete(file);
        }
    }

    /// <summary>
    /// Every disk of the order into disk.N.INC.qcow2, uploaded to the BACKUP image. A running VM: one backup job
    /// for all disks (incremental from the order's checkpoint when the hypervisor still has it, else full),
    /// starting a new checkpoint. A VM that is off: full copies with qemu-img, and no checkpoint (the next
    /// backup is full again).
    /// </summary>
    private async Task<BackupResult> BackupAsync(VmSpec spec, BackupOrder order, IHypervisorDisks? live, CancellationToken ct)
    {
        var dir = Path.Combine(spec.VmDir, "backup");
        Directory.CreateDirectory(dir);
        var files = order.DiskIds.Select(id => (Disk: Disk(spec, id), Target: Path.Combine(dir, $"disk.{id.ToString(CultureInfo.InvariantCulture)}.{order.IncrementId.ToString(CultureInfo.InvariantCulture)}.qcow2"))).ToList();
        var type = "FULL";
        var checkpoint = "";
        try
        {
            if (live is not null)
            {
                var incremental = false;
                if (order.Incremental && order.SinceCheckpoint.Length > 0)
                {
                    incremental = await live.BackupAsync(spec.DomainName, files, order.SinceCheckpoint, order.NewCheckpoint, ct).ConfigureAwait(false);
                    if (!incremental) logger.LogInformation("VM {VmId}: checkpoint {Checkpoint} is gone (the VM was restarted?): taking a full backup", spec.VmId, order.SinceCheckpoint);
                }
                if (!incremental) await live.BackupAsync(spec.DomainName, files, "", order.Incremental ? order.NewCheckpoint : "", ct).ConfigureAwait(false);
                else await live.CheckpointDeleteAsync(spec.DomainName, order.SinceCheckpoint, ct).ConfigureAwait(false);
                type = incremental ? "INCREMENT" : "FULL";
                checkpoint = order.Incremental ? order.NewCheckpoint : "";
            }
            else
            {
                foreach (var (disk, target) in files)
                {
                    ImageImporter.TryDelete(target);
                    await Qemu.CopyOutAsync(disk.Path, null, target, ct: ct).ConfigureAwait(false);
                }
            }
            var result = new List<BackupFile>();
            foreach (var (disk, target) in files)
            {
                var info = await Qemu.InfoAsync(target, "qcow2", ct).ConfigureAwait(false);
                // libvirt gives an incremental target the VM's disk as backing file (reads of unchanged clusters
                // fall through to it): the increment must stand alone, so the reference goes (header only).
                if (info.BackingFile is { Length: > 0 }) await Qemu.RebaseAsync(target, "", null, unsafeRebase: true, ct).ConfigureAwait(false);
                var bytes = new FileInfo(target).Length;
                await UploadAsync($"/uploads/backups/{order.ImageId.ToString(CultureInfo.InvariantCulture)}/{Path.GetFileName(target)}", target, ct).ConfigureAwait(false);
                result.Add(new BackupFile(disk.DiskId, Path.GetFileName(target), bytes, info.VirtualSize));
            }
            logger.LogInformation("VM {VmId}: {Type} backup {ImageId}/{Inc}: {Bytes} bytes", spec.VmId, type, order.ImageId, order.IncrementId, result.Sum(f => f.Bytes));
            return new BackupResult { Type = type, Checkpoint = checkpoint, Files = result };
        }
        catch when (live is not null && order.NewCheckpoint.Length > 0)
        {
            // A failed backup must not leave a checkpoint the front-end does not know about.
            try { await live.CheckpointDeleteAsync(spec.DomainName, order.NewCheckpoint, CancellationToken.None).ConfigureAwait(false); }
            catch (HostDriverException) { }
            throw;
        }
        finally
        {
            foreach (var (_, target) in files) ImageImporter.TryDelete(target);
        }
    }

    /// <summary>
    /// The VM's persistent image disks, each uploaded as is (with its internal snapshots) to
    /// <c>PUT /uploads/persistent/IMAGE</c>, where the front-end makes it the image's file. The domain is gone
    /// (the epilog destroyed it), so nothing writes the file meanwhile. Disks already gone (a retried epilog that
    /// had deleted them) are skipped.
    /// </summary>
    public async Task WriteBackAsync(VmSpec spec, CancellationToken ct)
    {
        foreach (var disk in spec.Disks.Where(d => d.Persistent && d.ImageId >= 0 && d.Source.Length > 0))
        {
            if (!File.Exists(disk.Path))
            {
                logger.LogWarning("VM {VmId}: persistent disk {DiskId} (image {ImageId}) is not on this host: nothing to write back", spec.VmId, disk.DiskId, disk.ImageId);
                continue;
            }
            var started = DateTimeOffset.UtcNow;
            try
            {
                await UploadAsync($"/uploads/persistent/{disk.ImageId.ToString(CultureInfo.InvariantCulture)}", disk.Path, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new HostDriverException($"Write-back of disk {disk.DiskId} to image {disk.ImageId} failed: {ex.Message}", ex);
            }
            catch (HostDriverException ex)
            {
                throw new HostDriverException($"Write-back of disk {disk.DiskId} to image {disk.ImageId} failed: {ex.Message}", ex);
            }
            logger.LogInformation("VM {VmId}: persistent disk {DiskId} written back to image {ImageId} ({Bytes} bytes, {Ms} ms)", spec.VmId, disk.DiskId, disk.ImageId,
                new FileInfo(disk.Path).Length, (DateTimeOffset.UtcNow - started).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
        }
    }

    private async Task UploadAsync(string path, string file, CancellationToken ct)
    {
        if (disks.Http is not { } http || disks.Frontend is not { } frontend)
            throw new HostDriverException("This agent has no front-end connection to upload disk copies to.");
        await using var body = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var content = new StreamContent(body, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = body.Length;
        using var resp = await http.PutAsync(new Uri(frontend, path), content, ct).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode)
            throw new HostDriverException($"The front-end refused {Path.GetFileName(file)} (HTTP {(int)resp.StatusCode}): {(await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim()}");
    }
}
