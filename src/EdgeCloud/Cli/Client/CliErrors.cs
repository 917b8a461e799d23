using System.Net.Http;
using System.Net.Sockets;
using EdgeCloud.Client;

namespace EdgeCloud.Cli.Client;

/// <summary>Turns client failures into the one line the CLI prints and its exit code.</summary>
public static class CliErrors
{
    /// <summary>
    /// Server answers (<c>[method] message</c>) and XML-RPC faults exit 255 like OpenNebula's CLI; transport
    /// problems name the endpoint and exit 1.
    /// </summary>
    public static (string Message, int ExitCode) Describe(OneException ex, Uri? endpoint)
    {
        ArgumentNullException.ThrowIfNull(ex);
        if (ex.FaultCode is not null) return ($"[{ex.Method}] {ex.Message}", CliExit.Server);
        if (ex.IsServerError) return (ex.Message, CliExit.Server);
        if (ex.Code == OneErrorCodes.XmlRpcCall && endpoint is not null && Transport(ex) is { } reason)
            return ($"cannot reach {endpoint}: {reason}", CliExit.Usage);
        return (ex.Message, CliExit.Usage);
    }

    /// <summary>The message on one line (newlines and runs of blanks folded).</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

    private static string? Transport(Exception ex)
    {
        for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket) return Socket(socket);
        }
        for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException) return Lower(e.Message);
        }
        return null;
    }

    private static string Socket(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.TimedOut => "connection timed out",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.ConnectionReset => "connection reset by the server",
        _ => Lower(ex.Message),
    };

    private static string Lower(string message)
    {
        var text = message.TrimEnd('.');
        return text.Length > 1 && char.IsUpper(text[0]) && !char.IsUpper(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }
}
