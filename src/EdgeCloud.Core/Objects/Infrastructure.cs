using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

public sealed record Cluster : PoolObject
{
    public override ObjectType Type => ObjectType.Cluster;
    public ImmutableSortedSet<int> Hosts { get; init; } = [];
    public ImmutableSortedSet<int> Datastores { get; init; } = [];
    public ImmutableSortedSet<int> VNets { get; init; } = [];
}

/// <summary>
/// Capacity of a host as the scheduler and the API see it. CPU in percent (100 = one core),
/// memory in KiB, disk in MiB, as OpenNebula's HOST_SHARE. *_USAGE is what VMs placed there have
/// reserved; TOTAL_* is what monitoring found; MAX_* is TOTAL_* after the operator's reservations.
/// </summary>
public sealed record HostShare
{
    public long CpuUsage { get; init; }
    public long MemUsage { get; init; }
    public long DiskUsage { get; init; }
    public long TotalCpu { get; init; }
    public long TotalMem { get; init; }
    public long MaxCpu { get; init; }
    public long MaxMem { get; init; }
    public long MaxDisk { get; init; }
    public long FreeDisk { get; init; }
    public long UsedDisk { get; init; }
    public int RunningVms { get; init; }
}

public sealed record Host : PoolObject
{
    public override ObjectType Type => ObjectType.Host;
    public HostState State { get; init; }
    public HostState PrevState { get; init; }
    public string ImMad { get; init; } = "";
    public string VmMad { get; init; } = "";
    public int ClusterId { get; init; }
    public string ClusterName { get; init; } = "";
    public HostShare Share { get; init; } = new();
    public ImmutableSortedSet<int> Vms { get; init; } = [];
    /// <summary>Epoch seconds of the last successful monitoring that changed the stored state.</summary>
    public long LastMonitored { get; init; }
    /// <summary>SHA-256 (hex) of the host's pending one-time agent join secret; empty when none is pending.</summary>
    public string JoinSecretHash { get; init; } = "";
    /// <summary>Epoch seconds after which the pending join secret is refused.</summary>
    public long JoinSecretExpires { get; init; }
    /// <summary>Serial number of the certificate the host's agent was issued (empty before it joined).</summary>
    public string AgentCertificate { get; init; } = "";
}

public sealed record Datastore : OwnedObject
{
    public override ObjectType Type => ObjectType.Datastore;
    public string DsMad { get; init; } = "";
    public string TmMad { get; init; } = "";
    public string BasePath { get; init; } = "";
    public DatastoreType DsType { get; init; }
    public int DiskType { get; init; }
    public DatastoreState State { get; init; }
    public ImmutableSortedSet<int> Clusters { get; init; } = [];
    public long TotalMb { get; init; }
    public long FreeMb { get; init; }
    public long UsedMb { get; init; }
    public ImmutableSortedSet<int> Images { get; init; } = [];
}
