using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Drivers;

/// <summary>
/// An IPAM driver, selected per address range by its IPAM_MAD attribute, with OpenNebula's five
/// actions. Without IPAM_MAD (or with IPAM_MAD = "internal") the front-end's built-in lease ledger
/// manages the range alone; an external driver decides the range on register and every address a
/// lease gets, and is told when one is freed.
/// </summary>
public interface IIpamDriver
{
    /// <summary>The IPAM_MAD name this driver serves.</summary>
    string Name { get; }

    /// <summary>register_address_range: returns the AR as the IPAM defines it (at least TYPE, IP, SIZE; GATEWAY, NETWORK_MASK... may be added).</summary>
    Task<VectorAttribute> RegisterAddressRangeAsync(VectorAttribute ar, CancellationToken ct);

    /// <summary>unregister_address_range: the AR is removed from its network.</summary>
    Task UnregisterAddressRangeAsync(VectorAttribute ar, CancellationToken ct);

    /// <summary>get_address: the IPAM picks <paramref name="size"/> free consecutive addresses of the AR.</summary>
    Task<IpamAddress> GetAddressAsync(VectorAttribute ar, int size, CancellationToken ct);

    /// <summary>allocate_address: a specific address is asked for; the IPAM refuses (throws) when it is not free.</summary>
    Task AllocateAddressAsync(VectorAttribute ar, IpamAddress address, CancellationToken ct);

    /// <summary>free_address: a lease ended.</summary>
    Task FreeAddressAsync(VectorAttribute ar, IpamAddress address, CancellationToken ct);
}

/// <summary>An address (or <see cref="Size"/> consecutive ones from it) handed out by an IPAM.</summary>
public sealed record IpamAddress(string Ip, int Size = 1);

/// <summary>The configured external IPAM drivers, by IPAM_MAD.</summary>
public interface IIpamDrivers
{
    /// <summary>The driver of <paramref name="ipamMad"/>, or null when no such driver is configured.</summary>
    IIpamDriver? Find(string ipamMad);

    /// <summary>Names of the configured drivers (for error messages).</summary>
    IReadOnlyCollection<string> Names { get; }
}

/// <summary>An IPAM driver action failed; the message says which action and why (the driver's own words).</summary>
public sealed class IpamException(string message) : Exception(message);

/// <summary>
/// The elastic-IP hook: an executable named by ELASTIC_IP_HOOK on an address range or its network,
/// called when an address of it is bound to a VM on a host (attach) or released from it (detach),
/// so a cloud provider's API can move the public address to that host.
/// </summary>
public interface IElasticIpHooks
{
    /// <summary>Runs hook <paramref name="hook"/> for one lease; throws <see cref="IpamException"/> with the hook's error.</summary>
    Task RunAsync(string hook, ElasticIpEvent e, CancellationToken ct);

    /// <summary>Whether a hook of that name is configured.</summary>
    bool Exists(string hook);
}

/// <summary>One call of an elastic-IP hook: ACTION is "attach" or "detach".</summary>
public sealed record ElasticIpEvent(string Action, string Ip, int VmId, int NicId, int HostId, string HostName, int NetworkId, int ArId);
