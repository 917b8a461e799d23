using System.Text;
using System.Threading.Channels;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using EdgeCloud.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// MARKET_MAD "http": reads each enabled marketplace's catalogue (ENDPOINT/catalogue.json, or ENDPOINT
/// itself when it names a .json file) when the marketplace is created or enabled and then every
/// MarketRefreshInterval seconds, and lists its apps as MarketApps. Exports (one.marketapp.allocate with
/// ORIGIN_ID) copy the image into the marketplace's PUBLIC_DIR and add it to the catalogue there.
/// </summary>
public sealed class HttpMarketDriver(Func<Cloud> cloud, FrontendOptions options, HttpClient http, ImageImporter importer, ILogger<HttpMarketDriver> logger)
    : BackgroundService, IStateObserver
{
    private readonly Channel<object> _work = Channel.CreateUnbounded<object>();

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
            if (e is MarketChanged or MarketAppExportRequested or MarketAppDeleted) _work.Writer.TryWrite(e);
    }

    /// <summary>The URL of a marketplace's catalogue.</summary>
    public static Uri CatalogueUrl(Market m)
    {
        var endpoint = m.Template.Get("ENDPOINT") ?? "";
        return endpoint.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? new Uri(endpoint) : new Uri(endpoint.TrimEnd('/') + "/" + MarketCatalogue.FileName);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var state = cloud().State;
        foreach (var m in state.All<Market>(ObjectType.Market)) _work.Writer.TryWrite(new MarketChanged(m.Id));
        foreach (var a in state.All<MarketApp>(ObjectType.MarketApp).Where(a => a.State == MarketAppState.LOCKED)) _work.Writer.TryWrite(new MarketAppExportRequested(a.Id));
        _ = RefreshLoopAsync(stoppingToken);
        await foreach (var item in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                switch (item)
                {
                    case MarketChanged mc: await RefreshAsync(mc.MarketId, stoppingToken).ConfigureAwait(false); break;
                    case MarketAppExportRequested ex: _ = ExportAsync(ex.AppId, stoppingToken); break;
                    case MarketAppDeleted d: await RemoveAsync(d, stoppingToken).ConfigureAwait(false); break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "Marketplace action {Item} failed", item); }
        }
    }

    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.MarketRefreshInterval)));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                foreach (var m in cloud().State.All<Market>(ObjectType.Market))
                    _work.Writer.TryWrite(new MarketChanged(m.Id));
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Reads the catalogue and hands the apps (with absolute URLs) to the cloud.</summary>
    public async Task RefreshAsync(int marketId, CancellationToken ct)
    {
        var c = cloud();
        if (c.State.Get<Market>(ObjectType.Market, marketId) is not { State: MarketState.ENABLED } m || m.MarketMad != "http") return;
        Uri url;
        try { url = CatalogueUrl(m); }
        catch (UriFormatException ex)
        {
            await c.MarketCatalogueReadAsync(marketId, null, $"Bad ENDPOINT: {ex.Message}", ct).ConfigureAwait(false);
            return;
        }
        List<CatalogueApp> apps;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            using var resp = await http.GetAsync(url, timeout.Token).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}");
            var catalogue = MarketCatalogue.Parse(await resp.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
            apps = catalogue.Apps.Select(a => a with { Url = new Uri(url, a.Url).ToString() }).ToList();
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or FormatException or UriFormatException
                                       || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            var why = ex is OperationCanceledException ? "no answer within 30 s" : ex.Message;
            logger.LogWarning("Marketplace {MarketId}: cannot read the catalogue {Url}: {Reason}", marketId, url, why);
            await c.MarketCatalogueReadAsync(marketId, null, $"Cannot read the catalogue {url}: {why}", ct).ConfigureAwait(false);
            return;
        }
        await c.MarketCatalogueReadAsync(marketId, apps, "", ct).ConfigureAwait(false);
    }

    private async Task ExportAsync(int appId, CancellationToken ct)
    {
        var c = cloud();
        try
        {
            if (c.State.Get<MarketApp>(ObjectType.MarketApp, appId) is not { State: MarketAppState.LOCKED } app) return;
            var market = c.State.Get<Market>(ObjectType.Market, app.MarketId);
            var image = c.State.Get<Image>(ObjectType.Image, app.OriginId);
            if (market?.Template.Get("PUBLIC_DIR") is not { Length: > 0 } dir)
            {
                await c.MarketAppExportedAsync(appId, false, "", "", "", 0, "", "The marketplace has no PUBLIC_DIR.", ct).ConfigureAwait(false);
                return;
            }
            if (image is null || !File.Exists(image.Source))
            {
                await c.MarketAppExportedAsync(appId, false, "", "", "", 0, "", $"Image {app.OriginId} has no file on this front-end to export.", ct).ConfigureAwait(false);
                return;
            }
            var entry = new CatalogueApp
            {
                Name = app.Name, Version = app.Version, Description = app.Description, Format = image.Format,
                ImageTemplate = Decode(app.AppTemplate64), VmTemplate = Decode(app.Template.Get("VMTEMPLATE64") ?? ""),
            };
            try
            {
                var written = await new MarketFolder(dir).AddAsync(image.Source, entry, importer, ct).ConfigureAwait(false);
                var source = new Uri(CatalogueUrl(market), written.Url).ToString();
                await c.MarketAppExportedAsync(appId, true, source, written.Md5, written.Sha256, (written.Size + (1 << 20) - 1) >> 20, written.Format, "", ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StorageException or IOException or UnauthorizedAccessException or FormatException)
            {
                await c.MarketAppExportedAsync(appId, false, "", "", "", 0, "", $"Export to {dir} failed: {ex.Message}", ct).ConfigureAwait(false);
            }
            _work.Writer.TryWrite(new MarketChanged(market.Id));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { logger.LogError(ex, "Export of marketplace app {AppId} failed", appId); }
    }

    private async Task RemoveAsync(MarketAppDeleted d, CancellationToken ct)
    {
        if (cloud().State.Get<Market>(ObjectType.Market, d.MarketId)?.Template.Get("PUBLIC_DIR") is not { Length: > 0 } dir) return;
        await new MarketFolder(dir).RemoveAsync(d.Name, ct).ConfigureAwait(false);
    }

    private static string Decode(string b64)
    {
        if (b64.Length == 0) return "";
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(b64)); }
        catch (FormatException) { return ""; }
    }
}
