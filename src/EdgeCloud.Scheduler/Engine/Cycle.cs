using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>How a host fares for a VM; the order is the order of the checks (and of the explanation funnel).</summary>
internal enum Fit : byte { Ok, NotMonitored, CurrentHost, Automatic, Requirements, Group, HostLimit, Capacity, Pci, Datastore }

/// <summary>
/// One scheduling cycle over one snapshot. Single-threaded and short-lived: all mutable state
/// (capacity consumed so far, class indexes, expression results) lives here and dies with the cycle.
/// See README.md for the algorithm.
/// </summary>
internal sealed partial class Cycle
{
    private readonly SchedulerOptions _options;
    private readonly ExpressionCache _cache;
    private readonly StateSnapshot _snapshot;
    private readonly HostSlot[] _hosts;
    private readonly Dictionary<int, HostSlot> _hostById = [];
    private readonly Dictionary<int, DatastoreSlot> _dsById = [];
    private readonly Dictionary<BoolExpression, bool[]> _hostBits = [];
    private readonly Dictionary<BoolExpression, bool> _dynamicRequirement = [];
    private readonly Dictionary<RankExpression, double[]> _staticRanks = [];
    private readonly Dictionary<(BoolExpression, int), bool> _dsBits = [];
    private readonly Dictionary<ClassKey, PlacementClass> _classes = [];
    private readonly Dictionary<HostKey, IndexGroup> _indexGroups = [];

    /// <summary>What makes hosts rank and filter the same way (an index group).</summary>
    private readonly record struct HostKey(string? Sched, string? Auto, string Rank, string? DsSched, string? DsAuto, string DsRank,
        string Pci, int FixedDs, bool Resched);

    /// <summary>A class: the host key plus the size.</summary>
    private readonly record struct ClassKey(HostKey Host, long Cpu, long Mem, long Disk);
    private readonly GroupIndex _groups;
    private readonly List<VmPlacement> _placements = [];
    private readonly List<VmMigration> _migrations = [];
    private readonly List<UnplacedVm> _unplaced = [];
    private int _dispatched;

    public Cycle(SchedulerOptions options, ExpressionCache cache, StateSnapshot snapshot, IMonitoringSource monitoring)
    {
        _options = options;
        _cache = cache;
        _snapshot = snapshot;

        // Datastore ↔ cluster membership from both sides (a datastore's CLUSTERS and a cluster's DATASTORES).
        var clusters = snapshot.All<Cluster>(ObjectType.Cluster).ToDictionary(c => c.Id);
        var dsClusters = new Dictionary<int, SortedSet<int>>();
        foreach (var ds in snapshot.All<Datastore>(ObjectType.Datastore))
            dsClusters[ds.Id] = [.. ds.Clusters];
        foreach (var c in clusters.Values)
            foreach (var dsId in c.Datastores)
                if (dsClusters.TryGetValue(dsId, out var set)) set.Add(c.Id);

        var systemByCluster = new Dictionary<int, List<DatastoreSlot>>();
        var index = 0;
        foreach (var ds in snapshot.All<Datastore>(ObjectType.Datastore))
        {
            if (ds.DsType != DatastoreType.SYSTEM_DS) continue;
            var slot = new DatastoreSlot(index++, ds, [.. dsClusters[ds.Id]]);
            _dsById[ds.Id] = slot;
            foreach (var cid in slot.Clusters)
            {
                if (!systemByCluster.TryGetValue(cid, out var list)) systemByCluster[cid] = list = [];
                list.Add(slot);
            }
        }
        var systemArrays = systemByCluster.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

        var hosts = new List<HostSlot>(snapshot.Count(ObjectType.Host));
        foreach (var h in snapshot.All<Host>(ObjectType.Host))
        {
            var slot = new HostSlot(hosts.Count, h, monitoring.Host(h.Id), clusters.GetValueOrDefault(h.ClusterId),
                systemArrays.GetValueOrDefault(h.ClusterId) ?? []);
            hosts.Add(slot);
            _hostById[h.Id] = slot;
        }
        _hosts = [.. hosts];
        _groups = new GroupIndex(snapshot);
    }

    public PlacementPlan Run(IEnumerable<Vm> vms, Func<TimeSpan> elapsed)
    {
        var seen = new HashSet<int>();
        var requests = new List<VmRequest>();
        foreach (var vm in vms)
            if (PlacementEngine.IsSchedulable(vm) && seen.Add(vm.Id)) requests.Add(new VmRequest(vm));

        // OpenNebula's order: USER_PRIORITY (higher first), then VM id; reschedules after new VMs.
        requests.Sort((a, b) =>
            a.IsResched != b.IsResched ? a.IsResched.CompareTo(b.IsResched)
            : a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority)
            : a.Id.CompareTo(b.Id));

