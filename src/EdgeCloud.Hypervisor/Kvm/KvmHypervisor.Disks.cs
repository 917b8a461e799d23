using System.Security;
using System.Text;
using System.Text.Json;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// Disk operations on running domains: live internal qcow2 snapshots (QMP blockdev-snapshot-internal-sync
/// on the disk's format node, which libvirt has no API for), live grow (virsh blockresize), and backups
/// (virsh backup-begin in push mode, with checkpoints — persistent dirty bitmaps in the qcow2 — for
/// incremental copies).
/// </summary>
public sealed partial class KvmHypervisor : IHypervisorDisks
{
    public async Task DiskSnapshotCreateAsync(string domain, DiskSpec disk, string name, CancellationToken ct)
    {
        var node = await FormatNodeAsync(domain, disk.Path, ct);
        await QmpAsync(domain, "blockdev-snapshot-internal-sync", new { device = node, name }, ct);
    }

    public async Task DiskSnapshotDeleteAsync(string domain, DiskSpec disk, string name, CancellationToken ct)
    {
        var node = await FormatNodeAsync(domain, disk.Path, ct);
        await QmpAsync(domain, "blockdev-snapshot-delete-internal-sync", new { device = node, name }, ct);
    }

    public Task DiskResizeAsync(string domain, DiskSpec disk, long sizeBytes, CancellationToken ct) =>
        VirshAsync(ct, "blockresize", domain, disk.Path, $"{sizeBytes}B");

    public async Task<bool> BackupAsync(string domain, IReadOnlyList<(DiskSpec Disk, string Target)> disks, string sinceCheckpoint, string newCheckpoint, CancellationToken ct)
    {
        if (sinceCheckpoint.Length > 0)
        {
            var known = Lines(await VirshAsync(ct, "checkpoint-list", "--name", domain));
            if (!known.Contains(sinceCheckpoint)) return false;
        }
        // Every disk of the domain must be named: those not backed up (CD-ROMs, context) say no.
        var targets = Table(await VirshAsync(ct, "domblklist", domain)).Select(r => r[0]).ToList();
        var chosen = disks.ToDictionary(d => d.Disk.Target, d => d.Target, StringComparer.Ordinal);
        var backup = new StringBuilder("<domainbackup mode='push'>");
        if (sinceCheckpoint.Length > 0) backup.Append("<incremental>").Append(SecurityElement.Escape(sinceCheckpoint)).Append("</incremental>");
        backup.Append("<disks>");
        var checkpoint = new StringBuilder("<domaincheckpoint><name>").Append(SecurityElement.Escape(newCheckpoint)).Append("</name><disks>");
        foreach (var t in targets)
        {
            if (chosen.TryGetValue(t, out var file))
            {
                backup.Append($"<disk name='{t}' backup='yes' type='file'><driver type='qcow2'/><target file='{SecurityElement.Escape(file)}'/></disk>");
                checkpoint.Append($"<disk name='{t}' checkpoint='bitmap'/>");
            }
            else
            {
                backup.Append($"<disk name='{t}' backup='no'/>");
                checkpoint.Append($"<disk name='{t}' checkpoint='no'/>");
            }
        }
        backup.Append("</disks></domainbackup>");
        checkpoint.Append("</disks></domaincheckpoint>");
        var dir = Path.GetDirectoryName(disks[0].Target)!;
        Directory.CreateDirectory(dir);
        var backupXml = Path.Combine(dir, "backup.xml");
        await File.WriteAllTextAsync(backupXml, backup.ToString(), ct);
        foreach (var (_, target) in disks) File.Delete(target); // push mode creates the targets
        List<string> args = ["backup-begin", domain, backupXml];
        if (newCheckpoint.Length > 0)
        {
            var checkpointXml = Path.Combine(dir, "checkpoint.xml");
            await File.WriteAllTextAsync(checkpointXml, checkpoint.ToString(), ct);
            args.Add(checkpointXml);
        }
        await VirshAsync(ct, [.. args]);
        await WaitForJobAsync(domain, ct);
        return true;
    }

    /// <summary>Polls the domain's job until it ends; throws with libvirt's reason unless it completed.</summary>
    private async Task WaitForJobAsync(string domain, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + _options.LongCommandTimeout;
        while (true)
        {
            var info = await VirshAsync(ct, "domjobinfo", domain);
            if (JobType(info) is "None" or "") break;
            if (_time.GetUtcNow() > deadline)
            {
                await VirshRawAsync(ct, null, "domjobabort", domain);
                throw new HostDriverException($"The backup of {domain} did not end within {_options.LongCommandTimeout.TotalSeconds:0} s (aborted).");
            }
            await Task.Delay(200, ct);
        }
        var done = await VirshRawAsync(ct, null, "domjobinfo", domain, "--completed");
        var type = JobType(done.Stdout);
        if (done.Ok && type is not ("Completed" or "None" or ""))
            throw new HostDriverException($"The backup job of {domain} ended {type.ToLowerInvariant()}{(Field(done.Stdout, "Error message") is { Length: > 0 } m ? ": " + m : "")}.");
    }

    private static string JobType(string info) => Field(info, "Job type") ?? "";

    private static string? Field(string info, string name) =>
        Lines(info).Where(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();

    public async Task BackupAbortAsync(string domain, CancellationToken ct)
    {
        var r = await VirshRawAsync(ct, null, "domjobabort", domain);
        if (!r.Ok && !r.Stderr.Contains("no job", StringComparison.OrdinalIgnoreCase) && !IsNoDomain(r))
            throw CommandRunner.Failure("virsh", ["domjobabort", domain], r);
    }

    public async Task CheckpointDeleteAsync(string domain, string checkpoint, CancellationToken ct)
    {
        var r = await VirshRawAsync(ct, null, "checkpoint-delete", domain, checkpoint);
        if (!r.Ok && !r.Stderr.Contains("not found", StringComparison.OrdinalIgnoreCase) && !r.Stderr.Contains("no domain checkpoint", StringComparison.OrdinalIgnoreCase))
            throw CommandRunner.Failure("virsh", ["checkpoint-delete", domain, checkpoint], r);
    }

    /// <summary>The node name of the qcow2 (format) node whose file is <paramref name="path"/>.</summary>
    private async Task<string> FormatNodeAsync(string domain, string path, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await QmpAsync(domain, "query-named-block-nodes", null, ct));
        foreach (var n in doc.RootElement.GetProperty("return").EnumerateArray())
        {
            if (n.GetProperty("drv").GetString() != "qcow2") continue;
            if (n.TryGetProperty("file", out var f) && f.GetString() == path && n.TryGetProperty("node-name", out var name))
                return name.GetString()!;
        }
        throw new HostDriverException($"Disk {path} is not a qcow2 disk of the running domain {domain} (live snapshots need qcow2).");
    }

    private Task<string> QmpAsync(string domain, string command, object? arguments, CancellationToken ct)
    {
        var json = arguments is null
            ? JsonSerializer.Serialize(new { execute = command })
            : JsonSerializer.Serialize(new { execute = command, arguments });
        return VirshAsync(ct, "qemu-monitor-command", domain, json);
    }
}
