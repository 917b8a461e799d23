using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;

namespace EdgeCloud.Client;

/// <summary>
/// An async XML-RPC client for OpenNebula-compatible endpoints (OpenNebula's <c>oned</c> or EdgeCloud), used by
/// the CLI verbs, the tests and the benchmarks. It behaves like the Ruby OCA: the session string is sent as
/// parameter 0 of every call, <c>[true, value, 0]</c> answers become a <see cref="OneResult"/>, and everything
/// else becomes a <see cref="OneException"/>: the server's own error code and message for
/// <c>[false, message, code, ...]</c>, <see cref="OneErrorCodes.XmlRpcCall"/> for faults, HTTP errors, wrong
/// content types, empty or malformed bodies and transport failures, <see cref="OneErrorCodes.Timeout"/> for timeouts.
/// </summary>
/// <remarks>
/// Thread-safe: one instance can serve concurrent calls (it keeps one <see cref="HttpClient"/> and its
/// connection pool). Dispose it when done; it disposes a handler only if it created it.
/// </remarks>
public sealed class OneClient : IDisposable
{
    /// <summary>OpenNebula's default endpoint.</summary>
    public const string DefaultEndpoint = "http://localhost:2633/RPC2";

    private const string XmlContentType = "text/xml";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client.</summary>
    /// <param name="endpoint">The XML-RPC URL, e.g. <c>http://localhost:2633/RPC2</c>.</param>
    /// <param name="session">The session, <c>user:password</c> or <c>user:token</c>.</param>
    /// <param name="handler">An HTTP handler to use (tests, custom TLS); not disposed by the client. Null for a default pooled handler.</param>
    /// <param name="options">Timeout and wire details; null for <see cref="OneClientOptions.Default"/>.</param>
    public OneClient(Uri endpoint, string session, HttpMessageHandler? handler = null, OneClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(session);
        if (!endpoint.IsAbsoluteUri)
        {
            throw new ArgumentException($"The endpoint '{endpoint}' must be an absolute URL.", nameof(endpoint));
        }

        Endpoint = endpoint;
        Session = session;
        Options = options ?? OneClientOptions.Default;
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);

