using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Scheduler.Tests;

/// <summary>
/// Builds test snapshots the way the core stores them: hosts with HOST_SHARE, clusters listing
/// their hosts and datastores, VMs with templates (built in code, not parsed). Running VMs add
/// their usage to their host's share, as the core does.
/// </summary>
internal sealed class Cloud
{
    public const long GiB = 1024 * 1024; // in KiB

    private readonly SortedDictionary<int, Host> _hosts = [];
    private readonly SortedDictionary<int, Datastore> _datastores = [];
    private readonly SortedDictionary<int, Vm> _vms = [];
    private readonly SortedDictionary<int, VmGroup> _groups = [];
    private readonly SortedDictionary<int, Template> _clusterTemplates = [];

    /// <summary>A cluster with a system datastore (id 100 + cluster) exists for every host's cluster unless <c>noDefaultDs</c>.</summary>
    public Cloud Host(int id, int cluster = 0, long cpu = 800, long memGiB = 16, HostState state = HostState.MONITORED,
        Action<Template>? template = null, long cpuUsage = 0, long memUsageGiB = 0, int runningVms = 0, bool noDefaultDs = false)
    {
        var t = new Template();
        template?.Invoke(t);
        _hosts[id] = new Host
        {
            Id = id,
            Name = $"host{id:D2}",
            State = state,
            ClusterId = cluster,
            ClusterName = $"cluster{cluster}",
            ImMad = "dummy",
            VmMad = "dummy",
            Template = t,
            Share = new HostShare
            {
                TotalCpu = cpu,
                MaxCpu = cpu,
                TotalMem = memGiB * GiB,
                MaxMem = memGiB * GiB,
                CpuUsage = cpuUsage,
                MemUsage = memUsageGiB * GiB,
                RunningVms = runningVms,
            },
        };
        _clusterTemplates.TryAdd(cluster, new Template());
        if (!noDefaultDs && !_datastores.ContainsKey(100 + cluster)) SystemDs(100 + cluster, [cluster]);
        return this;
    }

    public Cloud Hosts(int count, int firstId = 0, int cluster = 0, long cpu = 800, long memGiB = 16)
    {
        for (var i = 0; i < count; i++) Host(firstId + i, cluster, cpu, memGiB);
        return this;
    }

    public Cloud ClusterTemplate(int cluster, string name, string value)
    {
        if (!_clusterTemplates.TryGetValue(cluster, out var t)) _clusterTemplates[cluster] = t = new Template();
        t.Set(name, value);
        return this;
    }

    public Cloud SystemDs(int id, int[] clusters, long freeMb = 1_000_000, DatastoreState state = DatastoreState.READY,
        Action<Template>? template = null, string tm = "shared")
    {
        var t = new Template();
        template?.Invoke(t);
        _datastores[id] = new Datastore
        {
            Id = id,
            Name = $"system{id}",
            DsType = DatastoreType.SYSTEM_DS,
            State = state,
            TmMad = tm,
            Clusters = [.. clusters],
            TotalMb = Math.Max(freeMb, 1),
            FreeMb = freeMb,
            Template = t,
        };
        return this;
    }

    public Cloud ImageDs(int id, int[] clusters)
    {
        _datastores[id] = new Datastore { Id = id, Name = $"images{id}", DsType = DatastoreType.IMAGE_DS, Clusters = [.. clusters], FreeMb = 1_000_000 };
        return this;
    }

    public Cloud RemoveDatastore(int id)
    {
        _datastores.Remove(id);
        return this;
    }

    /// <summary>A pending VM. <paramref name="template"/> edits TEMPLATE, <paramref name="user"/> USER_TEMPLATE (SCHED_*).</summary>
    public Cloud Vm(int id, double cpu = 1, long memMb = 1024, Action<Template>? template = null, Action<Template>? user = null,
        string? requirements = null, string? rank = null)
    {
        var t = new Template();
        t.Set("CPU", cpu);
        t.Set("MEMORY", memMb);
        template?.Invoke(t);
        var u = new Template();
        if (requirements is not null) u.Set("SCHED_REQUIREMENTS", requirements);
        if (rank is not null) u.Set("SCHED_RANK", rank);
        user?.Invoke(u);
        _vms[id] = new Vm { Id = id, Name = $"vm{id}", State = VmState.PENDING, LcmState = LcmState.LCM_INIT, Template = t, UserTemplate = u };
        return this;
    }

    public Cloud Vms(IEnumerable<int> ids, double cpu = 1, long memMb = 1024, Action<Template>? template = null, string? requirements = null)
    {
        foreach (var id in ids) Vm(id, cpu, memMb, template, requirements: requirements);
        return this;
    }

