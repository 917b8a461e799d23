using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Requests;

/// <summary>What one probe of one host found: a result, or why the host could not be reached.</summary>
public sealed record HostProbeOutcome(int HostId, HostProbeResult? Result, string Error);

public sealed partial class Cloud
{
    /// <summary>
    /// Applies a round of host probes in one command. Only real changes are written (state, capacity,
    /// reported attributes): steady monitoring of thousands of hosts costs no writes. A host that
    /// answers leaves INIT/ERROR for MONITORED; one that does not goes to ERROR with the reason.
    /// </summary>
    public Task HostsProbedAsync(IReadOnlyList<HostProbeOutcome> outcomes, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            foreach (var o in outcomes)
            {
                if (tx.Get<Host>(ObjectType.Host, o.HostId) is not { } h || h.State == HostState.OFFLINE) continue;
                var updated = o.Result is { } r ? Monitored(h, r, tx.Now) : Failed(h, o.Error);
                if (!ReferenceEquals(updated, h)) tx.Put(updated);
            }
        }, ct);

    private static Host Monitored(Host h, HostProbeResult r, long now)
    {
        var reservedCpu = h.Template.TryGetLong("RESERVED_CPU", out var rc) ? rc : 0;
        var reservedMem = h.Template.TryGetLong("RESERVED_MEM", out var rm) ? rm : 0;
        var share = h.Share with
        {
            TotalCpu = r.TotalCpu, TotalMem = r.TotalMemory, MaxCpu = Math.Max(0, r.TotalCpu - reservedCpu),
            MaxMem = Math.Max(0, r.TotalMemory - reservedMem), MaxDisk = r.TotalDisk, FreeDisk = r.FreeDisk,
            UsedDisk = Math.Max(0, r.TotalDisk - r.FreeDisk),
        };
        var state = h.State is HostState.INIT or HostState.ERROR or HostState.MONITORING_ERROR or HostState.MONITORING_INIT or HostState.MONITORING_MONITORED
            ? HostState.MONITORED : h.State;
        var t = h.Template;
        var templateChanged = r.Attributes.Any(kv => t.Get(kv.Key) != kv.Value) || (t.Get("ERROR") is not null && state == HostState.MONITORED);
        if (templateChanged)
        {
            t = t.Clone();
            foreach (var (k, v) in r.Attributes) t.Set(k, v);
            t.Remove("ERROR");
        }
        var shareChanged = share.TotalCpu != h.Share.TotalCpu || share.TotalMem != h.Share.TotalMem || share.MaxCpu != h.Share.MaxCpu
                           || share.MaxMem != h.Share.MaxMem || share.MaxDisk != h.Share.MaxDisk;
        if (state == h.State && !templateChanged && !shareChanged && h.LastMonitored != 0) return h;
        return h with { State = state, PrevState = state != h.State ? h.State : h.PrevState, Share = shareChanged ? share : h.Share, Template = t, LastMonitored = now };
    }

    private static Host Failed(Host h, string error)
    {
        if (h.State is HostState.ERROR or HostState.DISABLED) return h;
        var t = h.Template.Clone();
        t.Set("ERROR", error);
        return h with { State = HostState.ERROR, PrevState = h.State, Template = t };
    }
}

/// <summary>What a datastore driver measured: capacity in MiB.</summary>
public sealed record DatastoreCapacity(int DatastoreId, long TotalMb, long FreeMb, long UsedMb);

public sealed partial class Cloud
{
    /// <summary>Records datastore capacities; writes only those that changed.</summary>
    public Task DatastoresMonitoredAsync(IReadOnlyList<DatastoreCapacity> capacities, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            foreach (var c in capacities)
            {
                if (tx.Get<Datastore>(ObjectType.Datastore, c.DatastoreId) is not { } d) continue;
                if (d.TotalMb == c.TotalMb && d.FreeMb == c.FreeMb && d.UsedMb == c.UsedMb) continue;
                tx.Put(d with { TotalMb = c.TotalMb, FreeMb = c.FreeMb, UsedMb = c.UsedMb });
            }
        }, ct);
}
