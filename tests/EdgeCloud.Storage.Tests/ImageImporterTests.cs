namespace EdgeCloud.Storage.Tests;

public sealed class ImageImporterTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private ImageImporter Importer() => new(Tools.Qemu, _http);

    [QemuFact]
    public async Task LocalQcow2_ImportedWithFormatSizesAndDigest()
    {
        var src = await Images.QcowAsync(_dir.File("src.qcow2"));
        var progress = new List<TransferProgress>();
        var dest = _dir.File("ds/1/img");

        var r = await Importer().ImportAsync(new ImportRequest { Source = src, Destination = dest, Sha256 = Images.Sha256(src) }, new SyncProgress(progress.Add));

        Assert.Equal(("qcow2", 3L << 20, new FileInfo(src).Length), (r.Format, r.VirtualSize, r.FileSize));
        Assert.Equal(Images.Sha256(src), r.Sha256);
        Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(dest));
        Assert.False(File.Exists(dest + ".part"));
        Assert.Equal(100, progress[^1].Percent);
    }

    [QemuFact]
    public async Task TruncatedQcow2_RejectedAndNothingLeft()
    {
        var good = await Images.QcowAsync(_dir.File("good.qcow2"));
        var bad = Images.Truncated(good, _dir.File("bad.qcow2"));
        var dest = _dir.File("ds/img");

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = bad, Destination = dest }));

        Assert.Contains("corrupt or truncated qcow2", ex.Message);
        Assert.Contains(bad, ex.Message);
        Assert.False(File.Exists(dest));
        Assert.False(File.Exists(dest + ".part"));
    }

    [QemuFact]
    public async Task CorruptHeader_RejectedAsNotAnImage()
    {
        var good = await Images.QcowAsync(_dir.File("good.qcow2"));
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(_dir.File("hdr.qcow2"), bytes[..100]); // the qcow2 magic, then nothing
        var dest = _dir.File("ds/img");

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = _dir.File("hdr.qcow2"), Destination = dest }));

        Assert.Contains("not a readable disk image", ex.Message);
        Assert.False(File.Exists(dest) || File.Exists(dest + ".part"));
    }

    [QemuFact]
    public async Task ImageWithABackingFile_Rejected()
    {
        var baseImg = await Images.QcowAsync(_dir.File("base.qcow2"), 1);
        await Tools.Qemu.CreateOverlayAsync(_dir.File("overlay.qcow2"), baseImg, "qcow2");

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = _dir.File("overlay.qcow2"), Destination = _dir.File("ds/img") }));

        Assert.Contains("backing file", ex.Message);
    }

    [QemuFact]
    public async Task ChecksumMismatch_RejectedWithBothDigests()
    {
        var src = await Images.QcowAsync(_dir.File("src.qcow2"), 1);
        var wrong = new string('0', 64);
        var dest = _dir.File("ds/img");

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = src, Destination = dest, Sha256 = wrong }));

        Assert.Contains($"SHA256 is {Images.Sha256(src)}, expected {wrong}", ex.Message);
        Assert.False(File.Exists(dest) || File.Exists(dest + ".part"));
    }

    [QemuFact]
    public async Task Md5Mismatch_Rejected()
    {
        var src = await Images.QcowAsync(_dir.File("src.qcow2"), 1);

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = src, Destination = _dir.File("img"), Md5 = new string('a', 32) }));

        Assert.Contains("MD5 is", ex.Message);
    }

    [Fact]
    public async Task MissingFile_ClearMessage()
    {
        var missing = _dir.File("nope.img");

        var ex = await Assert.ThrowsAsync<StorageException>(() => new ImageImporter(null, _http).ImportAsync(new ImportRequest { Source = missing, Destination = _dir.File("img") }));

        Assert.Equal($"{missing} does not exist.", ex.Message);
    }

    [Fact]
    public async Task LargerThanTheFreeSpace_Refused()
    {
        File.WriteAllBytes(_dir.File("big.raw"), new byte[3 << 20]);

        var ex = await Assert.ThrowsAsync<StorageException>(() => new ImageImporter(null, _http).ImportAsync(
            new ImportRequest { Source = _dir.File("big.raw"), Destination = _dir.File("img"), MaxBytes = 1 << 20, Inspect = false }));

        Assert.Contains("more than the 1 MB free", ex.Message);
        Assert.False(File.Exists(_dir.File("img.part")));
    }

    [QemuFact]
    public async Task HttpDownload_InterruptedThenResumedWithRange()
    {
        var src = await Images.QcowAsync(_dir.File("srv/app.qcow2"), 4);
        var length = new FileInfo(src).Length;
        await using var server = await FileServer.StartAsync(_dir.File("srv"));
        var dest = _dir.File("ds/img");
        var request = new ImportRequest { Source = server.Url("app.qcow2"), Destination = dest, Sha256 = Images.Sha256(src) };
        server.CutNextAfter(1 << 20);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => Importer().ImportAsync(request));
        // What arrived before the cut is kept (data in flight when the connection is reset may be lost).
        var kept = new FileInfo(dest + ".part").Length;
        Assert.InRange(kept, 1, 1 << 20);
        Assert.False(File.Exists(dest));

        var r = await Importer().ImportAsync(request);

        Assert.True(r.Resumed);
        Assert.Equal(length - kept, r.BytesTransferred);
        Assert.Equal(new[] { "", $"bytes={kept}-" }, server.RangeHeaders.Select(h => h ?? "").ToArray());
        Assert.Equal(Images.Sha256(src), r.Sha256);
        Assert.Equal("qcow2", r.Format);
    }

    [QemuFact]
    public async Task HttpDownload_NotFound_ClearMessage()
    {
        await using var server = await FileServer.StartAsync(_dir.Path);

        var ex = await Assert.ThrowsAsync<StorageException>(() => Importer().ImportAsync(new ImportRequest { Source = server.Url("missing.qcow2"), Destination = _dir.File("img") }));

        Assert.Equal($"Cannot download {server.Url("missing.qcow2")}: HTTP 404 Not Found.", ex.Message);
    }
}

/// <summary>IProgress that calls back on the reporting thread (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
public sealed class SyncProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
{
    public void Report(TransferProgress value) => report(value);
}
