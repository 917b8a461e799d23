using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EdgeCloud.AgentProtocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace EdgeCloud.Agent;

/// <summary>
/// Who the agent is to its front-end: the certificate issued at join (DATA/identity/agent.crt + key),
/// the front-end's CA (ca.crt, the only CA the agent trusts for it), agent.json (host id, the URL it joined at)
/// and frontends.json (the agent endpoints of every front-end of the zone, as the front-ends last told them:
/// the agent follows the leader among them).
/// </summary>
public sealed class AgentIdentity : IDisposable
{
    private sealed record Saved(int HostId, string HostName, string FrontendUrl);

    private AgentIdentity(int hostId, string hostName, string frontendUrl, X509Certificate2 certificate, X509Certificate2 ca)
    {
        HostId = hostId;
        HostName = hostName;
        FrontendUrl = frontendUrl;
        Certificate = certificate;
        Ca = ca;
        _frontends = [frontendUrl];
    }

    private readonly Lock _gate = new();
    private IReadOnlyList<string> _frontends;
    private string? _dataDir;

    /// <summary>The agent endpoints of the zone's front-ends the agent knows (the one it joined at first).</summary>
    public IReadOnlyList<string> Frontends
    {
        get { lock (_gate) return _frontends; }
    }

    /// <summary>
    /// Takes the zone's agent endpoints a front-end told (Welcome, a refusal, the join reply) and those given on the
    /// command line, and keeps them in DATA/identity/frontends.json. The URL joined at is always kept.
    /// </summary>
    public void LearnFrontends(IEnumerable<string> urls, bool replace = true)
    {
        var valid = urls.Select(u => u.Trim().TrimEnd('/')).Where(u => Uri.TryCreate(u, UriKind.Absolute, out var x) && x.Scheme == "https").ToList();
        if (valid.Count == 0) return;
        lock (_gate)
        {
            var next = (replace ? valid : [.. _frontends, .. valid]).Prepend(FrontendUrl).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (next.SequenceEqual(_frontends, StringComparer.OrdinalIgnoreCase)) return;
            _frontends = next;
            if (_dataDir is not null) WriteAtomic(Path.Combine(Dir(_dataDir), "frontends.json"), JsonSerializer.Serialize(next));
        }
    }

    public int HostId { get; }
    public string HostName { get; }
    public string FrontendUrl { get; }
    public X509Certificate2 Certificate { get; }
    public X509Certificate2 Ca { get; }

    private static string Dir(string dataDir) => Path.Combine(dataDir, "identity");

