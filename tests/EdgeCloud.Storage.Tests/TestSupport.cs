using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Storage.Tests;

/// <summary>A temporary directory deleted at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("edgecloud-storage-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

public static class Images
{
    /// <summary>A qcow2 image holding <paramref name="megabytes"/> MiB of random data (so it is not sparse and not tiny).</summary>
    public static async Task<string> QcowAsync(string path, int megabytes = 3)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var raw = path + ".src.raw";
        var data = new byte[megabytes << 20];
        Random.Shared.NextBytes(data);
        await File.WriteAllBytesAsync(raw, data);
        await Tools.Qemu.ConvertAsync(raw, "raw", path, "qcow2");
        File.Delete(raw);
        return path;
    }

    /// <summary>The first half of a file, as an interrupted copy leaves it.</summary>
    public static string Truncated(string source, string path)
    {
        var bytes = File.ReadAllBytes(source);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        return path;
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}

/// <summary>
/// A local HTTP server over a directory: GET/HEAD /files/NAME with Range support. It counts the body bytes
/// it sent, and can be told to cut the connection of the next request after some bytes (an interrupted download).
/// </summary>
public sealed class FileServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _bytesSent;
    private long _cutNextAfter = -1;

    public ConcurrentQueue<string?> RangeHeaders { get; } = new();

    public int Requests => RangeHeaders.Count;

    private FileServer(WebApplication app, string root)
    {
        _app = app;
        Root = root;
    }

    public string Root { get; }

    public Uri BaseUri { get; private set; } = null!;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public string Url(string name) => new Uri(BaseUri, "files/" + name).ToString();

    /// <summary>The next GET sends this many body bytes, then the connection is aborted.</summary>
    public void CutNextAfter(long bytes) => Interlocked.Exchange(ref _cutNextAfter, bytes);

    public static async Task<FileServer> StartAsync(string root)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FileServer(app, root);
        app.MapMethods("/files/{name}", ["GET", "HEAD"], server.ServeAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address + "/");
        return server;
    }

    private async Task ServeAsync(HttpContext ctx, string name)
    {
        var path = Path.Combine(Root, name);
        if (!File.Exists(path)) { ctx.Response.StatusCode = 404; return; }
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            ctx.Response.ContentLength = new FileInfo(path).Length;
            return;
        }
        RangeHeaders.Enqueue(ctx.Request.Headers.Range.ToString() is { Length: > 0 } r ? r : null);
        var bytes = await File.ReadAllBytesAsync(path);
        long start = 0;
        if (ctx.Request.Headers.Range.ToString() is { Length: > 0 } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = long.Parse(range[6..].TrimEnd('-').Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        ctx.Response.ContentLength = bytes.Length - start;
        var cut = Interlocked.Exchange(ref _cutNextAfter, -1);
        var send = cut >= 0 ? Math.Min(cut, bytes.Length - start) : bytes.Length - start;
        await ctx.Response.Body.WriteAsync(bytes.AsMemory((int)start, (int)send));
        Interlocked.Add(ref _bytesSent, send);
        if (cut >= 0)
        {
            await ctx.Response.Body.FlushAsync();
            ctx.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
