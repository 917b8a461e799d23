namespace EdgeCloud.Storage.Tests;

/// <summary>
/// <see cref="ImageImporter.ReplaceAsync"/>, how a persistent image's file is replaced by its written-back disk
/// (and by image snapshot operations): checked first, renamed over the old file, never half-written.
/// </summary>
public sealed class ImageReplaceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ------------------------------------------------------------------ replacing an image's file (persistent write-back)

    [QemuFact]
    public async Task Replace_CorruptCandidate_OldFileUntouchedAndCandidateGone()
    {
        var image = await Images.QcowAsync(_dir.File("ds/img"));
        var before = Images.Sha256(image);
        var good = await Images.QcowAsync(_dir.File("upload.qcow2"));
        var candidate = Images.Truncated(good, _dir.File("ds/img.writeback"));

        var ex = await Assert.ThrowsAsync<StorageException>(() => ImageImporter.ReplaceAsync(Tools.Qemu, candidate, image, "The write-back", CancellationToken.None));

        Assert.Contains("corrupt or truncated", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Images.Sha256(image));
        Assert.False(File.Exists(candidate));
    }

    [QemuFact]
    public async Task Replace_BackingFileRefused_SoundCandidateReplacesWithItsSnapshots()
    {
        var image = await Images.QcowAsync(_dir.File("ds/img"));
        var before = Images.Sha256(image);
        var overlay = _dir.File("ds/img.overlay");
        await Tools.Qemu.CreateOverlayAsync(overlay, image, "qcow2");
        await Assert.ThrowsAsync<StorageException>(() => ImageImporter.ReplaceAsync(Tools.Qemu, overlay, image, "The write-back", CancellationToken.None));
        Assert.Equal(before, Images.Sha256(image));

        var candidate = await Images.QcowAsync(_dir.File("ds/img.writeback"));
        await Tools.Qemu.SnapshotCreateAsync(candidate, "snap-0");
        var expected = Images.Sha256(candidate);

        var r = await ImageImporter.ReplaceAsync(Tools.Qemu, candidate, image, "The write-back", CancellationToken.None);

        Assert.Equal((image, "qcow2", expected), (r.Path, r.Format, r.Sha256));
        Assert.Equal(expected, Images.Sha256(image));
        Assert.False(File.Exists(candidate));
        Assert.Contains(await Tools.Qemu.SnapshotListAsync(image), s => s.Name == "snap-0");
    }
}
