using System.Collections.Immutable;
using EdgeCloud.Core;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>
/// Every request rule in one place: authentication, authorization (permission bits and ACLs),
/// quotas, locks and input validation, for every object. Both transports (XML-RPC and JSON) are
/// thin layers over this class. Reads use the current snapshot; writes are commands on the
/// <see cref="CommandBus"/>, and every check that guards a write is repeated inside the command,
/// against the state the command is applied to, so concurrent requests cannot race past it.
/// Split by object into partial files (Cloud.Users.cs, Cloud.Vms.cs...).
/// </summary>
public sealed partial class Cloud(CommandBus bus, CloudSettings settings, TimeProvider time, IDriverDispatcher drivers)
{
    private readonly Authenticator _authenticator = new(time);

    public CloudSettings Settings => settings;

    public StateSnapshot State => bus.Current;

    public CommandBus Bus => bus;

    /// <summary>The caller of a session string.</summary>
    /// <exception cref="CloudException">AUTHENTICATION: unknown user, wrong secret, disabled user, malformed session.</exception>
    public Caller Authenticate(string session) =>
        _authenticator.Authenticate(bus.Current, session)
        ?? throw new CloudException(ErrorCode.Authentication, "User couldn't be authenticated, aborting call.");

    private static IEnumerable<AclRule> Acls(StateSnapshot s) => s.All<AclRule>(ObjectType.Acl);

    private static IEnumerable<AclRule> Acls(StateTransaction tx) => tx.All<AclRule>(ObjectType.Acl);

    // ------------------------------------------------------------------ lookups

    private static T Require<T>(StateSnapshot s, ObjectType type, int id) where T : PoolObject =>
        s.Get<T>(type, id) ?? throw CloudException.NotFound(type, id);

    private static T Require<T>(StateTransaction tx, ObjectType type, int id) where T : PoolObject =>
        tx.Get<T>(type, id) ?? throw CloudException.NotFound(type, id);

    /// <summary>Reads an object the caller may USE (info).</summary>
    public T Info<T>(Caller caller, ObjectType type, int id) where T : PoolObject
    {
        var s = bus.Current;
        var o = Require<T>(s, type, id);
        Authorizer.Demand(caller, o, AuthOp.Use, Acls(s));
        return o;
    }

    /// <summary>
    /// Gets an object inside a command, demands the right and checks its lock. The lock levels are
    /// OpenNebula's: USE (1) blocks every change, MANAGE (2) blocks manage and admin operations,
    /// ADMIN (3) only admin operations.
    /// </summary>
    private static T Demand<T>(StateTransaction tx, Caller caller, ObjectType type, int id, AuthOp op, bool checkLock = true) where T : PoolObject
    {
        var o = Require<T>(tx, type, id);
        Authorizer.Demand(caller, o, op, Acls(tx));
        if (checkLock) CheckLock(o, op);
        return o;
    }

    /// <summary>CREATE of a new object of the type (in a cluster, for hosts/datastores/networks): ACL rules only.</summary>
    private static void DemandCreate(StateTransaction tx, Caller caller, ObjectType type, int clusterId = -1)
    {
        if (!Authorizer.CanCreate(caller, type, Acls(tx), clusterId)) throw Authorizer.Denied(caller, AuthOp.Create, type, -1);
    }

    private static void CheckLock(PoolObject o, AuthOp op)
    {
        if (o.Lock is not { } l) return;
        var blocks = l.Locked switch
        {
            1 => op is AuthOp.Use or AuthOp.Manage or AuthOp.Admin,
            2 => op is AuthOp.Manage or AuthOp.Admin,
            3 => op is AuthOp.Admin,
            _ => false,
        };
        if (blocks) throw new CloudException(ErrorCode.Locked, $"The resource {o.Type.ErrorName()} is locked. [{o.Id}].", o.Id);
    }

    // ------------------------------------------------------------------ pools

