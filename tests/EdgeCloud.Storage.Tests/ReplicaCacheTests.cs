using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Storage.Tests;

public sealed class ReplicaCacheTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new();
    private FileServer _server = null!;

    public async Task InitializeAsync() => _server = await FileServer.StartAsync(_dir.File("upstream").Also(Directory.CreateDirectory));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    private ReplicaCache Cache(long maxBytes = 1L << 30, string name = "cache") => new(_dir.File(name), maxBytes, new ImageImporter(Tools.Qemu, _http));

    private async Task<(ImageKey Key, CacheSource Source, long Length)> UpstreamAsync(int imageId, int megabytes = 2)
    {
        var path = await Images.QcowAsync(Path.Combine(_server.Root, $"img{imageId}.qcow2"), megabytes);
        var sha = Images.Sha256(path);
        return (new ImageKey(imageId, sha), new CacheSource { Location = _server.Url($"img{imageId}.qcow2"), Sha256 = sha }, new FileInfo(path).Length);
    }

    [QemuFact]
    public async Task EightConcurrentCallers_OneFetch_CountersShowIt()
    {
        var cache = Cache();
        var (key, source, length) = await UpstreamAsync(1);

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => cache.GetAsync(key, source))));

        Assert.Equal(1, _server.Requests);
        Assert.Equal(length, _server.BytesSent);
        Assert.Single(leases, l => l.Fetched);
        Assert.All(leases, l => Assert.Equal(leases[0].Path, l.Path));
        var stats = cache.Stats;
        Assert.Equal((length, 7 * length, 7L, 1L), (stats.BytesFetched, stats.BytesServedLocally, stats.Hits, stats.Misses));
        Assert.Equal(Images.Sha256(Path.Combine(_server.Root, "img1.qcow2")), Images.Sha256(leases[0].Path));
        foreach (var l in leases) l.Dispose();
    }

    [QemuFact]
    public async Task LeastRecentlyUsedEvicted_EntriesInUseNever()
    {
        var (k1, s1, len) = await UpstreamAsync(1);
        var (k2, s2, _) = await UpstreamAsync(2);
        var (k3, s3, _) = await UpstreamAsync(3);
        var cache = Cache(maxBytes: 2 * len + len / 2); // room for two
        using (await cache.GetAsync(k1, s1)) { }
        var held = await cache.GetAsync(k2, s2);      // in use for the rest of the test
        using (await cache.GetAsync(k1, s1)) { }       // 1 is now more recent than 2

        using (await cache.GetAsync(k3, s3)) { }

        // 2 is the least recently used but leased, so 1 went.
        Assert.Equal([k2, k3], cache.Entries.Select(e => e.Key).OrderBy(k => k.ImageId).ToArray());
        Assert.Equal(1, cache.Stats.Evictions);
        Assert.True(File.Exists(held.Path));
        held.Dispose();
    }

    [QemuFact]
    public async Task PinnedEntry_SurvivesEvictionAndARestart()
    {
        var (k1, s1, len) = await UpstreamAsync(1);
        var (k2, s2, _) = await UpstreamAsync(2);
        var cache = Cache(maxBytes: len + len / 2);
        using (await cache.GetAsync(k1, s1)) cache.Pin(k1, "vm7-disk0");

        var reopened = Cache(maxBytes: len + len / 2);
        using (await reopened.GetAsync(k2, s2))
            Assert.Equal([k1, k2], reopened.Entries.Select(e => e.Key).OrderBy(k => k.ImageId).ToArray()); // over the limit rather than evict a base in use

        // Once 2 is released the cache is over its limit: 2 goes, the pinned 1 stays; unpinned, it is evictable.
        Assert.Equal([k1], reopened.Entries.Select(e => e.Key).ToArray());
        Assert.Equal(["vm7-disk0"], reopened.Entries.Single().Holders);
        reopened.Unpin("vm7-disk0");
        Assert.Empty(reopened.Entries.Single().Holders);
    }

    [QemuFact]
    public async Task NewVersion_InvalidatesTheOldOne()
    {
        var cache = Cache();
        var (k1, s1, _) = await UpstreamAsync(5);
        var old = await cache.GetAsync(k1, s1);
        cache.Pin(k1, "vm1-disk0");
        var (k2, s2, _) = await UpstreamAsync(5); // same image id, new content

        using var fresh = await cache.GetAsync(k2, s2);

        Assert.True(fresh.Fetched);
        Assert.NotEqual(old.Path, fresh.Path);
        Assert.True(cache.Entries.Single(e => e.Key == k1).Stale); // still used: kept until released
        old.Dispose();
        cache.Unpin("vm1-disk0");
        Assert.False(File.Exists(old.Path));
        Assert.Equal([k2], cache.Entries.Select(e => e.Key).ToArray());
    }

    [QemuFact]
    public async Task InterruptedFetch_ResumedByTheNextCaller()
    {
        var cache = Cache();
        var (key, source, length) = await UpstreamAsync(1, 4);
        _server.CutNextAfter(1 << 20);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => cache.GetAsync(key, source));
        using var lease = await cache.GetAsync(key, source);

        var ranges = _server.RangeHeaders.ToArray();
        Assert.Equal(2, ranges.Length);
        Assert.Null(ranges[0]);
        Assert.Matches("^bytes=[1-9][0-9]*-$", ranges[1]);  // resumed where the kept part ends
        Assert.Equal(length, cache.Stats.BytesFetched);     // what arrived before the cut + the rest after it, nothing twice
        Assert.Equal(Images.Sha256(Path.Combine(_server.Root, "img1.qcow2")), Images.Sha256(lease.Path));
    }

    [QemuFact]
    public async Task ChecksumMismatch_NotCached()
    {
        var cache = Cache();
        var (key, source, _) = await UpstreamAsync(1);

        var ex = await Assert.ThrowsAsync<StorageException>(() => cache.GetAsync(key, source with { Sha256 = new string('f', 64) }));

        Assert.Contains("Checksum mismatch", ex.Message);
        Assert.Empty(cache.Entries);
    }
}

