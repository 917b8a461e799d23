using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Engine;

internal sealed partial class Cycle
{
    /// <summary>
    /// Why no host took the VM, for SCHED_MESSAGE. Runs every host through the checks in order
    /// (state, AUTOMATIC_REQUIREMENTS, SCHED_REQUIREMENTS, VM group rules, capacity, datastore,
    /// dispatch limit); the headline names the check that left no host, the details count what each
    /// check excluded, nearest first: "No host with enough capacity: 12 hosts lack 64 GiB of free
    /// memory, 3 are disabled". Only runs for VMs that failed, and once per exhausted class.
    /// </summary>
    private string Explain(VmRequest v, PlacementClass c, VmConstraint k)
    {
        int disabled = 0, offline = 0, error = 0, unmonitored = 0, auto = 0, sched = 0, group = 0;
        int capacity = 0, cpu = 0, mem = 0, pci = 0, datastore = 0, limit = 0, total = 0;
        // Cluster of the hosts that survived each stage: -2 none yet, -3 several.
        var cluster = new[] { -2, -2, -2, -2, -2, -2, -2 };
        void Survive(int stage, int cid) => cluster[stage] = cluster[stage] == -2 ? cid : cluster[stage] == cid ? cid : -3;

        var needCpu = k.IsLeader ? k.AggregateCpu : c.Cpu;
        var needMem = k.IsLeader ? k.AggregateMem : c.Mem;
        var needDisk = k.IsLeader ? k.AggregateDiskMb : c.DiskMb;
        foreach (var h in _hosts)
        {
            if (v.IsResched && h.Id == v.CurrentHostId) continue;
            total++;
            if (!h.Monitored)
            {
                switch (h.Host.State)
                {
                    case HostState.DISABLED: disabled++; break;
                    case HostState.OFFLINE: offline++; break;
                    case HostState.ERROR or HostState.MONITORING_ERROR: error++; break;
                    default: unmonitored++; break;
                }
                continue;
            }
            Survive(0, h.ClusterId);
            if (!Passes(c.AutomaticRequirements, h))
            {
                auto++;
                continue;
            }
            Survive(1, h.ClusterId);
            if (!Passes(c.SchedRequirements, h))
            {
                sched++;
                continue;
            }
            Survive(2, h.ClusterId);
            if (k.Excludes(h.Id))
            {
                group++;
                continue;
            }
            Survive(3, h.ClusterId);
            var cpuOk = needCpu <= h.FreeCpuCapacity;
            var memOk = needMem <= h.FreeMemCapacity;
            var pciOk = c.Pci.Length == 0 || PciRequest.TryMatch(c.Pci, h.Pci, null);
            if (!cpuOk) cpu++;
            if (!memOk) mem++;
            if (!pciOk) pci++;
            if (!cpuOk || !memOk || !pciOk)
            {
                capacity++;
                continue;
            }
            Survive(4, h.ClusterId);
            if (SelectDatastore(c, h, needDisk) is null)
            {
                datastore++;
                continue;
            }
            Survive(5, h.ClusterId);
            if (HostLimitReached(h))
            {
                limit++;
                continue;
            }
            Survive(6, h.ClusterId);
        }

        var notAvailable = disabled + offline + error + unmonitored;
        var left = new[]
        {
            total - notAvailable,
            total - notAvailable - auto,
            total - notAvailable - auto - sched,
            total - notAvailable - auto - sched - group,
            total - notAvailable - auto - sched - group - capacity,
            total - notAvailable - auto - sched - group - capacity - datastore,
            total - notAvailable - auto - sched - group - capacity - datastore - limit,
        };
        // Name the cluster only when the VM is tied to clusters and one cluster is left.
        var clusterBound = c.AutomaticRequirements is not null ||
                           (c.SchedRequirements?.Attributes.Any(a => a is "CLUSTER_ID" or "CLUSTER") ?? false);
        string In(int stage) => clusterBound && stage >= 0 && cluster[stage] >= 0 ? $" in cluster {cluster[stage]}" : "";

        string headline;
        if (total == 0) headline = v.IsResched ? "No other host exists" : "No hosts are registered";
        else if (left[0] == 0) headline = "No host is available";
        else if (left[1] == 0) headline = "No host in a cluster the VM can use (AUTOMATIC_REQUIREMENTS)";
        else if (left[2] == 0) headline = $"No host{In(1)} satisfies SCHED_REQUIREMENTS";
        else if (left[3] == 0) headline = $"No host{In(2)} satisfies the rules of {v.Role?.Describe() ?? "its VM group"}";
        else if (left[4] == 0)
            headline = k.IsLeader
                ? $"No host{In(3)} with enough capacity for the {k.LedSets.SelectMany(s => s.Pending).Distinct().Count(m => m == v || !m.Processed)} VMs that must share it ({k.LedSets[0].Description})"
                : $"No host{In(3)} with enough capacity";
        else if (left[5] == 0) headline = $"No host{In(4)} with a usable system datastore";
        else if (left[6] == 0)
            headline = $"All matching hosts{In(5)} reached the limit of {_options.MaxPerHostPerCycle} VM{(_options.MaxPerHostPerCycle == 1 ? "" : "s")} per host in this cycle";
        else if (k.IsLeader) headline = "No host can also take the other VMs of the affined set";
        else headline = "No matching host";

        var details = new List<(int Count, string One, string Many)>();
        void Add(int n, string one, string many)
        {
            if (n > 0) details.Add((n, one, many));
        }
        Add(limit, "reached the per-host dispatch limit", "reached the per-host dispatch limit");
        var dsWhat = needDisk > 0 ? $"system datastore with {Units.MebiBytes(needDisk)} free" : "usable system datastore";
        if (c.DsRequirements is not null || c.AutomaticDsRequirements is not null) dsWhat += " that satisfies SCHED_DS_REQUIREMENTS";
        Add(datastore, $"has no {dsWhat}", $"have no {dsWhat}");
        Add(pci, "lacks the requested PCI devices", "lack the requested PCI devices");
        Add(mem, $"lacks {Units.MemoryKib(needMem)} of free memory", $"lack {Units.MemoryKib(needMem)} of free memory");
        Add(cpu, $"lacks {Units.Cpu(needCpu, free: true)}", $"lack {Units.Cpu(needCpu, free: true)}");
        Add(group, "is excluded by the VM group rules", "are excluded by the VM group rules");
        Add(sched, "does not satisfy SCHED_REQUIREMENTS", "do not satisfy SCHED_REQUIREMENTS");
        Add(auto, "is in a cluster the VM cannot use", "are in clusters the VM cannot use");
        Add(disabled, "is disabled", "are disabled");
        Add(offline, "is offline", "are offline");
        Add(error, "is in error", "are in error");
        Add(unmonitored, "is not monitored yet", "are not monitored yet");
        if (details.Count == 0) return headline;

        var parts = new List<string>(details.Count);
        for (var i = 0; i < details.Count; i++)
        {
            var (n, one, many) = details[i];
            var noun = i == 0 ? (n == 1 ? " host" : " hosts") : "";
            parts.Add($"{n}{noun} {(n == 1 ? one : many)}");
        }
        return $"{headline}: {string.Join(", ", parts)}";
    }
}
