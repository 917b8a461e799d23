using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;
using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Requests;

/// <summary>
/// OpenNebula's automatic NIC selection: <c>NIC = [ NETWORK_MODE = "auto", SCHED_REQUIREMENTS = "…", SCHED_RANK = "…" ]</c>.
/// At allocation the VM's AUTOMATIC_REQUIREMENTS are narrowed to the clusters that hold a READY
/// network matching the requirements that the owner may use; when the VM is deployed on a host, each
/// auto NIC leases from the best matching network of that host's cluster with a free address (SCHED_RANK,
/// then the lowest id). So a template asking for <c>SCHED_REQUIREMENTS = "PUBLIC = YES"</c> gets the public
/// network of whichever cluster the VM lands in. The expression sees the network's template attributes
/// and ID, NAME, CLUSTER_ID (the network's clusters), VN_MAD, BRIDGE, VLAN_ID, UID, GID.
/// </summary>
public sealed partial class Cloud
{
    private static readonly ExpressionCache NetExpressions = new(256);

    /// <summary>The clusters of the networks an auto NIC may use (allocation), or a fault naming the NIC.</summary>
    private static HashSet<int> AutoNicClusters(StateTransaction tx, Caller caller, VectorAttribute nic)
    {
        var nets = AutoCandidates(tx, caller, nic, clusterId: null).ToList();
        if (nets.Count == 0)
            throw CloudException.Allocate(ObjectType.Vm, $"No virtual network matches NETWORK_MODE = auto NIC {nic["NIC_ID"]} (SCHED_REQUIREMENTS = \"{nic["SCHED_REQUIREMENTS"]}\").");
        return [.. nets.SelectMany(n => n.Clusters)];
    }

    /// <summary>READY networks (with the built-in IPAM) the caller may use that match the NIC's SCHED_REQUIREMENTS, best first.</summary>
    private static IEnumerable<VNet> AutoCandidates(StateTransaction tx, Caller caller, VectorAttribute nic, int? clusterId)
    {
        BoolExpression? req = null;
        RankExpression? rank = null;
        try
        {
            if (nic["SCHED_REQUIREMENTS"] is { Length: > 0 } r) req = NetExpressions.GetRequirement(r);
            if (nic["SCHED_RANK"] is { Length: > 0 } k) rank = NetExpressions.GetRank(k);
        }
        catch (ExpressionException e)
        {
            throw CloudException.Allocate(ObjectType.Vm, $"NIC {nic["NIC_ID"]} SCHED_REQUIREMENTS/SCHED_RANK: {e.Message}");
        }
        var acls = Acls(tx).ToList();
        return tx.All<VNet>(ObjectType.VNet)
            .Where(n => n.State == VNetState.READY && (clusterId is null || n.Clusters.Contains(clusterId.Value)))
            .Where(n => n.AddressRanges.Any(a => IpamScope.ExternalMad(a) is null))
            .Where(n => caller.IsAdmin || Authorizer.IsAllowed(caller, Authorizer.Of(n), AuthOp.Use, acls))
            .Select(n => (Net: n, Attrs: NetAttributes(n)))
            .Where(x => req is null || req.Evaluate(x.Attrs))
            .OrderByDescending(x => rank?.Evaluate(x.Attrs) ?? 0)
            .ThenBy(x => x.Net.Id)
            .Select(x => x.Net);
    }

    private static DictionaryAttributeSource NetAttributes(VNet n)
    {
        var src = new DictionaryAttributeSource();
        foreach (var a in n.Template.Attributes.OfType<SingleAttribute>()) src.Set(a.Name, a.Value);
        src.Set("ID", n.Id).Set("NAME", n.Name).Set("VN_MAD", n.VnMad).Set("BRIDGE", n.Bridge).Set("VLAN_ID", n.VlanId)
            .Set("UID", n.Uid).Set("GID", n.Gid)
            .Set("CLUSTER_ID", AttributeValue.FromIntegers([.. n.Clusters]));
        return src;
    }

    /// <summary>
    /// Leases the auto NICs of a VM being deployed on <paramref name="host"/> from networks of the host's
    /// cluster; returns null (nothing written) when some auto NIC has no network with a free address there.
    /// </summary>
    private Vm? LeaseAutoNics(StateTransaction tx, Vm vm, Host host)
    {
        if (PickAutoNics(tx, vm, host) is not { } picks) return null;
        if (picks.Count == 0) return vm;
        var t = vm.Template.Clone();
        foreach (var (nic, chosen) in picks)
        {
            var net = tx.Get<VNet>(ObjectType.VNet, chosen.Id)!;
            var current = t.Vectors("NIC").First(n => n["NIC_ID"] == nic["NIC_ID"]);
            var nicId = current.GetInt("NIC_ID") ?? 0;
            var leased = LifeCycle.Leases.Acquire(tx, net, current, vm.Id, nicId);
            LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net.Id, 1, q.Who, check: false));
            foreach (var (k, v) in leased.Values) current.Set(k, v);
        }
        return vm with { Template = t };
    }

    /// <summary>The network each unresolved auto NIC would lease from on <paramref name="host"/>; null when one has none. Writes nothing.</summary>
    internal static List<(VectorAttribute Nic, VNet Net)>? PickAutoNics(StateTransaction tx, Vm vm, Host host)
    {
        var autos = vm.Template.Vectors("NIC").Where(n => VmNics.IsAuto(n) && n["NETWORK_ID"] is null).ToList();
        if (autos.Count == 0) return [];
        var owner = tx.Get<User>(ObjectType.User, vm.Uid);
        var caller = new Caller(vm.Uid, vm.Uname, vm.Gid, vm.Gname, owner?.Groups ?? [vm.Gid]);
        var taken = new Dictionary<int, int>();
        var picks = new List<(VectorAttribute Nic, VNet Net)>();
        foreach (var nic in autos)
        {
            var net = AutoCandidates(tx, caller, nic, host.ClusterId)
                .FirstOrDefault(n => FreeInternal(n) - taken.GetValueOrDefault(n.Id) > 0);
            if (net is null) return null;
            taken[net.Id] = taken.GetValueOrDefault(net.Id) + 1;
            picks.Add((nic, net));
        }
        return picks;
    }

    private static int FreeInternal(VNet n) =>
        n.AddressRanges.Where(a => IpamScope.ExternalMad(a) is null).Sum(a => Math.Max(0, (a.Attributes.GetInt("SIZE") ?? 0) - a.Leases.Count));

    /// <summary>The clusters named by an AUTOMATIC_REQUIREMENTS text such as "(CLUSTER_ID = 0 | CLUSTER_ID = 3)".</summary>
    internal static string ClusterRequirement(IEnumerable<int> clusters) =>
        "(" + string.Join(" | ", clusters.Order().Select(c => string.Create(CultureInfo.InvariantCulture, $"CLUSTER_ID = {c}"))) + ")";
}