        foreach (var r in requests)
        {
            r.Class = ClassOf(r);
            r.Class.Group.Vms.Add(r);
            r.Role = _groups.Resolve(r, out var groupError);
            r.GroupError = groupError;
            if (r.Role is { } role && !r.IsResched && r.Class.Error is null && groupError is null)
            {
                role.OwnSet?.Pending.Add(r);
                role.RuleSet?.Pending.Add(r);
            }
        }

        foreach (var g in _indexGroups.Values) g.Seal();

        foreach (var r in requests)
        {
            if (r.Processed) continue;
            var led = Process(r);
            if (led is null || !r.Placed) continue;
            // Followers go right after their leader, onto its host, before anything else takes the room.
            foreach (var set in led)
                foreach (var f in set.Pending)
                    if (!f.Processed) Process(f);
        }

        return new PlacementPlan
        {
            SnapshotVersion = _snapshot.Version,
            Placements = _placements,
            Migrations = _migrations,
            Unplaced = _unplaced,
            ConsideredVms = requests.Count,
            Elapsed = elapsed(),
        };
    }

    // ------------------------------------------------------------------ classes

    private PlacementClass ClassOf(VmRequest r)
    {
        var rankKey = r.Rank ?? (_options.Policy == HostPolicy.Custom ? _options.Rank! : "\0policy");
        var dsRankKey = r.DsRank ?? (_options.DatastorePolicy == DatastorePolicy.Custom ? _options.DatastoreRank! : "\0policy");
        var hostKey = new HostKey(r.SchedRequirements, r.AutomaticRequirements, rankKey, r.DsRequirements,
            r.AutomaticDsRequirements, dsRankKey, r.Pci.Length == 0 ? "" : string.Join(";", r.Pci.Select(p => p.Key)), r.FixedDsId, r.IsResched);
        var key = new ClassKey(hostKey, r.Cpu, r.Mem, r.DiskMb);
        if (_classes.TryGetValue(key, out var existing)) return existing;
        if (!_indexGroups.TryGetValue(hostKey, out var group)) _indexGroups[hostKey] = group = new IndexGroup();

        string? error = null;
        BoolExpression? Req(string? text, string attribute)
        {
            if (text is null || error is not null) return null;
            try
            {
                var e = _cache.GetRequirement(text);
                return e.IsEmpty ? null : e;
            }
            catch (ExpressionException ex)
            {
                error = $"Error in {attribute}: {ex.Message}";
                return null;
            }
        }
        RankExpression? Rank(string? text, string attribute)
        {
            if (text is null || error is not null) return null;
            try
            {
                return _cache.GetRank(text);
            }
            catch (ExpressionException ex)
            {
                error = $"Error in {attribute}: {ex.Message}";
                return null;
            }
        }

        var auto = Req(r.AutomaticRequirements, "AUTOMATIC_REQUIREMENTS");
        var sched = Req(r.SchedRequirements, "SCHED_REQUIREMENTS");
        var dsAuto = Req(r.AutomaticDsRequirements, "AUTOMATIC_DS_REQUIREMENTS");
        var dsSched = Req(r.DsRequirements, "SCHED_DS_REQUIREMENTS");
        var rankText = r.Rank ?? (_options.Policy == HostPolicy.Custom ? _options.Rank : null);
        var rank = Rank(rankText, r.Rank is not null ? "SCHED_RANK" : "the scheduler's default rank");
        var dsRankText = r.DsRank ?? (_options.DatastorePolicy == DatastorePolicy.Custom ? _options.DatastoreRank : null);
        var dsRank = Rank(dsRankText, r.DsRank is not null ? "SCHED_DS_RANK" : "the scheduler's default datastore rank");

        var cls = new PlacementClass
        {
            Group = group,
            Error = error,
            AutomaticRequirements = auto,
            SchedRequirements = sched,
            RankKind = rankText is not null ? RankKind.Custom : _options.Policy switch
            {
                HostPolicy.Packing => RankKind.Packing,
                HostPolicy.LoadAware => RankKind.LoadAware,
                _ => RankKind.Striping,
            },
            Rank = rank,
            DsRequirements = dsSched,
            AutomaticDsRequirements = dsAuto,
            DsRankKind = dsRankText is not null ? DsRankKind.Custom
                : _options.DatastorePolicy == DatastorePolicy.Packing ? DsRankKind.Packing : DsRankKind.Striping,
            DsRank = dsRank,
            Cpu = r.Cpu,
            Mem = r.Mem,
            DiskMb = r.DiskMb,
            Pci = r.Pci,
            FixedDsId = r.FixedDsId,
            IsResched = r.IsResched,
            RequirementsDynamic = IsDynamic(auto) || IsDynamic(sched),
            RankDynamic = rankText is null || (rank is not null && rank.Attributes.Any(HostSlot.IsDynamic)),
            DsRequirementsDynamic = (dsAuto?.Attributes.Any(DatastoreSlot.IsDynamic) ?? false) ||
                                    (dsSched?.Attributes.Any(DatastoreSlot.IsDynamic) ?? false),
        };
        _classes[key] = cls;
        return cls;
    }

    private bool IsDynamic(BoolExpression? e)
    {
        if (e is null) return false;
        if (!_dynamicRequirement.TryGetValue(e, out var d))
            _dynamicRequirement[e] = d = e.Attributes.Any(HostSlot.IsDynamic);
        return d;
    }

    // ------------------------------------------------------------------ per-host checks

    /// <summary>Requirement on a host: cached per expression for the cycle, or evaluated live when it reads live counters.</summary>
    private bool Passes(BoolExpression? e, HostSlot h)
    {
        if (e is null) return true;
        if (IsDynamic(e)) return e.Evaluate(h);
        if (!_hostBits.TryGetValue(e, out var bits))
        {
            bits = new bool[_hosts.Length];
            foreach (var s in _hosts) bits[s.Index] = s.Monitored && e.Evaluate(s);
            _hostBits[e] = bits;
        }
        return bits[h.Index];
    }

    private double HostRank(PlacementClass c, HostSlot h)
    {
        var r = c.RankKind switch
        {
            RankKind.Packing => h.RunningVms,
            RankKind.Striping => -h.RunningVms,
            RankKind.LoadAware => h.FreeCpu,
            _ => c.RankDynamic ? c.Rank!.Evaluate(h) : StaticRank(c.Rank!, h),
        };
        return double.IsNaN(r) ? 0 : r;
    }

    private double StaticRank(RankExpression e, HostSlot h)
    {
        if (!_staticRanks.TryGetValue(e, out var ranks))
        {
            ranks = new double[_hosts.Length];
            foreach (var s in _hosts) ranks[s.Index] = s.Monitored ? e.Evaluate(s) : 0;
            _staticRanks[e] = ranks;
        }
        return ranks[h.Index];
    }

    private bool DsPasses(PlacementClass c, DatastoreSlot ds, HostSlot h) =>
        DsPasses(c.AutomaticDsRequirements, c.DsRequirementsDynamic, ds, h) &&
        DsPasses(c.DsRequirements, c.DsRequirementsDynamic, ds, h);

    private bool DsPasses(BoolExpression? e, bool dynamic, DatastoreSlot ds, HostSlot h)
    {
        if (e is null) return true;
        if (dynamic)
        {
            ds.Context = h;
            return e.Evaluate(ds);
        }
        if (!_dsBits.TryGetValue((e, ds.Index), out var ok))
        {
            ds.Context = null;
            _dsBits[(e, ds.Index)] = ok = e.Evaluate(ds);
        }
        return ok;
    }

    /// <summary>
    /// The system datastore for a VM of the class on the host: in the host's cluster, READY,
    /// passing SCHED_DS_REQUIREMENTS, with room for <paramref name="diskMb"/>; best SCHED_DS_RANK,
    /// lowest id on ties. A rescheduled VM keeps its datastore, and needs room only when the
    /// datastore is local to the target host (shared storage is already there).
    /// </summary>
    private DatastoreSlot? SelectDatastore(PlacementClass c, HostSlot h, long diskMb)
    {
        DatastoreSlot? best = null;
        var bestRank = 0.0;
        if (c.FixedDsId >= 0)
        {
            if (!_dsById.TryGetValue(c.FixedDsId, out var fixedDs) || !fixedDs.InCluster(h.ClusterId)) return null;
            if (!c.IsResched && !fixedDs.Ready) return null;
            if ((!c.IsResched || fixedDs.IsLocalFor(h)) && fixedDs.FreeMbFor(h) < diskMb) return null;
            return DsPasses(c, fixedDs, h) ? fixedDs : null;
        }
        foreach (var ds in h.SystemDatastores)
        {
            if (!ds.Ready || ds.FreeMbFor(h) < diskMb || !DsPasses(c, ds, h)) continue;
            var rank = DsRankOf(c, ds, h);
            if (best is null || rank > bestRank)
            {
                best = ds;
                bestRank = rank;
            }
        }
        return best;
    }

    private double DsRankOf(PlacementClass c, DatastoreSlot ds, HostSlot h)
    {
        double r;
        switch (c.DsRankKind)
        {
            case DsRankKind.Packing:
                r = -ds.FreeMbFor(h);
                break;
            case DsRankKind.Striping:
                r = ds.FreeMbFor(h);
                break;
            default:
                ds.Context = h;
                r = c.DsRank!.Evaluate(ds);
                break;
        }
        return double.IsNaN(r) ? 0 : r;
    }

    private bool HostLimitReached(HostSlot h) => _options.MaxPerHostPerCycle is { } max && h.PlacedThisCycle >= max;

    /// <summary>
    /// What depends only on the class and the host's current capacity. Every failure here is
    /// permanent for the rest of the cycle (capacity, PCI devices and datastore space only shrink,
    /// per-host counts only grow), which is what lets an index drop the host for the class.
    /// </summary>
    private Fit ClassFit(PlacementClass c, HostSlot h, out DatastoreSlot? ds)
    {
        ds = null;
        if (HostLimitReached(h)) return Fit.HostLimit;
        if (c.Cpu > h.FreeCpuCapacity || c.Mem > h.FreeMemCapacity) return Fit.Capacity;
        if (c.Pci.Length > 0 && !PciRequest.TryMatch(c.Pci, h.Pci, null)) return Fit.Pci;
        ds = SelectDatastore(c, h, c.DiskMb);
        return ds is null ? Fit.Datastore : Fit.Ok;
    }

    /// <summary>
    /// Whether a class-level failure rules the host out for every VM still to come in the index
    /// group: always for the dispatch limit and PCI devices (same requests across the group), and
    /// for capacity or datastore space when even the group's smallest remaining VM would not fit.
    /// </summary>
    private bool IsPermanent(PlacementClass c, HostSlot h, Fit f)
    {
        switch (f)
        {
            case Fit.HostLimit or Fit.Pci:
                return true;
            case Fit.Capacity:
                var (cpu, mem, _) = c.Group.MinRemaining();
                return cpu > h.FreeCpuCapacity || mem > h.FreeMemCapacity;
            case Fit.Datastore:
                return !c.DsRequirementsDynamic && SelectDatastore(c, h, c.Group.MinRemaining().Disk) is null;
            default:
                return false;
        }
    }

    /// <summary>VM-specific checks: not its own current host, VM group rules, room for a whole affined set.</summary>
    private bool VmFits(VmRequest v, VmConstraint k, HostSlot h, DatastoreSlot ds)
    {
        if (v.IsResched && h.Id == v.CurrentHostId) return false;
        if (k.Excludes(h.Id)) return false;
        if (!k.IsLeader) return true;
        if (k.AggregateCpu > h.FreeCpuCapacity || k.AggregateMem > h.FreeMemCapacity) return false;
        if (k.AggregateDiskMb > ds.FreeMbFor(h)) return false;
        // The followers' own requirements hold on the leader's host too (OpenNebula merges them into the leader's).
        foreach (var set in k.LedSets)
            foreach (var f in set.Pending)
                if (!f.Processed && (!Passes(f.Class.AutomaticRequirements, h) || !Passes(f.Class.SchedRequirements, h)))
                    return false;
        return true;
    }

    /// <summary>The whole funnel for one host, for the scans that do not use a class index.</summary>
    private Fit FullFit(VmRequest v, PlacementClass c, VmConstraint k, HostSlot h, out DatastoreSlot? ds)
    {
        ds = null;
        if (!h.Monitored) return Fit.NotMonitored;
        if (v.IsResched && h.Id == v.CurrentHostId) return Fit.CurrentHost;
        if (!Passes(c.AutomaticRequirements, h)) return Fit.Automatic;
        if (!Passes(c.SchedRequirements, h)) return Fit.Requirements;
        if (k.Excludes(h.Id)) return Fit.Group;
        var f = ClassFit(c, h, out ds);
        if (f != Fit.Ok) return f;
        return VmFits(v, k, h, ds!) ? Fit.Ok : Fit.Capacity;
    }
}
