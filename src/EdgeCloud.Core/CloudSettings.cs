using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core;

/// <summary>
/// Cloud-wide settings (the same on every front-end of a cloud), with OpenNebula's defaults.
/// Node-local settings (ports, data directory) live in the front-end's options instead.
/// </summary>
public sealed record CloudSettings
{
    /// <summary>OpenNebula API version we speak; clients compare it.</summary>
    public string Version { get; init; } = "7.5.80";

    /// <summary>UMASK for new objects when the user sets none (octal 177: owner use+manage).</summary>
    public int DefaultUmask { get; init; } = Convert.ToInt32("177", 8);

    public QuotaSet DefaultUserQuotas { get; init; } = QuotaSet.Empty;
    public QuotaSet DefaultGroupQuotas { get; init; } = QuotaSet.Empty;

    /// <summary>Live login tokens per user (oned keeps at most 10).</summary>
    public int MaxTokensPerUser { get; init; } = 10;

    /// <summary>Upper bound of a token's lifetime in seconds; -1 = no bound, 0 = tokens disabled.</summary>
    public long MaxTokenTime { get; init; } = -1;

    /// <summary>Largest request body the API accepts.</summary>
    public int MaxRequestBytes { get; init; } = 8 * 1024 * 1024;
}
