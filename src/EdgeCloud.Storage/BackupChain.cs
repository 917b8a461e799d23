namespace EdgeCloud.Storage;

/// <summary>
/// Backups as qcow2 chains: a full backup and its increments, each increment a standalone qcow2 holding only
/// the clusters that changed since the one before (the other clusters unallocated). A restore merges them.
/// </summary>
public static class BackupChain
{
    /// <summary>
    /// Merges <paramref name="chain"/> (the full backup first, then its increments, oldest first) into one
    /// standalone qcow2 at <paramref name="destination"/>: the increments are copied aside, each re-based
    /// (header only) on the one before, and the top converted. The backup files are never changed.
    /// </summary>
    public static async Task MergeAsync(QemuImg qemu, IReadOnlyList<string> chain, string destination, CancellationToken ct = default)
    {
        if (chain.Count == 0) throw new StorageException("A backup chain needs at least its full backup.");
        var work = destination + ".merge";
        Directory.CreateDirectory(work);
        try
        {
            string? previous = null;
            for (var i = 0; i < chain.Count; i++)
            {
                if (!File.Exists(chain[i])) throw new StorageException($"Backup file {Path.GetFileName(chain[i])} is missing.");
                var info = await qemu.InfoAsync(chain[i], "qcow2", ct).ConfigureAwait(false);
                if (info.BackingFile is { Length: > 0 }) throw new StorageException($"Backup file {Path.GetFileName(chain[i])} has a backing file: it is not a backup increment.");
                var layer = chain[i];
                if (i > 0)
                {
                    layer = Path.Combine(work, $"{i}.qcow2");
                    File.Copy(chain[i], layer, overwrite: true);
                    await qemu.RebaseAsync(layer, previous!, "qcow2", unsafeRebase: true, ct).ConfigureAwait(false);
                }
                previous = layer;
            }
            var part = destination + ".part";
            await qemu.ConvertAsync(previous!, "qcow2", part, "qcow2", ct).ConfigureAwait(false);
            File.Move(part, destination, overwrite: true);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }
}
