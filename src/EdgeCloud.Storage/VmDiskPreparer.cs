using System.Globalization;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Storage;

/// <summary>How a VM disk was made.</summary>
public enum PreparedDiskKind
{
    /// <summary>A qcow2 overlay on the cached base image (non-persistent image disk).</summary>
    Overlay,
    /// <summary>A full, independent copy of the image (persistent image disk).</summary>
    Copy,
    /// <summary>A blank volatile disk.</summary>
    Blank,
}

/// <summary>A VM disk ready for the hypervisor: its path and format (an overlay is always qcow2).</summary>
public sealed record PreparedDisk(string Path, string Format, PreparedDiskKind Kind, string? BasePath, bool Created);

/// <summary>Where a disk's image comes from: the cache key and the upstream source.</summary>
public delegate Task<(ImageKey Key, CacheSource Source)> DiskSourceResolver(DiskSpec disk, CancellationToken ct);

/// <summary>
/// Makes each VM disk in the VM directory from its <see cref="DiskSpec"/>: a non-persistent image disk is
/// a qcow2 overlay on the base image in the <see cref="ReplicaCache"/> (pinned as "vmID-diskN" so it is
/// never evicted under the VM), a persistent one is a full copy, a volatile disk is created blank. For a
/// hypervisor that needs one flat format (lxc: raw) every image disk is a full copy in that format.
/// Idempotent: a disk that already exists and opens is kept as it is, so a retried deploy does not
/// throw away what the VM wrote. Disks are written under a temporary name and renamed when complete.
/// </summary>
/// <remarks>
/// <code>
/// var preparer = new VmDiskPreparer(cache, qemu, VmDiskPreparer.FrontendResolver(new Uri("http://fe:2633/"), "Bearer oneadmin:...", http));
/// foreach (var d in spec.Disks) await preparer.PrepareAsync(spec.VmId, d, ct);   // before define/start
/// foreach (var d in spec.Disks) await preparer.RemoveAsync(spec.VmId, d, ct);    // after the VM is gone
/// </code>
/// </remarks>
public sealed class VmDiskPreparer(ReplicaCache cache, QemuImg qemu, DiskSourceResolver resolve)
{
    /// <summary>The pin name of a VM disk in the cache.</summary>
    public static string Holder(int vmId, int diskId) => $"vm{vmId.ToString(CultureInfo.InvariantCulture)}-disk{diskId.ToString(CultureInfo.InvariantCulture)}";