public sealed class VmDiskPreparerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private (VmDiskPreparer Preparer, ReplicaCache Cache) Make()
    {
        var cache = new ReplicaCache(_dir.File("cache"), 1L << 30, new ImageImporter(Tools.Qemu, _http));
        return (new VmDiskPreparer(cache, Tools.Qemu, VmDiskPreparer.LocalResolver()), cache);
    }

    private static DiskSpec Disk(string vmDir, int id, string source = "", bool persistent = false, long sizeMb = 0, string format = "qcow2") =>
        new() { DiskId = id, Path = Path.Combine(vmDir, $"disk.{id}"), Target = "vda", Source = source, Persistent = persistent, SizeMb = sizeMb, Format = format, ImageId = source.Length > 0 ? 3 : -1 };

    [QemuFact]
    public async Task NonPersistent_OverlayOnTheCachedBase_Idempotent()
    {
        var image = await Images.QcowAsync(_dir.File("ds/3"), 2);
        var (preparer, cache) = Make();
        var disk = Disk(_dir.File("vms/10"), 0, image);

        var first = await preparer.PrepareAsync(10, disk);
        var again = await preparer.PrepareAsync(10, disk);

        Assert.Equal((PreparedDiskKind.Overlay, "qcow2", true), (first.Kind, first.Format, first.Created));
        var info = await Tools.Qemu.InfoAsync(disk.Path);
        Assert.Equal(cache.Entries.Single().Path, info.BackingFile);
        Assert.Equal(["vm10-disk0"], cache.Entries.Single().Holders);
        Assert.False(again.Created);
        Assert.Equal(1L, cache.Stats.Misses);
    }

    [QemuFact]
    public async Task FlatFormat_NonPersistentIsAFullRawCopy_WithTheImagesContent()
    {
        var image = await Images.QcowAsync(_dir.File("ds/3"), 2);
        var (preparer, cache) = Make();
        var disk = Disk(_dir.File("vms/14"), 0, image);

        var r = await preparer.PrepareAsync(14, disk, flatFormat: "raw");

        Assert.Equal((PreparedDiskKind.Copy, "raw"), (r.Kind, r.Format));
        var info = await Tools.Qemu.InfoAsync(disk.Path);
        Assert.Equal("raw", info.Format);
        Assert.Null(info.BackingFile);
        // the same guest-visible bytes as the qcow2 image
        using (var compare = System.Diagnostics.Process.Start("qemu-img", ["compare", "-q", image, disk.Path])!)
        {
            await compare.WaitForExitAsync();
            Assert.Equal(0, compare.ExitCode);
        }
        Assert.Empty(cache.Entries.Single().Holders); // a full copy does not pin the base
    }

    [QemuFact]
    public async Task TwoVmsOfOneImage_OneFetch()
    {
        var image = await Images.QcowAsync(_dir.File("ds/3"), 2);
        var (preparer, cache) = Make();

        await preparer.PrepareAsync(1, Disk(_dir.File("vms/1"), 0, image));
        await preparer.PrepareAsync(2, Disk(_dir.File("vms/2"), 0, image));

        Assert.Equal((1L, 1L), (cache.Stats.Misses, cache.Stats.Hits));
        Assert.Equal(2, cache.Entries.Single().Holders.Count);
    }

    [QemuFact]
    public async Task Persistent_FullCopyWithoutBacking_NoPinLeft()
    {
        var image = await Images.QcowAsync(_dir.File("ds/3"), 2);
        var (preparer, cache) = Make();
        var disk = Disk(_dir.File("vms/11"), 0, image, persistent: true);

        var r = await preparer.PrepareAsync(11, disk);

        Assert.Equal(PreparedDiskKind.Copy, r.Kind);
        Assert.Null((await Tools.Qemu.InfoAsync(disk.Path)).BackingFile);
        Assert.Equal(Images.Sha256(image), Images.Sha256(disk.Path));
        Assert.Empty(cache.Entries.Single().Holders);
    }

    [QemuFact]
    public async Task Volatile_BlankOfTheSize_RemoveDeletesIt()
    {
        var (preparer, _) = Make();
        var disk = Disk(_dir.File("vms/12"), 1, sizeMb: 64, format: "raw");

        var r = await preparer.PrepareAsync(12, disk);

        Assert.Equal(PreparedDiskKind.Blank, r.Kind);
        var info = await Tools.Qemu.InfoAsync(disk.Path);
        Assert.Equal(("raw", 64L << 20), (info.Format, info.VirtualSize));
        await preparer.RemoveAsync(12, disk);
        Assert.False(File.Exists(disk.Path));
    }

    [QemuFact]
    public async Task RemoveOfTheLastVm_BaseBecomesEvictable()
    {
        var image = await Images.QcowAsync(_dir.File("ds/3"), 2);
        var (preparer, cache) = Make();
        var disk = Disk(_dir.File("vms/13"), 0, image);
        await preparer.PrepareAsync(13, disk);

        await preparer.RemoveAsync(13, disk);

        Assert.False(File.Exists(disk.Path));
        Assert.Empty(cache.Entries.Single().Holders);
    }
}

internal static class Fluent
{
    public static string Also(this string s, Func<string, DirectoryInfo> f)
    {
        f(s);
        return s;
    }
}
