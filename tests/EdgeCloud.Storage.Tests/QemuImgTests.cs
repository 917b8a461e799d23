namespace EdgeCloud.Storage.Tests;

public sealed class QemuImgTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [QemuFact]
    public async Task CreateOverlaySnapshotResizeRebase_InfoShowsEachStep()
    {
        var q = Tools.Qemu;
        var baseImg = _dir.File("base.qcow2");
        await q.CreateAsync(baseImg, "qcow2", 16 << 20);
        var overlay = _dir.File("vm.qcow2");
        await q.CreateOverlayAsync(overlay, baseImg, "qcow2");

        var info = await q.InfoAsync(overlay);
        Assert.Equal(("qcow2", 16L << 20, baseImg), (info.Format, info.VirtualSize, info.BackingFile));

        await q.SnapshotCreateAsync(overlay, "s1");
        Assert.Equal(["s1"], (await q.SnapshotListAsync(overlay)).Select(s => s.Name));
        await q.SnapshotApplyAsync(overlay, "s1");
        await q.SnapshotDeleteAsync(overlay, "s1");
        Assert.Empty(await q.SnapshotListAsync(overlay));

        await q.ResizeAsync(overlay, "qcow2", 32 << 20);
        Assert.Equal(32L << 20, (await q.InfoAsync(overlay)).VirtualSize);

        await q.RebaseAsync(overlay, "", null); // flatten: no base any more
        Assert.Null((await q.InfoAsync(overlay)).BackingFile);
        Assert.True((await q.CheckAsync(overlay, "qcow2")).Ok);
        File.WriteAllBytes(_dir.File("plain.raw"), new byte[4096]);
        Assert.False((await q.CheckAsync(_dir.File("plain.raw"), "raw")).Supported);
    }

    [QemuFact]
    public async Task Failure_NamesTheCommandAndStderr()
    {
        var missing = _dir.File("missing.qcow2");

        var ex = await Assert.ThrowsAsync<StorageException>(() => Tools.Qemu.InfoAsync(missing));

        Assert.StartsWith($"qemu-img info --output=json -U {missing} failed (exit 1): Could not open '{missing}'", ex.Message);
    }

    [QemuFact]
    public async Task Convert_RawToQcow2_KeepsTheVirtualSize()
    {
        File.WriteAllBytes(_dir.File("a.raw"), new byte[2 << 20]);

        await Tools.Qemu.ConvertAsync(_dir.File("a.raw"), "raw", _dir.File("a.qcow2"), "qcow2");

        var info = await Tools.Qemu.InfoAsync(_dir.File("a.qcow2"));
        Assert.Equal(("qcow2", 2L << 20), (info.Format, info.VirtualSize));
    }
}
