namespace EdgeCloud.AgentProtocol;

/// <summary>
/// A join token: <c>ecj1.&lt;host id&gt;.&lt;one-time secret&gt;.&lt;sha256 of the front-end CA&gt;</c>. The host id
/// says which host joins, the secret proves the operator meant it (it works once), and the CA hash
/// lets the agent trust the front-end's certificate before it has the CA (as kubeadm's discovery hash).
/// </summary>
public sealed record JoinToken(int HostId, string Secret, string CaHash)
{
    public const string Prefix = "ecj1";

    public override string ToString() => $"{Prefix}.{HostId}.{Secret}.{CaHash}";

    public static bool TryParse(string? text, out JoinToken token)
    {
        token = new JoinToken(-1, "", "");
        var parts = (text ?? "").Trim().Split('.');
        if (parts.Length != 4 || parts[0] != Prefix || !int.TryParse(parts[1], out var hostId) || hostId < 0) return false;
        if (parts[2].Length < 16 || parts[3].Length != 64 || !parts[3].All(Uri.IsHexDigit)) return false;
        token = new JoinToken(hostId, parts[2], parts[3].ToLowerInvariant());
        return true;
    }
}
