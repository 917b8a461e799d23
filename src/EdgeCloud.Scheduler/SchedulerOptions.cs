namespace EdgeCloud.Scheduler;

/// <summary>OpenNebula's host scheduling policies (sched.conf DEFAULT_SCHED POLICY numbers).</summary>
public enum HostPolicy
{
    /// <summary>Fill hosts up before using new ones: rank = RUNNING_VMS (fewer hosts in use).</summary>
    Packing = 0,
    /// <summary>Spread VMs: rank = -RUNNING_VMS (more headroom per VM). OpenNebula's default.</summary>
    Striping = 1,
    /// <summary>Least loaded first: rank = FREE_CPU.</summary>
    LoadAware = 2,
    /// <summary>The <see cref="SchedulerOptions.Rank"/> expression.</summary>
    Custom = 3,
}

/// <summary>OpenNebula's system datastore policies (DEFAULT_DS_SCHED POLICY numbers).</summary>
public enum DatastorePolicy
{
    /// <summary>Use the datastore with less free space first: rank = -FREE_MB.</summary>
    Packing = 0,
    /// <summary>Use the datastore with more free space first: rank = FREE_MB. OpenNebula's default.</summary>
    Striping = 1,
    /// <summary>The <see cref="SchedulerOptions.DatastoreRank"/> expression.</summary>
    Custom = 2,
}

/// <summary>
/// Scheduler configuration (OpenNebula's sched.conf). A VM's own SCHED_RANK / SCHED_DS_RANK
/// overrides the policy for that VM.
/// </summary>
public sealed record SchedulerOptions
{
    public HostPolicy Policy { get; init; } = HostPolicy.Striping;

    /// <summary>Rank expression for <see cref="HostPolicy.Custom"/> (e.g. "FREE_CPU - RUNNING_VMS * 10").</summary>
    public string? Rank { get; init; }

    public DatastorePolicy DatastorePolicy { get; init; } = DatastorePolicy.Striping;

    /// <summary>Rank expression for <see cref="DatastorePolicy.Custom"/>.</summary>
    public string? DatastoreRank { get; init; }

    /// <summary>
    /// Most deployments plus migrations one cycle may plan; null = no limit. OpenNebula's
    /// MAX_DISPATCH throttles its slow dispatch; here it bounds the burst the drivers receive.
    /// </summary>
    public int? MaxDispatchPerCycle { get; init; }

    /// <summary>Most VMs one cycle may send to one host (MAX_HOST); null = no limit.</summary>
    public int? MaxPerHostPerCycle { get; init; }

    /// <summary>Rescheduled VMs migrate live (true) or with a save/restore (false: OpenNebula's LIVE_RESCHEDS=0 default).</summary>
    public bool LiveResched { get; init; }

    /// <summary>How many distinct expression texts stay compiled between cycles.</summary>
    public int ExpressionCacheCapacity { get; init; } = 4096;

    /// <summary>
    /// VMs with the same placement signature from which the engine keeps the class's hosts in a
    /// rank-ordered index instead of scanning every host per VM. Tuning only: both paths give the
    /// same plan.
    /// </summary>
    public int IndexThreshold { get; init; } = 8;

    /// <exception cref="ArgumentException">A limit is not positive, or a custom policy lacks its expression.</exception>
    public void Validate()
    {
        if (MaxDispatchPerCycle is < 1) throw new ArgumentException("MaxDispatchPerCycle must be at least 1 (null for no limit)");
        if (MaxPerHostPerCycle is < 1) throw new ArgumentException("MaxPerHostPerCycle must be at least 1 (null for no limit)");
        if (ExpressionCacheCapacity < 1) throw new ArgumentException("ExpressionCacheCapacity must be at least 1");
        if (IndexThreshold < 1) throw new ArgumentException("IndexThreshold must be at least 1");
        if (Policy == HostPolicy.Custom && string.IsNullOrWhiteSpace(Rank))
            throw new ArgumentException("The custom host policy needs a Rank expression");
        if (DatastorePolicy == DatastorePolicy.Custom && string.IsNullOrWhiteSpace(DatastoreRank))
            throw new ArgumentException("The custom datastore policy needs a DatastoreRank expression");
    }
}
