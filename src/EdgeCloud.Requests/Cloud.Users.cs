using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    private static readonly string[] KnownAuthDrivers = ["core", "public", "ssh", "x509", "ldap", "server_cipher", "server_x509"];

    /// <summary>one.user.allocate: name, password, auth driver ("" = core), optional group ids (first = primary).</summary>
    public Task<int> UserAllocateAsync(Caller caller, string name, string password, string driver, IReadOnlyList<int> groups, CancellationToken ct = default)
    {
        ValidateName(ObjectType.User, name);
        driver = string.IsNullOrEmpty(driver) ? "core" : driver;
        if (!KnownAuthDrivers.Contains(driver)) throw CloudException.Allocate(ObjectType.User, $"Unknown auth driver \"{driver}\".");
        if (driver == "core" && string.IsNullOrEmpty(password)) throw CloudException.Allocate(ObjectType.User, "Invalid password, it cannot be empty.");
        if (password.IndexOfAny([' ', '\t', '\n', ':']) >= 0 && driver == "core")
            throw CloudException.Allocate(ObjectType.User, "Invalid password, it cannot contain spaces or ':'.");
        return bus.ExecuteAsync(tx =>
        {
            var acls = Acls(tx).ToList();
            var primary = groups.Count > 0 ? groups[0] : caller.IsAdmin ? Caller.UsersGid : caller.Gid;
            foreach (var g in groups.DefaultIfEmpty(primary))
            {
                var grp = tx.Get<Group>(ObjectType.Group, g) ?? throw CloudException.Allocate(ObjectType.User, $"Group {g} does not exist.");
                if (!caller.IsAdmin && !grp.Admins.Contains(caller.Uid) && !Authorizer.CanCreate(caller, ObjectType.User, acls))
                    throw Authorizer.Denied(caller, AuthOp.Create, ObjectType.User, -1);
            }
            if (!caller.IsAdmin && groups.Count == 0 && !Authorizer.CanCreate(caller, ObjectType.User, acls))
                throw Authorizer.Denied(caller, AuthOp.Create, ObjectType.User, -1);
            CheckNameFreeForAllocate(tx, ObjectType.User, name);
            var id = tx.NextId(ObjectType.User);
            var all = groups.Count > 0 ? groups.ToImmutableSortedSet() : ImmutableSortedSet.Create(primary);
            var pg = Require<Group>(tx, ObjectType.Group, primary);
            tx.Put(new User
            {
                Id = id, Name = name, Gid = primary, Gname = pg.Name, Groups = all,
                Password = driver == "core" ? PasswordHash.Sha256Hex(password) : password,
                AuthDriver = driver, Enabled = true,
            });
            foreach (var g in all)
            {
                var grp = Require<Group>(tx, ObjectType.Group, g);
                tx.Put(grp with { Users = grp.Users.Add(id) });
            }
            return id;
        }, ct);
    }

    private static void CheckNameFreeForAllocate(StateTransaction tx, ObjectType type, string name, int uid = -1)
    {
        try { CheckNameFree(tx, type, name, uid); }
        catch (CloudException ex) { throw CloudException.Allocate(type, ex.Message); }
    }

    /// <summary>one.user.info with id -1 = the caller.</summary>
    public User UserInfo(Caller caller, int id)
    {
        if (id == -1) id = caller.Uid;
        var s = bus.Current;
        var u = Require<User>(s, ObjectType.User, id);
        if (u.Id != caller.Uid) Authorizer.Demand(caller, u, AuthOp.Use, Acls(s));
        return u;
    }

    public IReadOnlyList<User> UserPool(Caller caller)
    {
        var s = bus.Current;
        if (caller.IsAdmin) return s.All<User>(ObjectType.User).ToList();
        var acls = Acls(s).ToList();
        return s.All<User>(ObjectType.User)
            .Where(u => u.Id == caller.Uid || Authorizer.IsAllowed(caller, Authorizer.Of(u), AuthOp.Use, acls)
                        || u.Groups.Any(g => s.Get<Group>(ObjectType.Group, g)?.Admins.Contains(caller.Uid) == true))
            .ToList();
    }

    public Task<int> UserDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Admin);
            if (id == Caller.OneAdminUid) throw CloudException.Action("Cannot delete oneadmin user.", id);
            if (tx.All<Vm>(ObjectType.Vm).Any(v => v.Uid == id && v.State != VmState.DONE))
                throw CloudException.Action($"Cannot delete user {id}: it owns virtual machines that are not DONE.", id);
            foreach (var g in u.Groups)
                if (tx.Get<Group>(ObjectType.Group, g) is { } grp)
                    tx.Put(grp with { Users = grp.Users.Remove(id), Admins = grp.Admins.Remove(id) });
            foreach (var r in tx.All<AclRule>(ObjectType.Acl).Where(r => r.User == (AclRule.IndividualId | (uint)id)).ToList())
                tx.Delete(ObjectType.Acl, r.Id);
            tx.Delete(ObjectType.User, id);
            return id;
        }, ct);

    public Task<int> UserPasswdAsync(Caller caller, int id, string password, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(password)) throw CloudException.Action("Invalid password, it cannot be empty.", id);
        return bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, id == caller.Uid ? AuthOp.Use : AuthOp.Manage);
            if (u.AuthDriver == "core" && password.IndexOfAny([' ', '\t', '\n', ':']) >= 0)
                throw CloudException.Action("Invalid password, it cannot contain spaces or ':'.", id);
            tx.Put(u with { Password = u.AuthDriver == "core" ? PasswordHash.Sha256Hex(password) : password });
            return id;
        }, ct);
    }

    public Task<int> UserChauthAsync(Caller caller, int id, string driver, string password, CancellationToken ct = default)
    {
        if (!KnownAuthDrivers.Contains(driver)) throw CloudException.Action($"Unknown auth driver \"{driver}\".", id);
        return bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Admin);
            var pw = string.IsNullOrEmpty(password) ? u.Password : driver == "core" ? PasswordHash.Sha256Hex(password) : password;
            tx.Put(u with { AuthDriver = driver, Password = pw });
            return id;
        }, ct);
    }

    public Task<int> UserEnableAsync(Caller caller, int id, bool enable, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Admin);
            if (id == Caller.OneAdminUid && !enable) throw CloudException.Action("Cannot disable oneadmin user.", id);
            tx.Put(u with { Enabled = enable });
            return id;
        }, ct);

    /// <summary>one.user.chgrp: new primary group; the old primary stays a secondary group? No: OpenNebula replaces it.</summary>
    public Task<int> UserChgrpAsync(Caller caller, int id, int gid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Manage);
            var g = Require<Group>(tx, ObjectType.Group, gid);
            if (!caller.IsAdmin && !g.Admins.Contains(caller.Uid))
                throw new CloudException(ErrorCode.Authorization, $"User [{caller.Uid}] : Not authorized to perform MANAGE GROUP [{gid}].", id);
            if (id == Caller.OneAdminUid && gid != Caller.OneAdminGid) throw CloudException.Action("Cannot change primary group of user oneadmin.", id);
            if (u.Gid == gid) return id;
            var old = Require<Group>(tx, ObjectType.Group, u.Gid);
            tx.Put(old with { Users = old.Users.Remove(id), Admins = old.Admins.Remove(id) });
            var ng = Require<Group>(tx, ObjectType.Group, gid);
            tx.Put(ng with { Users = ng.Users.Add(id) });
            tx.Put(u with { Gid = gid, Gname = g.Name, Groups = u.Groups.Remove(u.Gid).Add(gid) });
            return id;
        }, ct);

    public Task<int> UserAddGroupAsync(Caller caller, int id, int gid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Manage);
            var g = Require<Group>(tx, ObjectType.Group, gid);
            if (!caller.IsAdmin && !g.Admins.Contains(caller.Uid))
                throw new CloudException(ErrorCode.Authorization, $"User [{caller.Uid}] : Not authorized to perform MANAGE GROUP [{gid}].", id);
            if (u.Groups.Contains(gid)) throw CloudException.Action($"User is already in group {gid}.", id);
            tx.Put(u with { Groups = u.Groups.Add(gid) });
            tx.Put(g with { Users = g.Users.Add(id) });
            return id;
        }, ct);

    public Task<int> UserDelGroupAsync(Caller caller, int id, int gid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var u = Demand<User>(tx, caller, ObjectType.User, id, AuthOp.Manage);
            var g = Require<Group>(tx, ObjectType.Group, gid);
            if (!caller.IsAdmin && !g.Admins.Contains(caller.Uid))
                throw new CloudException(ErrorCode.Authorization, $"User [{caller.Uid}] : Not authorized to perform MANAGE GROUP [{gid}].", id);
            if (u.Gid == gid) throw CloudException.Action("Cannot remove user from its primary group.", id);
            if (!u.Groups.Contains(gid)) throw CloudException.Action($"User is not part of group {gid}.", id);
            tx.Put(u with { Groups = u.Groups.Remove(gid) });
            tx.Put(g with { Users = g.Users.Remove(id), Admins = g.Admins.Remove(id) });
            return id;
        }, ct);

    /// <summary>
    /// one.user.login: token "" = new one; valid &gt; 0 seconds, -1 never expires, 0 revokes (the given
    /// token, or every token when token is ""); egid -1 = all groups, else the token acts only in that group.
    /// </summary>
    public Task<string> UserLoginAsync(Caller caller, string name, string token, long valid, int egid, CancellationToken ct = default)
    {
        if (settings.MaxTokenTime == 0) throw CloudException.Action("Login tokens are disabled.");
        return bus.ExecuteAsync(tx =>
        {
            var u = tx.All<User>(ObjectType.User).FirstOrDefault(x => x.Name == name)
                    ?? throw new CloudException(ErrorCode.NoExists, $"Error getting user [{name}].");
            if (u.Id != caller.Uid) Authorizer.Demand(caller, u, AuthOp.Manage, Acls(tx));
            var live = u.LoginTokens.Where(t => t.ExpirationTime < 0 || t.ExpirationTime > tx.Now).ToImmutableList();
            if (valid == 0)
            {
                var kept = token.Length == 0 ? [] : live.RemoveAll(t => t.Token == token);
                tx.Put(u with { LoginTokens = kept });
                return token;
            }
            if (valid < -1) throw CloudException.Action($"Invalid token validity {valid}.");
            if (egid >= 0 && !u.Groups.Contains(egid)) throw CloudException.Api($"EGID {egid} is not in user group list.");
            if (settings.MaxTokenTime > 0 && (valid == -1 || valid > settings.MaxTokenTime)) valid = settings.MaxTokenTime;
            var expiration = valid == -1 ? -1 : tx.Now + valid;
            if (token.Length > 0)
            {
                var existing = live.FirstOrDefault(t => t.Token == token)
                               ?? throw new CloudException(ErrorCode.Action, "Token does not exist.");
                tx.Put(u with { LoginTokens = live.Replace(existing, existing with { ExpirationTime = expiration, Egid = egid }) });
                return token;
            }
            if (live.Count >= settings.MaxTokensPerUser)
                live = live.RemoveAt(0); // oldest goes, as oned caps the set
            var fresh = PasswordHash.NewToken();
            tx.Put(u with { LoginTokens = live.Add(new LoginToken(fresh, expiration, egid)) });
            return fresh;
        }, ct);
    }

    /// <summary>one.user.quota / one.group.quota: set limits from a quota template.</summary>
    public Task<int> SetQuotaAsync(Caller caller, ObjectType type, int id, string text, CancellationToken ct = default)
    {
        if (id == 0) throw CloudException.Action($"Cannot set quotas for oneadmin {type.ErrorName()}", id); // user 0 and group 0 are both oneadmin, as in oned
        var t = ParseTemplate(text, ErrorCode.Action);
        return bus.ExecuteAsync(tx =>
        {
            if (!caller.IsAdmin)
            {
                // Group admins may set quotas of their group's users.
                var allowed = type == ObjectType.User && Require<User>(tx, ObjectType.User, id).Groups
                    .Any(g => tx.Get<Group>(ObjectType.Group, g)?.Admins.Contains(caller.Uid) == true);
                if (!allowed) throw Authorizer.Denied(caller, AuthOp.Admin, type, id);
            }
            if (type == ObjectType.User)
            {
                var u = Require<User>(tx, ObjectType.User, id);
                tx.Put(u with { Quotas = QuotaEngine.SetLimits(u.Quotas, t) });
            }
            else
            {
                var g = Require<Group>(tx, ObjectType.Group, id);
                tx.Put(g with { Quotas = QuotaEngine.SetLimits(g.Quotas, t) });
            }
            return id;
        }, ct);
    }

    // ------------------------------------------------------------------ groups

    public Task<int> GroupAllocateAsync(Caller caller, string name, CancellationToken ct = default)
    {
        ValidateName(ObjectType.Group, name);
        return bus.ExecuteAsync(tx =>
        {
            DemandCreate(tx, caller, ObjectType.Group);
            CheckNameFreeForAllocate(tx, ObjectType.Group, name);
            var id = tx.NextId(ObjectType.Group, 100);
            tx.Put(new Group { Id = id, Name = name });
            // The default VDC gives every group the use of the zone's resources (as oned does).
            AddVdcRules(tx, id);
            return id;
        }, ct);
    }

    private static void AddVdcRules(StateTransaction tx, int gid)
    {
        var g = AclRule.GroupId | (uint)gid;
        AddRuleIfMissing(tx, g, AclRule.All | ObjectType.Host.AclBit(), (long)AuthOp.Manage, AclRule.IndividualId);
        AddRuleIfMissing(tx, g, AclRule.All | ObjectType.VNet.AclBit() | ObjectType.Datastore.AclBit(), (long)AuthOp.Use, AclRule.IndividualId);
    }

    private static int AddRuleIfMissing(StateTransaction tx, long user, long resource, long rights, long zone)
    {
        var existing = tx.All<AclRule>(ObjectType.Acl).FirstOrDefault(r => r.User == user && r.Resource == resource && r.Rights == rights && r.Zone == zone);
        if (existing is not null) return existing.Id;
        var id = tx.NextId(ObjectType.Acl);
        tx.Put(new AclRule { Id = id, Name = "", User = user, Resource = resource, Rights = rights, Zone = zone });
        return id;
    }

    public Group GroupInfo(Caller caller, int id)
    {
        if (id == -1) id = caller.Gid;
        var s = bus.Current;
        var g = Require<Group>(s, ObjectType.Group, id);
        if (!caller.Groups.Contains(id)) Authorizer.Demand(caller, g, AuthOp.Use, Acls(s));
        return g;
    }

    public IReadOnlyList<Group> GroupPool(Caller caller)
    {
        var s = bus.Current;
        if (caller.IsAdmin) return s.All<Group>(ObjectType.Group).ToList();
        var acls = Acls(s).ToList();
        return s.All<Group>(ObjectType.Group)
            .Where(g => caller.Groups.Contains(g.Id) || Authorizer.IsAllowed(caller, Authorizer.Of(g), AuthOp.Use, acls)).ToList();
    }

    public Task<int> GroupDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var g = Demand<Group>(tx, caller, ObjectType.Group, id, AuthOp.Admin);
            if (id < 100) throw CloudException.Action("System groups cannot be deleted.", id);
            if (!g.Users.IsEmpty) throw CloudException.Action("Cannot delete group, it still has users.", id);
            foreach (var r in tx.All<AclRule>(ObjectType.Acl).ToList())
            {
                var userIsGroup = r.User == (AclRule.GroupId | (uint)id);
                var resIsGroup = (r.Resource & AclRule.GroupId) != 0 && (r.Resource & AclRule.IdMask) == id;
                if (userIsGroup || resIsGroup) tx.Delete(ObjectType.Acl, r.Id);
            }
            tx.Delete(ObjectType.Group, id);
            return id;
        }, ct);

    /// <summary>Group admins get these rules, as oned creates them in Group::add_admin.</summary>
    private static (long User, long Resource, long Rights)[] GroupAdminRules(int uid, int gid)
    {
        var user = AclRule.IndividualId | (uint)uid;
        var inGroup = AclRule.GroupId | (uint)gid;
        var resources = ObjectType.Vm.AclBit() | ObjectType.VNet.AclBit() | ObjectType.Image.AclBit() | ObjectType.Template.AclBit()
                        | ObjectType.Document.AclBit() | ObjectType.SecGroup.AclBit() | ObjectType.VRouter.AclBit()
                        | ObjectType.VmGroup.AclBit() | ObjectType.BackupJob.AclBit();
        return
        [
            (user, ObjectType.User.AclBit() | inGroup, (long)(AuthOp.Use | AuthOp.Manage | AuthOp.Admin)),
            (user, resources | inGroup, (long)(AuthOp.Use | AuthOp.Manage)),
        ];
    }

    public Task<int> GroupAddAdminAsync(Caller caller, int id, int uid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var g = Demand<Group>(tx, caller, ObjectType.Group, id, AuthOp.Manage);
            var u = Require<User>(tx, ObjectType.User, uid);
            if (!u.Groups.Contains(id)) throw CloudException.Action($"User {uid} is not in group {id}.", id);
            if (g.Admins.Contains(uid)) throw CloudException.Action($"User {uid} is already an administrator of group {id}.", id);
            tx.Put(g with { Admins = g.Admins.Add(uid) });
            foreach (var (user, res, rights) in GroupAdminRules(uid, id)) AddRuleIfMissing(tx, user, res, rights, AclRule.All);
            return id;
        }, ct);

    public Task<int> GroupDelAdminAsync(Caller caller, int id, int uid, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var g = Demand<Group>(tx, caller, ObjectType.Group, id, AuthOp.Manage);
            if (!g.Admins.Contains(uid)) throw CloudException.Action($"User {uid} is not an administrator of group {id}.", id);
            tx.Put(g with { Admins = g.Admins.Remove(uid) });
            foreach (var (user, res, rights) in GroupAdminRules(uid, id))
                foreach (var r in tx.All<AclRule>(ObjectType.Acl).Where(r => r.User == user && r.Resource == res && r.Rights == rights).ToList())
                    tx.Delete(ObjectType.Acl, r.Id);
            return id;
        }, ct);

    // ------------------------------------------------------------------ ACL rules

    public IReadOnlyList<AclRule> AclPool(Caller caller)
    {
        var s = bus.Current;
        if (!caller.IsAdmin) return s.All<AclRule>(ObjectType.Acl).Where(r => AclConcerns(r, caller)).ToList();
        return s.All<AclRule>(ObjectType.Acl).ToList();
    }

    private static bool AclConcerns(AclRule r, Caller c) =>
        (r.User & AclRule.All) == AclRule.All
        || r.User == (AclRule.IndividualId | (uint)c.Uid)
        || c.Groups.Any(g => r.User == (AclRule.GroupId | (uint)g));

    /// <summary>one.acl.addrule with hex strings; malformed rules are refused with OpenNebula's reasons.</summary>
    public Task<int> AclAddAsync(Caller caller, string userHex, string resourceHex, string rightsHex, string zoneHex, CancellationToken ct = default)
    {
        var user = ParseHex(userHex, "user");
        var resource = ParseHex(resourceHex, "resource");
        var rights = ParseHex(rightsHex, "rights");
        var zone = string.IsNullOrEmpty(zoneHex) ? AclRule.IndividualId | Authorizer.ZoneId : ParseHex(zoneHex, "zone");
        if (Malformed(user, resource, rights, zone) is { } why)
            throw CloudException.Internal($"Rule is malformed: {why}");
        return bus.ExecuteAsync(tx =>
        {
            if (!caller.IsAdmin) throw Authorizer.Denied(caller, AuthOp.Manage, ObjectType.Acl, -1);
            if (tx.All<AclRule>(ObjectType.Acl).FirstOrDefault(r => r.User == user && r.Resource == resource && r.Rights == rights && r.Zone == zone) is { } dup)
                throw CloudException.Internal($"Rule already exists (id {dup.Id}).");
            var id = tx.NextId(ObjectType.Acl);
            tx.Put(new AclRule { Id = id, Name = "", User = user, Resource = resource, Rights = rights, Zone = zone });
            return id;
        }, ct);
    }

    public Task<int> AclDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (!caller.IsAdmin) throw Authorizer.Denied(caller, AuthOp.Manage, ObjectType.Acl, id);
            _ = tx.Get<AclRule>(ObjectType.Acl, id) ?? throw CloudException.Internal($"Rule {id} does not exist", id);
            tx.Delete(ObjectType.Acl, id);
            return id;
        }, ct);

    private static long ParseHex(string s, string what)
    {
        var t = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
        if (t.Length == 0 || !long.TryParse(t, System.Globalization.NumberStyles.HexNumber, null, out var v) || v < 0)
            throw CloudException.Internal($"Rule is malformed: {what} \"{s}\" is not a hexadecimal number");
        return v;
    }

    /// <summary>OpenNebula's AclRule::malformed checks.</summary>
    internal static string? Malformed(long user, long resource, long rights, long zone)
    {
        var userKinds = new[] { AclRule.IndividualId, AclRule.GroupId, AclRule.All }.Count(k => (user & k) != 0);
        if (userKinds == 0) return "[user] is missing one of the flags #, @ or *";
        if (userKinds > 1) return "[user] has more than one of the flags #, @ or *";
        if ((user & AclRule.All) != 0 && (user & AclRule.IdMask) != 0) return "when using the ALL bit, [user] ID must be 0";
        if ((user & ~(AclRule.IndividualId | AclRule.GroupId | AclRule.All | AclRule.IdMask)) != 0) return "wrong [user] flags";
        var resKinds = new[] { AclRule.IndividualId, AclRule.GroupId, AclRule.All, AclRule.ClusterId }.Count(k => (resource & k) != 0);
        if (resKinds == 0) return "[resource] is missing one of the flags #, @, % or *";
        if (resKinds > 1) return "[resource] has more than one of the flags #, @, % or *";
        if ((resource & AclRule.All) != 0 && (resource & AclRule.IdMask) != 0) return "when using the ALL bit, [resource] ID must be 0";
        var typeBits = resource & ~(AclRule.IndividualId | AclRule.GroupId | AclRule.All | AclRule.ClusterId | AclRule.IdMask);
        if (typeBits == 0) return "[resource] type is missing";
        var known = Enum.GetValues<ObjectType>().Aggregate(0L, (acc, t) => acc | t.AclBit());
        if ((typeBits & ~known) != 0) return "[resource] has a wrong type";
        if (rights == 0) return "wrong [rights], it cannot be 0";
        if (rights > 0xF) return "wrong [rights], it cannot be bigger than 0xF";
        var zoneKinds = new[] { AclRule.IndividualId, AclRule.All }.Count(k => (zone & k) != 0);
        if (zoneKinds != 1) return "[zone] must have one of the flags # or *";
        if ((zone & AclRule.All) != 0 && (zone & AclRule.IdMask) != 0) return "when using the ALL bit, [zone] ID must be 0";
        return null;
    }

    // ------------------------------------------------------------------ default quotas

    /// <summary>The cloud's default quotas (what a limit of -1 means), as of the current state.</summary>
    public QuotaDefaults DefaultQuotas() =>
        State.Get<QuotaDefaults>(ObjectType.QuotaDefaults, QuotaDefaults.SingletonId)
        ?? new QuotaDefaults { Id = QuotaDefaults.SingletonId, Name = "default quotas", User = settings.DefaultUserQuotas, Group = settings.DefaultGroupQuotas };

    /// <summary>
    /// one.userquota.update / one.groupquota.update (oneadmin only): sets default limits from a quota
    /// template (VM=[...], DATASTORE=[ID=..], NETWORK=[ID=..], IMAGE=[ID=..]) and returns the new set.
    /// </summary>
    public Task<QuotaSet> UpdateDefaultQuotasAsync(Caller caller, bool users, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        return bus.ExecuteAsync(tx =>
        {
            if (!caller.IsAdmin) throw Authorizer.Denied(caller, AuthOp.Admin, users ? ObjectType.User : ObjectType.Group, -1);
            var current = tx.Get<QuotaDefaults>(ObjectType.QuotaDefaults, QuotaDefaults.SingletonId) ?? DefaultQuotas();
            var updated = users
                ? current with { User = QuotaEngine.SetLimits(current.User, t) }
                : current with { Group = QuotaEngine.SetLimits(current.Group, t) };
            tx.Put(updated);
            return users ? updated.User : updated.Group;
        }, ct);
    }
}
