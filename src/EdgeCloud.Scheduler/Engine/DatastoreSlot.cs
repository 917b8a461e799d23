using EdgeCloud.Core.Objects;
using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>
/// A system datastore during one cycle. Free space is per host when the host's monitoring
/// reports the datastore (a host-local system datastore, e.g. ssh/qcow2 on the host's disk);
/// otherwise it is the datastore's own FREE_MB (shared). Space reserved by this cycle's
/// placements is subtracted in both cases.
/// </summary>
internal sealed class DatastoreSlot : IAttributeSource
{
    private Dictionary<string, string>? _template;
    private readonly IReadOnlyList<int> _clusters;

    public DatastoreSlot(int index, Datastore ds, IReadOnlyList<int> clusters)
    {
        Index = index;
        Ds = ds;
        _clusters = clusters;
    }

    public int Index { get; }
    public Datastore Ds { get; }
    public int Id => Ds.Id;

    /// <summary>Clusters the datastore belongs to (its CLUSTERS plus clusters listing it).</summary>
    public IReadOnlyList<int> Clusters => _clusters;

    public bool IsSystem => Ds.DsType == DatastoreType.SYSTEM_DS;
    public bool Ready => Ds.State == DatastoreState.READY;

    /// <summary>MiB reserved this cycle on the shared datastore.</summary>
    public long ReservedMb { get; set; }

    /// <summary>The host an expression evaluation is about (FREE_MB depends on it for local datastores).</summary>
    public HostSlot? Context { get; set; }

    public bool InCluster(int clusterId)
    {
        foreach (var c in _clusters)
            if (c == clusterId) return true;
        return false;
    }

    public bool IsLocalFor(HostSlot host) => host.Monitoring?.Datastores.ContainsKey(Id) == true;

    public long FreeMbFor(HostSlot? host)
    {
        if (host?.Monitoring is { } m && m.Datastores.TryGetValue(Id, out var local))
        {
            var reserved = host.LocalReservedMb is { } r && r.TryGetValue(Id, out var v) ? v : 0;
            return local.Free - reserved;
        }
        return Ds.FreeMb - ReservedMb;
    }

    public void Reserve(HostSlot host, long mb)
    {
        if (mb <= 0) return;
        if (IsLocalFor(host))
        {
            host.LocalReservedMb ??= [];
            host.LocalReservedMb[Id] = host.LocalReservedMb.GetValueOrDefault(Id) + mb;
        }
        else
        {
            ReservedMb += mb;
        }
    }

    /// <summary>DATASTORE/TEMPLATE first, then the DATASTORE element (ID, NAME, TYPE, FREE_MB, CLUSTERS/ID...).</summary>
    public bool TryGetValue(string name, out AttributeValue value)
    {
        if (name.StartsWith("TEMPLATE/", StringComparison.Ordinal)) name = name[9..];
        else if (name.StartsWith("DATASTORE/", StringComparison.Ordinal)) name = name[10..];
        _template ??= HostSlot.Singles(Ds.Template);
        if (_template.TryGetValue(name, out var s))
        {
            value = AttributeValue.FromText(s);
            return true;
        }
        var host = Context;
        double? n = name switch
        {
            "ID" => Ds.Id,
            "UID" => Ds.Uid,
            "GID" => Ds.Gid,
            "TYPE" => (int)Ds.DsType,
            "DISK_TYPE" => Ds.DiskType,
            "STATE" => (int)Ds.State,
            "FREE_MB" => FreeMbFor(host),
            "TOTAL_MB" => host?.Monitoring is { } m && m.Datastores.TryGetValue(Id, out var l) ? l.Total : Ds.TotalMb,
            "USED_MB" => host?.Monitoring is { } m2 && m2.Datastores.TryGetValue(Id, out var l2)
                ? l2.Used + (host.LocalReservedMb?.GetValueOrDefault(Id) ?? 0)
                : Ds.UsedMb + ReservedMb,
            _ => null,
        };
        if (n is { } number)
        {
            value = AttributeValue.FromNumber(number);
            return true;
        }
        string? text = name switch
        {
            "NAME" => Ds.Name,
            "UNAME" => Ds.Uname,
            "GNAME" => Ds.Gname,
            "DS_MAD" => Ds.DsMad,
            "TM_MAD" => Ds.TmMad,
            "BASE_PATH" => Ds.BasePath,
            _ => null,
        };
        if (text is not null)
        {
            value = AttributeValue.FromText(text);
            return true;
        }
        if (name is "CLUSTERS/ID" or "CLUSTERS" or "CLUSTER_ID")
        {
            value = AttributeValue.FromIntegers(_clusters);
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Attributes that change with this cycle's reservations or depend on the host (local datastores): never cached.</summary>
    public static bool IsDynamic(string name) =>
        name.EndsWith("FREE_MB", StringComparison.Ordinal) || name.EndsWith("USED_MB", StringComparison.Ordinal) ||
        name.EndsWith("TOTAL_MB", StringComparison.Ordinal);
}
