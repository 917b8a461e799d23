using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler.Engine;

internal enum RankKind : byte { Packing, Striping, LoadAware, Custom }

internal enum DsRankKind : byte { Packing, Striping, Custom }

/// <summary>A host in a class's rank index: higher rank first, then lower host id (slots are in id order).</summary>
internal readonly record struct RankedHost(double Rank, int Slot);

internal sealed class RankedHostComparer : IComparer<RankedHost>
{
    public static readonly RankedHostComparer Instance = new();

    public int Compare(RankedHost x, RankedHost y)
    {
        var c = y.Rank.CompareTo(x.Rank);
        return c != 0 ? c : x.Slot.CompareTo(y.Slot);
    }
}

/// <summary>
/// VMs that ask for exactly the same thing: requirement and rank expressions, datastore
/// expressions, CPU, memory, disk, PCI devices, fixed datastore. Ten thousand VMs from a few
/// templates are a few classes: expression results per host and the "no host left" answer are
/// worked out once per class instead of once per VM.
/// </summary>
internal sealed class PlacementClass
{
    public required IndexGroup Group { get; init; }
    public string? Error { get; init; }
    public BoolExpression? SchedRequirements { get; init; }
    public BoolExpression? AutomaticRequirements { get; init; }
    public RankKind RankKind { get; init; }
    public RankExpression? Rank { get; init; }
    public BoolExpression? DsRequirements { get; init; }
    public BoolExpression? AutomaticDsRequirements { get; init; }
    public DsRankKind DsRankKind { get; init; }
    public RankExpression? DsRank { get; init; }
    public long Cpu { get; init; }
    public long Mem { get; init; }
    public long DiskMb { get; init; }
    public PciRequest[] Pci { get; init; } = [];
    public int FixedDsId { get; init; } = -1;
    public bool IsResched { get; init; }

    /// <summary>Requirements read live counters: re-evaluated per check, never cached or used to drop hosts.</summary>
    public bool RequirementsDynamic { get; init; }
    public bool RankDynamic { get; init; }
    public bool DsRequirementsDynamic { get; init; }

    /// <summary>Set when the class found no host for a VM without VM-specific rules: later VMs get the same answer at once.</summary>
    public string? ExhaustedMessage { get; set; }
}

/// <summary>
/// Classes that differ only in size (CPU, memory, disk) see hosts in the same order, so they share
/// one rank-ordered index of the hosts that pass their requirements. Capacity only shrinks during a
/// cycle: a host that cannot fit the smallest VM still to come in the group can never be used by
/// the group again and leaves the index for good. That keeps each placement near O(log hosts),
/// even when every VM has a different size.
/// </summary>
internal sealed class IndexGroup
{
    /// <summary>The group's VMs in processing order, and the smallest demand from each position on.</summary>
    public List<VmRequest> Vms { get; } = [];
    private long[] _minCpu = [];
    private long[] _minMem = [];
    private long[] _minDisk = [];
    private int _cursor;

    public int RemainingVms { get; set; }

    public SortedSet<RankedHost>? Index { get; set; }
    public double[]? RankOf { get; set; }
    /// <summary>Per host slot: 0 never a candidate, 1 in the index, 2 dropped for the rest of the cycle.</summary>
    public byte[]? IndexState { get; set; }
    public bool Retired { get; set; }

    public void Seal()
    {
        var n = Vms.Count;
        _minCpu = new long[n + 1];
        _minMem = new long[n + 1];
        _minDisk = new long[n + 1];
        _minCpu[n] = _minMem[n] = _minDisk[n] = long.MaxValue;
        for (var i = n - 1; i >= 0; i--)
        {
            _minCpu[i] = Math.Min(_minCpu[i + 1], Vms[i].Cpu);
            _minMem[i] = Math.Min(_minMem[i + 1], Vms[i].Mem);
            _minDisk[i] = Math.Min(_minDisk[i + 1], Vms[i].DiskMb);
        }
        RemainingVms = n;
    }

    /// <summary>
    /// Lower bounds of the demand of the VMs not processed yet: the suffix minimum from the first
    /// unprocessed VM (followers of affined sets run early, which only makes the bound lower: safe).
    /// </summary>
    public (long Cpu, long Mem, long Disk) MinRemaining()
    {
        while (_cursor < Vms.Count && Vms[_cursor].Processed) _cursor++;
        return (_minCpu[_cursor], _minMem[_cursor], _minDisk[_cursor]);
    }
}
