using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// One quota entry: limits and usage by name (e.g. VMS, CPU, MEMORY; IMAGES, SIZE; LEASES; RVMS).
/// Limit -1 = use the default quota, -2 = unlimited, as in OpenNebula.
/// </summary>
public sealed record QuotaEntry(string Id, ImmutableSortedDictionary<string, double> Limits, ImmutableSortedDictionary<string, double> Used)
{
    public static QuotaEntry Create(string id, IEnumerable<string> metrics) => new(
        id,
        metrics.ToImmutableSortedDictionary(m => m, _ => -1.0, StringComparer.Ordinal),
        metrics.ToImmutableSortedDictionary(m => m, _ => 0.0, StringComparer.Ordinal));

    public double Limit(string metric) => Limits.TryGetValue(metric, out var v) ? v : -1;

    public double UsedOf(string metric) => Used.TryGetValue(metric, out var v) ? v : 0;
}

/// <summary>
/// The cloud's default quotas (one.userquota.* / one.groupquota.*): the limits a user or group quota of
/// -1 stands for. Replicated state like any object, so every front-end applies the same defaults.
/// </summary>
public sealed record QuotaDefaults : PoolObject
{
    public const int SingletonId = 0;

    public override ObjectType Type => ObjectType.QuotaDefaults;
    public QuotaSet User { get; init; } = QuotaSet.Empty;
    public QuotaSet Group { get; init; } = QuotaSet.Empty;
}

/// <summary>The four quota kinds OpenNebula keeps on users and groups.</summary>
public sealed record QuotaSet
{
    public static readonly string[] VmMetrics =
    [
        "CPU", "MEMORY", "RUNNING_CPU", "RUNNING_MEMORY", "RUNNING_VMS", "SYSTEM_DISK_SIZE", "VMS",
    ];

    public static readonly string[] DatastoreMetrics = ["IMAGES", "SIZE"];
    public static readonly string[] NetworkMetrics = ["LEASES"];
    public static readonly string[] ImageMetrics = ["RVMS"];

    public static readonly QuotaSet Empty = new();

    public ImmutableList<QuotaEntry> Datastore { get; init; } = [];
    public ImmutableList<QuotaEntry> Network { get; init; } = [];
    public ImmutableList<QuotaEntry> Image { get; init; } = [];
    public QuotaEntry? Vm { get; init; }
}
