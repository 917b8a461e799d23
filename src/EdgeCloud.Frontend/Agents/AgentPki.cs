using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeCloud.Frontend.Agents;

/// <summary>
/// The front-end's certificate authority for host agents: a self-signed ECDSA P-256 CA kept in
/// DATA/pki (created on first start), the TLS certificate of the agent listener, and the signing of
/// agents' certificate requests at join time. An agent's certificate names its host ("host-ID" in the
/// common name), so the stream knows which host is talking without trusting anything the agent says.
/// </summary>
public sealed class AgentPki : IDisposable
{
    private const string HostPrefix = "host-";

    private AgentPki(X509Certificate2 ca, X509Certificate2 server)
    {
        Ca = ca;
        Server = server;
        CaHash = Convert.ToHexStringLower(SHA256.HashData(ca.RawData));
    }

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The agent listener's TLS certificate (issued by <see cref="Ca"/>), with its private key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>SHA-256 of the CA certificate (hex): join tokens carry it, so an agent can pin the CA before trusting it.</summary>
    public string CaHash { get; }

    public string CaPem => Ca.ExportCertificatePem();

    public static AgentPki LoadOrCreate(string pkiDir, IEnumerable<string> serverNames)
    {
        Directory.CreateDirectory(pkiDir);
        var caCrt = Path.Combine(pkiDir, "ca.crt");
        var caKey = Path.Combine(pkiDir, "ca.key");
        X509Certificate2 ca;
        if (File.Exists(caCrt) && File.Exists(caKey))
        {
            ca = X509Certificate2.CreateFromPemFile(caCrt, caKey);
        }
        else
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest("CN=EdgeCloud agent CA", key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
            ca = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(20));
            WriteSecret(caKey, key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(caCrt, ca.ExportCertificatePem());
        }
        var server = IssueServer(ca, serverNames);
        return new AgentPki(ca, server);
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
        if (client is null) return null;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
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
        Ca.Dispose();
        Server.Dispose();
    }
}
