using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using EdgeCloud.Api.XmlRpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Api.Tests.XmlRpc;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an OS-chosen port, answering with whatever the test asks:
/// canned HTTP responses, or XML-RPC answers built by our own parser and writer (so client and codec are
/// tested against each other over a real socket).
/// </summary>
internal sealed class FakeOneServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOneServer(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The XML-RPC URL (path /RPC2).</summary>
    public Uri Endpoint { get; }

    /// <summary>Every parsed call the XML-RPC handler received, in arrival order.</summary>
    public ConcurrentQueue<XmlRpcRequest> Calls { get; } = new();

    /// <summary>Raw bodies received, in arrival order.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Content-Type headers received, in arrival order.</summary>
    public ConcurrentQueue<string?> ContentTypes { get; } = new();

    /// <summary>Starts a server whose every request is handled by <paramref name="handler"/>.</summary>
    public static async Task<FakeOneServer> StartAsync(Func<HttpContext, FakeOneServer, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        FakeOneServer? server = null;
        app.Run(context => handler(context, server!));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new FakeOneServer(app, new Uri(new Uri(address), "/RPC2"));
        return server;
    }

    /// <summary>Starts a server that always answers with the given status, content type and body.</summary>
    public static Task<FakeOneServer> StartCannedAsync(int status, string? contentType, string body) =>
        StartAsync(async (context, server) =>
        {
            await server.RecordAsync(context);
            context.Response.StatusCode = status;
            if (contentType is not null)
            {
                context.Response.ContentType = contentType;
            }

            await context.Response.WriteAsync(body);
        });

    /// <summary>
    /// Starts a server that parses every call with <see cref="XmlRpcRequestParser"/> and answers with
    /// <paramref name="answer"/>; format and argument exceptions become faults, as the real front-end does.
    /// </summary>
    public static Task<FakeOneServer> StartXmlRpcAsync(Action<XmlRpcRequest, IBufferWriter<byte>> answer) =>
        StartAsync(async (context, server) =>
        {
            var body = await server.RecordAsync(context);
            var output = new ArrayBufferWriter<byte>();
            try
            {
                var call = XmlRpcRequestParser.Parse(body);
                server.Calls.Enqueue(call);
                answer(call, output);
            }
            catch (XmlRpcException ex)
            {
                output.Clear();
                XmlRpcResponseWriter.WriteFault(output, ex);
            }

            context.Response.ContentType = "text/xml; charset=utf-8";
            await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted);
        });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<byte[]> RecordAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var bytes = buffer.ToArray();
        Bodies.Enqueue(System.Text.Encoding.UTF8.GetString(bytes));
        ContentTypes.Enqueue(context.Request.ContentType);
        return bytes;
    }
}
