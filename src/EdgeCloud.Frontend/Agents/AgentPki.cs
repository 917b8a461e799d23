using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeCloud.Frontend.Agents;

/// <summary>
/// The certificate authority of the host agents: a self-signed ECDSA P-256 CA, the TLS certificate of the
/// agent listener, and the signing of agents' certificate requests at join time. A stand-alone front-end
/// keeps its CA in DATA/pki (created on first start). In a Raft zone the CA is one for the whole zone: it
/// travels in the replicated secrets (<c>ZoneSecrets</c>) and is <see cref="Install"/>ed on every server, so
/// each of them issues and accepts the same certificates. An agent's certificate names its host ("host-ID"
/// in the common name), so the stream knows which host is talking without trusting anything the agent says.
/// </summary>
public sealed class AgentPki : IDisposable
{
    private const string HostPrefix = "host-";

    /// <summary>The CA and the listener certificate it issued, swapped as one.</summary>
    private sealed record Keys(X509Certificate2 Ca, X509Certificate2 Server, string CaHash);

    private readonly string[] _serverNames;
    private volatile Keys? _keys;

    private AgentPki(IEnumerable<string> serverNames) => _serverNames = [.. serverNames];

    /// <summary>False on a Raft server until the zone's CA is known from the replicated state.</summary>
    public bool IsReady => _keys is not null;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Ca => Current.Ca;

    /// <summary>The agent listener's TLS certificate (issued by <see cref="Ca"/>), with its private key; null while the CA is not known.</summary>
    public X509Certificate2? Server => _keys?.Server;

    /// <summary>SHA-256 of the CA certificate (hex): join tokens carry it, so an agent can pin the CA before trusting it.</summary>
    public string CaHash => Current.CaHash;

    public string CaPem => Ca.ExportCertificatePem();

    private Keys Current => _keys ?? throw new InvalidOperationException("The zone's agent CA is not known on this front-end yet (it comes with the replicated state).");

    /// <summary>A stand-alone front-end's CA: DATA/pki, created on first start.</summary>
    public static AgentPki LoadOrCreate(string pkiDir, IEnumerable<string> serverNames)
    {
        var pki = new AgentPki(serverNames);
        var (cert, key) = ReadCa(pkiDir) ?? CreateCa(pkiDir);
        pki.Install(cert, key);
        return pki;
    }

    /// <summary>A Raft server's CA holder: empty until the zone's CA is <see cref="Install"/>ed from the replicated secrets.</summary>
    public static AgentPki Replicated(IEnumerable<string> serverNames) => new(serverNames);

    /// <summary>Makes this CA (PEM certificate and PKCS#8 key) the one in use, with a fresh listener certificate. Same CA again: nothing changes.</summary>
    public void Install(string caCertificatePem, string caKeyPem)
    {
        var ca = X509Certificate2.CreateFromPem(caCertificatePem, caKeyPem);
        var hash = Convert.ToHexStringLower(SHA256.HashData(ca.RawData));
        if (_keys?.CaHash == hash) { ca.Dispose(); return; }
        _keys = new Keys(ca, IssueServer(ca, _serverNames), hash);
    }

    /// <summary>The CA in DATA/pki (certificate and key PEM), if there is one.</summary>
    public static (string Certificate, string Key)? ReadCa(string pkiDir)
    {
        var caCrt = Path.Combine(pkiDir, "ca.crt");
        var caKey = Path.Combine(pkiDir, "ca.key");
        return File.Exists(caCrt) && File.Exists(caKey) ? (File.ReadAllText(caCrt), File.ReadAllText(caKey)) : null;
    }

    /// <summary>A new CA (PEM certificate and key); written to <paramref name="pkiDir"/> when one is given.</summary>
    public static (string Certificate, string Key) CreateCa(string? pkiDir)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=EdgeCloud agent CA", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        using var ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(20));
        var pems = (ca.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        if (pkiDir is not null)
        {
            Directory.CreateDirectory(pkiDir);
            WriteSecret(Path.Combine(pkiDir, "ca.key"), pems.Item2);
            File.WriteAllText(Path.Combine(pkiDir, "ca.crt"), pems.Item1);
        }
        return pems;
    }

    /// <summary>A fresh listener certificate on every start (names may change with the configuration).</summary>
    private static X509Certificate2 IssueServer(X509Certificate2 ca, IEnumerable<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=EdgeCloud front-end", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names.Append("localhost").Append(Environment.MachineName).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name, out var ip)) san.AddIpAddress(ip);
            else if (name.Length > 0) san.AddDnsName(name);
        }
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = req.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(2), RandomSerial());
        using var withKey = signed.CopyWithPrivateKey(key);
        // Round-trip through PKCS#12 so the key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Signs an agent's PKCS#10 request (PEM) for host <paramref name="hostId"/>; the request's own subject is ignored.</summary>
    public X509Certificate2 SignAgent(string csrPem, int hostId)
    {
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException("The agent's certificate request is not a valid PKCS#10 PEM: " + ex.Message, ex);
        }
        var req = new CertificateRequest(new X500DistinguishedName($"CN={HostPrefix}{hostId}"), csr.PublicKey, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Client auth toward the front-end; server auth toward its peers (migrations pull from the host's own endpoint).
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2"), new Oid("1.3.6.1.5.5.7.3.1")], false));
        return req.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5), RandomSerial());
    }

    /// <summary>The host an agent's client certificate was issued for, or null when it was not issued by this CA.</summary>
    public int? HostOf(X509Certificate2? client)
    {
        if (client is null || _keys is not { } keys) return null;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(keys.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(client)) return null;
        var cn = client.GetNameInfo(X509NameType.SimpleName, false);
        return cn.StartsWith(HostPrefix, StringComparison.Ordinal) && int.TryParse(cn.AsSpan(HostPrefix.Length), out var id) ? id : null;
    }

    /// <summary>The join token an operator hands to a host: host id, one-time secret, and the CA's hash to pin.</summary>
    public string JoinToken(int hostId, string secret) => new AgentProtocol.JoinToken(hostId, secret, CaHash).ToString();

    private static byte[] RandomSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }

    private static void WriteSecret(string path, string content)
    {
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose()
    {
        _keys?.Ca.Dispose();
        _keys?.Server.Dispose();
    }
}
