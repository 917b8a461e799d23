using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Marketplaces as a user runs them, every piece a process: a catalogue folder published by
/// <c>edgecloud market serve</c>, a front-end with a kvm host agent, and the <c>edgecloud</c> CLI. An
/// appliance (the tiny test guest's disk) is imported with <c>marketapp export</c> and its VM template
/// instantiated: the VM boots. The served file is then corrupted: a second import ends in ERROR naming
/// the checksum mismatch, and the datastore holds exactly what it held before.
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class MarketplaceEndToEndTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools;
    private const int Active = 3, Running = 3, Done = 6, ImageReady = 1, ImageError = 5, ImageLocked = 4;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-market-");

    public MarketplaceEndToEndTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task ApplianceFromAPrivateMarketplace_Boots_AndACorruptedDownloadIsRejectedByChecksum()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();

        // ---- the catalogue folder, as a publisher writes it by hand (docs/storage.md, "Catalogue format")
        var folder = Path.Combine(_work.Path, "market");
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        var served = Path.Combine(folder, "images", "tiny-1.0.qcow2");
        File.Copy(guest.Disk, served);
        var bytes = await File.ReadAllBytesAsync(served);
        var (sha256, md5) = await EdgeCloud.Storage.ImageImporter.DigestsAsync(served, CancellationToken.None);
        var catalogue = new
        {
            version = 1,
            apps = new[]
            {
                new
                {
                    name = "tiny", version = "1.0", description = "The tiny test guest (boots to a serial marker)",
                    url = "images/tiny-1.0.qcow2",
                    sha256, md5,
                    size = bytes.LongLength, format = "qcow2",
                    image_template = "DEV_PREFIX = \"vd\"",
                    vm_template = "CPU = \"0.5\"\nVCPU = \"1\"\nMEMORY = \"96\"",
                },
            },
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "catalogue.json"), JsonSerializer.Serialize(catalogue));

        // ---- edgecloud market serve DIR
        var marketPort = FrontendProcess.FreePort();
        await using var server = ProcessHandle.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgecloud.dll"), "market", "serve", folder, "--port", marketPort.ToString(CultureInfo.InvariantCulture)]);
        await Wait.ForAsync(() => Task.FromResult(server.Output.Contains("Serving ", StringComparison.Ordinal) || server.HasExited), "market serve listening", TimeSpan.FromSeconds(60));
        Assert.False(server.HasExited, server.Output);

        // ---- a front-end with one kvm host
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        var (hostId, token) = await AddHostAsync(c, "kvm-host");
        var agentDir = Path.Combine(_work.Path, "agent");
        await using var agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "kvm");
        string Logs() => $"agent:\n{agent.Output}\n--- front-end:\n{fe.Output}\n--- market serve:\n{server.Output}";
        try
        {
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(60), Logs);

            // ---- the marketplace (one.market.allocate, MARKET_MAD = http) and an fs image datastore, with the CLI
            var mkFile = Path.Combine(_work.Path, "market.tpl");
            await File.WriteAllTextAsync(mkFile, $"NAME = \"private\"\nMARKET_MAD = \"http\"\nENDPOINT = \"http://127.0.0.1:{marketPort}/\"\n");
            var created = await Cli(fe, "market", "create", mkFile);
            var market = created.Id();
            var dsFile = Path.Combine(_work.Path, "ds.tpl");
            await File.WriteAllTextAsync(dsFile, "NAME = \"images\"\nDS_MAD = \"fs\"\nTM_MAD = \"qcow2\"\nTYPE = \"IMAGE_DS\"\n");
            var ds = (await Cli(fe, "datastore", "create", dsFile)).Id();

            // The marketplace's apps appear.
            CliProcess.Result list = null!;
            await Wait.ForAsync(async () => (list = await Cli(fe, "marketapp", "list")).Stdout.Contains(" tiny ", StringComparison.Ordinal),
                "the app listed by `marketapp list`", TimeSpan.FromSeconds(60));
            Assert.Matches(@"(?m)^\s*\d+\s+tiny\s+1\.0\s", list.Stdout);
            var app = XElement.Parse(await c.CallStringAsync("one.marketapp.info", int.Parse(Regex.Match(list.Stdout, @"(?m)^\s*(\d+)\s+tiny\s").Groups[1].Value, CultureInfo.InvariantCulture)));
            Assert.Equal(market, (int)app.Element("MARKETPLACE_ID")!);
            Assert.Equal($"http://127.0.0.1:{marketPort}/images/tiny-1.0.qcow2", app.Element("SOURCE")!.Value);

            // ---- import: an image in the datastore and a VM template with it (onemarketapp export)
            var export = await Cli(fe, "marketapp", "export", "tiny", "tiny", "--datastore", "images", "--wait");
            var image = export.IdUnder("IMAGE");
            var template = export.IdUnder("VMTEMPLATE");
            Assert.Contains($"IMAGE {image}: READY", export.Stdout, StringComparison.Ordinal);
            var img = XElement.Parse(await c.CallStringAsync("one.image.info", image));
            Assert.Equal(ImageReady, (int)img.Element("STATE")!);
            Assert.Equal("qcow2", img.Element("FORMAT")!.Value);
            Assert.Equal(catalogue.apps[0].sha256, img.Element("TEMPLATE")!.Element("SHA256")!.Value);
            Assert.Equal("vd", img.Element("TEMPLATE")!.Element("DEV_PREFIX")!.Value);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(img.Element("SOURCE")!.Value));

            // ---- instantiate the template: the appliance boots on the kvm host
            var vm = (await Cli(fe, "template", "instantiate", template.ToString(CultureInfo.InvariantCulture))).Id("VM ID");
            _work.Own($"one-{vm}");
            await WaitVmAsync(c, vm, Active, Running, TimeSpan.FromSeconds(120), Logs);
            var console = Path.Combine(agentDir, "datastores", "0", vm.ToString(CultureInfo.InvariantCulture), "console.log");
            await Wait.ForAsync(() => Task.FromResult(File.Exists(console) && File.ReadAllText(console).Contains(TestGuestImage.BootMarker, StringComparison.Ordinal)),
                $"{TestGuestImage.BootMarker} on the VM's console", TimeSpan.FromSeconds(120));

            // ---- the served file is corrupted (same length, other bytes): the import is refused by checksum
            var dsDir = Path.Combine(fe.DataDir, "datastores", ds.ToString(CultureInfo.InvariantCulture));
            var filesBefore = Files(dsDir);
            var usedBefore = await UsedMbAsync(c, ds);
            await using (var f = new FileStream(served, FileMode.Open, FileAccess.Write))
            {
                f.Position = bytes.Length / 2;
                await f.WriteAsync(RandomNumberGenerator.GetBytes(4096));
            }
            var bad = await CliFails(fe, "marketapp", "export", "tiny", "tiny-corrupt", "--datastore", "images", "--no-template", "--wait");
            Assert.Equal(255, bad.Code); // a server-side error, as OpenNebula's CLI exits
            Assert.Contains("Checksum mismatch", bad.Stderr, StringComparison.Ordinal);
            var badImage = bad.IdUnder("IMAGE");
            var badXml = XElement.Parse(await c.CallStringAsync("one.image.info", badImage));
            Assert.Equal(ImageError, (int)badXml.Element("STATE")!);
            var error = badXml.Element("TEMPLATE")!.Element("ERROR")!.Value;
            Assert.Contains("Checksum mismatch", error, StringComparison.Ordinal);
            Assert.Contains(catalogue.apps[0].sha256, error, StringComparison.Ordinal); // names the expected digest
            Assert.Equal("", badXml.Element("SOURCE")!.Value);
            // Nothing half-written: only the first image is READY, the datastore holds the same files and usage.
            var pool = XElement.Parse(await c.CallStringAsync("one.imagepool.info", -2, -1, -1));
            Assert.Equal([image], pool.Elements("IMAGE").Where(i => (int)i.Element("STATE")! is ImageReady or 2).Select(i => (int)i.Element("ID")!));
            Assert.Equal(filesBefore, Files(dsDir));
            Assert.Equal(usedBefore, await UsedMbAsync(c, ds));

            // ---- terminate: the guest is gone
            await c.CallIntAsync("one.vm.action", "terminate-hard", vm);
            await WaitVmAsync(c, vm, Done, -1, TimeSpan.FromSeconds(60), Logs);
            Assert.DoesNotContain($"one-{vm}", Virsh("list", "--all", "--name"), StringComparison.Ordinal);
            _work.Gone($"one-{vm}");
        }
        catch
        {
            _out.WriteLine(Logs());
            throw;
        }
    }

    /// <summary>
    /// A long import from a marketplace shows its progress: the image is LOCKED with TRANSFER_PROGRESS
    /// between 0 and 100 % while the (slow) download runs, and <c>marketapp export --wait</c> on a terminal
    /// draws a progress bar, then READY.
    /// </summary>
    [HostFact(HostNeeds.Qemu)]
    public async Task SlowMarketImport_ShowsPercentOnTheImage_AndAProgressBarInTheCli()
    {
        HostPrerequisites.Require(HostNeeds.Qemu);
        var raw = Path.Combine(_work.Path, "img.raw");
        await File.WriteAllBytesAsync(raw, RandomNumberGenerator.GetBytes(4 << 20));
        var qcow = Path.Combine(_work.Path, "img.qcow2");
        using (var p = Process.Start("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow])) await p.WaitForExitAsync();
        var bytes = await File.ReadAllBytesAsync(qcow);

        // A marketplace whose image comes in 10 slices, 500 ms apart (~5 s in all).
        var port = FrontendProcess.FreePort();
        using var http = new HttpListener();
        http.Prefixes.Add($"http://127.0.0.1:{port}/");
        http.Start();
        var catalogue = JsonSerializer.Serialize(new
        {
            version = 1,
            apps = new[] { new { name = "slow", url = "slow.qcow2", sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.LongLength, format = "qcow2" } },
        });
        using var stop = new CancellationTokenSource();
        var serving = ServeSlowlyAsync(http, catalogue, bytes, stop.Token);

        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        await c.CallIntAsync("one.market.allocate", $"NAME=slow\nMARKET_MAD=http\nENDPOINT=\"http://127.0.0.1:{port}/\"");
        var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
        await Wait.ForAsync(async () => XElement.Parse(await c.CallStringAsync("one.marketapppool.info", -2, -1, -1)).Elements("MARKETPLACEAPP").Any(),
            "the app listed", TimeSpan.FromSeconds(30));

        var cli = CliProcess.RunOnTerminalAsync(fe, "marketapp", "export", "slow", "slow", "--datastore", ds.ToString(CultureInfo.InvariantCulture), "--wait");
        // While the download runs, the API shows how far it is.
        var seen = new SortedSet<int>();
        await Wait.ForAsync(async () =>
        {
            var pool = XElement.Parse(await c.CallStringAsync("one.imagepool.info", -2, -1, -1));
            foreach (var i in pool.Elements("IMAGE").Where(i => (int)i.Element("STATE")! == ImageLocked))
                if (int.TryParse(i.Element("TEMPLATE")?.Element("TRANSFER_PROGRESS")?.Value, CultureInfo.InvariantCulture, out var pct)) seen.Add(pct);
            return seen.Any(p => p is > 0 and < 100) || cli.IsCompleted;
        }, "TRANSFER_PROGRESS between 0 and 100 on the LOCKED image", TimeSpan.FromSeconds(60));
        var result = await cli;
        stop.Cancel();
        var output = result.Output;
        Assert.True(result.Code == 0, output);
        Assert.Contains(seen, p => p is > 0 and < 100);
        // The bar as drawn on the terminal: at least one intermediate state, then READY.
        var bars = Regex.Matches(output, @"IMAGE (\d+) \[([#.]{30})\] +(\d+)%").Select(m => int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(bars, p => p is > 0 and < 100);
        var image = int.Parse(Regex.Match(output, @"IMAGE (\d+): READY").Groups[1].Value, CultureInfo.InvariantCulture);
        var ready = XElement.Parse(await c.CallStringAsync("one.image.info", image));
        Assert.Equal(ImageReady, (int)ready.Element("STATE")!);
        Assert.Null(ready.Element("TEMPLATE")!.Element("TRANSFER_PROGRESS"));
        http.Stop();
        try { await serving; } catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or OperationCanceledException) { }
    }

    private static async Task ServeSlowlyAsync(HttpListener http, string catalogue, byte[] image, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var ctx = await http.GetContextAsync();
            _ = Task.Run(async () =>
            {
                try
                {
                    if (ctx.Request.Url!.AbsolutePath.EndsWith("catalogue.json", StringComparison.Ordinal))
                    {
                        var body = System.Text.Encoding.UTF8.GetBytes(catalogue);
                        ctx.Response.ContentLength64 = body.Length;
                        await ctx.Response.OutputStream.WriteAsync(body, ct);
                    }
                    else if (ctx.Request.Url.AbsolutePath == "/slow.qcow2")
                    {
                        ctx.Response.ContentLength64 = image.Length;
                        var slice = (image.Length / 10) + 1;
                        for (var at = 0; at < image.Length; at += slice)
                        {
                            await ctx.Response.OutputStream.WriteAsync(image.AsMemory(at, Math.Min(slice, image.Length - at)), ct);
                            await ctx.Response.OutputStream.FlushAsync(ct);
                            await Task.Delay(500, ct);
                        }
                    }
                    else ctx.Response.StatusCode = 404;
                    ctx.Response.Close();
                }
                catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException) { }
            }, ct);
        }
    }

    /// <summary>`edgecloud ARGS`, which must succeed (exit code 0).</summary>
    private static async Task<CliProcess.Result> Cli(FrontendProcess fe, params string[] args)
    {
        var r = await CliProcess.RunAsync(fe, args);
        if (r.Code != 0) throw new InvalidOperationException($"edgecloud {string.Join(' ', args)} exited with {r.Code}:\n{r.Output}");
        return r;
    }

    /// <summary>`edgecloud ARGS`, which must fail (exit code not 0).</summary>
    private static async Task<CliProcess.Result> CliFails(FrontendProcess fe, params string[] args)
    {
        var r = await CliProcess.RunAsync(fe, args);
        if (r.Code == 0) throw new InvalidOperationException($"edgecloud {string.Join(' ', args)} succeeded; it should have failed:\n{r.Output}");
        return r;
    }

    private static async Task<long> UsedMbAsync(OneClient c, int ds) =>
        (long)XElement.Parse(await c.CallStringAsync("one.datastore.info", ds, false)).Element("USED_MB")!;

    private static List<string> Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length}").Order(StringComparer.Ordinal).ToList();

}
