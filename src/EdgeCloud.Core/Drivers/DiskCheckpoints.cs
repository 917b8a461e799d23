namespace EdgeCloud.Core.Drivers;

/// <summary>
/// The hypervisor side of periodic VM checkpoints (the host agent's <c>VmCheckpointer</c> drives it):
/// freeze a running VM's disks by switching each to a new, empty qcow2 layer on top of the current one
/// (a crash-consistent external disk snapshot: the frozen layer then holds exactly the blocks written
/// since it became the active layer), and merge frozen layers back down once they are shipped.
/// </summary>
public interface IDiskCheckpoints
{
    /// <summary>
    /// Atomically (all disks at the same instant) makes <c>NewActive</c> the running domain's active layer of
    /// each listed disk target; every other disk of the domain is left as it is.
    /// </summary>
    Task FreezeAsync(string domain, IReadOnlyList<(string Target, string NewActive)> disks, CancellationToken ct);

    /// <summary>Merges the non-active layer <paramref name="top"/> into <paramref name="baseFile"/> below it (the domain keeps running on its active layer).</summary>
    Task CommitAsync(string domain, string target, string top, string baseFile, CancellationToken ct);

    /// <summary>Merges the active layer (and any layer between) into <paramref name="baseFile"/> and makes it the active layer again.</summary>
    Task CommitActiveAsync(string domain, string target, string baseFile, CancellationToken ct);

    /// <summary>The file the running domain writes for the disk target now (empty when the domain or disk is not there).</summary>
    Task<string> ActiveFileAsync(string domain, string target, CancellationToken ct);
}
