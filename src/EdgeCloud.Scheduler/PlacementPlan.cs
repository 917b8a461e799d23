namespace EdgeCloud.Scheduler;

/// <summary>Deploy a pending VM on a host and system datastore.</summary>
/// <param name="PciDevices">Addresses (SHORT_ADDRESS or ADDRESS) of the host PCI devices matched to the VM's PCI requests, in request order.</param>
public sealed record VmPlacement(int VmId, int HostId, int DatastoreId, IReadOnlyList<string> PciDevices);

/// <summary>Move a rescheduled running VM to a better host; the system datastore stays the same.</summary>
public sealed record VmMigration(int VmId, int FromHostId, int ToHostId, int DatastoreId, bool Live);

public enum UnplacedReason
{
    /// <summary>No host passed every constraint; the message says which constraint excluded them.</summary>
    NoMatchingHost,
    /// <summary>SCHED_REQUIREMENTS, SCHED_RANK, SCHED_DS_* or AUTOMATIC_* does not parse.</summary>
    InvalidExpression,
    /// <summary>The VMGROUP attribute names a group or role that does not exist.</summary>
    InvalidVmGroup,
    /// <summary>Another VM of its affined set has to be placed first and could not be.</summary>
    WaitingForAffinedVm,
    /// <summary>The per-cycle dispatch limit was reached before this VM's turn; it is retried next cycle.</summary>
    DispatchLimit,
}

/// <summary>A pending VM left pending, with the text for its USER_TEMPLATE/SCHED_MESSAGE.</summary>
public sealed record UnplacedVm(int VmId, UnplacedReason Reason, string Message);

/// <summary>
/// What one scheduling cycle decided, computed on one consistent snapshot. The lead applies it:
/// deploy actions, migrations, and SCHED_MESSAGE updates for the unplaced VMs. Running VMs flagged
/// for rescheduling that have no better host appear in no list.
/// </summary>
public sealed record PlacementPlan
{
    /// <summary>Version of the snapshot the plan was computed on: apply only if nothing relevant moved.</summary>
    public required long SnapshotVersion { get; init; }

    public required IReadOnlyList<VmPlacement> Placements { get; init; }

    public required IReadOnlyList<VmMigration> Migrations { get; init; }

    public required IReadOnlyList<UnplacedVm> Unplaced { get; init; }

    /// <summary>Pending plus rescheduled VMs the cycle looked at.</summary>
    public required int ConsideredVms { get; init; }

    /// <summary>Wall time of the cycle (for the cycle-time metric and logs).</summary>
    public required TimeSpan Elapsed { get; init; }
}
