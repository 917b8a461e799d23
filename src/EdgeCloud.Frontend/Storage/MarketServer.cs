using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// A private HTTP marketplace served from a folder (<c>edgecloud market serve DIR</c>): GET/HEAD of
/// /catalogue.json and of any file below the folder, with Range support. Read-only; paths that leave the
/// folder are refused. Point a marketplace at it with MARKET_MAD = http, ENDPOINT = its URL.
/// </summary>
public sealed class MarketServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MarketServer(WebApplication app, MarketFolder folder, Uri url)
    {
        _app = app;
        Folder = folder;
        Url = url;
    }

    public MarketFolder Folder { get; }

    /// <summary>The marketplace's ENDPOINT (http://address:port/).</summary>
    public Uri Url { get; }

    public static async Task<MarketServer> StartAsync(string directory, string address = "127.0.0.1", int port = 0, ILoggerFactory? logging = null, CancellationToken ct = default)
    {
        var folder = new MarketFolder(directory);
        folder.EnsureExists();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = folder.Directory });
        builder.WebHost.UseKestrelCore().UseKestrel(k => k.Listen(IPAddress.Parse(address), port));
        builder.Services.AddRoutingCore();
        // Signals belong to the program that owns the server (edgecloud market serve), not to the host.
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var log = logging?.CreateLogger<MarketServer>();
        app.MapMethods("/{**path}", ["GET", "HEAD"], (HttpContext ctx, string? path) =>
        {
            var file = folder.Inside(Path.Combine(folder.Directory, path ?? ""));
            if (file is null || !File.Exists(file))
            {
                log?.LogInformation("{Method} /{Path} → 404", ctx.Request.Method, path);
                return Results.NotFound();
            }
            var type = file.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
            log?.LogInformation("{Method} /{Path} {Range}", ctx.Request.Method, path, ctx.Request.Headers.Range.ToString());
            return Results.File(file, type, enableRangeProcessing: true);
        });
        await app.StartAsync(ct).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MarketServer(app, folder, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    private sealed class NoLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