    public static AgentIdentity? Load(string dataDir)
    {
        var dir = Dir(dataDir);
        var json = Path.Combine(dir, "agent.json");
        if (!File.Exists(json)) return null;
        var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(json)) ?? throw new InvalidDataException($"{json} is empty or invalid.");
        var cert = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "agent.crt"), Path.Combine(dir, "agent.key"));
        // The TLS client stack wants a key it can use: round-trip through PKCS#12.
        var usable = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        cert.Dispose();
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "ca.crt"));
        var identity = new AgentIdentity(saved.HostId, saved.HostName, saved.FrontendUrl, usable, ca);
        var frontends = Path.Combine(dir, "frontends.json");
        if (File.Exists(frontends))
        {
            try { identity.LearnFrontends(JsonSerializer.Deserialize<List<string>>(File.ReadAllText(frontends)) ?? []); }
            catch (JsonException) { /* rewritten from the next Welcome */ }
        }
        identity._dataDir = dataDir;
        return identity;
    }

    /// <summary>
    /// Joins the front-end with a one-time token; writes the identity to DATA/identity. Any front-end of a Raft zone
    /// will do: the CA is the zone's, and a follower sends the join on to the leader (<see cref="LeaderRedirect"/>).
    /// </summary>
    public static async Task<AgentIdentity> JoinAsync(string dataDir, string frontendUrl, string tokenText, CancellationToken ct)
    {
        if (!JoinToken.TryParse(tokenText, out var token))
            throw new ArgumentException("Malformed join token: expected ecj1.<host id>.<secret>.<CA hash> as `edgecloud host join-token` prints it.");
        if (!Uri.TryCreate(frontendUrl, UriKind.Absolute, out var url) || url.Scheme != "https")
            throw new ArgumentException($"The front-end URL must be https://HOST:PORT (its agent endpoint), not \"{frontendUrl}\".");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={Environment.MachineName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        // 1. Discover: fetch the CA over an unverified connection (it is public), and accept it only if
        //    its hash is the one the token pins.
        string caPem;
#pragma warning disable CA5359 // on purpose: only the public CA is read on this connection, and checked against the pinned hash below
        var discovery = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
#pragma warning restore CA5359
        using (var open = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { SslOptions = discovery } }))
            caPem = (await new HostAgent.HostAgentClient(open).DiscoverAsync(new DiscoverRequest(), cancellationToken: ct).ConfigureAwait(false)).CaCertificatePem;
        using var ca = X509Certificate2.CreateFromPem(caPem);
        if (Convert.ToHexStringLower(SHA256.HashData(ca.RawData)) != token.CaHash)
            throw new ArgumentException("The front-end's CA does not match the join token (wrong front-end, or someone in between): not joining.");

        // 2. Join over TLS that trusts only that CA: the secret goes to the real front-end or nowhere.
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => IssuedBy(cert, ca) },
        };
        var request = new JoinRequest { Token = token.ToString(), CsrPem = csr, Hostname = Environment.MachineName };
        JoinReply reply;
        for (var redirects = 0; ; redirects++)
        {
            using var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
            try
            {
                reply = await new HostAgent.HostAgentClient(channel).JoinAsync(request, cancellationToken: ct).ConfigureAwait(false);
                break;
            }
            catch (RpcException ex) when (LeaderRedirect.LeaderOf(ex) is { } leader && redirects < 5 && Uri.TryCreate(leader, UriKind.Absolute, out var to))
            {
                // A follower of a Raft zone: the join goes to the leader, over TLS that trusts the same (zone) CA.
                Console.WriteLine($"agent: {url.ToString().TrimEnd('/')} does not lead the zone: joining at the leader {leader}");
                url = to;
                handler = new SocketsHttpHandler
                {
                    SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => IssuedBy(cert, ca) },
                };
            }
            catch (RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable && LeaderRedirect.FrontendsOf(ex).Count > 0 && redirects < 20)
            {
                // No leader known yet (an election): wait a moment and ask again.
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                handler = new SocketsHttpHandler
                {
                    SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => IssuedBy(cert, ca) },
                };
            }
        }

        var dir = Dir(dataDir);
        Directory.CreateDirectory(dir);
        WriteSecret(Path.Combine(dir, "agent.key"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "agent.crt"), reply.CertificatePem);
        File.WriteAllText(Path.Combine(dir, "ca.crt"), reply.CaCertificatePem);
        File.WriteAllText(Path.Combine(dir, "agent.json"), JsonSerializer.Serialize(new Saved(reply.HostId, reply.HostName, url.ToString().TrimEnd('/'))));
        var identity = Load(dataDir) ?? throw new InvalidOperationException("The identity just written could not be read back.");
        identity.LearnFrontends([frontendUrl, .. reply.Frontends]);
        return identity;
    }

    /// <summary>An HTTP client handler for plain downloads from the front-end (images), with the same mutual TLS.</summary>
    public SocketsHttpHandler CreateHttpHandler() => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = [Certificate],
            RemoteCertificateValidationCallback = (_, cert, _, _) => IssuedBy(cert, Ca),
        },
    };

    /// <summary>A channel to a front-end of the zone (by default the one joined at) over mutual TLS: this agent's certificate, trusting only its CA.</summary>
    public GrpcChannel OpenChannel(string? url = null)
    {
        var handler = new SocketsHttpHandler
        {
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [Certificate],
                RemoteCertificateValidationCallback = (_, cert, _, _) => IssuedBy(cert, Ca),
            },
        };
        return GrpcChannel.ForAddress(url ?? FrontendUrl, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>True when a peer's certificate was issued by this agent's front-end CA.</summary>
    public bool IsIssuedByCa(X509Certificate? cert) => IssuedBy(cert, Ca);

    private static bool IssuedBy(X509Certificate? cert, X509Certificate2 ca)
    {
        if (cert is null) return false;
        using var leaf = X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    private static void WriteAtomic(string path, string content)
    {
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static void WriteSecret(string path, string content)
    {
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Ca.Dispose();
    }
}