        // Our own per-call timeout covers reading the body too, and tells a timeout from a caller's cancellation.
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", Options.UserAgent);
        _ownsHttp = true;
    }

    private OneClient(OneClient parent, string session)
    {
        Endpoint = parent.Endpoint;
        Session = session;
        Options = parent.Options;
        _http = parent._http;
        _ownsHttp = false;
    }

    /// <summary>The XML-RPC URL.</summary>
    public Uri Endpoint { get; }

    /// <summary>The session string sent as parameter 0.</summary>
    public string Session { get; }

    /// <summary>The options in use.</summary>
    public OneClientOptions Options { get; }

    /// <summary>
    /// Creates a client the way OpenNebula's CLI finds its settings: endpoint from <c>$ONE_XMLRPC</c>, else
    /// <c>~/.one/one_endpoint</c>, else <c>/var/lib/one/.one/one_endpoint</c>, else <see cref="DefaultEndpoint"/>;
    /// session from the file named by <c>$ONE_AUTH</c>, else <c>~/.one/one_auth</c>, else
    /// <c>/var/lib/one/.one/one_auth</c>, else <c>~/.edgecloud/one_auth</c>, else <c>/var/lib/edgecloud/one_auth</c> (trimmed; the same order for one_endpoint). <c>$ONE_XMLRPC_TIMEOUT</c> (seconds) sets the timeout
    /// when no <paramref name="options"/> are given.
    /// </summary>
    /// <exception cref="OneException">No credentials file was found (<see cref="OneErrorCodes.NotDefined"/>).</exception>
    public static OneClient FromEnvironment(HttpMessageHandler? handler = null, OneClientOptions? options = null)
    {
        var (endpoint, session) = ResolveEnvironment(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
        if (options is null
            && int.TryParse(Environment.GetEnvironmentVariable("ONE_XMLRPC_TIMEOUT"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0)
        {
            options = OneClientOptions.Default with { Timeout = TimeSpan.FromSeconds(seconds) };
        }

        return new OneClient(endpoint, session, handler, options);
    }

    /// <summary>
    /// The endpoint and session <see cref="FromEnvironment"/> would use, from an explicit variable lookup and
    /// home directories, so it can be tested without touching the process environment.
    /// </summary>
    /// <param name="getVariable">Looks up an environment variable (null when unset).</param>
    /// <param name="homeDirectory">The user's home directory; null or empty to skip <c>~/.one</c>.</param>
    /// <param name="systemHome">OpenNebula's own home (<c>/var/lib/one</c>); null to skip.</param>
    /// <exception cref="OneException">No credentials file was found (<see cref="OneErrorCodes.NotDefined"/>), or the endpoint is not a URL.</exception>
    public static (Uri Endpoint, string Session) ResolveEnvironment(Func<string, string?> getVariable, string? homeDirectory, string? systemHome = "/var/lib/one")
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        // OpenNebula's places first (existing users' settings win), then the state directory `edgecloud up`
        // uses by default (~/.edgecloud), so the commands it prints work without any setting.
        var dotOnes = new[] { homeDirectory, systemHome }
            .Where(home => !string.IsNullOrEmpty(home))
            .Select(home => Path.Combine(home!, ".one"))
            .Concat(string.IsNullOrEmpty(homeDirectory) ? [] : [Path.Combine(homeDirectory, ".edgecloud")])
            .Concat(systemHome is null ? [] : ["/var/lib/edgecloud"])
            .ToArray();

        var endpointText = NonEmpty(getVariable("ONE_XMLRPC"))
            ?? dotOnes.Select(dir => ReadTrimmed(Path.Combine(dir, "one_endpoint"))).FirstOrDefault(text => text is not null)
            ?? DefaultEndpoint;
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint))
        {
            throw new OneException(OneErrorCodes.NotDefined, $"The OpenNebula endpoint '{endpointText}' is not an absolute URL.");
        }

        var candidates = new List<string>();
        if (NonEmpty(getVariable("ONE_AUTH")) is { } authFile)
        {
            candidates.Add(authFile);
        }

        candidates.AddRange(dotOnes.Select(dir => Path.Combine(dir, "one_auth")));
        foreach (var file in candidates)
        {
            if (ReadTrimmed(file) is { } session)
            {
                return (endpoint, session);
            }
        }

        throw new OneException(
            OneErrorCodes.NotDefined,
            $"No OpenNebula credentials: none of {string.Join(", ", candidates)} exists or has content. Set $ONE_AUTH to a file holding 'user:password'.");
    }

    /// <summary>
    /// A client for the same endpoint with another session (acting as another user), sharing this client's
    /// connections. It must not outlive this client; disposing it does nothing.
    /// </summary>
    public OneClient WithSession(string session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new OneClient(this, session);
    }

    /// <summary>Calls <paramref name="method"/> with the session followed by <paramref name="args"/>.</summary>
    /// <exception cref="OneException">The call failed (server error, fault, transport, malformed answer, timeout).</exception>
    /// <exception cref="ArgumentException">An argument has a type XML-RPC cannot carry.</exception>
    public Task<OneResult> CallAsync(string method, params object?[] args) => CallAsync(method, (IReadOnlyList<object?>)args, CancellationToken.None);

    /// <summary>Calls <paramref name="method"/> with the session followed by <paramref name="args"/>, e.g. <c>CallAsync("one.vm.info", [5, false], ct)</c>.</summary>
    /// <exception cref="OneException">The call failed (server error, fault, transport, malformed answer, timeout).</exception>
    /// <exception cref="ArgumentException">An argument has a type XML-RPC cannot carry.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<OneResult> CallAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(args);
        var parameters = new object?[args.Count + 1];
        parameters[0] = Session;
        for (var i = 0; i < args.Count; i++)
        {
            parameters[i + 1] = args[i];
        }

        var response = await CallRawAsync(method, parameters, cancellationToken).ConfigureAwait(false);
        return Interpret(method, response);
    }

    /// <summary>Calls a method that answers an int (allocate, clone, ...) and returns it.</summary>
    /// <exception cref="OneException">The call failed or did not answer an int.</exception>
    public async Task<int> CallIntAsync(string method, params object?[] args) =>
        (await CallAsync(method, args).ConfigureAwait(false)).AsInt();

    /// <summary>Calls a method that answers an int and returns it.</summary>
    /// <exception cref="OneException">The call failed or did not answer an int.</exception>
    public async Task<int> CallIntAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default) =>
        (await CallAsync(method, args, cancellationToken).ConfigureAwait(false)).AsInt();

    /// <summary>Calls a method that answers a string and returns it.</summary>
    /// <exception cref="OneException">The call failed or did not answer a string.</exception>
    public async Task<string> CallStringAsync(string method, params object?[] args) =>
        (await CallAsync(method, args).ConfigureAwait(false)).AsString();

    /// <summary>Calls a method that answers a string and returns it.</summary>
    /// <exception cref="OneException">The call failed or did not answer a string.</exception>
    public async Task<string> CallStringAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default) =>
        (await CallAsync(method, args, cancellationToken).ConfigureAwait(false)).AsString();

    /// <summary>Calls a method that answers an XML document as a string (info, pool listings) and parses it.</summary>
    /// <exception cref="OneException">The call failed, or the answer is not an XML string.</exception>
    public async Task<XDocument> CallXmlAsync(string method, params object?[] args) =>
        (await CallAsync(method, args).ConfigureAwait(false)).AsXml();

    /// <summary>Calls a method that answers an XML document as a string and parses it.</summary>
    /// <exception cref="OneException">The call failed, or the answer is not an XML string.</exception>
    public async Task<XDocument> CallXmlAsync(string method, IReadOnlyList<object?> args, CancellationToken cancellationToken = default) =>
        (await CallAsync(method, args, cancellationToken).ConfigureAwait(false)).AsXml();

    /// <summary>
    /// Sends exactly <paramref name="parameters"/> (no session is added) and returns the parsed answer without
    /// interpreting it, so tests can see faults and the full failure array. HTTP-level problems still throw.
    /// </summary>
    /// <exception cref="OneException">HTTP error, wrong content type, empty or malformed body, transport failure or timeout.</exception>
    public async Task<OneXmlRpcResponse> CallRawAsync(string method, IReadOnlyList<object?> parameters, CancellationToken cancellationToken = default)
    {
        var body = OneXmlRpc.EncodeCall(method, parameters, Options.IntegerTag);
        var answer = await PostAsync(method, body, cancellationToken).ConfigureAwait(false);
        try
        {
            return OneXmlRpc.ParseResponse(answer);
        }
        catch (FormatException ex)
        {
            throw new OneException(OneErrorCodes.XmlRpcCall, $"Malformed XML-RPC answer from {Endpoint} to {method}: {ex.Message}", ex)
            {
                Method = method,
            };
        }
    }

    /// <summary>
    /// POSTs <paramref name="body"/> as it is and returns the HTTP response unchecked (the caller disposes it):
    /// for tests that send malformed XML or inspect status codes and headers.
    /// </summary>
    /// <exception cref="HttpRequestException">Transport failure.</exception>
    public async Task<HttpResponseMessage> PostRawAsync(string body, string? contentType = "text/xml; charset=utf-8", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"OneClient({Endpoint})";

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? NonEmpty(File.ReadAllText(path)) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsXmlMediaType(string mediaType) =>
        mediaType.Equals("text/xml", StringComparison.OrdinalIgnoreCase) || mediaType.Equals("application/xml", StringComparison.OrdinalIgnoreCase);

    private OneResult Interpret(string method, OneXmlRpcResponse response)
    {
        if (response.IsFault)
        {
            throw new OneException(OneErrorCodes.XmlRpcCall, response.FaultString) { FaultCode = response.FaultCode, Method = method };
        }

        if (response.Value is not object?[] items || items.Length < 2 || items[0] is not bool ok)
        {
            throw new OneException(
                OneErrorCodes.XmlRpcCall,
                $"Unexpected answer from {Endpoint} to {method}: expected an array [boolean, value, ...], got {OneXmlRpc.Describe(response.Value)}")
            {
                Method = method,
            };
        }

        if (ok)
        {
            return new OneResult(method, items[1], items.Length > 2 && items[2] is int code ? code : 0);
        }

        var message = items[1] as string ?? OneXmlRpc.Describe(items[1]);
        throw new OneException(items.Length > 2 && items[2] is int errorCode ? errorCode : OneErrorCodes.XmlRpcCall, message)
        {
            Method = method,
            ResponseId = items.Length > 3 && items[3] is int id ? id : -1,
            ReplicationIndex = items.Length > 4 ? items[4] switch { long l => l, int i => i, _ => 0 } : 0,
        };
    }

    private async Task<byte[]> PostAsync(string method, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(XmlContentType) { CharSet = "utf-8" };
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var detail = await ReadSnippetAsync(response, timeout.Token).ConfigureAwait(false);
                throw new OneException(
                    OneErrorCodes.XmlRpcCall,
                    $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} from {Endpoint} calling {method}{detail}")
                {
                    Method = method,
                };
            }

            // Like the Ruby client: a missing Content-Type is accepted, anything but XML is not.
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is not null && !IsXmlMediaType(mediaType))
            {
                throw new OneException(
                    OneErrorCodes.XmlRpcCall,
                    $"Unexpected Content-Type '{mediaType}' from {Endpoint} calling {method}; expected text/xml")
                {
                    Method = method,
                };
            }

            var answer = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            if (answer.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            {
                throw new OneException(OneErrorCodes.XmlRpcCall, $"Empty answer from {Endpoint} calling {method}") { Method = method };
            }

            return answer;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OneException(
                OneErrorCodes.Timeout,
                $"Timeout after {Options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s calling {method} on {Endpoint}",
                ex)
            {
                Method = method,
            };
        }
        catch (HttpRequestException ex)
        {
            throw new OneException(OneErrorCodes.XmlRpcCall, $"Cannot call {method} on {Endpoint}: {ex.Message}", ex) { Method = method };
        }
        catch (IOException ex)
        {
            throw new OneException(OneErrorCodes.XmlRpcCall, $"Connection to {Endpoint} failed calling {method}: {ex.Message}", ex) { Method = method };
        }
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            return text.Length == 0 ? string.Empty : $": {(text.Length > 200 ? text[..200] + "..." : text)}";
        }
        catch (HttpRequestException)
        {
            return string.Empty;
        }
    }
}
