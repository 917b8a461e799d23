using System.CommandLine;
using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Client;

namespace EdgeCloud.Cli.Client;

/// <summary>A user error the CLI reports in one line: bad input, an unknown name, a failed wait.</summary>
public sealed class CliException(string message, int exitCode = CliExit.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Exit codes: OpenNebula's CLI exits 255 (-1) for errors the server reports.</summary>
public static class CliExit
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int Server = 255;
}

/// <summary>
/// One invocation of a client verb: the parsed command line, the connection (made on first use, from the flags or
/// OpenNebula's environment), calls, name resolution and output. Every verb runs through <see cref="RunAsync"/>,
/// which turns failures into one line on stderr and an exit code.
/// </summary>
public sealed class CliContext : IDisposable
{
    private readonly Dictionary<string, XElement> _pools = new(StringComparer.Ordinal);
    private readonly List<OneClient> _extra = [];
    private OneClient? _client;

    private CliContext(ParseResult parse, CancellationToken ct)
    {
        Parse = parse;
        Ct = ct;
    }

    public ParseResult Parse { get; }

    public CancellationToken Ct { get; }

    public static TextWriter Out => Console.Out;

    /// <summary>The connection; created on first use.</summary>
    public OneClient Client => _client ??= Connect(Parse);

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);

    /// <summary>Runs a verb's body with OpenNebula-style error reporting: one line on stderr, 255 for server errors, 1 otherwise.</summary>
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<CliContext, Task> body)
    {
        using var context = new CliContext(parse, ct);
        try
        {
            await body(context).ConfigureAwait(false);
            return CliExit.Ok;
        }
        catch (CliException ex)
        {
            return Fail(ex.Message, ex.ExitCode);
        }
        catch (OneException ex)
        {
            var (message, code) = CliErrors.Describe(ex, context._client?.Endpoint ?? context._extra.FirstOrDefault()?.Endpoint);
            return Fail(message, code);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail("interrupted", 130);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(ex.Message, CliExit.Usage);
        }
    }

    private static int Fail(string message, int code)
    {
        Console.Out.Flush();
        Console.Error.WriteLine(CliErrors.OneLine(message));
        return code;
    }

    public Task<OneResult> CallAsync(string method, params object?[] args) => Client.CallAsync(method, args, Ct);

    public Task<int> CallIntAsync(string method, params object?[] args) => Client.CallIntAsync(method, args, Ct);

    public async Task<XElement> CallXmlAsync(string method, params object?[] args) =>
        (await Client.CallXmlAsync(method, args, Ct).ConfigureAwait(false)).Root ?? new XElement("EMPTY");

    /// <summary>The object's document (<c>one.X.info(id, false...)</c>).</summary>
    public Task<XElement> InfoAsync(OneKind kind, int id) => CallXmlAsync(kind.InfoMethod, [id, .. kind.InfoExtra]);

    /// <summary>The pool document the way the kind lists it (cached for name resolution within one invocation).</summary>
    public async Task<XElement> PoolAsync(OneKind kind, object?[]? args = null)
    {
        if (args is not null) return await CallXmlAsync(kind.PoolMethod, args).ConfigureAwait(false);
        if (_pools.TryGetValue(kind.Command, out var cached)) return cached;
        var pool = await CallXmlAsync(kind.PoolMethod, kind.PoolArgs).ConfigureAwait(false);
        _pools[kind.Command] = pool;
        return pool;
    }

    /// <summary>An id from a numeric argument, or from the pool by NAME as OpenNebula's CLI does (one list call).</summary>
    public async Task<int> ResolveAsync(OneKind kind, string text)
    {
        ArgumentNullException.ThrowIfNull(kind);
        text = text.Trim();
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id)) return id;
        if (text.Length == 0) throw new CliException($"an empty {kind.Noun} name or id");
        if (!kind.ByName) throw new CliException($"{kind.Noun} ids are numbers, not \"{text}\"");
        var pool = await PoolAsync(kind).ConfigureAwait(false);
        var matches = pool.Elements(kind.Element).Where(e => (string?)e.Element("NAME") == text).Select(e => (int)e.Element("ID")!).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new CliException($"{kind.Noun} \"{text}\" not found", CliExit.Server),
            _ => throw new CliException(
                $"there are {matches.Count} {kind.Plural} named \"{text}\" (ids {string.Join(", ", matches)}); use an id",
                CliExit.Server),
        };
    }

    /// <summary>Ids from a list like <c>3,5..7,web</c> (OpenNebula's range syntax), names resolved.</summary>
    public async Task<IReadOnlyList<int>> ResolveManyAsync(OneKind kind, string text)
    {
        var ids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dots = part.IndexOf("..", StringComparison.Ordinal);
            if (dots > 0
                && int.TryParse(part[..dots], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                && int.TryParse(part[(dots + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to))
            {
                if (to < from || to - from > 10000) throw new CliException($"bad id range \"{part}\"");
                for (var i = from; i <= to; i++) ids.Add(i);
            }
            else
            {
                ids.Add(await ResolveAsync(kind, part).ConfigureAwait(false));
            }
        }
        if (ids.Count == 0) throw new CliException($"no {kind.Noun} given");
        return ids;
    }

    public void Dispose()
    {
        _client?.Dispose();
        foreach (var extra in _extra) extra.Dispose();
    }

    /// <summary>A client for the same endpoint acting with another session (<c>user login</c>).</summary>
    public OneClient ClientWithSession(string session)
    {
        var endpointFlag = Global(Parse, GlobalOptions.EndpointName);
        var endpoint = ParseEndpoint(endpointFlag ?? EndpointFromEnvironment(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)));
        var client = new OneClient(endpoint, session, options: ClientOptions());
        _extra.Add(client);
        return client;
    }

    /// <summary>The session from the environment (<c>$ONE_AUTH</c>, <c>~/.one/one_auth</c>), or null when there is none.</summary>
    public static string? EnvironmentSession()
    {
        try
        {
            return OneClient.ResolveEnvironment(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)).Session;
        }
        catch (OneException)
        {
            return null;
        }
    }

    /// <summary>The credentials file <c>user login</c> writes: <c>$ONE_AUTH</c>, else <c>~/.one/one_auth</c>.</summary>
    public static string AuthFile() =>
        Environment.GetEnvironmentVariable("ONE_AUTH") is { Length: > 0 } file && !string.IsNullOrWhiteSpace(file)
            ? file
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".one", "one_auth");

    private static OneClient Connect(ParseResult parse)
    {
        var endpointFlag = Global(parse, GlobalOptions.EndpointName);
        var user = Global(parse, GlobalOptions.UserName);
        var password = Global(parse, GlobalOptions.PasswordName);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Uri endpoint;
        string session;
        if (user is not null || password is not null)
        {
            if (user is null || password is null) throw new CliException("--user and --password must be given together");
            session = $"{user}:{password}";
            endpoint = ParseEndpoint(endpointFlag ?? EndpointFromEnvironment(home));
        }
        else
        {
            if (endpointFlag is not null) ParseEndpoint(endpointFlag);
            (endpoint, session) = OneClient.ResolveEnvironment(
                name => name == "ONE_XMLRPC" && endpointFlag is not null ? endpointFlag : Environment.GetEnvironmentVariable(name), home);
        }

        return new OneClient(endpoint, session, options: ClientOptions());
    }

    /// <summary>Default options; <c>$ONE_XMLRPC_TIMEOUT</c> (seconds) sets the timeout as for OpenNebula's CLI.</summary>
    private static OneClientOptions ClientOptions()
    {
        var options = OneClientOptions.Default with { UserAgent = "edgecloud-cli" };
        if (int.TryParse(Environment.GetEnvironmentVariable("ONE_XMLRPC_TIMEOUT"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            options = options with { Timeout = TimeSpan.FromSeconds(seconds) };
        return options;
    }

    /// <summary>A connection option's value (null when absent or when the command does not have it).</summary>
    public static string? Global(ParseResult parse, string name)
    {
        ArgumentNullException.ThrowIfNull(parse);
        try
        {
            return parse.GetValue<string?>(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A client for shell completion: the same settings, a short timeout; null when there are no credentials.</summary>
    internal static OneClient? CompletionClient(ParseResult parse)
    {
        try
        {
            var client = Connect(parse);
            var quick = new OneClient(client.Endpoint, client.Session, options: client.Options with { Timeout = TimeSpan.FromSeconds(2) });
            client.Dispose();
            return quick;
        }
        catch (Exception ex) when (ex is CliException or OneException or IOException)
        {
            return null;
        }
    }

    private static Uri ParseEndpoint(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new CliException($"the endpoint \"{text}\" is not an http(s) URL like http://localhost:2633/RPC2");

    /// <summary>$ONE_XMLRPC, ~/.one/one_endpoint, /var/lib/one/.one/one_endpoint, else the default (as OneClient.ResolveEnvironment).</summary>
    private static string EndpointFromEnvironment(string home)
    {
        if (Environment.GetEnvironmentVariable("ONE_XMLRPC") is { Length: > 0 } env && !string.IsNullOrWhiteSpace(env)) return env.Trim();
        foreach (var dir in new[] { home, "/var/lib/one" })
        {
            if (string.IsNullOrEmpty(dir)) continue;
            var file = Path.Combine(dir, ".one", "one_endpoint");
            if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } text) return text;
        }
        return OneClient.DefaultEndpoint;
    }
}