    /// <summary>A VM running on a host (ACTIVE/RUNNING, with a history record); its usage is added to the host.</summary>
    public Cloud RunningVm(int id, int hostId, double cpu = 1, long memMb = 1024, int dsId = -1, bool resched = false,
        Action<Template>? template = null, Action<Template>? user = null)
    {
        Vm(id, cpu, memMb, template, user);
        var host = _hosts[hostId];
        _vms[id] = _vms[id] with
        {
            State = VmState.ACTIVE,
            LcmState = LcmState.RUNNING,
            Resched = resched ? 1 : 0,
            History = [new HistoryRecord { Oid = id, Seq = 0, Hid = hostId, Hostname = host.Name, Cid = host.ClusterId, DsId = dsId < 0 ? 100 + host.ClusterId : dsId }],
        };
        _hosts[hostId] = host with
        {
            Vms = host.Vms.Add(id),
            Share = host.Share with
            {
                CpuUsage = host.Share.CpuUsage + (long)Math.Round(cpu * 100),
                MemUsage = host.Share.MemUsage + memMb * 1024,
                RunningVms = host.Share.RunningVms + 1,
            },
        };
        return this;
    }

    public Cloud EditVm(int id, Func<Vm, Vm> edit)
    {
        _vms[id] = edit(_vms[id]);
        return this;
    }

    public Cloud Group(int id, IEnumerable<VmGroupRole> roles, string? affined = null, string? antiAffined = null, params string[] moreRules)
    {
        var t = new Template();
        if (affined is not null) t.Add("AFFINED", affined);
        if (antiAffined is not null) t.Add("ANTI_AFFINED", antiAffined);
        foreach (var rule in moreRules)
        {
            var eq = rule.IndexOf('=');
            t.Add(rule[..eq].Trim(), rule[(eq + 1)..].Trim());
        }
        _groups[id] = new VmGroup { Id = id, Name = $"group{id}", Roles = [.. roles], Template = t };
        return this;
    }

    public static VmGroupRole Role(int id, string name, string policy = "NONE", string hostAffined = "", string hostAntiAffined = "", params int[] vms) =>
        new(id, name, policy, hostAffined, hostAntiAffined, [.. vms]);

    /// <summary>Sets the VM's VMGROUP attribute (the role's VMS list is the other way the core records membership).</summary>
    public static Action<Template> InGroup(int groupId, string role) => t =>
    {
        var v = new VectorAttribute("VMGROUP");
        v.Set("VMGROUP_ID", groupId);
        v.Set("ROLE", role);
        t.Set(v);
    };

    public static Action<Template> Disk(long sizeMb, string? cloneTarget = null, int? imageId = null) => t =>
    {
        var d = new VectorAttribute("DISK");
        d.Set("SIZE", sizeMb);
        if (cloneTarget is not null) d.Set("CLONE_TARGET", cloneTarget);
        if (imageId is not null) d.Set("IMAGE_ID", imageId.Value);
        t.Add(d);
    };

    public static Action<Template> Pci(string? vendor = null, string? device = null, string? cls = null, string? address = null, int? vmid = null) => t =>
    {
        var p = new VectorAttribute("PCI");
        if (vendor is not null) p.Set("VENDOR", vendor);
        if (device is not null) p.Set("DEVICE", device);
        if (cls is not null) p.Set("CLASS", cls);
        if (address is not null) p.Set("SHORT_ADDRESS", address);
        if (vmid is not null) p.Set("VMID", vmid.Value);
        t.Add(p);
    };

    public static Action<Template> Attr(string name, string value) => t => t.Set(name, value);

    public StateSnapshot Snapshot()
    {
        var objects = new List<PoolObject>();
        objects.AddRange(_hosts.Values);
        objects.AddRange(_datastores.Values);
        objects.AddRange(_vms.Values);
        objects.AddRange(_groups.Values);
        foreach (var (cid, t) in _clusterTemplates)
        {
            objects.Add(new Cluster
            {
                Id = cid,
                Name = $"cluster{cid}",
                Template = t,
                Hosts = [.. _hosts.Values.Where(h => h.ClusterId == cid).Select(h => h.Id)],
                Datastores = [.. _datastores.Values.Where(d => d.Clusters.Contains(cid)).Select(d => d.Id)],
            });
        }
        return StateSnapshot.Load(objects, new Dictionary<ObjectType, int>(), 7);
    }

    public PlacementPlan Plan(SchedulerOptions? options = null, IMonitoringSource? monitoring = null) =>
        new PlacementEngine(options).Plan(Snapshot(), monitoring ?? NoMonitoring.Instance);
}

/// <summary>Monitoring from a dictionary.</summary>
internal sealed class FakeMonitoring : IMonitoringSource
{
    public Dictionary<int, HostMonitoring> Hosts { get; } = [];
    public HostMonitoring? Host(int hostId) => Hosts.GetValueOrDefault(hostId);
    public VmMonitoring? Vm(int vmId) => null;
}

internal static class PlanExtensions
{
    public static int HostOf(this PlacementPlan plan, int vmId) =>
        plan.Placements.SingleOrDefault(p => p.VmId == vmId)?.HostId ?? -1;

    public static VmPlacement Placement(this PlacementPlan plan, int vmId) => plan.Placements.Single(p => p.VmId == vmId);

    public static UnplacedVm Unplaced(this PlacementPlan plan, int vmId) => plan.Unplaced.Single(p => p.VmId == vmId);

    public static ImmutableSortedDictionary<int, int> Counts(this PlacementPlan plan) =>
        plan.Placements.GroupBy(p => p.HostId).ToImmutableSortedDictionary(g => g.Key, g => g.Count());
}
