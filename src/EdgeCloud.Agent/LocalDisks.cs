using EdgeCloud.Core.Drivers;
using EdgeCloud.Storage;

namespace EdgeCloud.Agent;

/// <summary>
/// The storage step of the agent: each VM disk made in the VM's directory by the storage library's
/// <see cref="VmDiskPreparer"/> — a qcow2 overlay on the base image held in this host's replica cache
/// (tier 3: an image crosses the link from the front-end once, then every VM of it starts from local
/// disk), a full copy for persistent disks, a blank volatile disk. Idempotent.
/// </summary>
public sealed class LocalDisks(VmDiskPreparer preparer, ReplicaCache cache, QemuImg qemu, DiskSourceResolver resolve, HttpClient? http = null, Uri? frontend = null)
{
    /// <summary>The front-end's agents' endpoint (images down, disk copies and backups up), when known.</summary>
    public Uri? Frontend => frontend;

    public QemuImg Qemu => qemu;

    /// <summary>The agent's HTTPS client (its certificate, trusting its front-end's CA): front-end, replica and peers.</summary>
    public HttpClient? Http => http;

    /// <summary>The preparer for a VM: base images from the cluster's replica host when the spec names one, else from the front-end.</summary>
    private VmDiskPreparer For(VmSpec spec) =>
        spec.ImageReplica.Length > 0 && http is not null
            ? new VmDiskPreparer(cache, qemu, VmDiskPreparer.FrontendResolver(new Uri(spec.ImageReplica), "", http))
            : preparer;

    /// <summary>
    /// This host as its cluster's replica: a base image from the cache, fetched from the front-end the
    /// first time any host of the cluster asks (so an image crosses to the cluster once).
    /// </summary>
    public async Task<CacheLease> ServeAsync(int imageId, CancellationToken ct)
    {
        var (key, source) = await resolve(new DiskSpec { DiskId = 0, Path = "", Target = "", ImageId = imageId, Source = "image" }, ct).ConfigureAwait(false);
        return await cache.GetAsync(key, source, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A disk that arrived from another host (migration): if it is an overlay, its base image is made
    /// present in this host's cache (pinned for the VM) and the overlay is re-pointed at it.
    /// </summary>
    public async Task AdoptAsync(VmSpec spec, DiskSpec disk, CancellationToken ct)
    {
        try
        {
            var info = await qemu.InfoAsync(disk.Path, null, ct).ConfigureAwait(false);
            if (info.BackingFile is not { Length: > 0 }) return;
            var (key, source) = await resolve(disk, ct).ConfigureAwait(false);
            using var lease = await cache.GetAsync(key, source, ct).ConfigureAwait(false);
            cache.Pin(key, VmDiskPreparer.Holder(spec.VmId, disk.DiskId));
            await qemu.RebaseAsync(disk.Path, lease.Path, lease.Format, unsafeRebase: true, ct).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            throw new HostDriverException($"Migration: disk {disk.DiskId}: {ex.Message}", ex);
        }
    }

    public ReplicaCache Cache => cache;

    /// <summary>
    /// Makes the disk if needed; returns the spec with the format the disk really has (an overlay is qcow2).
    /// With <paramref name="requiredFormat"/> (the hypervisor's <see cref="IHypervisor.RequiredDiskFormat"/>)
    /// every image disk is a full copy in that format instead of an overlay.
    /// </summary>
    public async Task<DiskSpec> PrepareAsync(VmSpec spec, DiskSpec disk, string? requiredFormat, CancellationToken ct)
    {
        Directory.CreateDirectory(spec.VmDir);
        try
        {
            var prepared = await For(spec).PrepareAsync(spec.VmId, disk, ct, requiredFormat).ConfigureAwait(false);
            return disk with { Format = prepared.Format };
        }
        catch (StorageException ex)
        {
            throw new HostDriverException(ex.Message, ex);
        }
    }

    public async Task RemoveAsync(VmSpec spec, DiskSpec disk, CancellationToken ct) =>
        await For(spec).RemoveAsync(spec.VmId, disk, ct).ConfigureAwait(false);

    /// <summary>
    /// The disks of an agent: a replica cache in DATA/cache (at most <paramref name="cacheBytes"/>), fed from
    /// the front-end's /images endpoint over the agent's mutual TLS.
    /// </summary>
    public static LocalDisks ForAgent(string dataDir, Uri frontend, HttpMessageHandler handler, long cacheBytes)
    {
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var qemu = new QemuImg();
        var cache = new ReplicaCache(Path.Combine(dataDir, "cache"), cacheBytes, new ImageImporter(qemu, http));
        var resolve = VmDiskPreparer.FrontendResolver(frontend, "", http);
        return new LocalDisks(new VmDiskPreparer(cache, qemu, resolve), cache, qemu, resolve, http, frontend);
    }
}
