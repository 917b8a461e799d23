using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using EdgeCloud.Requests.Auth;
using EdgeCloud.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// GET/HEAD /images/{id}: the file of a READY (or USED) image, for the hosts' replica caches. Range
/// requests are honoured (a cache resumes an interrupted download); X-Image-Sha256 (and the ETag) carry
/// the image's SHA-256 and X-Image-Format its format. Authentication: an OpenNebula session in the
/// Authorization header — "Bearer USER:PASSWORD_OR_TOKEN" or HTTP Basic — and the caller needs USE
/// on the image, as for one.image.info. (The agents' mutual TLS replaces this later.)
/// </summary>
public static class ImageEndpoint
{
    public const string Route = "/images/{id:int}";

    /// <param name="trustedAgent">True for a request from a host agent (its client certificate, on the agents' port):
    /// agents fetch any image their VMs use without a user session.</param>
    /// <param name="logger">Each image body sent is logged with its byte count (what crossed the link to the hosts).</param>
    public static void Map(IEndpointRouteBuilder routes, Func<Cloud> cloud, Func<HttpContext, bool>? trustedAgent = null, Microsoft.Extensions.Logging.ILogger? logger = null) =>
        routes.MapMethods(Route, ["GET", "HEAD"], (HttpContext ctx, int id) => ServeAsync(ctx, cloud(), id, trustedAgent?.Invoke(ctx) == true, logger));

    private static async Task ServeAsync(HttpContext ctx, Cloud cloud, int id, bool agent, Microsoft.Extensions.Logging.ILogger? logger)
    {
        var session = SessionOf(ctx.Request.Headers.Authorization.ToString());
        Caller caller;
        Image image;
        try
        {
            caller = agent ? Caller.System : cloud.Authenticate(session ?? "");
            image = cloud.Info<Image>(caller, ObjectType.Image, id);
        }
        catch (CloudException ex)
        {
            ctx.Response.StatusCode = ex.Code switch
            {
                ErrorCode.Authentication => StatusCodes.Status401Unauthorized,
                ErrorCode.Authorization => StatusCodes.Status403Forbidden,
                ErrorCode.NoExists => StatusCodes.Status404NotFound,
                _ => StatusCodes.Status400BadRequest,
            };
            if (ctx.Response.StatusCode == StatusCodes.Status401Unauthorized) ctx.Response.Headers.WWWAuthenticate = "Bearer";
            await ctx.Response.WriteAsync(ex.Message + "\n").ConfigureAwait(false);
            return;
        }
        if (image.State is not (ImageState.READY or ImageState.USED or ImageState.USED_PERS) || !File.Exists(image.Source))
        {
            ctx.Response.StatusCode = StatusCodes.Status409Conflict;
            await ctx.Response.WriteAsync($"Image {id} is {image.State}{(File.Exists(image.Source) ? "" : " and has no file on this front-end")}.\n").ConfigureAwait(false);
            return;
        }
        var sha = image.Template.Get("SHA256") ?? "";
        if (sha.Length > 0)
        {
            ctx.Response.Headers[ImageHeaders.Sha256] = sha;
        }
        ctx.Response.Headers[ImageHeaders.Format] = image.Format;
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            ctx.Response.ContentType = "application/octet-stream";
            ctx.Response.ContentLength = new FileInfo(image.Source).Length;
            ctx.Response.Headers.AcceptRanges = "bytes";
            if (sha.Length > 0) ctx.Response.Headers.ETag = $"\"{sha}\"";
            return;
        }
        var result = Results.File(image.Source, "application/octet-stream", enableRangeProcessing: true,
            entityTag: sha.Length > 0 ? new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{sha}\"") : null);
        await result.ExecuteAsync(ctx).ConfigureAwait(false);
        if (logger is not null)
            Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger, "Image {ImageId} sent to {Peer}: {Bytes} bytes", id, ctx.Connection.RemoteIpAddress?.ToString() ?? "", ctx.Response.ContentLength ?? 0);
    }

    /// <summary>"Bearer user:secret" or "Basic base64(user:secret)" → "user:secret".</summary>
    internal static string? SessionOf(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try { return Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())); }
            catch (FormatException) { return null; }
        }
        return null;
    }
}
