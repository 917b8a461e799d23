using System.Collections.Frozen;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;
using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>
/// One host during one cycle: its committed capacity plus what this cycle has already placed on
/// it, and the attribute view expressions read. Rank and requirement expressions see the live
/// counters (RUNNING_VMS, CPU_USAGE, FREE_CPU...), so striping spreads and packing fills within a
/// single cycle, not only across cycles as in OpenNebula.
/// </summary>
internal sealed class HostSlot : IAttributeSource
{
    /// <summary>Attributes whose value changes as the cycle places VMs; everything else is fixed for the cycle.</summary>
    public static readonly FrozenSet<string> DynamicAttributes = new[]
    {
        "RUNNING_VMS", "CPU_USAGE", "MEM_USAGE", "FREE_CPU", "USED_CPU", "FREE_MEMORY", "USED_MEMORY",
        "FREE_MEM", "USED_MEM", "CURRENT_VMS",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Whether an attribute name (or path such as "HOST_SHARE/RUNNING_VMS", "VMS/ID") reads a live counter.</summary>
    public static bool IsDynamic(string name)
    {
        if (name.EndsWith("VMS/ID", StringComparison.Ordinal)) return true;
        var slash = name.LastIndexOf('/');
        return DynamicAttributes.Contains(slash < 0 ? name : name[(slash + 1)..]);
    }

    private Dictionary<string, string>? _template;
    private Dictionary<string, string>? _clusterTemplate;
    private List<int>? _currentVms;
    private List<int>? _addedVms;

    public HostSlot(int index, Host host, HostMonitoring? monitoring, Cluster? cluster, DatastoreSlot[] systemDatastores)
    {
        Index = index;
        Host = host;
        Monitoring = monitoring;
        Cluster = cluster;
        SystemDatastores = systemDatastores;
        CpuUsage = host.Share.CpuUsage;
        MemUsage = host.Share.MemUsage;
        RunningVms = host.Share.RunningVms;
        Pci = PciDevice.FromHost(host.Template);
    }

    public int Index { get; }
    public Host Host { get; }
    public int Id => Host.Id;
    public int ClusterId => Host.ClusterId;
    public bool Monitored => Host.State == HostState.MONITORED;
    public HostMonitoring? Monitoring { get; }
    public Cluster? Cluster { get; }

    /// <summary>READY and DISABLED system datastores of the host's cluster, by id.</summary>
    public DatastoreSlot[] SystemDatastores { get; }

    public PciDevice[] Pci { get; }

    public long CpuUsage { get; set; }
    public long MemUsage { get; set; }
    public int RunningVms { get; set; }

    /// <summary>CPU and memory this cycle placed here (monitoring does not see them yet).</summary>
    public long CycleCpu { get; set; }
    public long CycleMem { get; set; }

    /// <summary>VMs this cycle sent here, for the per-host dispatch limit.</summary>
    public int PlacedThisCycle { get; set; }

    public long FreeCpuCapacity => Host.Share.MaxCpu - CpuUsage;
    public long FreeMemCapacity => Host.Share.MaxMem - MemUsage;

    /// <summary>MiB reserved this cycle on host-local system datastores, by datastore id.</summary>
    public Dictionary<int, long>? LocalReservedMb { get; set; }

    /// <summary>Index groups with a dynamic rank that hold this host (with a class that ranks for them): re-ranked when it changes.</summary>
    public List<(IndexGroup Group, PlacementClass Ranker)>? DynamicGroups { get; set; }

    /// <summary>FREE_CPU: monitored free CPU minus what this cycle placed; allocation-based without monitoring.</summary>
    public double FreeCpu => Monitoring is { } m ? m.FreeCpu - CycleCpu : FreeCpuCapacity;

    public double UsedCpu => Monitoring is { } m ? m.UsedCpu + CycleCpu : CpuUsage;

    public double FreeMemory => Monitoring is { } m ? m.FreeMemory - CycleMem : FreeMemCapacity;

    public double UsedMemory => Monitoring is { } m ? m.UsedMemory + CycleMem : MemUsage;

    public void AddVm(int vmId)
    {
        (_addedVms ??= []).Add(vmId);
        _currentVms = null;
    }

    private IReadOnlyList<int> CurrentVms()
    {
        if (_currentVms is not null) return _currentVms;
        var list = new List<int>(Host.Vms.Count + (_addedVms?.Count ?? 0));
        list.AddRange(Host.Vms);
        if (_addedVms is not null) list.AddRange(_addedVms);
        return _currentVms = list;
    }

    /// <summary>
    /// OpenNebula's host search order: TEMPLATE, HOST_SHARE, MONITORING, the HOST element itself
    /// (ID, NAME, STATE, CLUSTER_ID...), then the cluster's TEMPLATE. Paths such as
    /// "HOST_SHARE/MAX_CPU", "TEMPLATE/PCI/VENDOR" or "VMS/ID" select one section.
    /// </summary>
    public bool TryGetValue(string name, out AttributeValue value)
    {
        if (name.Contains('/')) return TryGetPath(name, out value);
        if (Template().TryGetValue(name, out var s))
        {
            value = AttributeValue.FromText(s);
            return true;
        }
        if (TryGetBuiltIn(name, out value)) return true;
        if (ClusterTemplate().TryGetValue(name, out s))
        {
            value = AttributeValue.FromText(s);
            return true;
        }
        if (name == "HOSTNAME")
        {
            // Monitoring probes set HOSTNAME in the template; a host registered but not probed yet answers its name.
            value = AttributeValue.FromText(Host.Name);
            return true;
        }
        value = default;
        return false;
    }

    private bool TryGetBuiltIn(string name, out AttributeValue value)
    {
        var share = Host.Share;
        double? n = name switch
        {
            "MEM_USAGE" => MemUsage,
            "CPU_USAGE" => CpuUsage,
            "TOTAL_MEM" => share.TotalMem,
            "TOTAL_CPU" => share.TotalCpu,
            "MAX_MEM" => share.MaxMem,
            "MAX_CPU" => share.MaxCpu,
            "MAX_DISK" => share.MaxDisk,
            "FREE_DISK" => share.FreeDisk,
            "USED_DISK" => share.UsedDisk,
            "DISK_USAGE" => share.DiskUsage,
            "RUNNING_VMS" => RunningVms,
            "FREE_CPU" => FreeCpu,
            "USED_CPU" => UsedCpu,
            "FREE_MEMORY" or "FREE_MEM" => FreeMemory,
            "USED_MEMORY" or "USED_MEM" => UsedMemory,
            "NETRX" => Monitoring?.NetRx,
            "NETTX" => Monitoring?.NetTx,
            "ID" => Host.Id,
            "STATE" => (int)Host.State,
            "PREV_STATE" => (int)Host.PrevState,
            "CLUSTER_ID" => Host.ClusterId,
            "LAST_MON_TIME" => Host.LastMonitored,
            _ => null,
        };
        if (n is { } number)
        {
            value = AttributeValue.FromNumber(number);
            return true;
        }
        string? text = name switch
        {
            "NAME" => Host.Name,
            "IM_MAD" => Host.ImMad,
            "VM_MAD" => Host.VmMad,
            "CLUSTER" => Host.ClusterName,
            _ => null,
        };
        if (text is not null)
        {
            value = AttributeValue.FromText(text);
            return true;
        }
        if (name == "CURRENT_VMS")
        {
            value = AttributeValue.FromIntegers(CurrentVms());
            return true;
        }
        value = default;
        return false;
    }

    private bool TryGetPath(string path, out AttributeValue value)
    {
        value = default;
        var section = "";
        var rest = path.StartsWith("HOST/", StringComparison.Ordinal) ? path[5..] : path;
        foreach (var prefix in (ReadOnlySpan<string>)["TEMPLATE/", "CLUSTER_TEMPLATE/", "HOST_SHARE/", "MONITORING/"])
        {
            if (rest.StartsWith(prefix, StringComparison.Ordinal))
            {
                section = prefix;
                rest = rest[prefix.Length..];
                break;
            }
        }
        foreach (var sub in (ReadOnlySpan<string>)["DATASTORES/", "CAPACITY/", "SYSTEM/"])
            if (rest.StartsWith(sub, StringComparison.Ordinal)) rest = rest[sub.Length..];

        if (rest == "VMS/ID")
        {
            value = AttributeValue.FromIntegers(CurrentVms());
            return true;
        }
        var slash = rest.IndexOf('/');
        if (slash < 0)
        {
            switch (section)
            {
                case "TEMPLATE/":
                    if (!Template().TryGetValue(rest, out var t)) return false;
                    value = AttributeValue.FromText(t);
                    return true;
                case "CLUSTER_TEMPLATE/":
                    if (!ClusterTemplate().TryGetValue(rest, out var c)) return false;
                    value = AttributeValue.FromText(c);
                    return true;
                case "":
                    return TryGetValue(rest, out value);
                default:
                    return TryGetBuiltIn(rest, out value);
            }
        }
        // VECTOR/KEY: every value of KEY in the vectors of that name (e.g. PCI/VENDOR for @>).
        var source = section == "CLUSTER_TEMPLATE/" ? Cluster?.Template : Host.Template;
        if (source is null) return false;
        var values = source.Vectors(rest[..slash]).Select(v => v[rest[(slash + 1)..]]).OfType<string>().ToList();
        if (values.Count == 0) return false;
        value = AttributeValue.FromTexts(values);
        return true;
    }

    private Dictionary<string, string> Template() => _template ??= Singles(Host.Template);

    private Dictionary<string, string> ClusterTemplate() => _clusterTemplate ??= Singles(Cluster?.Template);

    internal static Dictionary<string, string> Singles(Template? template)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (template is null) return d;
        foreach (var a in template.Attributes)
            if (a is SingleAttribute s) d.TryAdd(s.Name, s.Value);
        return d;
    }
}
