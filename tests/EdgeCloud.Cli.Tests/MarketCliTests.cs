using System.Globalization;
using EdgeCloud.Frontend.Storage;
using EdgeCloud.Storage;

namespace EdgeCloud.Cli.Tests;

/// <summary>[Fact] that needs qemu-img: skipped with the reason without it, except with CI=true (then it fails).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class QemuCliFactAttribute : FactAttribute
{
    public QemuCliFactAttribute()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!ci && !QemuImg.IsAvailable()) Skip = "qemu-img is not installed (skipped on this machine). Install it: apt-get install qemu-utils.";
    }
}

/// <summary>market create/serve folder, marketapp list/export (image + VM template), image create --wait on an fs datastore.</summary>
public sealed class MarketCliTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [QemuCliFact]
    public async Task A_served_folder_is_a_marketplace_whose_app_exports_to_an_image_and_a_template()
    {
        var folder = Path.Combine(cloud.Dir, "mk-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        var raw = Path.Combine(cloud.Dir, "tiny.raw");
        await File.WriteAllBytesAsync(raw, new byte[1 << 20]);
        await new QemuImg().ConvertAsync(raw, "raw", Path.Combine(folder, "images", "tiny.qcow2"), "qcow2");
        Assert.Equal(1, await new MarketFolder(folder).ScanAsync(new QemuImg(), CancellationToken.None)); // what `market serve --scan` does
        await using var server = await MarketServer.StartAsync(folder);

        await cloud.CreateAsync("market", "create", cloud.WriteFile("mk.txt", $"NAME = \"served\"\nMARKET_MAD = \"http\"\nENDPOINT = \"{server.Url}\"\n"));
        await CloudFixture.WaitAsync(async () => (await cloud.OkAsync("marketapp", "list")).Contains(" tiny ", StringComparison.Ordinal), "the app listed");
        Assert.Matches(@"(?m)^ *\d+ served +\S+ +\S+ +1 http +0 on$", await cloud.OkAsync("market", "list"));
        var ds = await cloud.CreateAsync("datastore", "create", cloud.WriteFile("fsds.txt", "NAME = \"fsds\"\nDS_MAD = \"fs\"\nTM_MAD = \"qcow2\"\nTYPE = \"IMAGE_DS\"\n"));

        var output = await cloud.OkAsync("marketapp", "export", "tiny", "tinyimg", "--datastore", "fsds", "--no-template");

        var image = int.Parse(output.Split("ID: ")[1].Trim(), CultureInfo.InvariantCulture);
        await CloudFixture.WaitAsync(async () => (await cloud.InfoAsync("one.image.info", image)).Element("STATE")!.Value == "1", "the image READY");
        Assert.Equal("qcow2", (await cloud.InfoAsync("one.image.info", image)).Element("FORMAT")!.Value);
        var copy = await cloud.OkAsync("image", "create", "--name", "fromfile", "--path", Path.Combine(folder, "images", "tiny.qcow2"), "--datastore", ds.ToString(CultureInfo.InvariantCulture), "--wait");
        Assert.Matches(@"IMAGE \d+: READY", copy);
    }

    [QemuCliFact]
    public async Task Export_wait_fails_with_the_checksum_mismatch_when_the_download_is_not_the_described_file()
    {
        var folder = Path.Combine(cloud.Dir, "mkbad-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        var raw = Path.Combine(cloud.Dir, "bad.raw");
        await File.WriteAllBytesAsync(raw, new byte[1 << 20]);
        await new QemuImg().ConvertAsync(raw, "raw", Path.Combine(folder, "images", "bad.qcow2"), "qcow2");
        var wrong = new string('0', 64);
        await File.WriteAllTextAsync(Path.Combine(folder, "catalogue.json"),
            $$"""{"version":1,"apps":[{"name":"badsum","url":"images/bad.qcow2","sha256":"{{wrong}}","format":"qcow2"}]}""");
        await using var server = await MarketServer.StartAsync(folder);
        await cloud.CreateAsync("market", "create", cloud.WriteFile("mkbad.txt", $"NAME = \"badsums\"\nMARKET_MAD = \"http\"\nENDPOINT = \"{server.Url}\"\n"));
        await CloudFixture.WaitAsync(async () => (await cloud.OkAsync("marketapp", "list")).Contains(" badsum ", StringComparison.Ordinal), "the app listed");
        var ds = await cloud.CreateAsync("datastore", "create", cloud.WriteFile("fsbad.txt", "NAME = \"fsbad\"\nDS_MAD = \"fs\"\nTM_MAD = \"qcow2\"\nTYPE = \"IMAGE_DS\"\n"));

        var r = await cloud.RunAsync("marketapp", "export", "badsum", "badimg", "--datastore", ds.ToString(CultureInfo.InvariantCulture), "--wait");

        var stderr = r.Fails(255);
        Assert.Contains("Checksum mismatch", stderr, StringComparison.Ordinal);
        Assert.Contains(wrong, stderr, StringComparison.Ordinal);
        var image = int.Parse(r.Stdout.Split("ID: ")[1].Trim(), CultureInfo.InvariantCulture);
        Assert.Equal("5", (await cloud.InfoAsync("one.image.info", image)).Element("STATE")!.Value); // ERROR
    }
}
