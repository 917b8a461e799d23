using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Agent;

/// <summary>
/// Makes a VM's disks in its directory from their DiskSpec: a qcow2 overlay on the base image
/// (non-persistent), a full copy (persistent), a blank volume (volatile). Idempotent: a disk that is
/// already there is left alone (a repeated prolog must not wipe a VM's data).
/// </summary>
public sealed class LocalDisks(IImageSource images)
{
    public async Task PrepareAsync(VmSpec spec, DiskSpec disk, CancellationToken ct)
    {
        Directory.CreateDirectory(spec.VmDir);
        if (File.Exists(disk.Path)) return;
        var tmp = disk.Path + ".part";
        if (disk.Source.Length > 0)
        {
            var baseImage = await images.GetAsync(disk, ct).ConfigureAwait(false);
            if (disk.Persistent || disk.Device == "cdrom" || disk.Format == "raw")
            {
                // Persistent disks and raw images: the VM works on its own copy.
                await using (var src = File.OpenRead(baseImage))
                await using (var dst = File.Create(tmp))
                    await src.CopyToAsync(dst, ct).ConfigureAwait(false);
            }
            else
            {
                await ProcessRunner.RunAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", disk.Format, "-b", Path.GetFullPath(baseImage), tmp], TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
            }
        }
        else if (disk.SizeMb > 0)
        {
            await ProcessRunner.RunAsync("qemu-img", ["create", "-q", "-f", disk.Format == "raw" ? "raw" : "qcow2", tmp, $"{disk.SizeMb}M"], TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        }
        else
        {
            throw new HostDriverException($"Disk {disk.DiskId} has neither an image SOURCE nor a SIZE: nothing to create.");
        }
        File.Move(tmp, disk.Path, overwrite: true);
    }
}

/// <summary>Where base images come from on this host: a local file, or the front-end (through the cluster's replica cache).</summary>
public interface IImageSource
{
    /// <summary>A local path of the disk's base image, fetched first if needed.</summary>
    Task<string> GetAsync(DiskSpec disk, CancellationToken ct);
}

/// <summary>Images reachable as files on this host (a front-end and host on one machine, or shared storage).</summary>
public sealed class LocalImageSource : IImageSource
{
    public Task<string> GetAsync(DiskSpec disk, CancellationToken ct) =>
        File.Exists(disk.Source)
            ? Task.FromResult(disk.Source)
            : throw new HostDriverException($"The image of disk {disk.DiskId} ({disk.Source}) is not reachable from this host.");
}
