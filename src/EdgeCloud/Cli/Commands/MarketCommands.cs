using System.CommandLine;
using System.Globalization;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary>
/// <c>edgecloud market</c> and <c>edgecloud marketapp</c>: marketplaces and their appliances (OpenNebula's
/// <c>onemarket</c>, <c>onemarketapp</c>), and <c>market serve</c>, a private http marketplace from a folder.
/// </summary>
public static class MarketCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "market",
        Noun = "marketplace",
        Prefix = "market",
        PoolMethod = "one.marketpool.info",
        Element = "MARKETPLACE",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("SIZE", e => Mb(D(e, "TOTAL_MB"))) { Right = true },
            new("AVAIL", e => Percent(D(e, "FREE_MB"), D(e, "TOTAL_MB"))) { Right = true },
            new("APPS", e => N(Count(e, "MARKETPLACEAPPS"))) { Right = true },
            new("MAD", e => S(e, "MARKET_MAD")),
            new("ZONE", e => S(e, "ZONE_ID")) { Right = true },
            new("STAT", e => S(e, "STATE") == "0" ? "on" : "off"),
        ],
    };

    public static readonly OneKind AppKind = new()
    {
        Command = "marketapp",
        Noun = "marketplace app",
        Prefix = "marketapp",
        PoolMethod = "one.marketapppool.info",
        PoolArgs = [-2, -1, -1],
        Element = "MARKETPLACEAPP",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("VERSION", e => S(e, "VERSION")),
            new("SIZE", e => Mb(D(e, "SIZE"))) { Right = true },
            new("STAT", e => S(e, "STATE")),
            new("TYPE", e => S(e, "TYPE")),
            new("REGTIME", e => Date(L(e, "REGTIME"))),
            new("MARKET", e => S(e, "MARKETPLACE")) { Shrink = true },
            new("ZONE", e => S(e, "ZONE_ID")) { Right = true },
        ],
    };

    public static Command Build() => Verbs.Object(Kind, "Marketplaces: catalogues of images to import, and where to export your own",
    [
        Verbs.List(Kind), Verbs.Show(Kind), Verbs.CreateFromFile(Kind), Verbs.Delete(Kind), Verbs.Update(Kind), Verbs.Rename(Kind),
        Verbs.Call(Kind, "enable", "Enable marketplaces (their catalogue is read again)", "enable", true),
        Verbs.Call(Kind, "disable", "Disable marketplaces", "enable", false),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
        Serve(),
    ]);

    public static Command BuildApps() => Verbs.Object(AppKind, "Marketplace appliances: list, import (export to a datastore), publish images",
    [
        Verbs.List(AppKind), Verbs.Show(AppKind), Export(), CreateFromImage(), Verbs.Delete(AppKind), Verbs.Update(AppKind), Verbs.Rename(AppKind),
        Verbs.Call(AppKind, "enable", "Enable apps", "enable", true),
        Verbs.Call(AppKind, "disable", "Disable apps (they cannot be imported)", "enable", false),
        .. Verbs.Ownership(AppKind, UserCommands.Kind, GroupCommands.Kind),
        .. Verbs.Locking(AppKind),
    ]);

    /// <summary>
    /// <c>edgecloud market serve DIR</c>: a private HTTP marketplace from a folder (catalogue.json + images/),
    /// until interrupted. --scan first lists the image files of DIR/images the catalogue does not list yet.
    /// </summary>
    private static Command Serve()
    {
        var dir = new Argument<string>("DIR") { Description = "Folder with catalogue.json and images/ (created if missing)" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port", DefaultValueFactory = _ => 8080, HelpName = "PORT" };
        var address = Verbs.Text("--listen", "Address to listen on (default 127.0.0.1)", "ADDRESS");
        var scan = Verbs.Flag("--scan", "Add the image files of DIR/images that the catalogue does not list (checksums and format computed)");
        return Verbs.Make("serve", "Serve a folder as a private http marketplace (ENDPOINT for MARKET_MAD = http)", [dir, port, address, scan], async c =>
        {
            var folder = new EdgeCloud.Frontend.Storage.MarketFolder(c.Get(dir)!);
            if (c.Get(scan))
            {
                var qemu = EdgeCloud.Storage.QemuImg.IsAvailable() ? new EdgeCloud.Storage.QemuImg() : null;
                var added = await folder.ScanAsync(qemu, c.Ct).ConfigureAwait(false);
                CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{added} image(s) added to {folder.CataloguePath}"));
            }
            await using var server = await EdgeCloud.Frontend.Storage.MarketServer.StartAsync(folder.Directory, c.Get(address) ?? "127.0.0.1", c.Get(port), null, c.Ct).ConfigureAwait(false);
            CliContext.Out.WriteLine($"Serving {folder.Directory} as {server.Url} (catalogue: {server.Url}{EdgeCloud.Core.Objects.MarketCatalogue.FileName}); Ctrl+C stops.");
            CliContext.Out.Flush();
            // Runs until SIGINT/SIGTERM (as `edgecloud frontend`), then stops the listener cleanly.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(c.Ct);
            using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, s => { s.Cancel = true; stop.Cancel(); });
            using var intr = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, s => { s.Cancel = true; stop.Cancel(); });
            try { await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        });
    }

    /// <summary>
    /// <c>edgecloud marketapp export APP NAME --datastore DS</c>, as OpenNebula's <c>onemarketapp export</c>: an image
    /// allocated with FROM_APP (the front-end downloads and checks it), then a VM template from the app's
    /// VMTEMPLATE64 with that image as its disk (unless --no-template).
    /// </summary>
    private static Command Export()
    {
        var app = Verbs.Id(AppKind, "APP");
        var name = new Argument<string>("NAME") { Description = "Name of the new image and VM template" };
        var datastore = new Option<string>("--datastore", "-d") { Description = "Image datastore to import into", Required = true, HelpName = "DATASTORE" };
        var noTemplate = Verbs.Flag("--no-template", "Do not create the VM template");
        var wait = Verbs.Flag("--wait", "Wait until the image is READY (a progress bar on a terminal); fail if it ends in ERROR");
        return Verbs.Make("export", "Import an app: its image into a datastore, and its VM template", [app, name, datastore, noTemplate, wait], async c =>
        {
            var id = await c.ResolveAsync(AppKind, c.Get(app)!).ConfigureAwait(false);
            var info = await c.InfoAsync(AppKind, id).ConfigureAwait(false);
            var ds = await c.ResolveAsync(DatastoreCommands.Kind, c.Get(datastore)!).ConfigureAwait(false);
            var imageName = c.Get(name)!;
            var image = await c.CallIntAsync("one.image.allocate", $"NAME = \"{Esc(imageName)}\"\nFROM_APP = \"{id}\"\n", ds, false).ConfigureAwait(false);
            CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"IMAGE\n    ID: {image}"));
            var vm64 = S(info, "TEMPLATE/VMTEMPLATE64");
            if (!c.Get(noTemplate) && vm64.Length > 0)
            {
                var template = await CreateTemplateAsync(c, vm64, imageName, image).ConfigureAwait(false);
                CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"VMTEMPLATE\n    ID: {template}"));
            }
            if (c.Get(wait)) await ImageCommands.WaitReadyAsync(c, image).ConfigureAwait(false);
        });
    }

    /// <summary>The app's VM template (VMTEMPLATE64) named NAME, with the imported image as its DISK.</summary>
    private static async Task<int> CreateTemplateAsync(CliContext c, string vm64, string imageName, int image)
    {
        var t = EdgeCloud.Core.Templates.Template.Parse(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(vm64)));
        t.Set("NAME", imageName);
        var disk = new EdgeCloud.Core.Templates.VectorAttribute("DISK");
        disk.Set("IMAGE_ID", image.ToString(CultureInfo.InvariantCulture));
        t.Add(disk);
        return await c.CallIntAsync("one.template.allocate", t.ToText()).ConfigureAwait(false);
    }

    /// <summary><c>edgecloud marketapp create --image IMG --market M NAME</c>: publish an image into a private marketplace.</summary>
    private static Command CreateFromImage()
    {
        var name = new Argument<string>("NAME") { Description = "Name of the app" };
        var image = new Option<string>("--image") { Description = "Image to publish", Required = true, HelpName = "IMAGE" };
        var market = new Option<string>("--market", "-m") { Description = "Marketplace (with a PUBLIC_DIR)", Required = true, HelpName = "MARKET" };
        var version = Verbs.Text("--version", "Version of the app", "VERSION");
        var description = Verbs.Text("--description", "Description of the app", "TEXT");
        return Verbs.Make("create", "Publish an image as an app of a private marketplace", [name, image, market, version, description], async c =>
        {
            var img = await c.ResolveAsync(ImageCommands.Kind, c.Get(image)!).ConfigureAwait(false);
            var m = await c.ResolveAsync(Kind, c.Get(market)!).ConfigureAwait(false);
            var text = $"NAME = \"{Esc(c.Get(name)!)}\"\nORIGIN_ID = \"{img}\"\n"
                       + (c.Get(version) is { } v ? $"VERSION = \"{Esc(v)}\"\n" : "") + (c.Get(description) is { } d ? $"DESCRIPTION = \"{Esc(d)}\"\n" : "");
            Verbs.PrintId(await c.CallIntAsync("one.marketapp.allocate", text, m).ConfigureAwait(false));
        });
    }

    private static string Esc(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
