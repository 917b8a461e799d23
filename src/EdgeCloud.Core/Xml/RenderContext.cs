using System.Collections.Immutable;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

/// <summary>How much of an object to write.</summary>
public enum RenderMode
{
    /// <summary>The body <c>one.&lt;x&gt;.info</c> returns (also the bodies of the *_pool_extended documents).</summary>
    Full = 0,

    /// <summary>
    /// The element a <c>one.&lt;x&gt;pool.info</c> listing holds. For a VM the short body of
    /// one.vmpool.info (vm_pool.xsd: reduced TEMPLATE, at most the last HISTORY); for a user or a group
    /// the body without quotas followed by its QUOTAS element (user_pool.xsd / group_pool.xsd); for a
    /// VNET the address ranges without leases (vnet_pool.xsd); for every other kind the full body.
    /// </summary>
    PoolEntry = 1,
}

/// <summary>
/// What rendering needs beyond the object itself. Kept small on purpose: the API renders each object
/// once per change and caches the bytes, so nothing here may depend on who is asking.
/// </summary>
/// <param name="Monitoring">Live host and VM samples (the MONITORING elements); monitoring is not replicated state.</param>
/// <param name="DefaultUserQuotas">The DEFAULT_USER_QUOTAS block of USER documents and of USER_POOL.</param>
/// <param name="DefaultGroupQuotas">The DEFAULT_GROUP_QUOTAS block of GROUP documents and of GROUP_POOL.</param>
public sealed record RenderContext(IMonitoringSource Monitoring, QuotaSet DefaultUserQuotas, QuotaSet DefaultGroupQuotas)
{
    /// <summary>No monitoring, empty default quotas (tests, a front-end before its first sample).</summary>
    public static readonly RenderContext Default = new(NoMonitoring.Instance, QuotaSet.Empty, QuotaSet.Empty);

    /// <summary>
    /// Raft state of this zone's servers by server id, shown in one.zone.info's SERVER elements
    /// (STATE, TERM, VOTEDFOR, COMMIT, LOG_INDEX, FEDLOG_INDEX) as <c>onezone show</c> prints them.
    /// Empty: servers are listed with ENDPOINT, ID and NAME only, as in ZONE_POOL.
    /// </summary>
    public ImmutableDictionary<int, RaftStatus> ZoneServers { get; init; } = ImmutableDictionary<int, RaftStatus>.Empty;
}
