using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Requests.Auth;

/// <summary>
/// OpenNebula's authorization, in one place: oneadmin and the oneadmin group pass; otherwise the
/// object's permission bits act as three temporary ACL rules (owner #uid, group @gid, other *), and
/// the ACL rules are matched for "everyone", then the user id, then each of the session's groups.
/// A rule matches when its zone is this zone or all, it grants every requested right, and its
/// resource covers the object's type with * (all), @gid (object group), #id or %cluster.
/// </summary>
public static class Authorizer
{
    public const int ZoneId = 0;

    /// <summary>What the check needs to know of an object (OpenNebula's PoolObjectAuth).</summary>
    public readonly record struct ObjectAuth(ObjectType Type, int Oid, int Uid, int Gid, Permissions Perms, IReadOnlyCollection<int> Clusters, bool HasOwner);

    public static ObjectAuth Of(PoolObject obj) => obj switch
    {
        OwnedObject o => new(o.Type, o.Id, o.Uid, o.Gid, o.Permissions, ClustersOf(o), true),
        Host h => new(h.Type, h.Id, -1, -1, default, [h.ClusterId], false),
        User u => new(u.Type, u.Id, u.Id, u.Gid, new Permissions(OwnerU: true, OwnerM: true, false, false, false, false, false, false, false), [], true), // a user owns itself (passwd, update), as in oned
        Group g => new(g.Type, g.Id, -1, g.Id, default, [], false),
        _ => new(obj.Type, obj.Id, -1, -1, default, [], false),
    };

    private static IReadOnlyCollection<int> ClustersOf(OwnedObject o) => o switch
    {
        Datastore d => d.Clusters,
        VNet n => n.Clusters,
        _ => [],
    };

    public static bool IsAllowed(Caller caller, ObjectAuth obj, AuthOp op, IEnumerable<AclRule> rules)
    {
        if (caller.IsAdmin) return true;
        var rights = (long)op;

        // The object's own permission bits, as temporary rules.
        if (obj.HasOwner)
        {
            var p = obj.Perms;
            if (obj.Uid == caller.Uid && Grants(p.OwnerU, p.OwnerM, p.OwnerA, op)) return true;
            if (caller.Groups.Contains(obj.Gid) && Grants(p.GroupU, p.GroupM, p.GroupA, op)) return true;
            if (Grants(p.OtherU, p.OtherM, p.OtherA, op)) return true;
        }

        var typeBit = obj.Type.AclBit();
        foreach (var r in rules)
        {
            if (!AppliesToCaller(r.User, caller)) continue;
            if ((r.Zone & AclRule.All) != AclRule.All && (r.Zone & (AclRule.IndividualId | AclRule.IdMask)) != (AclRule.IndividualId | ZoneId)) continue;
            if ((r.Rights & rights) != rights) continue;
            if ((r.Resource & typeBit) == 0) continue;
            if ((r.Resource & AclRule.All) == AclRule.All) return true;
            var id = r.Resource & AclRule.IdMask;
            if ((r.Resource & AclRule.IndividualId) != 0 && obj.Oid >= 0 && id == obj.Oid) return true;
            if ((r.Resource & AclRule.GroupId) != 0 && obj.Gid >= 0 && id == obj.Gid) return true;
            if ((r.Resource & AclRule.ClusterId) != 0 && obj.Clusters.Contains((int)id)) return true;
        }
        return false;
    }

    /// <summary>CREATE of a new object of the type (optionally in a cluster): only ACL rules grant it.</summary>
    public static bool CanCreate(Caller caller, ObjectType type, IEnumerable<AclRule> rules, int clusterId = -1) =>
        IsAllowed(caller, new ObjectAuth(type, -1, -1, -1, default, clusterId >= 0 ? [clusterId] : [], false), AuthOp.Create, rules);

    private static bool Grants(bool u, bool m, bool a, AuthOp op) => op switch
    {
        AuthOp.Use => u,
        AuthOp.Manage => m,
        AuthOp.Admin => a,
        _ => false,
    };

    private static bool AppliesToCaller(long user, Caller caller)
    {
        if ((user & AclRule.All) == AclRule.All) return true;
        var id = (int)(user & AclRule.IdMask);
        if ((user & AclRule.IndividualId) != 0) return id == caller.Uid;
        if ((user & AclRule.GroupId) != 0) return caller.Groups.Contains(id);
        return false;
    }

    /// <summary>Throws OpenNebula's AUTHORIZATION fault when the caller may not do <paramref name="op"/>.</summary>
    public static void Demand(Caller caller, PoolObject obj, AuthOp op, IEnumerable<AclRule> rules)
    {
        if (!IsAllowed(caller, Of(obj), op, rules))
            throw Denied(caller, op, obj.Type, obj.Id);
    }

    public static CloudException Denied(Caller caller, AuthOp op, ObjectType type, int id) =>
        new(ErrorCode.Authorization,
            $"User [{caller.Uid}] : Not authorized to perform {op.ToString().ToUpperInvariant()} {TypeWord(type)}{(id >= 0 ? $" [{id}]" : "")}.", id);

    /// <summary>OpenNebula's upper-case object word in auth messages (VM, HOST, NET, IMAGE...).</summary>
    public static string TypeWord(ObjectType type) => type switch
    {
        ObjectType.Vm => "VM",
        ObjectType.VNet => "NET",
        ObjectType.Template => "TEMPLATE",
        ObjectType.SecGroup => "SECGROUP",
        ObjectType.VmGroup => "VMGROUP",
        ObjectType.Market => "MARKETPLACE",
        ObjectType.MarketApp => "MARKETPLACEAPP",
        ObjectType.VNTemplate => "VNTEMPLATE",
        _ => type.ToString().ToUpperInvariant(),
    };
}
