using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Xml.Linq;
using EdgeCloud.Frontend.Storage;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// The fs image datastore with the real qemu-img: images from a local path and from a URL become READY
/// with their real SIZE/FORMAT/SHA256, bad files become ERROR with the reason, capacity and LIMIT_MB,
/// delete and clone, and the /images/{id} endpoint the hosts' caches read.
/// </summary>
public sealed class FsDatastoreTests(SqliteFrontend fixture) : ApiSuite(fixture), IClassFixture<SqliteFrontend>, IDisposable
{
    private readonly string _files = Directory.CreateTempSubdirectory("edgecloud-fs-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_files, recursive: true); }
        catch (IOException) { }
    }

    private async Task<int> FsDatastoreAsync(string extra = "") =>
        await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("fs")}\"\nDS_MAD = \"fs\"\nTM_MAD = \"qcow2\"\nTYPE = \"IMAGE_DS\"\n{extra}", -1);

    /// <summary>A qcow2 image of <paramref name="megabytes"/> MiB of random data.</summary>
    private async Task<string> QcowAsync(string name, int megabytes = 3)
    {
        var path = Path.Combine(_files, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var raw = path + ".raw";
        var data = new byte[megabytes << 20];
        Random.Shared.NextBytes(data);
        await File.WriteAllBytesAsync(raw, data);
        await StorageFactAttribute.Qemu.ConvertAsync(raw, "raw", path, "qcow2");
        File.Delete(raw);
        return path;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private async Task<XElement> SettledAsync(int image) =>
        await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", image), i => i.Int("STATE") is 1 or 5, $"image {image} READY or ERROR");

    [StorageFact]
    public async Task ImageFromLocalPath_ReadyWithRealSizeFormatAndChecksum_DeleteRemovesTheFile()
    {
        var ds = await FsDatastoreAsync();
        var file = await QcowAsync("disk.qcow2", 3);

        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{file}\"\n", ds, false);

        var image = await SettledAsync(id);
        Assert.Equal((1, 3, "qcow2"), (image.Int("STATE"), image.Int("SIZE"), image.Str("FORMAT")));
        Assert.Equal(Sha256(file), image.Str("TEMPLATE/SHA256"));
        Assert.False(image.Has("TEMPLATE/TRANSFER_PROGRESS"));
        var source = image.Str("SOURCE");
        Assert.Equal(Sha256(file), Sha256(source));
        Assert.StartsWith(Path.Combine(Fe.DataDir, "datastores", ds.ToString(System.Globalization.CultureInfo.InvariantCulture)), source);
        Schemas.AssertValid(image.ToString(), "image.xsd");

        await Admin.CallIntAsync("one.image.delete", id, false);
        await Wait.ForAsync(() => Task.FromResult(!File.Exists(source)), "the image file deleted");
    }

    [StorageFact]
    public async Task ImageFromUrl_Ready()
    {
        var ds = await FsDatastoreAsync();
        var folder = Path.Combine(_files, "web");
        await using var web = await MarketServer.StartAsync(folder);
        var file = await QcowAsync("web/images/net.qcow2", 2);

        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{web.Url}images/net.qcow2\"\nSHA256 = \"{Sha256(file)}\"\n", ds, false);

        var image = await SettledAsync(id);
        Assert.Equal((1, 2, "qcow2"), (image.Int("STATE"), image.Int("SIZE"), image.Str("FORMAT")));
        Assert.Equal(Sha256(file), Sha256(image.Str("SOURCE")));
    }

    [StorageFact]
    public async Task TruncatedImage_ErrorWithTheReason_NothingLeftInTheDatastore()
    {
        var ds = await FsDatastoreAsync();
        var good = await QcowAsync("good.qcow2", 3);
        var bytes = await File.ReadAllBytesAsync(good);
        var bad = Path.Combine(_files, "bad.qcow2");
        await File.WriteAllBytesAsync(bad, bytes[..(bytes.Length / 2)]);

        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{bad}\"\n", ds, false);

        var image = await SettledAsync(id);
        Assert.Equal(5, image.Int("STATE"));
        Assert.Contains($"{bad} is a corrupt or truncated qcow2 image", image.Str("TEMPLATE/ERROR"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Fe.DataDir, "datastores", ds.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Schemas.AssertValid(image.ToString(), "image.xsd");
    }

    [StorageFact]
    public async Task MissingFileAndChecksumMismatch_ErrorWithTheReason()
    {
        var ds = await FsDatastoreAsync();
        var file = await QcowAsync("c.qcow2", 1);
        var missing = Path.Combine(_files, "missing.qcow2");

        var a = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{missing}\"\n", ds, false);
        var b = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{file}\"\nSHA256 = \"{new string('0', 64)}\"\n", ds, false);

        Assert.Equal($"{missing} does not exist.", (await SettledAsync(a)).Str("TEMPLATE/ERROR"));
        Assert.StartsWith($"Checksum mismatch for {file}: SHA256 is {Sha256(file)}", (await SettledAsync(b)).Str("TEMPLATE/ERROR"));
    }

    [StorageFact]
    public async Task LocalPathOfAnOrdinaryUser_RefusedOutsideSafeDirs()
    {
        var ds = await FsDatastoreAsync($"SAFE_DIRS = \"{_files}/safe\"");
        await Admin.CallIntAsync("one.datastore.chmod", ds, -1, -1, -1, -1, -1, -1, 1, -1, -1); // others may USE it
        var (_, user) = await NewUserAsync(null, 1);
        var outside = await QcowAsync("outside.qcow2", 1);
        var inside = await QcowAsync("safe/inside.qcow2", 1);

        var refused = await user.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{outside}\"\n", ds, false);
        var allowed = await user.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{inside}\"\n", ds, false);

        Assert.Contains("is not in a safe directory", (await SettledAsync(refused)).Str("TEMPLATE/ERROR"));
        Assert.Equal(1, (await SettledAsync(allowed)).Int("STATE"));
    }

    [StorageFact]
    public async Task EmptyDatablockAndClone_Ready()
    {
        var ds = await FsDatastoreAsync();

        var db = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("db")}\"\nTYPE = \"DATABLOCK\"\nSIZE = \"10\"\n", ds, false);
        var image = await SettledAsync(db);
        Assert.Equal((1, 10, "raw"), (image.Int("STATE"), image.Int("SIZE"), image.Str("FORMAT")));
        Assert.Equal(10L << 20, (await StorageFactAttribute.Qemu.InfoAsync(image.Str("SOURCE"))).VirtualSize);

        var clone = await Admin.CallIntAsync("one.image.clone", db, Unique("clone"), -1);
        var cloned = await SettledAsync(clone);
        Assert.Equal(1, cloned.Int("STATE"));
        Assert.NotEqual(image.Str("SOURCE"), cloned.Str("SOURCE"));
        Assert.Equal(image.Str("TEMPLATE/SHA256"), Sha256(cloned.Str("SOURCE")));
    }

    [StorageFact]
    public async Task Capacity_FromTheFilesystem_LimitMbEnforced()
    {
        var ds = await FsDatastoreAsync("LIMIT_MB = \"2\"");
        var measured = await Wait.ForAsync(() => Admin.InfoAsync("one.datastore.info", ds), d => d.Long("TOTAL_MB") > 0, "the datastore measured");
        Assert.Equal((2L, 2L, 0L), (measured.Long("TOTAL_MB"), measured.Long("FREE_MB"), measured.Long("USED_MB")));
        Schemas.AssertValid(measured.ToString(), "datastore.xsd");
        var file = await QcowAsync("big.qcow2", 3);

        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{file}\"\n", ds, false);

        var image = await SettledAsync(id);
        Assert.Equal(5, image.Int("STATE"));
        Assert.Contains("more than the 2 MB free in the datastore", image.Str("TEMPLATE/ERROR"));
        await FailsAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{Unique("db")}\"\nTYPE = \"DATABLOCK\"\nSIZE = \"5\"\n", ds, false),
            Err.Allocate, "Not enough space in datastore");
    }

    [StorageFact]
    public async Task ImageEndpoint_ServesTheFileWithRangeAndChecksum_OnlyToAuthorizedCallers()
    {
        var ds = await FsDatastoreAsync();
        var file = await QcowAsync("served.qcow2", 2);
        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{file}\"\n", ds, false);
        await SettledAsync(id);
        using var http = new HttpClient();
        var url = new Uri(Fe.Endpoint, $"/images/{id}");

        using var get = new HttpRequestMessage(HttpMethod.Get, url);
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Fe.AdminSession);
        using var full = await http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(Sha256(file), full.Headers.GetValues("X-Image-Sha256").Single());
        Assert.Equal(await File.ReadAllBytesAsync(file), await full.Content.ReadAsByteArrayAsync());

        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Fe.AdminSession);
        ranged.Headers.Range = new RangeHeaderValue(1000, null);
        using var part = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(new FileInfo(file).Length - 1000, (await part.Content.ReadAsByteArrayAsync()).Length);

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url)).StatusCode);
        var name = Unique("nouse");
        await Admin.CallIntAsync("one.user.allocate", name, "pw", "core", Array.Empty<int>());
        using var denied = new HttpRequestMessage(HttpMethod.Get, url);
        denied.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{name}:pw")));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(denied)).StatusCode);
        using var missing = new HttpRequestMessage(HttpMethod.Head, new Uri(Fe.Endpoint, "/images/99999"));
        missing.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Fe.AdminSession);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(missing)).StatusCode);
    }

    [StorageFact]
    public async Task LongTransfer_ProgressVisibleWhileLocked()
    {
        var ds = await FsDatastoreAsync();
        var file = await QcowAsync("slow.qcow2", 4);
        var bytes = await File.ReadAllBytesAsync(file);
        // A server that sends the image in 8 slices, 400 ms apart (about 3 s in all).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        await using var app = builder.Build();
        app.MapGet("/slow.qcow2", async (HttpContext ctx) =>
        {
            ctx.Response.ContentLength = bytes.Length;
            var slice = (bytes.Length / 8) + 1;
            for (var at = 0; at < bytes.Length; at += slice)
            {
                await ctx.Response.Body.WriteAsync(bytes.AsMemory(at, Math.Min(slice, bytes.Length - at)));
                await ctx.Response.Body.FlushAsync();
                await Task.Delay(400);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"{address}/slow.qcow2\"\n", ds, false);

        var copying = await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", id),
            i => i.Int("STATE") == 4 && i.Has("TEMPLATE/TRANSFER_PROGRESS") && i.Int("TEMPLATE/TRANSFER_PROGRESS") is > 0 and < 100, "a progress between 0 and 100 % while LOCKED");
        Schemas.AssertValid(copying.ToString(), "image.xsd");
        var ready = await SettledAsync(id);
        Assert.Equal(1, ready.Int("STATE"));
        Assert.False(ready.Has("TEMPLATE/TRANSFER_PROGRESS"));
    }

    [StorageFact]
    public async Task DummyDatastore_StillDummy()
    {
        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"/nonexistent/disk.img\"\n", 1, false);

        Assert.Equal(1, (await SettledAsync(id)).Int("STATE"));
    }

    // ------------------------------------------------------------------ image snapshots on the file

    /// <summary>qemu-io on an image file; returns its output (a pattern mismatch says "verification failed").</summary>
    private static string QemuIo(string file, string command)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("qemu-io") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-f", "qcow2", "-c", command, file }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    [StorageFact]
    public async Task PersistentImageSnapshots_RevertFlattenChangeTheFile_MissingSnapshotErrorLeavesItUntouched()
    {
        // A qcow2 whose snapshot snap-0 holds 0xaa at 0 and whose current content there is 0xbb.
        var src = await QcowAsync("snapped.qcow2");
        Assert.Contains("wrote", QemuIo(src, "write -P 0xaa 0 1M"), StringComparison.Ordinal);
        await StorageFactAttribute.Qemu.SnapshotCreateAsync(src, "snap-0");
        Assert.Contains("wrote", QemuIo(src, "write -P 0xbb 0 1M"), StringComparison.Ordinal);
        var ds = await FsDatastoreAsync();
        var image = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("snapped")}\"\nPATH = \"{src}\"\nTYPE = DATABLOCK\nPERSISTENT = YES", ds, false);
        var file = (await SettledAsync(image)).Str("SOURCE");

        // Disk snapshots 0 and 1 of a VM on a dummy host (the file has only snap-0), kept on the image when it ends.
        var host = await SharedHostAsync("fs-snapshots");
        var vm = await RunningOnAsync(host, $"DISK = [ IMAGE_ID = \"{image}\" ]\n");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.snapshotrevert", image, 0), Err.Action, "must be READY");
        foreach (var name in new[] { "a", "b" })
        {
            await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, name);
            await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", vm, false), x => x.Int("LCM_STATE") == Lcm.Running, "disk snapshot taken");
        }
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);
        var img = await WaitImageStateAsync(image, 1);
        Assert.Equal(2, img.At("SNAPSHOTS").Elements("SNAPSHOT").Count());
        var sha = Sha256(file);

        // Snapshot 1 is not in the file: the operation fails, the image is READY with the reason, file and list unchanged.
        await Admin.CallAsync("one.image.snapshotrevert", image, 1);
        img = await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", image, false), i => i.Int("STATE") == 1 && i.At("TEMPLATE").Has("ERROR"), "revert failed");
        Assert.Contains("no snapshot snap-1", img.At("TEMPLATE").Str("ERROR"), StringComparison.Ordinal);
        Assert.Equal(sha, Sha256(file));
        Assert.Equal("YES", img.At("SNAPSHOTS").Elements("SNAPSHOT").Single(x => x.Int("ID") == 1).Str("ACTIVE"));

        // Revert to 0: the file has 0xaa again, snapshot 0 is active, SHA256 follows the file.
        await Admin.CallAsync("one.image.snapshotrevert", image, 0);
        img = await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", image, false),
            i => i.Int("STATE") == 1 && i.At("SNAPSHOTS").Elements("SNAPSHOT").Single(x => x.Int("ID") == 0).Has("ACTIVE"), "reverted");
        Assert.DoesNotContain("verification failed", QemuIo(file, "read -P 0xaa 0 1M"), StringComparison.Ordinal);
        Assert.Equal(Sha256(file), img.At("TEMPLATE").Str("SHA256"));

        // Flatten on 0: the image is snapshot 0's content with no snapshots, in the list and in the file.
        await Admin.CallAsync("one.image.snapshotflatten", image, 0);
        img = await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", image, false),
            i => i.Int("STATE") == 1 && !i.At("SNAPSHOTS").Elements("SNAPSHOT").Any(), "flattened");
        Assert.Empty(await StorageFactAttribute.Qemu.SnapshotListAsync(file));
        Assert.DoesNotContain("verification failed", QemuIo(file, "read -P 0xaa 0 1M"), StringComparison.Ordinal);
        Assert.Equal(Sha256(file), img.At("TEMPLATE").Str("SHA256"));
        Schemas.AssertValid(img.ToString(), "image.xsd");
    }
}