    /// <param name="flatFormat">
    /// When set (a hypervisor that cannot run overlays, e.g. lxc needs "raw"), a non-persistent image disk is a
    /// full copy in this format instead of an overlay, and a persistent one is converted to it.
    /// </param>
    public async Task<PreparedDisk> PrepareAsync(int vmId, DiskSpec disk, CancellationToken ct = default, string? flatFormat = null)
    {
        var target = Path.GetFullPath(disk.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var blank = disk.Source.Length == 0;
        if (blank && disk.SizeMb <= 0)
            throw new StorageException($"Disk {disk.DiskId} of VM {vmId} has neither an image SOURCE nor a SIZE.");

        if (File.Exists(target) && await ExistingAsync(target, ct).ConfigureAwait(false) is { } existing)
        {
            var kind = blank ? PreparedDiskKind.Blank : existing.BackingFile is { Length: > 0 } ? PreparedDiskKind.Overlay : PreparedDiskKind.Copy;
            return new PreparedDisk(target, existing.Format, kind, existing.BackingFile, Created: false);
        }

        var tmp = target + ".tmp";
        ImageImporter.TryDelete(tmp);
        try
        {
            if (blank)
            {
                var format = disk.Format.Length > 0 ? disk.Format : "raw";
                await qemu.CreateAsync(tmp, format, disk.SizeMb << 20, ct).ConfigureAwait(false);
                File.Move(tmp, target);
                return new PreparedDisk(target, format, PreparedDiskKind.Blank, null, Created: true);
            }

            var (key, source) = await resolve(disk, ct).ConfigureAwait(false);
            using var lease = await cache.GetAsync(key, source, ct).ConfigureAwait(false);
            cache.Pin(key, Holder(vmId, disk.DiskId)); // before the disk exists: a crash in between leaves a pin, never an orphan overlay
            if (disk.Persistent || flatFormat is not null)
            {
                var format = flatFormat ?? (disk.Format.Length > 0 ? disk.Format : lease.Format);
                if (format == lease.Format) await CopyAsync(lease.Path, tmp, ct).ConfigureAwait(false);
                else await qemu.ConvertAsync(lease.Path, lease.Format, tmp, format, ct).ConfigureAwait(false);
                File.Move(tmp, target);
                // A full copy does not need the base any more.
                cache.Unpin(Holder(vmId, disk.DiskId));
                return new PreparedDisk(target, format, PreparedDiskKind.Copy, null, Created: true);
            }
            await qemu.CreateOverlayAsync(tmp, lease.Path, lease.Format, ct).ConfigureAwait(false);
            File.Move(tmp, target);
            return new PreparedDisk(target, "qcow2", PreparedDiskKind.Overlay, lease.Path, Created: true);
        }
        catch
        {
            ImageImporter.TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Deletes the VM's disk file and lets the cache evict its base when nothing else uses it.</summary>
    public Task RemoveAsync(int vmId, DiskSpec disk, CancellationToken ct = default)
    {
        ImageImporter.TryDelete(disk.Path);
        ImageImporter.TryDelete(disk.Path + ".tmp");
        cache.Unpin(Holder(vmId, disk.DiskId));
        return Task.CompletedTask;
    }

    /// <summary>The info of a disk file already in place, or null when it does not open (it is then made again).</summary>
    private async Task<QemuImageInfo?> ExistingAsync(string path, CancellationToken ct)
    {
        try
        {
            var info = await qemu.InfoAsync(path, null, ct).ConfigureAwait(false);
            if (info.BackingFile is { Length: > 0 } b && !File.Exists(b)) return null;
            return info;
        }
        catch (StorageException)
        {
            return null;
        }
    }

    private static async Task CopyAsync(string from, string to, CancellationToken ct)
    {
        var src = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using (src.ConfigureAwait(false))
        {
            var dst = new FileStream(to, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await using (dst.ConfigureAwait(false))
                await src.CopyToAsync(dst, 1 << 20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Resolves image disks against a front-end's image endpoint: HEAD /images/ID gives the image's SHA-256
    /// (the cache version) and length; the cache then GETs the same URL.
    /// </summary>
    public static DiskSourceResolver FrontendResolver(Uri frontend, string authorization, HttpClient http) => async (disk, ct) =>
    {
        if (disk.ImageId < 0) throw new StorageException($"Disk {disk.DiskId} has a SOURCE but no IMAGE_ID to fetch it by.");
        var url = new Uri(frontend, $"/images/{disk.ImageId.ToString(CultureInfo.InvariantCulture)}");
        using var req = new HttpRequestMessage(HttpMethod.Head, url);
        req.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var resp = await http.SendAsync(req, ct).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode)
            throw new StorageException($"The front-end answered HTTP {(int)resp.StatusCode} for {url}: cannot fetch image {disk.ImageId}.");
        var sha = resp.Headers.TryGetValues(ImageHeaders.Sha256, out var v) ? v.First() : null;
        if (string.IsNullOrEmpty(sha)) throw new StorageException($"{url} did not send the {ImageHeaders.Sha256} header.");
        return (new ImageKey(disk.ImageId, sha), new CacheSource
        {
            Location = url.ToString(), Sha256 = sha, Size = resp.Content.Headers.ContentLength, Authorization = authorization,
        });
    };

    /// <summary>Resolves image disks whose SOURCE is a path this machine can read (shared storage, tests): version = length + modification time.</summary>
    public static DiskSourceResolver LocalResolver() => (disk, ct) =>
    {
        var f = new FileInfo(ImageImporter.LocalPath(disk.Source));
        if (!f.Exists) throw new StorageException($"Image {disk.ImageId} source {disk.Source} does not exist.");
        var version = $"{f.Length}-{f.LastWriteTimeUtc.Ticks}";
        return Task.FromResult((new ImageKey(disk.ImageId, version), new CacheSource { Location = f.FullName, Size = f.Length }));
    };
}

/// <summary>HTTP headers of the front-end's image endpoint.</summary>
public static class ImageHeaders
{
    /// <summary>SHA-256 (hex) of the whole image file.</summary>
    public const string Sha256 = "X-Image-Sha256";
    /// <summary>The image's format (qcow2, raw...).</summary>
    public const string Format = "X-Image-Format";
}
