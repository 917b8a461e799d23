using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Engine;

internal sealed partial class Cycle
{
    private readonly record struct Choice(HostSlot Host, DatastoreSlot Datastore, double Rank);

    /// <summary>Places (or migrates, or explains) one VM. Returns the affined sets it leads, whose followers go next.</summary>
    private IReadOnlyList<AffinedSet>? Process(VmRequest v)
    {
        v.Processed = true;
        var c = v.Class;
        try
        {
            if (_options.MaxDispatchPerCycle is { } max && _dispatched >= max)
            {
                if (!v.IsResched)
                    Unplaced(v, UnplacedReason.DispatchLimit,
                        $"Not scheduled in this cycle: the limit of {max} VMs dispatched per cycle was reached");
                return null;
            }
            if (c.Error is not null)
            {
                if (!v.IsResched) Unplaced(v, UnplacedReason.InvalidExpression, c.Error);
                return null;
            }
            if (v.GroupError is not null)
            {
                if (!v.IsResched) Unplaced(v, UnplacedReason.InvalidVmGroup, v.GroupError);
                return null;
            }
            var k = Constraint(v, out var wait);
            if (wait is not null)
            {
                if (!v.IsResched) Unplaced(v, UnplacedReason.WaitingForAffinedVm, wait);
                return null;
            }
            if (!k.HasRules && !v.IsResched && c.ExhaustedMessage is not null)
            {
                Unplaced(v, UnplacedReason.NoMatchingHost, c.ExhaustedMessage);
                return null;
            }

            var best = Select(v, c, k);
            if (v.IsResched)
            {
                if (best is { } target && target.Rank > CurrentRank(v, c, k))
                {
                    Commit(v, c, target, migration: true);
                    _migrations.Add(new VmMigration(v.Id, v.CurrentHostId, target.Host.Id, target.Datastore.Id, _options.LiveResched));
                }
                return null;
            }
            if (best is null)
            {
                var message = Explain(v, c, k);
                if (!k.HasRules && !c.RequirementsDynamic && !c.DsRequirementsDynamic) c.ExhaustedMessage = message;
                Unplaced(v, UnplacedReason.NoMatchingHost, message);
                return null;
            }
            var pci = Commit(v, c, best.Value, migration: false);
            _placements.Add(new VmPlacement(v.Id, best.Value.Host.Id, best.Value.Datastore.Id, pci));
            return k.LedSets.Count > 0 ? k.LedSets : null;
        }
        finally
        {
            if (--c.Group.RemainingVms == 0) Retire(c.Group);
        }
    }

    private void Unplaced(VmRequest v, UnplacedReason reason, string message) =>
        _unplaced.Add(new UnplacedVm(v.Id, reason, message));

    /// <summary>The VM group rules for the VM at its turn, from where its group's VMs are right now.</summary>
    private static VmConstraint Constraint(VmRequest v, out string? wait)
    {
        wait = null;
        var role = v.Role;
        if (role is null) return VmConstraint.None;
        HashSet<int>? allowed = role.HostAffined is null ? null : [.. role.HostAffined];
        List<AffinedSet>? led = null;
        foreach (var set in (ReadOnlySpan<AffinedSet?>)[role.OwnSet, role.RuleSet])
        {
            if (set is null) continue;
            var hosts = set.Hosts(v);
            if (hosts.Count > 0)
            {
                if (allowed is null) allowed = hosts;
                else allowed.IntersectWith(hosts);
            }
            else if (set.Leader == v || set.Leader is null)
            {
                (led ??= []).Add(set);
            }
            else
            {
                wait = $"Waiting for VM {set.Leader.Id}, the first VM of the {set.Description}, to be placed";
                return VmConstraint.None;
            }
        }
        long cpu = 0, mem = 0, disk = 0;
        if (led is not null)
        {
            var members = new HashSet<VmRequest> { v };
            foreach (var set in led)
                foreach (var m in set.Pending)
                    if (!m.Processed) members.Add(m);
            foreach (var m in members)
            {
                cpu += m.Cpu;
                mem += m.Mem;
                disk += m.DiskMb;
            }
        }
        return new VmConstraint
        {
            Role = role,
            Vm = v,
            Allowed = allowed,
            IsLeader = led is not null,
            LedSets = led ?? (IReadOnlyList<AffinedSet>)[],
            AggregateCpu = cpu,
            AggregateMem = mem,
            AggregateDiskMb = disk,
        };
    }

    private Choice? Select(VmRequest v, PlacementClass c, VmConstraint k)
    {
        if (k.Allowed is not null) return SelectAmong(v, c, k, k.Allowed.Order());
        if (c.Group.Vms.Count >= _options.IndexThreshold) return SelectIndexed(v, c, k);
        return SelectAmong(v, c, k, null);
    }

    /// <summary>
    /// Scan of candidate hosts (all hosts, or the few a VM group allows), best rank then lowest id.
    /// The rank is looked at before the datastore, so only hosts that would win pay for it.
    /// </summary>
    private Choice? SelectAmong(VmRequest v, PlacementClass c, VmConstraint k, IEnumerable<int>? hostIds)
    {
        Choice? best = null;
        foreach (var h in hostIds is null ? _hosts : hostIds.Select(id => _hostById.GetValueOrDefault(id)).OfType<HostSlot>())
        {
            if (!h.Monitored || (v.IsResched && h.Id == v.CurrentHostId)) continue;
            if (!Passes(c.AutomaticRequirements, h) || !Passes(c.SchedRequirements, h) || k.Excludes(h.Id)) continue;
            if (HostLimitReached(h) || c.Cpu > h.FreeCpuCapacity || c.Mem > h.FreeMemCapacity) continue;
            var rank = HostRank(c, h);
            if (best is { } b && (rank < b.Rank || (rank == b.Rank && h.Index > b.Host.Index))) continue;
            if (FullFit(v, c, k, h, out var ds) != Fit.Ok) continue;
            best = new Choice(h, ds!, rank);
        }
        return best;
    }

