using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    /// <summary>IM/VM drivers a host may name. kvm/lxc hosts are served by the host agent.</summary>
    public static readonly string[] HostDrivers = ["dummy", "kvm", "qemu", "lxc"];

    public const int DefaultClusterId = 0;

    // ------------------------------------------------------------------ clusters

    public Task<int> ClusterAllocateAsync(Caller caller, string name, CancellationToken ct = default)
    {
        ValidateName(ObjectType.Cluster, name);
        return bus.ExecuteAsync(tx =>
        {
            DemandCreate(tx, caller, ObjectType.Cluster);
            CheckNameFreeForAllocate(tx, ObjectType.Cluster, name);
            var id = tx.NextId(ObjectType.Cluster, 100);
            tx.Put(new Cluster { Id = id, Name = name });
            return id;
        }, ct);
    }

    public Task<int> ClusterDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var c = Demand<Cluster>(tx, caller, ObjectType.Cluster, id, AuthOp.Admin);
            if (id == DefaultClusterId) throw CloudException.Action("The default cluster cannot be deleted.", id);
            if (!c.Hosts.IsEmpty) throw CloudException.Action($"Cannot delete cluster. Cluster {id} has hosts: {string.Join(",", c.Hosts)}.", id);
            if (!c.VNets.IsEmpty) throw CloudException.Action($"Cannot delete cluster. Cluster {id} has virtual networks: {string.Join(",", c.VNets)}.", id);
            if (!c.Datastores.IsEmpty) throw CloudException.Action($"Cannot delete cluster. Cluster {id} has datastores: {string.Join(",", c.Datastores)}.", id);
            foreach (var r in tx.All<AclRule>(ObjectType.Acl).Where(r => (r.Resource & AclRule.ClusterId) != 0 && (r.Resource & AclRule.IdMask) == id).ToList())
                tx.Delete(ObjectType.Acl, r.Id);
            tx.Delete(ObjectType.Cluster, id);
            return id;
        }, ct);

    /// <summary>A host is in exactly one cluster: adding it here takes it out of its old one.</summary>
    public Task<int> ClusterAddHostAsync(Caller caller, int id, int hostId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var c = Demand<Cluster>(tx, caller, ObjectType.Cluster, id, AuthOp.Admin);
            var h = Demand<Host>(tx, caller, ObjectType.Host, hostId, AuthOp.Admin);
            MoveHost(tx, h, c);
            return id;
        }, ct);

    private static void MoveHost(StateTransaction tx, Host h, Cluster to)
    {
        if (h.ClusterId == to.Id) return;
        if (tx.Get<Cluster>(ObjectType.Cluster, h.ClusterId) is { } source)
            tx.Put(source with { Hosts = source.Hosts.Remove(h.Id) });
        var target = Require<Cluster>(tx, ObjectType.Cluster, to.Id);
        tx.Put(target with { Hosts = target.Hosts.Add(h.Id) });
        tx.Put(h with { ClusterId = to.Id, ClusterName = to.Name });
    }

    public Task<int> ClusterDelHostAsync(Caller caller, int id, int hostId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var c = Demand<Cluster>(tx, caller, ObjectType.Cluster, id, AuthOp.Admin);
            var h = Demand<Host>(tx, caller, ObjectType.Host, hostId, AuthOp.Admin);
            if (h.ClusterId != id) throw CloudException.Action($"Host {hostId} is not in cluster {id}.", id);
            MoveHost(tx, h, Require<Cluster>(tx, ObjectType.Cluster, DefaultClusterId));
            _ = c;
            return id;
        }, ct);

    public Task<int> ClusterAddDatastoreAsync(Caller caller, int id, int dsId, bool add, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var c = Demand<Cluster>(tx, caller, ObjectType.Cluster, id, AuthOp.Admin);
            var d = Demand<Datastore>(tx, caller, ObjectType.Datastore, dsId, AuthOp.Admin);
            if (add == c.Datastores.Contains(dsId))
                throw CloudException.Action(add ? $"Datastore {dsId} is already in cluster {id}." : $"Datastore {dsId} is not in cluster {id}.", id);
            tx.Put(c with { Datastores = add ? c.Datastores.Add(dsId) : c.Datastores.Remove(dsId) });
            tx.Put(d with { Clusters = add ? d.Clusters.Add(id) : d.Clusters.Remove(id) });
            return id;
        }, ct);

    public Task<int> ClusterAddVNetAsync(Caller caller, int id, int netId, bool add, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var c = Demand<Cluster>(tx, caller, ObjectType.Cluster, id, AuthOp.Admin);
            var n = Demand<VNet>(tx, caller, ObjectType.VNet, netId, AuthOp.Admin);
            if (add == c.VNets.Contains(netId))
                throw CloudException.Action(add ? $"Virtual network {netId} is already in cluster {id}." : $"Virtual network {netId} is not in cluster {id}.", id);
            tx.Put(c with { VNets = add ? c.VNets.Add(netId) : c.VNets.Remove(netId) });
            tx.Put(n with { Clusters = add ? n.Clusters.Add(id) : n.Clusters.Remove(id) });
            return id;
        }, ct);

    // ------------------------------------------------------------------ hosts

    public Task<int> HostAllocateAsync(Caller caller, string name, string imMad, string vmMad, int clusterId, CancellationToken ct = default)
    {
        ValidateName(ObjectType.Host, name);
        if (!HostDrivers.Contains(imMad)) throw CloudException.Allocate(ObjectType.Host, $"Unknown IM_MAD \"{imMad}\"; known drivers: {string.Join(", ", HostDrivers)}.");
        if (!HostDrivers.Contains(vmMad)) throw CloudException.Allocate(ObjectType.Host, $"Unknown VM_MAD \"{vmMad}\"; known drivers: {string.Join(", ", HostDrivers)}.");
        return bus.ExecuteAsync(tx =>
        {
            var cid = clusterId < 0 ? DefaultClusterId : clusterId;
            var cluster = tx.Get<Cluster>(ObjectType.Cluster, cid) ?? throw CloudException.NotFound(ObjectType.Cluster, cid);
            DemandCreate(tx, caller, ObjectType.Host, cid);
            CheckNameFreeForAllocate(tx, ObjectType.Host, name);
            var id = tx.NextId(ObjectType.Host);
            var t = new Template();
            t.Set("IM_MAD", imMad);
            t.Set("VM_MAD", vmMad);
            tx.Put(new Host
            {
                Id = id, Name = name, State = HostState.INIT, PrevState = HostState.INIT, ImMad = imMad, VmMad = vmMad,
                ClusterId = cid, ClusterName = cluster.Name, Template = t,
            });
            tx.Put(cluster with { Hosts = cluster.Hosts.Add(id) });
            tx.Raise(new HostAdded(id));
            return id;
        }, ct);
    }

    public Task<int> HostDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var h = Demand<Host>(tx, caller, ObjectType.Host, id, AuthOp.Admin);
            if (!h.Vms.IsEmpty) throw CloudException.Action($"Cannot delete host: it has {h.Vms.Count} VMs ({string.Join(",", h.Vms.Take(10))}).", id);
            if (tx.Get<Cluster>(ObjectType.Cluster, h.ClusterId) is { } c) tx.Put(c with { Hosts = c.Hosts.Remove(id) });
            tx.Delete(ObjectType.Host, id);
            return id;
        }, ct);

    /// <summary>one.host.status: 0 enable (back to monitoring), 1 disable, 2 offline.</summary>
    public Task<int> HostStatusAsync(Caller caller, int id, int status, CancellationToken ct = default)
    {
        if (status is < 0 or > 2) throw CloudException.Api($"Invalid host status {status}: 0 enabled, 1 disabled, 2 offline", id);
        return bus.ExecuteAsync(tx =>
        {
            var h = Demand<Host>(tx, caller, ObjectType.Host, id, AuthOp.Admin);
            var next = status switch { 0 => HostState.INIT, 1 => HostState.DISABLED, _ => HostState.OFFLINE };
            if (status == 0 && h.State is not (HostState.DISABLED or HostState.OFFLINE or HostState.ERROR)) return id;
            if (h.State == next) return id;
            tx.Put(h with { State = next, PrevState = h.State });
            if (status == 0) tx.Raise(new HostAdded(id));
            return id;
        }, ct);
    }

    // ------------------------------------------------------------------ datastores

    public Task<int> DatastoreAllocateAsync(Caller caller, string text, int clusterId, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        var name = t.Get("NAME") ?? throw CloudException.Allocate(ObjectType.Datastore, "No NAME in template.");
        ValidateName(ObjectType.Datastore, name);
        var type = (t.Get("TYPE") ?? "IMAGE_DS").ToUpperInvariant() switch
        {
            "IMAGE_DS" or "IMAGE" => DatastoreType.IMAGE_DS,
            "SYSTEM_DS" or "SYSTEM" => DatastoreType.SYSTEM_DS,
            "FILE_DS" or "FILE" => DatastoreType.FILE_DS,
            "BACKUP_DS" or "BACKUP" => DatastoreType.BACKUP_DS,
            var other => throw CloudException.Allocate(ObjectType.Datastore, $"Unknown datastore TYPE \"{other}\"; use IMAGE_DS, SYSTEM_DS, FILE_DS or BACKUP_DS."),
        };
        var dsMad = t.Get("DS_MAD") ?? "";
        var tmMad = t.Get("TM_MAD") ?? throw CloudException.Allocate(ObjectType.Datastore, "No TM_MAD in template.");
        if (type != DatastoreType.SYSTEM_DS && dsMad.Length == 0) throw CloudException.Allocate(ObjectType.Datastore, "No DS_MAD in template.");
        t.Set("TYPE", type.ToString());
        return bus.ExecuteAsync(tx =>
        {
            var cid = clusterId < 0 ? DefaultClusterId : clusterId;
            var cluster = tx.Get<Cluster>(ObjectType.Cluster, cid) ?? throw CloudException.NotFound(ObjectType.Cluster, cid);
            DemandCreate(tx, caller, ObjectType.Datastore, cid);
            CheckNameFreeForAllocate(tx, ObjectType.Datastore, name);
            var id = tx.NextId(ObjectType.Datastore, 100);
            var ds = Stamp(new Datastore
            {
                Id = id, Name = name, DsMad = dsMad, TmMad = tmMad, DsType = type, Template = t,
                BasePath = t.Get("BASE_PATH") ?? $"datastores/{id}",
                Clusters = Set(cid), State = DatastoreState.READY,
            }, tx, caller);
            tx.Put(ds with { Permissions = Permissions.FromOctal(Convert.ToInt32("640", 8)) });
            tx.Put(cluster with { Datastores = cluster.Datastores.Add(id) });
            tx.Raise(new DatastoreAdded(id));
            return id;
        }, ct);
    }

    public Task<int> DatastoreDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var d = Demand<Datastore>(tx, caller, ObjectType.Datastore, id, AuthOp.Admin);
            if (!d.Images.IsEmpty) throw CloudException.Action($"Cannot delete datastore: it has images ({string.Join(",", d.Images)}).", id);
            if (d.DsType == DatastoreType.SYSTEM_DS && tx.All<Vm>(ObjectType.Vm).Any(v => v.State != VmState.DONE && v.LastHistory?.DsId == id))
                throw CloudException.Action("Cannot delete system datastore: it has VMs.", id);
            foreach (var cid in d.Clusters)
                if (tx.Get<Cluster>(ObjectType.Cluster, cid) is { } c) tx.Put(c with { Datastores = c.Datastores.Remove(id) });
            tx.Delete(ObjectType.Datastore, id);
            return id;
        }, ct);

    public Task<int> DatastoreEnableAsync(Caller caller, int id, bool enable, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var d = Demand<Datastore>(tx, caller, ObjectType.Datastore, id, AuthOp.Admin);
            if (d.DsType != DatastoreType.SYSTEM_DS) throw CloudException.Action("Only system datastores can be enabled or disabled.", id);
            tx.Put(d with { State = enable ? DatastoreState.READY : DatastoreState.DISABLED });
            return id;
        }, ct);

    // ------------------------------------------------------------------ zones

    public Zone ZoneInfo(Caller caller, int id) => Info<Zone>(caller, ObjectType.Zone, id);
}

/// <summary>A host was added or enabled: the monitor probes it right away.</summary>
public sealed record HostAdded(int HostId);

/// <summary>A security group's rules changed (or were committed): its OUTDATED_VMS wait for their hosts to re-apply them.</summary>
public sealed record SecGroupOutdated(int SecGroupId);

/// <summary>A datastore was added: the monitor measures its capacity right away.</summary>
public sealed record DatastoreAdded(int DatastoreId);
