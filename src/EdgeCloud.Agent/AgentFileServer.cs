using System.Net;
using System.Security.Cryptography.X509Certificates;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>
/// The agent's own HTTPS endpoint for its peers in the cluster (mutual TLS: only certificates issued
/// by the same front-end CA get in). A host that receives a VM by cold migration pulls the VM's disks
/// and memory checkpoint from the host it leaves (<c>GET /vms/ID/disk.N</c>, <c>/vms/ID/checkpoint</c>,
/// with Range so a broken transfer resumes). Its address goes to the front-end with the monitoring
/// (AGENT_ENDPOINT in the host's template), so the front-end can tell a new host where to pull from.
/// </summary>
public sealed class AgentFileServer : IAsyncDisposable
{
    private readonly WebApplication _web;

    private AgentFileServer(WebApplication web, Uri advertised, CheckpointStore checkpoints)
    {
        _web = web;
        Advertised = advertised;
        Checkpoints = checkpoints;
    }

    /// <summary>As the cluster's replica host: the VM checkpoints the cluster's hosts ship here.</summary>
    public CheckpointStore Checkpoints { get; }

    /// <summary>The https URL peers use (AGENT_ENDPOINT).</summary>
    public Uri Advertised { get; }

    public static async Task<AgentFileServer> StartAsync(IPEndPoint listen, string advertiseHost, AgentIdentity identity, LocalState state, LocalDisks disks, ILoggerFactory logs, CancellationToken ct)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = state.DataDir });
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(logs);
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(listen, l => l.UseHttps(h =>
        {
            h.ServerCertificate = identity.Certificate;
            h.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            h.ClientCertificateValidation = (cert, _, _) => identity.IsIssuedByCa(cert);
        })));
        var web = builder.Build();
        web.MapMethods("/vms/{id:int}/{file}", ["GET", "HEAD"], (int id, string file) =>
        {
            // Only what a VM's migration needs, only for VMs this agent keeps: disk.N and checkpoint.
            if (state.Vm(id) is not { } vm) return Results.NotFound($"VM {id} is not on this host.\n");
            if (file != "checkpoint" && !(file.StartsWith("disk.", StringComparison.Ordinal) && int.TryParse(file.AsSpan(5), out _)))
                return Results.BadRequest($"{file}: only disk.N and checkpoint are served.\n");
            var path = Path.Combine(vm.Spec.VmDir, file);
            return File.Exists(path) ? Results.File(path, "application/octet-stream", enableRangeProcessing: true) : Results.NotFound($"{file} of VM {id} is not here.\n");
        });
        // As its cluster's replica host: base images for the other hosts of the cluster, from this host's cache.
        var log = logs.CreateLogger("replica");
        web.MapMethods("/images/{id:int}", ["GET", "HEAD"], async (HttpContext ctx, int id) =>
        {
            CacheLease lease;
            try { lease = await disks.ServeAsync(id, ctx.RequestAborted).ConfigureAwait(false); }
            catch (Exception ex) when (ex is StorageException or HttpRequestException or IOException)
            {
                ctx.Response.StatusCode = StatusCodes.Status502BadGateway;
                await ctx.Response.WriteAsync($"Image {id}: {ex.Message}\n").ConfigureAwait(false);
                return;
            }
            using (lease)
            {
                ctx.Response.Headers[ImageHeaders.Sha256] = lease.Key.Version;
                ctx.Response.Headers[ImageHeaders.Format] = lease.Format;
                if (HttpMethods.IsHead(ctx.Request.Method))
                {
                    ctx.Response.ContentLength = new FileInfo(lease.Path).Length;
                    ctx.Response.Headers.AcceptRanges = "bytes";
                    return;
                }
                log.LogInformation("Serving image {ImageId} from the replica cache to {Peer}", id, ctx.Connection.RemoteIpAddress);
                await Results.File(lease.Path, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(ctx).ConfigureAwait(false);
            }
        });
        var checkpoints = new CheckpointStore(Path.Combine(state.DataDir, "checkpoints"), disks, logs.CreateLogger("checkpoints"));
        checkpoints.Map(web);
        await web.StartAsync(ct).ConfigureAwait(false);
        var port = new Uri(web.Urls.First()).Port;
        return new AgentFileServer(web, new Uri($"https://{advertiseHost}:{port}"), checkpoints);
    }

    public async ValueTask DisposeAsync()
    {
        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Pulls a migrating VM's files from the host it leaves, and re-bases its disks onto this host's cached images.</summary>
public sealed class MigrationReceiver(LocalDisks disks)
{
    private readonly HttpClient _http = disks.Http ?? throw new ArgumentException("The disks have no HTTPS client to reach peers with.", nameof(disks));

    public async Task ReceiveAsync(VmSpec spec, Uri source, CancellationToken ct)
    {
        Directory.CreateDirectory(spec.VmDir);
        foreach (var disk in spec.Disks)
        {
            if (File.Exists(disk.Path)) continue;
            await FetchAsync(new Uri(source, $"/vms/{spec.VmId}/disk.{disk.DiskId}"), disk.Path, required: true, ct).ConfigureAwait(false);
            // A non-persistent disk is an overlay whose base is the source host's cached image: point it at ours.
            await disks.AdoptAsync(spec, disk, ct).ConfigureAwait(false);
        }
        var checkpoint = Path.Combine(spec.VmDir, "checkpoint");
        if (!File.Exists(checkpoint)) await FetchAsync(new Uri(source, $"/vms/{spec.VmId}/checkpoint"), checkpoint, required: false, ct).ConfigureAwait(false);
    }

    private async Task FetchAsync(Uri url, string path, bool required, CancellationToken ct)
    {
        var part = path + ".part";
        var have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) req.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(have, null);
        using var resp = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (resp.StatusCode == HttpStatusCode.NotFound && !required) return;
        if (!resp.IsSuccessStatusCode) throw new HostDriverException($"Migration: {url} answered HTTP {(int)resp.StatusCode}: {(await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim()}");
        var append = resp.StatusCode == HttpStatusCode.PartialContent;
        await using (var src = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false))
        await using (var dst = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write))
            await src.CopyToAsync(dst, 1 << 20, ct).ConfigureAwait(false);
        File.Move(part, path, overwrite: true);
    }
}
