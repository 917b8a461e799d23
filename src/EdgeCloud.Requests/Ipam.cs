using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>
/// External IPAM inside commands. A command cannot wait for a driver process (it runs on the bus's
/// single writer), so a request that may lease from an address range with an external IPAM_MAD runs
/// in two passes (<see cref="Cloud"/>.ExecuteLeasingAsync):
/// <list type="number">
/// <item>discovery: the command runs on a scratch transaction of the current state; every lease it
/// would take from an external range is recorded as an <see cref="IpamNeed"/> instead;</item>
/// <item>the IPAM drivers are asked (get_address, or allocate_address for a requested IP);</item>
/// <item>the real command runs with the answers (<see cref="IpamGrant"/>) and leases exactly them.</item>
/// </list>
/// Addresses the real command did not use, or all of them when it failed, are given back with
/// free_address, so a failure never leaves a partial lease on either side.
/// </summary>
internal sealed class IpamScope
{
    [ThreadStatic] private static IpamScope? _current;

    private readonly List<IpamGrant> _grants;

    private IpamScope(bool discover, List<IpamGrant> grants)
    {
        Discover = discover;
        _grants = grants;
    }

    /// <summary>The scope of the command running on this thread; null outside ExecuteLeasingAsync.</summary>
    public static IpamScope? Current => _current;

    public bool Discover { get; }

    public List<IpamNeed> Needs { get; } = [];

    public IReadOnlyList<IpamGrant> Grants => _grants;

    public static IpamScope ForDiscovery() => new(true, []);

    public static IpamScope WithGrants(List<IpamGrant> grants) => new(false, grants);

    /// <summary>Makes this the thread's scope until disposed; grants start unused (a command may run again).</summary>
    public IDisposable Enter()
    {
        foreach (var g in _grants) g.Used = false;
        var previous = _current;
        _current = this;
        return new Exit(() => _current = previous);
    }

    /// <summary>Takes the grant the drivers gave for this need, or null when there is none (the state changed between the passes).</summary>
    public IpamGrant? Take(int netId, int arId, string? wantIp)
    {
        var g = _grants.FirstOrDefault(x => !x.Used && x.Need.NetId == netId && x.Need.ArId == arId && x.Need.WantIp == wantIp);
        if (g is not null) g.Used = true;
        return g;
    }

    private sealed class Exit(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>IPAM_MAD of an address range when it names an external driver; null for the built-in IPAM.</summary>
    public static string? ExternalMad(AddressRange ar) => ExternalMad(ar.Attributes);

    public static string? ExternalMad(VectorAttribute ar) =>
        ar["IPAM_MAD"] is { Length: > 0 } mad && !mad.Equals("internal", StringComparison.OrdinalIgnoreCase) ? mad : null;
}

/// <summary>An address a command needs from an external IPAM: any free one, or <see cref="WantIp"/>.</summary>
internal sealed record IpamNeed(int NetId, int ArId, string IpamMad, VectorAttribute Ar, string? WantIp, string What);

/// <summary>The IPAM's answer to a need.</summary>
internal sealed class IpamGrant(IpamNeed need, string ip)
{
    public IpamNeed Need { get; } = need;
    public string Ip { get; } = ip;
    public bool Used { get; set; }
}

/// <summary>A lease of an externally managed range ended: the IPAM is told (free_address) after the commit.</summary>
public sealed record IpamAddressFreed(string IpamMad, VectorAttribute Ar, string Ip);

/// <summary>An externally managed range left its network (rm_ar, network deleted): unregister_address_range after the commit.</summary>
public sealed record IpamRangeRemoved(string IpamMad, VectorAttribute Ar);
