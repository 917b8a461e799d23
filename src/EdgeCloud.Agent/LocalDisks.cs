using EdgeCloud.Core.Drivers;
using EdgeCloud.Storage;

namespace EdgeCloud.Agent;

/// <summary>
/// The storage step of the agent: each VM disk made in the VM's directory by the storage library's
/// <see cref="VmDiskPreparer"/> — a qcow2 overlay on the base image held in this host's replica cache
/// (tier 3: an image crosses the link from the front-end once, then every VM of it starts from local
/// disk), a full copy for persistent disks, a blank volatile disk. Idempotent.
/// </summary>
public sealed class LocalDisks(VmDiskPreparer preparer, ReplicaCache cache)
{
    public ReplicaCache Cache => cache;

    /// <summary>Makes the disk if needed; returns the spec with the format the disk really has (an overlay is qcow2).</summary>
    public async Task<DiskSpec> PrepareAsync(VmSpec spec, DiskSpec disk, CancellationToken ct)
    {
        Directory.CreateDirectory(spec.VmDir);
        try
        {
            var prepared = await preparer.PrepareAsync(spec.VmId, disk, ct).ConfigureAwait(false);
            return disk with { Format = prepared.Format };
        }
        catch (StorageException ex)
        {
            throw new HostDriverException(ex.Message, ex);
        }
    }

    public async Task RemoveAsync(VmSpec spec, DiskSpec disk, CancellationToken ct) =>
        await preparer.RemoveAsync(spec.VmId, disk, ct).ConfigureAwait(false);

    /// <summary>
    /// The disks of an agent: a replica cache in DATA/cache (at most <paramref name="cacheBytes"/>), fed from
    /// the front-end's /images endpoint over the agent's mutual TLS.
    /// </summary>
    public static LocalDisks ForAgent(string dataDir, Uri frontend, HttpMessageHandler handler, long cacheBytes)
    {
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var qemu = new QemuImg();
        var cache = new ReplicaCache(Path.Combine(dataDir, "cache"), cacheBytes, new ImageImporter(qemu, http));
        return new LocalDisks(new VmDiskPreparer(cache, qemu, VmDiskPreparer.FrontendResolver(frontend, "", http)), cache);
    }
}
