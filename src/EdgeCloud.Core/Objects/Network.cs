using System.Collections.Immutable;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Objects;

/// <summary>A lease inside an address range: which VM (or hold: VM -1) has which index.</summary>
public sealed record Lease(int Index, int Vm, int NicId);

/// <summary>
/// An address range (AR) of a virtual network. Attributes (TYPE, IP, MAC, SIZE, IP6...) live in
/// <see cref="Attributes"/> as OpenNebula keeps them; leases are by offset from the start.
/// </summary>
public sealed record AddressRange
{
    public int ArId { get; init; }
    public VectorAttribute Attributes { get; init; } = new("AR");
    public ImmutableSortedDictionary<int, Lease> Leases { get; init; } = ImmutableSortedDictionary<int, Lease>.Empty;
}

public sealed record VNet : OwnedObject
{
    public override ObjectType Type => ObjectType.VNet;
    public ImmutableSortedSet<int> Clusters { get; init; } = [];
    public string Bridge { get; init; } = "";
    public string BridgeType { get; init; } = "";
    public VNetState State { get; init; }
    public VNetState PrevState { get; init; }
    public int ParentNetworkId { get; init; } = -1;
    public string VnMad { get; init; } = "";
    public string PhyDev { get; init; } = "";
    public string VlanId { get; init; } = "";
    public string OuterVlanId { get; init; } = "";
    public bool VlanIdAutomatic { get; init; }
    public bool OuterVlanIdAutomatic { get; init; }
    public ImmutableList<AddressRange> AddressRanges { get; init; } = [];
    public int NextArId { get; init; }
    public ImmutableSortedSet<int> VRouters { get; init; } = [];

    public int UsedLeases => AddressRanges.Sum(a => a.Leases.Count);
}

/// <summary>A virtual network template (one.vntemplate.*): a named network template with an owner, instantiated into networks.</summary>
public sealed record VNTemplate : OwnedObject
{
    public override ObjectType Type => ObjectType.VNTemplate;
    public long RegTime { get; init; }
}

public sealed record SecGroup : OwnedObject
{
    public override ObjectType Type => ObjectType.SecGroup;
    public ImmutableSortedSet<int> UpdatedVms { get; init; } = [];
    public ImmutableSortedSet<int> OutdatedVms { get; init; } = [];
    public ImmutableSortedSet<int> UpdatingVms { get; init; } = [];
    public ImmutableSortedSet<int> ErrorVms { get; init; } = [];
}

/// <summary>A role of a VM group (ROLE element): its policy and member VMs.</summary>
public sealed record VmGroupRole(int Id, string Name, string Policy, string HostAffined, string HostAntiAffined, ImmutableSortedSet<int> Vms);

public sealed record VmGroup : OwnedObject
{
    public override ObjectType Type => ObjectType.VmGroup;
    public ImmutableList<VmGroupRole> Roles { get; init; } = [];
}
