using System.Diagnostics;

namespace EdgeCloud.Storage.Tests;

/// <summary>
/// The qcow2 operations behind disk snapshots, disk save-as, resize and backups, on real files: internal
/// snapshots ("snap-N") keep the content they were taken at, a copy out of a snapshot is standalone, and a
/// backup chain (full + increments that hold only changed clusters) merges into the latest content.
/// </summary>
public sealed class DiskSnapshotAndBackupTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static QemuImg Q => Tools.Qemu;

    /// <summary>qemu-io on a file: writes (<c>write -P 0xNN OFFSET LEN</c>) or checks (<c>read -P ...</c>) a pattern.</summary>
    private static string Io(string file, string command, bool readOnly = false)
    {
        var psi = new ProcessStartInfo("qemu-io") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[.. readOnly ? ["-r"] : Array.Empty<string>(), "-f", "qcow2", "-c", command, file]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0 && !output.Contains("failed", StringComparison.OrdinalIgnoreCase), $"qemu-io {command} {file}: {output}");
        return output;
    }

    private async Task<string> BlankAsync(string name, int mb = 4)
    {
        var path = _dir.File(name);
        await Q.CreateAsync(path, "qcow2", (long)mb << 20);
        return path;
    }

    [QemuFact]
    public async Task InternalSnapshot_KeepsItsContent_CopyOutAndRevert()
    {
        var disk = await BlankAsync("disk.0");
        Io(disk, "write -P 0xaa 0 64k");
        await Q.SnapshotCreateAsync(disk, "snap-0");
        Io(disk, "write -P 0xbb 0 64k");

        var saved = _dir.File("saved.qcow2");
        await Q.CopyOutAsync(disk, "snap-0", saved);
        Io(saved, "read -P 0xaa 0 64k", readOnly: true);
        Assert.Null((await Q.InfoAsync(saved)).BackingFile);
        Assert.Empty(await Q.SnapshotListAsync(saved)); // a standalone copy, without the source's snapshots

        var now = _dir.File("now.qcow2");
        await Q.CopyOutAsync(disk, null, now);
        Io(now, "read -P 0xbb 0 64k", readOnly: true);

        await Q.SnapshotApplyAsync(disk, "snap-0");
        Io(disk, "read -P 0xaa 0 64k", readOnly: true);
        await Q.SnapshotDeleteAsync(disk, "snap-0");
        Assert.Empty(await Q.SnapshotListAsync(disk));
        Io(disk, "read -P 0xaa 0 64k", readOnly: true); // deleting a snapshot keeps the disk's content
    }

    [QemuFact]
    public async Task InternalSnapshot_UnderADirtyBitmap_AppliesOnlyOnceTheBitmapIsRemoved()
    {
        var disk = await BlankAsync("disk.2");
        Io(disk, "write -P 0xaa 0 64k");
        await Q.SnapshotCreateAsync(disk, "snap-0");
        Io(disk, "write -P 0xbb 0 64k");
        var psi = new ProcessStartInfo("qemu-img", ["bitmap", "--add", disk, "one-1-2-0"]) { UseShellExecute = false };
        using (var p = Process.Start(psi)!) p.WaitForExit();
        Assert.Equal(["one-1-2-0"], (await Q.InfoAsync(disk)).Bitmaps);

        var refused = await Assert.ThrowsAsync<StorageException>(() => Q.SnapshotApplyAsync(disk, "snap-0"));
        Assert.Contains("dirty bitmaps", refused.Message, StringComparison.Ordinal);

        await Q.BitmapRemoveAsync(disk, "one-1-2-0");
        await Q.SnapshotApplyAsync(disk, "snap-0");
        Assert.Empty((await Q.InfoAsync(disk)).Bitmaps);
        Io(disk, "read -P 0xaa 0 64k", readOnly: true);
    }

    [QemuFact]
    public async Task Resize_GrowsTheVirtualSize_KeepsTheData()
    {
        var disk = await BlankAsync("disk.1", 4);
        Io(disk, "write -P 0x11 1M 64k");

        await Q.ResizeAsync(disk, "qcow2", 8L << 20);

        Assert.Equal(8L << 20, (await Q.InfoAsync(disk)).VirtualSize);
        Io(disk, "read -P 0x11 1M 64k", readOnly: true);
    }

    [QemuFact]
    public async Task BackupChain_FullAndIncrements_MergeToTheLatestContent_BackupsUntouched()
    {
        var full = await BlankAsync("disk.0.0.qcow2");
        Io(full, "write -P 0xa0 0 64k");
        Io(full, "write -P 0xc0 2M 64k");
        var inc1 = await BlankAsync("disk.0.1.qcow2"); // only what changed: unallocated elsewhere
        Io(inc1, "write -P 0xb1 1M 64k");
        var inc2 = await BlankAsync("disk.0.2.qcow2");
        Io(inc2, "write -P 0xd2 0 64k");
        var before = (Images.Sha256(full), Images.Sha256(inc1), Images.Sha256(inc2));

        var merged = _dir.File("restored.qcow2");
        await BackupChain.MergeAsync(Q, [full, inc1, inc2], merged);

        Io(merged, "read -P 0xd2 0 64k", readOnly: true);   // increment 2 wins over the full
        Io(merged, "read -P 0xb1 1M 64k", readOnly: true);  // increment 1
        Io(merged, "read -P 0xc0 2M 64k", readOnly: true);  // the full, unchanged since
        Assert.Null((await Q.InfoAsync(merged)).BackingFile);
        Assert.Equal(before, (Images.Sha256(full), Images.Sha256(inc1), Images.Sha256(inc2)));
        Assert.False(Directory.Exists(merged + ".merge"));

        // Up to increment 1 only: increment 2's write is not there.
        var older = _dir.File("older.qcow2");
        await BackupChain.MergeAsync(Q, [full, inc1], older);
        Io(older, "read -P 0xa0 0 64k", readOnly: true);
    }

    [QemuFact]
    public async Task BackupChain_MissingOrLayeredFile_RefusedAndNothingLeft()
    {
        var full = await BlankAsync("disk.0.0.qcow2");
        var dest = _dir.File("restored.qcow2");

        var missing = await Assert.ThrowsAsync<StorageException>(() => BackupChain.MergeAsync(Q, [full, _dir.File("disk.0.1.qcow2")], dest));
        Assert.Contains("disk.0.1.qcow2 is missing", missing.Message, StringComparison.Ordinal);

        var overlay = _dir.File("overlay.qcow2");
        await Q.CreateOverlayAsync(overlay, full, "qcow2");
        var layered = await Assert.ThrowsAsync<StorageException>(() => BackupChain.MergeAsync(Q, [full, overlay], dest));
        Assert.Contains("has a backing file", layered.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dest));
    }
}