    /// <summary>
    /// Pool listing with OpenNebula's filter flag and id range: -2 all visible, -3 mine, -1 mine and
    /// my groups, -4 my primary group, ≥0 that user; start/end -1/-1 everything, [start,end] an id
    /// range (end -1 = open), end &lt; -1 = pagination (start is an offset, -end the page size).
    /// </summary>
    public IReadOnlyList<T> Pool<T>(Caller caller, ObjectType type, int filter = -2, int start = -1, int end = -1, Func<T, bool>? where = null)
        where T : PoolObject
    {
        var s = bus.Current;
        var acls = caller.IsAdmin ? [] : Acls(s).ToList();
        IEnumerable<T> items = s.All<T>(type);
        if (start >= 0 && end >= -1)
            items = items.Where(o => o.Id >= start && (end == -1 || o.Id <= end));
        items = items.Where(o => Visible(caller, o, filter, acls));
        if (where is not null) items = items.Where(where);
        if (end < -1)
            items = items.Skip(Math.Max(0, start)).Take(-end);
        return items.ToList();
    }

    private static bool Visible(Caller caller, PoolObject o, int filter, List<AclRule> acls)
    {
        var (uid, gid) = o switch
        {
            OwnedObject oo => (oo.Uid, oo.Gid),
            User u => (u.Id, u.Gid),
            _ => (-1, -1),
        };
        bool visible() => caller.IsAdmin || Authorizer.IsAllowed(caller, Authorizer.Of(o), AuthOp.Use, acls);
        return filter switch
        {
            -2 => visible(),
            -3 => uid == caller.Uid,
            -1 => uid == caller.Uid || (caller.Groups.Contains(gid) && visible()),
            -4 => gid == caller.Gid && visible(),
            >= 0 => uid == filter && visible(),
            _ => throw CloudException.Api($"Invalid filter flag {filter}"),
        };
    }

    // ------------------------------------------------------------------ common operations

    private static Template ParseTemplate(string text, ErrorCode code = ErrorCode.Internal)
    {
        try
        {
            return Template.Parse(text);
        }
        catch (TemplateParseException ex)
        {
            throw new CloudException(code, ex.Message.StartsWith("Parse error", StringComparison.Ordinal) ? ex.Message : "Parse error: " + ex.Message);
        }
    }

    /// <summary>one.*.update: replace (append 0) or merge (append 1) the object's TEMPLATE (a VM's USER_TEMPLATE).</summary>
    public Task<int> UpdateAsync(Caller caller, ObjectType type, int id, string text, int append, CancellationToken ct = default)
    {
        if (append is not (0 or 1)) throw CloudException.Api($"Invalid append value {append}, must be 0 (replace) or 1 (merge)");
        var parsed = ParseTemplate(text, type == ObjectType.Vm ? ErrorCode.Action : ErrorCode.Internal);
        return bus.ExecuteAsync(tx =>
        {
            var o = Demand<PoolObject>(tx, caller, type, id, AuthOp.Manage);
            if (o is Vm vm)
            {
                var ut = append == 1 ? vm.UserTemplate.Clone() : new Template();
                if (append == 1) ut.Merge(parsed); else foreach (var a in parsed.Attributes) ut.Add(a.Clone());
                tx.Put(vm with { UserTemplate = ut });
                return id;
            }
            Template t;
            if (append == 1) { t = o.Template.Clone(); t.Merge(parsed); }
            else t = parsed.Clone();
            KeepProtected(o, o.Template, t);
            tx.Put(o with { Template = t });
            if (o is SecGroup sg) SecGroupChanged(tx, sg with { Template = t });
            if (o is Market) tx.Raise(new MarketChanged(id)); // a new ENDPOINT is read at once (storage)
            return id;
        }, ct);
    }

    /// <summary>Attributes a template update may not drop (they carry the object's identity).</summary>
    private static void KeepProtected(PoolObject o, Template before, Template after)
    {
        string[] keep = o switch
        {
            Datastore => ["DS_MAD", "TM_MAD", "TYPE"],
            VNet => ["VN_MAD"],
            Market => ["MARKET_MAD"],
            _ => [],
        };
        foreach (var k in keep)
            if (!after.Contains(k) && before.Get(k) is { } v) after.Set(k, v);
    }

