using System.Collections.Immutable;
using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>
/// OpenNebula's quotas: limits per user and per group, -1 = use the default quota, -2 = unlimited.
/// A request that would pass a limit is refused with an AUTHORIZATION fault (as oned does) and
/// changes nothing; usage moves in the same command as the change that causes it.
/// </summary>
public static class QuotaEngine
{
    public const double Default = -1;
    public const double Unlimited = -2;

    /// <summary>The VM quota (VMS, CPU, MEMORY, SYSTEM_DISK_SIZE, RUNNING_*) for a usage delta.</summary>
    public static QuotaSet AddVm(QuotaSet quotas, QuotaSet defaults, IReadOnlyDictionary<string, double> delta, string owner, bool check)
    {
        var entry = quotas.Vm ?? QuotaEntry.Create("", QuotaSet.VmMetrics);
        var defaultEntry = defaults.Vm;
        entry = Apply(entry, defaultEntry, delta, owner, "VM", check);
        return quotas with { Vm = entry };
    }

    public static QuotaSet AddDatastore(QuotaSet quotas, QuotaSet defaults, int dsId, IReadOnlyDictionary<string, double> delta, string owner, bool check)
    {
        var id = dsId.ToString(CultureInfo.InvariantCulture);
        var list = quotas.Datastore;
        var existing = list.FirstOrDefault(e => e.Id == id);
        var entry = Apply(existing ?? QuotaEntry.Create(id, QuotaSet.DatastoreMetrics), defaults.Datastore.FirstOrDefault(e => e.Id == id), delta, owner, "DATASTORE", check);
        return quotas with { Datastore = existing is null ? list.Add(entry) : list.Replace(existing, entry) };
    }

    public static QuotaSet AddNetwork(QuotaSet quotas, QuotaSet defaults, int netId, double leases, string owner, bool check)
    {
        var id = netId.ToString(CultureInfo.InvariantCulture);
        var list = quotas.Network;
        var existing = list.FirstOrDefault(e => e.Id == id);
        var entry = Apply(existing ?? QuotaEntry.Create(id, QuotaSet.NetworkMetrics), defaults.Network.FirstOrDefault(e => e.Id == id),
            new Dictionary<string, double> { ["LEASES"] = leases }, owner, "NETWORK", check);
        return quotas with { Network = existing is null ? list.Add(entry) : list.Replace(existing, entry) };
    }

    public static QuotaSet AddImage(QuotaSet quotas, QuotaSet defaults, int imageId, double rvms, string owner, bool check)
    {
        var id = imageId.ToString(CultureInfo.InvariantCulture);
        var list = quotas.Image;
        var existing = list.FirstOrDefault(e => e.Id == id);
        var entry = Apply(existing ?? QuotaEntry.Create(id, QuotaSet.ImageMetrics), defaults.Image.FirstOrDefault(e => e.Id == id),
            new Dictionary<string, double> { ["RVMS"] = rvms }, owner, "IMAGE", check);
        return quotas with { Image = existing is null ? list.Add(entry) : list.Replace(existing, entry) };
    }

    private static QuotaEntry Apply(QuotaEntry entry, QuotaEntry? defaults, IReadOnlyDictionary<string, double> delta, string owner, string kind, bool check)
    {
        var used = entry.Used.ToBuilder();
        foreach (var (metric, amount) in delta)
        {
            if (amount == 0) continue;
            var now = entry.UsedOf(metric);
            var next = Math.Max(0, now + amount);
            if (check && amount > 0)
            {
                var limit = entry.Limit(metric);
                if (limit == Default) limit = defaults?.Limit(metric) ?? Unlimited;
                if (limit == Default) limit = Unlimited;
                if (limit != Unlimited && next > limit + 1e-9)
                    throw new CloudException(ErrorCode.Authorization,
                        $"{owner} : {kind} quota exceeded for {metric}{(entry.Id.Length > 0 ? $" of {kind} [{entry.Id}]" : "")}: limit {Fmt(limit)}, used {Fmt(now)}, requested {Fmt(amount)}.");
            }
            used[metric] = next;
        }
        return entry with { Used = used.ToImmutable() };
    }

    public static string Fmt(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15
        ? ((long)v).ToString(CultureInfo.InvariantCulture)
        : v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Sets limits from a quota template: VM=[...], DATASTORE=[ID=..], NETWORK=[ID=..], IMAGE=[ID=..].</summary>
    public static QuotaSet SetLimits(QuotaSet quotas, Template t)
    {
        foreach (var v in t.Vectors("VM"))
            quotas = quotas with { Vm = SetEntry(quotas.Vm ?? QuotaEntry.Create("", QuotaSet.VmMetrics), v, QuotaSet.VmMetrics) };
        quotas = quotas with { Datastore = SetList(quotas.Datastore, t.Vectors("DATASTORE"), QuotaSet.DatastoreMetrics, "DATASTORE") };
        quotas = quotas with { Network = SetList(quotas.Network, t.Vectors("NETWORK"), QuotaSet.NetworkMetrics, "NETWORK") };
        quotas = quotas with { Image = SetList(quotas.Image, t.Vectors("IMAGE"), QuotaSet.ImageMetrics, "IMAGE") };
        return quotas;
    }

    private static ImmutableList<QuotaEntry> SetList(ImmutableList<QuotaEntry> list, IEnumerable<VectorAttribute> vectors, string[] metrics, string kind)
    {
        foreach (var v in vectors)
        {
            var id = v["ID"] ?? throw CloudException.Action($"{kind} quota needs an ID");
            if (!int.TryParse(id, CultureInfo.InvariantCulture, out _)) throw CloudException.Action($"{kind} quota ID \"{id}\" is not a number");
            var existing = list.FirstOrDefault(e => e.Id == id);
            var entry = SetEntry(existing ?? QuotaEntry.Create(id, metrics), v, metrics);
            list = existing is null ? list.Add(entry) : list.Replace(existing, entry);
        }
        return list;
    }

    private static QuotaEntry SetEntry(QuotaEntry entry, VectorAttribute v, string[] metrics)
    {
        var limits = entry.Limits.ToBuilder();
        foreach (var (k, val) in v.Values)
        {
            if (k == "ID") continue;
            if (!metrics.Contains(k)) throw CloudException.Action($"Unknown quota attribute {k}");
            if (!double.TryParse(val, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || (d < 0 && d != Default && d != Unlimited))
                throw CloudException.Action($"Invalid quota value \"{val}\" for {k}: use a number, -1 (default) or -2 (unlimited)");
            limits[k] = d;
        }
        return entry with { Limits = limits.ToImmutable() };
    }
}
