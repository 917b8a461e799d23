using System.Buffers;
using System.Diagnostics;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using EdgeCloud.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Api.OneApi;

/// <summary>
/// POST /RPC2: OpenNebula's wire format. Protocol problems (malformed XML, unknown method, wrong
/// argument types) are XML-RPC faults; application errors are the 5-element failure array with
/// "[method] message" and OpenNebula's error code. Nothing a client sends can crash the daemon:
/// every exception ends as one of those two answers.
/// </summary>
public sealed class XmlRpcEndpoint(Cloud cloud, OneMethods methods, XmlCache cache, ILogger<XmlRpcEndpoint> logger, IWriteForwarder? forwarder = null)
{
    private const string ContentType = "text/xml; charset=utf-8";

    public async Task HandleAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = ContentType;
        var output = http.Response.BodyWriter;
        XmlRpcRequest request;
        byte[] body;
        try
        {
            var limit = cloud.Settings.MaxRequestBytes;
            if (http.Request.ContentLength > limit)
            {
                XmlRpcResponseWriter.WriteFault(output, XmlRpcFaultCodes.LimitExceededError, $"Request of {http.Request.ContentLength} bytes exceeds the limit of {limit} bytes");
                return;
            }
            var read = await ReadLimitedAsync(http.Request.Body, limit, ct).ConfigureAwait(false);
            if (read is null)
            {
                XmlRpcResponseWriter.WriteFault(output, XmlRpcFaultCodes.LimitExceededError, $"Request exceeds the limit of {limit} bytes");
                return;
            }
            body = read;
            request = XmlRpcRequestParser.Parse(body);
        }
        catch (XmlRpcException ex)
        {
            XmlRpcResponseWriter.WriteFault(output, ex);
            return;
        }

        var name = request.MethodName;
        if (!methods.TryGet(name, out var method))
        {
            XmlRpcResponseWriter.WriteFault(output, XmlRpcFaultCodes.NoSuchMethodError, $"Unknown method \"{name}\"");
            return;
        }

        // A Raft follower: writes are the leader's to decide.
        if (forwarder is { MustForward: true } && OneMethods.IsWrite(name))
        {
            await ForwardAsync(http, output, name, body, ct).ConfigureAwait(false);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var args = request.Args;
            var session = args.Str(0);
            var caller = cloud.Authenticate(session);
            var reply = await method(caller, args.Skip(1), ct).ConfigureAwait(false);
            Write(output, reply);
        }
        catch (XmlRpcArgumentException ex)
        {
            XmlRpcResponseWriter.WriteFault(output, ex);
        }
        catch (CloudException ex)
        {
            XmlRpcResponseWriter.WriteFailure(output, $"[{name}] {ex.Message}", (int)ex.Code, ex.ObjectId);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{Method} failed", name);
            XmlRpcResponseWriter.WriteFailure(output, $"[{name}] Internal error: {ex.Message}", (int)ErrorCode.Internal);
        }
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("{Method} answered in {Ms:F1} ms", name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task ForwardAsync(HttpContext http, IBufferWriter<byte> output, string name, byte[] body, CancellationToken ct)
    {
        byte[]? answer;
        try
        {
            answer = await forwarder!.ForwardAsync(body, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        if (answer is null)
        {
            XmlRpcResponseWriter.WriteFailure(output, $"[{name}] Cannot process request: no leader is reachable to replicate it.", (int)ErrorCode.Replication);
            return;
        }
        await http.Response.Body.WriteAsync(answer, ct).ConfigureAwait(false);
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + n > limit) return null;
                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return ms.ToArray();
    }

    private void Write(IBufferWriter<byte> output, Reply reply)
    {
        if (reply is ObjectReply { Object: User or Group } or PoolReply { Type: ObjectType.User or ObjectType.Group })
            cache.UseDefaults(cloud.DefaultQuotas());
        switch (reply)
        {
            case IntReply i: XmlRpcResponseWriter.WriteSuccess(output, i.Value); break;
            case LongReply l: XmlRpcResponseWriter.WriteSuccess(output, l.Value); break;
            case BoolReply b: XmlRpcResponseWriter.WriteSuccess(output, b.Value); break;
            case StringReply s: XmlRpcResponseWriter.WriteSuccess(output, s.Value); break;
            case ObjectReply o:
                XmlRpcResponseWriter.WriteSuccessStringStart(output);
                XmlRpcResponseWriter.WriteEscapedChunk(output, cache.Escaped(o.Object, o.Mode));
                XmlRpcResponseWriter.WriteSuccessStringEnd(output);
                break;
            case PoolReply p:
                XmlRpcResponseWriter.WriteSuccessStringStart(output);
                XmlRpcResponseWriter.WriteUtf8TextChunk(output, PoolXml.Header(p.Type));
                foreach (var obj in p.Objects) XmlRpcResponseWriter.WriteEscapedChunk(output, cache.Escaped(obj, p.Mode));
                XmlRpcResponseWriter.WriteUtf8TextChunk(output, PoolXml.Trailer(p.Type, cache.Context));
                XmlRpcResponseWriter.WriteSuccessStringEnd(output);
                break;
            default:
                throw new UnreachableException($"unknown reply {reply.GetType().Name}");
        }
    }
}