    /// <summary>
    /// Walks the class's rank index from the top. Hosts that fail a class-level check leave the
    /// index for the rest of the cycle; hosts that fail only this VM's rules are skipped.
    /// </summary>
    private Choice? SelectIndexed(VmRequest v, PlacementClass c, VmConstraint k)
    {
        var g = c.Group;
        var index = EnsureIndex(c);
        List<RankedHost>? drop = null;
        Choice? chosen = null;
        foreach (var e in index)
        {
            var h = _hosts[e.Slot];
            if (c.RequirementsDynamic && (!Passes(c.AutomaticRequirements, h) || !Passes(c.SchedRequirements, h))) continue;
            var f = ClassFit(c, h, out var ds);
            if (f != Fit.Ok)
            {
                if (IsPermanent(c, h, f)) (drop ??= []).Add(e);
                continue;
            }
            if (!VmFits(v, k, h, ds!)) continue;
            chosen = new Choice(h, ds!, e.Rank);
            break;
        }
        if (drop is not null)
        {
            foreach (var e in drop)
            {
                index.Remove(e);
                g.IndexState![e.Slot] = 2;
            }
        }
        return chosen;
    }

    /// <summary>The group's index, built by its first indexed VM (the group shares expressions, so any member builds the same).</summary>
    private SortedSet<RankedHost> EnsureIndex(PlacementClass c)
    {
        var g = c.Group;
        if (g.Index is not null) return g.Index;
        var state = new byte[_hosts.Length];
        var rankOf = new double[_hosts.Length];
        var entries = new List<RankedHost>();
        var autoStatic = !IsDynamic(c.AutomaticRequirements);
        var schedStatic = !IsDynamic(c.SchedRequirements);
        foreach (var h in _hosts)
        {
            if (!h.Monitored) continue;
            if (autoStatic && !Passes(c.AutomaticRequirements, h)) continue;
            if (schedStatic && !Passes(c.SchedRequirements, h)) continue;
            var r = HostRank(c, h);
            entries.Add(new RankedHost(r, h.Index));
            rankOf[h.Index] = r;
            state[h.Index] = 1;
            if (c.RankDynamic) (h.DynamicGroups ??= []).Add((g, c));
        }
        g.IndexState = state;
        g.RankOf = rankOf;
        return g.Index = new SortedSet<RankedHost>(entries, RankedHostComparer.Instance);
    }

    private static void Retire(IndexGroup g)
    {
        g.Retired = true;
        g.Index = null;
        g.RankOf = null;
        g.IndexState = null;
    }

    /// <summary>Rank of a rescheduled VM's current host as if the VM were not there (so equal hosts do not trade VMs).</summary>
    private double CurrentRank(VmRequest v, PlacementClass c, VmConstraint k)
    {
        if (!_hostById.TryGetValue(v.CurrentHostId, out var cur) || !cur.Monitored ||
            !Passes(c.AutomaticRequirements, cur) || !Passes(c.SchedRequirements, cur) || k.Excludes(cur.Id))
            return double.NegativeInfinity;
        cur.CpuUsage -= c.Cpu;
        cur.MemUsage -= c.Mem;
        cur.CycleCpu -= c.Cpu;
        cur.CycleMem -= c.Mem;
        cur.RunningVms--;
        try
        {
            return HostRank(c, cur);
        }
        finally
        {
            cur.CpuUsage += c.Cpu;
            cur.MemUsage += c.Mem;
            cur.CycleCpu += c.Cpu;
            cur.CycleMem += c.Mem;
            cur.RunningVms++;
        }
    }

    /// <summary>Consumes the host's capacity, datastore space and PCI devices, and re-ranks the host where ranks are live.</summary>
    private List<string> Commit(VmRequest v, PlacementClass c, Choice choice, bool migration)
    {
        var h = choice.Host;
        h.CpuUsage += c.Cpu;
        h.MemUsage += c.Mem;
        h.CycleCpu += c.Cpu;
        h.CycleMem += c.Mem;
        h.RunningVms++;
        h.PlacedThisCycle++;
        h.AddVm(v.Id);
        if (!migration || choice.Datastore.IsLocalFor(h)) choice.Datastore.Reserve(h, c.DiskMb);

        var pci = new List<string>();
        if (c.Pci.Length > 0)
        {
            var assignment = new int[c.Pci.Length];
            if (PciRequest.TryMatch(c.Pci, h.Pci, assignment))
            {
                foreach (var d in assignment)
                {
                    h.Pci[d].Used = true;
                    pci.Add(h.Pci[d].Address);
                }
            }
        }

        v.Role?.Move(migration ? v.CurrentHostId : -1, h.Id);
        v.Placed = true;
        _dispatched++;
        Rerank(h);
        return pci;
    }

    private void Rerank(HostSlot h)
    {
        var list = h.DynamicGroups;
        if (list is null) return;
        var retired = false;
        foreach (var (g, c) in list)
        {
            if (g.Retired)
            {
                retired = true;
                continue;
            }
            if (g.IndexState![h.Index] != 1) continue;
            var index = g.Index!;
            index.Remove(new RankedHost(g.RankOf![h.Index], h.Index));
            var r = HostRank(c, h);
            g.RankOf[h.Index] = r;
            index.Add(new RankedHost(r, h.Index));
        }
        if (retired) list.RemoveAll(e => e.Group.Retired);
    }
}
