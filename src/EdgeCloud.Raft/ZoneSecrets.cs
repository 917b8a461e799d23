using System.Text.Json;

namespace EdgeCloud.Raft;

/// <summary>
/// The zone's secrets that travel in the replicated log and snapshots (never in the object state, which
/// clients can read): oneadmin's password, and the host agents' CA (certificate and private key, PEM), so
/// every front-end of the zone issues and accepts the same agent certificates.
/// </summary>
/// <remarks>
/// Encoded as <c>ecsecrets1:</c> + JSON. A plain string (what entries and snapshots written before the CA
/// was replicated carry) is oneadmin's password alone.
/// </remarks>
public sealed record ZoneSecrets(string? Password, string? AgentCaCertificatePem = null, string? AgentCaKeyPem = null)
{
    private const string Prefix = "ecsecrets1:";

    public bool HasAgentCa => AgentCaCertificatePem is { Length: > 0 } && AgentCaKeyPem is { Length: > 0 };

    public string Encode() => Prefix + JsonSerializer.Serialize(this);

    public static ZoneSecrets Decode(string text)
    {
        if (!text.StartsWith(Prefix, StringComparison.Ordinal)) return new ZoneSecrets(text);
        return JsonSerializer.Deserialize<ZoneSecrets>(text.AsSpan(Prefix.Length))
               ?? throw new InvalidDataException("The replicated zone secrets are empty.");
    }
}
