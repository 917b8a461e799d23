using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;
using EdgeCloud.Frontend.Storage;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Marketplaces: a folder served by `edgecloud market serve` (MarketServer), an http marketplace over it,
/// its apps listed, imported as OpenNebula's `onemarketapp export` does (image with FROM_APP + VM template),
/// a corrupted download rejected by checksum, exports to a private marketplace, permissions, XSD.
/// </summary>
public sealed class MarketplaceTests(SqliteFrontend fixture) : ApiSuite(fixture), IClassFixture<SqliteFrontend>, IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgecloud-market-").FullName;
    private MarketServer _server = null!;
    private string _image = "";

    public async Task InitializeAsync()
    {
        _server = await MarketServer.StartAsync(Path.Combine(_dir, "market"));
        _image = Path.Combine(_dir, "market", "images", "tiny.qcow2");
        var raw = Path.Combine(_dir, "tiny.raw");
        var data = new byte[2 << 20];
        Random.Shared.NextBytes(data);
        await File.WriteAllBytesAsync(raw, data);
        await StorageFactAttribute.Qemu.ConvertAsync(raw, "raw", _image, "qcow2");
        await File.WriteAllBytesAsync(Path.Combine(_dir, "market", "images", "broken.qcow2"), await File.ReadAllBytesAsync(_image));
        var catalogue = new MarketCatalogue
        {
            Apps =
            [
                new CatalogueApp
                {
                    Name = "tiny", Version = "1.0", Description = "A tiny test image", Url = "images/tiny.qcow2", Sha256 = Sha256(_image),
                    Size = new FileInfo(_image).Length, Format = "qcow2", ImageTemplate = "DEV_PREFIX = \"vd\"", VmTemplate = "CPU = \"0.1\"\nMEMORY = \"64\"",
                },
                new CatalogueApp { Name = "broken", Version = "1", Url = "images/broken.qcow2", Sha256 = new string('0', 64), Format = "qcow2" },
            ],
        };
        await File.WriteAllTextAsync(Path.Combine(_dir, "market", MarketCatalogue.FileName), catalogue.ToJson());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private async Task<int> MarketAsync(string extra = "") =>
        await Admin.CallIntAsync("one.market.allocate", $"NAME = \"{Unique("mk")}\"\nMARKET_MAD = \"http\"\nENDPOINT = \"{_server.Url}\"\n{extra}");

    private async Task<Dictionary<string, XElement>> AppsAsync(int market, int count) =>
        (await Wait.ForAsync(() => Admin.InfoAsync("one.marketapppool.info", -2, -1, -1),
            p => p.Entries().Count(e => e.Int("MARKETPLACE_ID") == market) == count, $"{count} apps in marketplace {market}"))
        .Entries().Where(e => e.Int("MARKETPLACE_ID") == market).ToDictionary(e => e.Str("NAME"));

    private async Task<int> FsDatastoreAsync() =>
        await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("fs")}\"\nDS_MAD = \"fs\"\nTM_MAD = \"qcow2\"\nTYPE = \"IMAGE_DS\"\n", -1);

    private async Task<XElement> SettledImageAsync(int image) =>
        await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", image), i => i.Int("STATE") is 1 or 5, $"image {image} READY or ERROR");

    /// <summary>What `onemarketapp export APP NAME -d DS` does: an image FROM_APP, then the app's VM template with that image.</summary>
    private async Task<(int Image, int Template)> ExportAsync(int app, int ds, string name)
    {
        var info = await Admin.InfoAsync("one.marketapp.info", app, false);
        var image = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{name}\"\nFROM_APP = \"{app}\"\n", ds, false);
        var vm64 = info.Has("TEMPLATE/VMTEMPLATE64") ? info.Str("TEMPLATE/VMTEMPLATE64") : "";
        if (vm64.Length == 0) return (image, -1);
        var t = Template.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(vm64)));
        t.Set("NAME", name);
        var disk = new VectorAttribute("DISK");
        disk.Set("IMAGE_ID", image.ToString(CultureInfo.InvariantCulture));
        t.Add(disk);
        return (image, await Admin.CallIntAsync("one.template.allocate", t.ToText()));
    }

    [StorageFact]
    public async Task ServedCatalogue_AppsListed_XmlValidates()
    {
        var market = await MarketAsync();

        var apps = await AppsAsync(market, 2);

        var tiny = apps["tiny"];
        var fileMb = (int)((new FileInfo(_image).Length + (1 << 20) - 1) >> 20); // SIZE: the download, MiB rounded up
        Assert.Equal((1, 1, "1.0", "qcow2", fileMb), (tiny.Int("STATE"), tiny.Int("TYPE"), tiny.Str("VERSION"), tiny.Str("FORMAT"), tiny.Int("SIZE")));
        Assert.Equal($"{_server.Url}images/tiny.qcow2", tiny.Str("SOURCE"));
        Assert.Equal("DEV_PREFIX = \"vd\"", Encoding.UTF8.GetString(Convert.FromBase64String(tiny.Str("APPTEMPLATE64"))));
        var m = await Admin.InfoAsync("one.market.info", market, false);
        Assert.Equal(("http", 0), (m.Str("MARKET_MAD"), m.Int("STATE")));
        Assert.Equal(apps.Values.Select(a => a.Int("ID")).Order().ToList(), m.Ids("MARKETPLACEAPPS"));
        Schemas.AssertValid(m.ToString(), "marketplace.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.marketpool.info")).ToString(), "marketplace_pool.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.marketapp.info", tiny.Int("ID"), false)).ToString(), "marketplaceapp.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.marketapppool.info", -2, -1, -1)).ToString(), "marketplaceapp_pool.xsd");
    }

    [StorageFact]
    public async Task Import_ImageReadyAndTemplateWithIt()
    {
        var market = await MarketAsync();
        var tiny = (await AppsAsync(market, 2))["tiny"].Int("ID");
        var ds = await FsDatastoreAsync();

        var (image, template) = await ExportAsync(tiny, ds, Unique("tiny"));

        var img = await SettledImageAsync(image);
        Assert.Equal((1, 2, "qcow2"), (img.Int("STATE"), img.Int("SIZE"), img.Str("FORMAT")));
        Assert.Equal((Sha256(_image), "vd", "tiny"), (img.Str("TEMPLATE/SHA256"), img.Str("TEMPLATE/DEV_PREFIX"), img.Str("TEMPLATE/FROM_APP_NAME")));
        Assert.Equal(Sha256(_image), Sha256(img.Str("SOURCE")));
        var t = await Admin.InfoAsync("one.template.info", template, false);
        Assert.Equal((image, "64"), (t.Int("TEMPLATE/DISK/IMAGE_ID"), t.Str("TEMPLATE/MEMORY")));
    }

    [StorageFact]
    public async Task Import_CorruptedDownload_ImageErrorByChecksum()
    {
        var market = await MarketAsync();
        var broken = (await AppsAsync(market, 2))["broken"].Int("ID");
        var ds = await FsDatastoreAsync();

        var (image, _) = await ExportAsync(broken, ds, Unique("broken"));

        var img = await SettledImageAsync(image);
        Assert.Equal(5, img.Int("STATE"));
        Assert.StartsWith($"Checksum mismatch for {_server.Url}images/broken.qcow2: SHA256 is ", img.Str("TEMPLATE/ERROR"));
    }

    [StorageFact]
    public async Task ExportToAPrivateMarketplace_ListedInItsCatalogueAndImportable()
    {
        var ds = await FsDatastoreAsync();
        var (image, _) = await ExportAsync((await AppsAsync(await MarketAsync(), 2))["tiny"].Int("ID"), ds, Unique("src"));
        await SettledImageAsync(image);
        var market = await MarketAsync($"PUBLIC_DIR = \"{Path.Combine(_dir, "market")}\"");
        await AppsAsync(market, 2);
        var name = Unique("mine");

        var app = await Admin.CallIntAsync("one.marketapp.allocate", $"NAME = \"{name}\"\nORIGIN_ID = \"{image}\"\nVERSION = \"2\"\nDESCRIPTION = \"exported\"\n", market);

        var ready = await Wait.ForAsync(() => Admin.InfoAsync("one.marketapp.info", app, false), a => a.Int("STATE") is 1 or 3, "the export READY or ERROR");
        Assert.Equal(1, ready.Int("STATE"));
        Assert.Equal($"{_server.Url}images/{name}-2.qcow2", ready.Str("SOURCE"));
        Assert.Equal(Sha256(_image), ready.Str("TEMPLATE/SHA256"));
        var catalogue = MarketCatalogue.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "market", MarketCatalogue.FileName)));
        Assert.Contains(catalogue.Apps, a => a.Name == name && a.Sha256 == Sha256(_image));
        await AppsAsync(market, 3); // the refreshed catalogue lists it, as the same app
        var (again, _) = await ExportAsync(app, ds, Unique("again"));
        Assert.Equal(1, (await SettledImageAsync(again)).Int("STATE"));

        await Admin.CallIntAsync("one.marketapp.delete", app);
        await Wait.ForAsync(() => Task.FromResult(!File.Exists(Path.Combine(_dir, "market", "images", $"{name}-2.qcow2"))), "the exported file removed");
    }

    [StorageFact]
    public async Task Permissions_UsersSeeAndUseApps_OnlyAdminsManageMarketplaces()
    {
        var market = await MarketAsync();
        var tiny = (await AppsAsync(market, 2))["tiny"].Int("ID");
        var (_, user) = await NewUserAsync(null, 1);

        Assert.Contains(tiny, (await user.InfoAsync("one.marketapppool.info", -2, -1, -1)).EntryIds());
        await FailsAsync(() => user.CallAsync("one.market.allocate", "NAME = \"x\"\nMARKET_MAD = \"http\"\nENDPOINT = \"http://127.0.0.1:1/\""), Err.Authorization);
        await FailsAsync(() => user.CallAsync("one.market.delete", market), Err.Authorization);
        await FailsAsync(() => user.CallAsync("one.marketapp.delete", tiny), Err.Authorization);

        await Admin.CallIntAsync("one.market.rename", market, Unique("renamed"));
        await Admin.CallIntAsync("one.market.chmod", market, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await Admin.CallIntAsync("one.marketapp.lock", tiny, 1, false);
        await FailsAsync(() => Admin.CallAsync("one.marketapp.update", tiny, "X = 1", 1), Err.Locked);
        await Admin.CallIntAsync("one.marketapp.unlock", tiny);
        await Admin.CallIntAsync("one.marketapp.enable", tiny, false);
        Assert.Equal(4, (await Admin.InfoAsync("one.marketapp.info", tiny, false)).Int("STATE"));
        await FailsAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{Unique("x")}\"\nFROM_APP = \"{tiny}\"\n", 1, false), Err.Allocate, "DISABLED, not READY");
        await Admin.CallIntAsync("one.market.enable", market, false);
        Assert.Equal(1, (await Admin.InfoAsync("one.market.info", market, false)).Int("STATE"));
    }

    [StorageFact]
    public async Task BadMarketplaces_ClearErrors()
    {
        await FailsAsync(() => Admin.CallAsync("one.market.allocate", "NAME = \"x\"\nMARKET_MAD = \"s3\"\nENDPOINT = \"http://h/\""), Err.Allocate, "Unknown MARKET_MAD \"s3\"");
        await FailsAsync(() => Admin.CallAsync("one.market.allocate", "NAME = \"x\"\nMARKET_MAD = \"http\""), Err.Allocate, "needs ENDPOINT");

        var unreachable = await Admin.CallIntAsync("one.market.allocate", $"NAME = \"{Unique("down")}\"\nMARKET_MAD = \"http\"\nENDPOINT = \"{_server.Url}nothing-here/\"\n");

        var m = await Wait.ForAsync(() => Admin.InfoAsync("one.market.info", unreachable, false), x => x.Has("TEMPLATE/ERROR"), "the marketplace's ERROR");
        Assert.Contains("HTTP 404", m.Str("TEMPLATE/ERROR"));
        await FailsAsync(() => Admin.CallAsync("one.marketapp.allocate", $"NAME = \"x\"\nORIGIN_ID = \"0\"\n", unreachable), Err.Allocate, "has no PUBLIC_DIR");
    }
}