    public Task<int> RenameAsync(Caller caller, ObjectType type, int id, string name, CancellationToken ct = default)
    {
        ValidateName(type, name);
        return bus.ExecuteAsync(tx =>
        {
            var o = Demand<PoolObject>(tx, caller, type, id, AuthOp.Manage);
            if (o.Name == name) return id;
            CheckNameFree(tx, type, name, o is OwnedObject oo ? oo.Uid : -1, id);
            var renamed = o with { Name = name };
            if (renamed is Vm or VmTemplate && renamed.Template.Get("NAME") is not null)
            {
                var t = renamed.Template.Clone();
                t.Set("NAME", name);
                renamed = renamed with { Template = t };
            }
            tx.Put(renamed);
            RenameReferences(tx, type, id, name);
            return id;
        }, ct);
    }

    /// <summary>Keeps denormalized names (CLUSTER on hosts, DATASTORE on images...) true after a rename.</summary>
    private static void RenameReferences(StateTransaction tx, ObjectType type, int id, string name)
    {
        if (type == ObjectType.Cluster)
            foreach (var h in tx.All<Host>(ObjectType.Host).Where(h => h.ClusterId == id).ToList())
                tx.Put(h with { ClusterName = name });
        if (type == ObjectType.Datastore)
            foreach (var i in tx.All<Image>(ObjectType.Image).Where(i => i.DatastoreId == id).ToList())
                tx.Put(i with { Datastore = name });
    }

    internal static void ValidateName(ObjectType type, string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw CloudException.Action("Invalid NAME, it cannot be empty");
        if (name.Length > 128) throw CloudException.Action("Invalid NAME, max length is 128 chars");
        if (name.IndexOfAny(['\n', '\r', '\t']) >= 0) throw CloudException.Action("Invalid NAME, it cannot contain control characters");
        if (type is ObjectType.User or ObjectType.Group && name.IndexOfAny([':', ' ']) >= 0)
            throw CloudException.Action($"Invalid NAME, {type.ErrorName()} names cannot contain ':' or spaces");
    }

    /// <summary>
    /// Names are unique per pool for users, groups, hosts, clusters, datastores and zones, and per
    /// owner for the rest (as OpenNebula); VMs may share names.
    /// </summary>
    private static void CheckNameFree(StateTransaction tx, ObjectType type, string name, int uid, int selfId = -1)
    {
        if (type is ObjectType.Vm or ObjectType.Acl) return;
        var perOwner = type is not (ObjectType.User or ObjectType.Group or ObjectType.Host or ObjectType.Cluster or ObjectType.Datastore or ObjectType.Zone);
        foreach (var o in tx.All<PoolObject>(type))
        {
            if (o.Id == selfId || o.Name != name) continue;
            if (perOwner && o is OwnedObject oo && oo.Uid != uid) continue;
            throw new CloudException(ErrorCode.Action, $"NAME is already taken by {Authorizer.TypeWord(type)} {o.Id}.", o.Id);
        }
    }

    public Task<int> ChmodAsync(Caller caller, ObjectType type, int id, IReadOnlyList<int> bits, CancellationToken ct = default)
    {
        if (bits.Count != 9) throw CloudException.Api("chmod needs 9 permission values");
        if (bits.Any(b => b is < -1 or > 1)) throw CloudException.Api("Permission values must be -1, 0 or 1");
        return bus.ExecuteAsync(tx =>
        {
            var o = Demand<OwnedObject>(tx, caller, type, id, AuthOp.Manage);
            var p = o.Permissions.Apply(bits);
            // Changing the ADMIN bits needs ADMIN on the object (OpenNebula's rule); OTHER_U/OTHER_M need only
            // MANAGE while ENABLE_OTHER_PERMISSIONS is YES (oned's default, and what one.system.config reports).
            var needsAdmin = p.OwnerA != o.Permissions.OwnerA || p.GroupA != o.Permissions.GroupA || p.OtherA != o.Permissions.OtherA;
            if (needsAdmin) { Authorizer.Demand(caller, o, AuthOp.Admin, Acls(tx)); CheckLock(o, AuthOp.Admin); }
            tx.Put(o with { Permissions = p });
            return id;
        }, ct);
    }

    public Task<int> ChownAsync(Caller caller, ObjectType type, int id, int uid, int gid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var o = Demand<OwnedObject>(tx, caller, type, id, AuthOp.Manage); // MANAGE OBJECT, as oned; a new owner or group is checked below
            var newUid = uid < 0 ? o.Uid : uid;
            var newGid = gid < 0 ? o.Gid : gid;
            var user = Require<User>(tx, ObjectType.User, newUid);
            var group = Require<Group>(tx, ObjectType.Group, newGid);
            if (uid >= 0 && !caller.IsAdmin)
                throw Authorizer.Denied(caller, AuthOp.Admin, type, id);
            if (gid >= 0 && !caller.IsAdmin && !caller.Groups.Contains(newGid))
                throw new CloudException(ErrorCode.Authorization, $"User [{caller.Uid}] : Not authorized to perform MANAGE GROUP [{newGid}].", id);
            if (uid >= 0 && gid < 0 && !user.Groups.Contains(newGid))
                newGid = user.Gid;
            var updated = o with { Uid = newUid, Uname = user.Name, Gid = newGid, Gname = tx.Get<Group>(ObjectType.Group, newGid)?.Name ?? group.Name };
            if (o is Vm vm && (vm.Uid != newUid || vm.Gid != newGid))
                MoveVmQuota(tx, vm, newUid, newGid);
            tx.Put(updated);
            return id;
        }, ct);

    /// <summary>lock(level 1 USE, 2 MANAGE, 3 ADMIN, 4 all → stored as 1); test=true fails if already locked.</summary>
    public Task<int> LockAsync(Caller caller, ObjectType type, int id, int level, bool test, CancellationToken ct = default)
    {
        if (level is < 1 or > 4) throw CloudException.Action($"Wrong lock level specified: {level}, must be 1 (use), 2 (manage), 3 (admin) or 4 (all)");
        var stored = level == 4 ? 1 : level;
        return bus.ExecuteAsync(tx =>
        {
            var o = Demand<PoolObject>(tx, caller, type, id, AuthOp.Manage, checkLock: false);
            if (o.Lock is not null && test)
                throw new CloudException(ErrorCode.Action, $"The resource {type.ErrorName()} is locked. [{id}].", id);
            tx.Put(o with { Lock = new LockInfo(stored, caller.Uid, tx.Now, -1) });
            return id;
        }, ct);
    }

    public Task<int> UnlockAsync(Caller caller, ObjectType type, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var o = Demand<PoolObject>(tx, caller, type, id, AuthOp.Manage, checkLock: false);
            if (o.Lock is { } held && held.Owner != caller.Uid && !caller.IsAdmin) throw CloudException.Action("Cannot unlock: Lock is owned by another user", id);
            if (o.Lock is not null) tx.Put(o with { Lock = null });
            return id;
        }, ct);

    // ------------------------------------------------------------------ helpers for new objects

    private (User User, Group Group) Owner(StateTransaction tx, Caller caller)
    {
        var user = Require<User>(tx, ObjectType.User, caller.Uid);
        var group = Require<Group>(tx, ObjectType.Group, caller.Gid);
        return (user, group);
    }

    /// <summary>The owner's UMASK (user template UMASK, octal) or the cloud default.</summary>
    private Permissions NewPermissions(User user)
    {
        var umask = settings.DefaultUmask;
        if (user.Template.Get("UMASK") is { } u)
        {
            try { umask = Convert.ToInt32(u, 8); }
            catch (FormatException) { }
            catch (OverflowException) { }
        }
        return Permissions.FromUmask(umask);
    }

    private T Stamp<T>(T o, StateTransaction tx, Caller caller) where T : OwnedObject
    {
        var (user, group) = Owner(tx, caller);
        return o with { Uid = user.Id, Uname = user.Name, Gid = group.Id, Gname = group.Name, Permissions = NewPermissions(user) };
    }

    private static int ParseIntAttr(Template t, string name, int fallback) =>
        t.TryGetLong(name, out var v) && v is >= int.MinValue and <= int.MaxValue ? (int)v : fallback;

    private static ImmutableSortedSet<int> Set(params int[] ids) => [.. ids];
}
