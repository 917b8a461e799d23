using System.Security.Cryptography;
using System.Text;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.user.*, one.group.*, login tokens, group admins, default quotas.</summary>
public abstract class UsersAndGroupsTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private static string Sha256(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [BackendFact]
    public async Task UserAllocate_GroupsArray_FirstIsPrimaryAndUserIsInEveryGroup()
    {
        var g1 = await NewGroupAsync();
        var g2 = await NewGroupAsync();
        var name = Unique("alice");

        var id = await Admin.CallIntAsync("one.user.allocate", name, "secret1", "core", new[] { g1, g2 });

        var user = await Admin.InfoAsync("one.user.info", id, false);
        Assert.Equal(name, user.Str("NAME"));
        Assert.Equal(g1, user.Int("GID"));
        Assert.Equal([g1, g2], user.Ids("GROUPS"));
        Assert.Equal(Sha256("secret1"), user.Str("PASSWORD"));
        Assert.Equal("core", user.Str("AUTH_DRIVER"));
        Assert.Equal(1, user.Int("ENABLED"));
        Assert.Contains(id, (await Admin.InfoAsync("one.group.info", g1, false)).Ids("USERS"));
        Assert.Contains(id, (await Admin.InfoAsync("one.group.info", g2, false)).Ids("USERS"));
        Schemas.AssertValid(user.ToString(), "user.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.group.info", g1, false)).ToString(), "group.xsd");
    }

    [BackendFact]
    public async Task UserAllocate_NoGroups_GoesToUsersGroup()
    {
        var id = await Admin.CallIntAsync("one.user.allocate", Unique("bob"), "pw", "core", Array.Empty<int>());

        var user = await Admin.InfoAsync("one.user.info", id);
        Assert.Equal(1, user.Int("GID"));
        Assert.Equal("users", user.Str("GNAME"));
        Assert.Equal([1], user.Ids("GROUPS"));
    }

    [BackendFact]
    public async Task UserAllocate_TakenName_AllocateErrorAndNothingChanges()
    {
        var name = Unique("dup");
        await Admin.CallIntAsync("one.user.allocate", name, "pw", "core", Array.Empty<int>());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.allocate", name, "pw2", "core", Array.Empty<int>()),
            Err.Allocate, "[one.user.allocate] Error allocating a new user.");
    }

    [BackendFact]
    public async Task UserAllocate_UnknownGroup_FailsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.allocate", Unique("nog"), "pw", "core", new[] { 9999 }), Err.Allocate);

    [BackendFact]
    public async Task UserInfo_MinusOne_IsTheCaller()
    {
        var (id, client) = await NewUserAsync();

        var self = await client.InfoAsync("one.user.info", -1, false);

        Assert.Equal(id, self.Int("ID"));
        Assert.True(self.Has("DEFAULT_USER_QUOTAS/VM_QUOTA"));
    }

    [BackendFact]
    public async Task UserPool_PlainUser_SeesOnlyItself()
    {
        var (id, client) = await NewUserAsync();
        await NewUserAsync();

        var pool = await client.InfoAsync("one.userpool.info");

        Assert.Equal([id], pool.EntryIds());
        Schemas.AssertValid((await Admin.InfoAsync("one.userpool.info")).ToString(), "user_pool.xsd");
    }

    [BackendFact]
    public async Task UserLogin_NewToken_WorksAsSessionAndIsListed()
    {
        var name = Unique("tok");
        var (id, client) = await NewUserAsync(name);

        var token = await client.CallStringAsync("one.user.login", name, "", 600, -1);

        Assert.Matches("^[0-9a-f]{64}$", token);
        var viaToken = Fe.Client($"{name}:{token}");
        Assert.Equal(id, (await viaToken.InfoAsync("one.user.info", -1)).Int("ID"));
        var user = await Admin.InfoAsync("one.user.info", id);
        var listed = user.At("LOGIN_TOKEN");
        Assert.Equal(token, listed.Str("TOKEN"));
        Assert.Equal(-1, listed.Int("EGID"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(listed.Long("EXPIRATION_TIME"), now + 590, now + 610);
        Schemas.AssertValid(user.ToString(), "user.xsd");
    }

    [BackendFact]
    public async Task UserLogin_ValidZero_RevokesTheToken()
    {
        var name = Unique("rev");
        var (_, client) = await NewUserAsync(name);
        var token = await client.CallStringAsync("one.user.login", name, "", 600, -1);
        var viaToken = Fe.Client($"{name}:{token}");
        await viaToken.CallAsync("one.user.info", -1);

        await client.CallAsync("one.user.login", name, token, 0, -1);

        await FailsAsync(() => viaToken.CallAsync("one.user.info", -1), Err.Authentication, "[one.user.info] " + Err.AuthFailed);
        await client.CallAsync("one.user.info", -1); // the password still works
    }

    [BackendFact]
    public async Task UserLogin_EmptyTokenValidZero_RevokesEveryToken()
    {
        var name = Unique("revall");
        var (id, client) = await NewUserAsync(name);
        var t1 = await client.CallStringAsync("one.user.login", name, "", 600, -1);
        var t2 = await client.CallStringAsync("one.user.login", name, "", 600, -1);

        await client.CallAsync("one.user.login", name, "", 0, -1);

        await FailsAsync(() => Fe.Client($"{name}:{t1}").CallAsync("one.user.info", -1), Err.Authentication);
        await FailsAsync(() => Fe.Client($"{name}:{t2}").CallAsync("one.user.info", -1), Err.Authentication);
        Assert.False((await Admin.InfoAsync("one.user.info", id)).Has("LOGIN_TOKEN"));
    }

    [BackendFact]
    public async Task UserLogin_ShortValidity_TokenExpires()
    {
        var name = Unique("exp");
        var (_, client) = await NewUserAsync(name);
        var token = await client.CallStringAsync("one.user.login", name, "", 1, -1);
        var viaToken = Fe.Client($"{name}:{token}");

        await Wait.ForAsync(async () =>
        {
            try { await viaToken.CallAsync("one.user.info", -1); return false; }
            catch (EdgeCloud.Client.OneException ex) when (ex.Code == Err.Authentication) { return true; }
        }, "the 1 s token to expire", TimeSpan.FromSeconds(5));
        await client.CallAsync("one.user.info", -1);
    }

    [BackendFact]
    public async Task UserLogin_Egid_ScopesTheSessionToThatGroup()
    {
        var g = await NewGroupAsync();
        // What `onegroup create` adds: the group's users may create VMs, templates, images...
        await Admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        var name = Unique("egid");
        var (id, client) = await NewUserAsync(name, 1, g);

        var token = await client.CallStringAsync("one.user.login", name, "", 600, g);
        var scoped = Fe.Client($"{name}:{token}");

        Assert.Equal(g, (await scoped.InfoAsync("one.group.info", -1)).Int("ID"));
        Assert.Equal(1, (await client.InfoAsync("one.group.info", -1)).Int("ID"));
        var tid = await scoped.CallIntAsync("one.template.allocate", $"NAME = \"{Unique("tpl")}\"\nMEMORY = 64\nCPU = 1\n");
        Assert.Equal(g, (await Admin.InfoAsync("one.template.info", tid)).Int("GID"));
        Assert.Equal(g, (await Admin.InfoAsync("one.user.info", id)).Int("LOGIN_TOKEN/EGID"));
    }

    [BackendFact]
    public async Task UserLogin_EgidNotAGroupOfTheUser_ApiErrorAndNothingChanges()
    {
        var name = Unique("egidbad");
        var (_, client) = await NewUserAsync(name);

        await FailsUnchangedAsync(() => client.CallAsync("one.user.login", name, "", 600, 0), Err.Api, "EGID");
    }

    [BackendFact]
    public async Task UserLogin_ForAnotherUser_AuthorizationErrorAndNothingChanges()
    {
        var (_, client) = await NewUserAsync();
        var other = Unique("victim");
        await NewUserAsync(other);

        await FailsUnchangedAsync(() => client.CallAsync("one.user.login", other, "", 600, -1), Err.Authorization);
    }

    [BackendFact]
    public async Task UserPasswd_NewPasswordWorksAndOldFails()
    {
        var name = Unique("pw");
        var (id, client) = await NewUserAsync(name);

        await client.CallAsync("one.user.passwd", id, "brand-new");

        await FailsAsync(() => client.CallAsync("one.user.info", -1), Err.Authentication);
        Assert.Equal(id, (await Fe.Client($"{name}:brand-new").InfoAsync("one.user.info", -1)).Int("ID"));
        Assert.Equal(Sha256("brand-new"), (await Admin.InfoAsync("one.user.info", id)).Str("PASSWORD"));
    }

    [BackendFact]
    public async Task UserPasswd_OtherUsersPassword_AuthorizationErrorAndNothingChanges()
    {
        var (_, client) = await NewUserAsync();
        var (victim, _) = await NewUserAsync();

        await FailsUnchangedAsync(() => client.CallAsync("one.user.passwd", victim, "hijack"), Err.Authorization);
    }

    [BackendFact]
    public async Task UserChauth_OtherDriver_PasswordNoLongerAuthenticatesUntilBackToCore()
    {
        var name = Unique("chauth");
        var (id, client) = await NewUserAsync(name);

        await Admin.CallAsync("one.user.chauth", id, "ldap", "");
        Assert.Equal("ldap", (await Admin.InfoAsync("one.user.info", id)).Str("AUTH_DRIVER"));
        await FailsAsync(() => client.CallAsync("one.user.info", -1), Err.Authentication);

        await Admin.CallAsync("one.user.chauth", id, "core", "again");
        var user = await Admin.InfoAsync("one.user.info", id);
        Assert.Equal("core", user.Str("AUTH_DRIVER"));
        Assert.Equal(Sha256("again"), user.Str("PASSWORD"));
        await Fe.Client($"{name}:again").CallAsync("one.user.info", -1);
    }

    [BackendFact]
    public async Task UserEnable_Disabled_CannotAuthenticateUntilEnabled()
    {
        var (id, client) = await NewUserAsync();

        await Admin.CallAsync("one.user.enable", id, false);
        Assert.Equal(0, (await Admin.InfoAsync("one.user.info", id)).Int("ENABLED"));
        await FailsAsync(() => client.CallAsync("one.user.info", -1), Err.Authentication, "[one.user.info] " + Err.AuthFailed);
        await FailsAsync(() => client.CallAsync("one.system.version"), Err.Authentication);

        await Admin.CallAsync("one.user.enable", id, true);
        Assert.Equal(id, (await client.InfoAsync("one.user.info", -1)).Int("ID"));
    }

    [BackendFact]
    public async Task UserEnable_PlainUserDisablesAnother_AuthorizationErrorAndNothingChanges()
    {
        var (_, client) = await NewUserAsync();
        var (victim, _) = await NewUserAsync();

        await FailsUnchangedAsync(() => client.CallAsync("one.user.enable", victim, false), Err.Authorization);
    }

    [BackendFact]
    public async Task UserChgrp_MovesThePrimaryGroup()
    {
        var g = await NewGroupAsync();
        var (id, _) = await NewUserAsync();

        await Admin.CallAsync("one.user.chgrp", id, g);

        var user = await Admin.InfoAsync("one.user.info", id);
        Assert.Equal(g, user.Int("GID"));
        Assert.Contains(g, user.Ids("GROUPS"));
        Assert.DoesNotContain(1, user.Ids("GROUPS"));
        Assert.Contains(id, (await Admin.InfoAsync("one.group.info", g)).Ids("USERS"));
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.group.info", 1)).Ids("USERS"));
    }

    [BackendFact]
    public async Task UserAddgroupDelgroup_SecondaryGroupComesAndGoes()
    {
        var g = await NewGroupAsync();
        var (id, _) = await NewUserAsync();

        await Admin.CallAsync("one.user.addgroup", id, g);
        Assert.Equal([1, g], (await Admin.InfoAsync("one.user.info", id)).Ids("GROUPS"));
        Assert.Equal(1, (await Admin.InfoAsync("one.user.info", id)).Int("GID"));
        Assert.Contains(id, (await Admin.InfoAsync("one.group.info", g)).Ids("USERS"));

        await Admin.CallAsync("one.user.delgroup", id, g);
        Assert.Equal([1], (await Admin.InfoAsync("one.user.info", id)).Ids("GROUPS"));
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.group.info", g)).Ids("USERS"));
    }

    [BackendFact]
    public async Task UserDelgroup_PrimaryGroup_ActionErrorAndNothingChanges()
    {
        var (id, _) = await NewUserAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.delgroup", id, 1), Err.Action);
    }

    [BackendFact]
    public async Task UserUpdate_ReplaceAndMerge()
    {
        var (id, client) = await NewUserAsync();

        await client.CallAsync("one.user.update", id, "A = \"1\"\nB = \"2\"\n", 0);
        await client.CallAsync("one.user.update", id, "B = \"3\"\nC = \"4\"\n", 1);
        var merged = (await Admin.InfoAsync("one.user.info", id)).At("TEMPLATE");
        Assert.Equal(("1", "3", "4"), (merged.Str("A"), merged.Str("B"), merged.Str("C")));

        await client.CallAsync("one.user.update", id, "D = \"5\"", 0);
        var replaced = (await Admin.InfoAsync("one.user.info", id)).At("TEMPLATE");
        Assert.Equal(["D"], replaced.Elements().Select(e => e.Name.LocalName));
    }

    [BackendFact]
    public async Task UserDelete_RemovedFromGroupsAndCannotAuthenticate()
    {
        var g = await NewGroupAsync();
        var (id, client) = await NewUserAsync(null, g);

        Assert.Equal(id, await Admin.CallIntAsync("one.user.delete", id));

        await FailsAsync(() => Admin.CallAsync("one.user.info", id), Err.NoExists, $"[one.user.info] Error getting user [{id}].");
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.group.info", g)).Ids("USERS"));
        await FailsAsync(() => client.CallAsync("one.user.info", -1), Err.Authentication);
    }

    [BackendFact]
    public async Task UserDelete_Oneadmin_ActionErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.delete", 0), Err.Action);

    [BackendFact]
    public async Task GroupAllocate_CliSequence_AllThreeCallsSucceed()
    {
        var name = Unique("cligroup");

        var gid = await Admin.CallIntAsync("one.group.allocate", name);
        var userHex = (0x200000000L | (uint)gid).ToString("X");
        var rule = await Admin.CallIntAsync("one.acl.addrule", userHex, "125429400000000", "8", "400000000");
        await Admin.CallIntAsync("one.group.update", gid,
            "FIREEDGE=[VIEWS=\"cloud\",\nDEFAULT_VIEW=\"cloud\",\nGROUP_ADMIN_VIEWS=\"groupadmin\",\nGROUP_ADMIN_DEFAULT_VIEW=\"groupadmin\"]", 1);

        Assert.True(gid >= 100);
        var group = await Admin.InfoAsync("one.group.info", gid, false);
        Assert.Equal(name, group.Str("NAME"));
        Assert.Equal("cloud", group.Str("TEMPLATE/FIREEDGE/DEFAULT_VIEW"));
        foreach (var block in new[] { "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA", "DEFAULT_GROUP_QUOTAS/VM_QUOTA" })
            Assert.True(group.Has(block), block);
        var acl = (await Admin.InfoAsync("one.acl.info")).Entry(rule);
        Assert.Equal(userHex, acl.Str("USER"));
        Assert.Equal("125429400000000", acl.Str("RESOURCE"));
        Schemas.AssertValid(group.ToString(), "group.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.grouppool.info")).ToString(), "group_pool.xsd");
    }

    [BackendFact]
    public async Task GroupAllocate_TakenName_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.group.allocate", "users"), Err.Allocate, "[one.group.allocate] Error allocating a new group.");

    [BackendFact]
    public async Task GroupAllocate_PlainUser_AuthorizationErrorAndNothingChanges()
    {
        var (_, client) = await NewUserAsync();

        await FailsUnchangedAsync(() => client.CallAsync("one.group.allocate", Unique("g")), Err.Authorization);
    }

    [BackendFact]
    public async Task GroupInfo_MinusOne_IsTheCallersGroup()
    {
        var g = await NewGroupAsync();
        var (_, client) = await NewUserAsync(null, g);

        Assert.Equal(g, (await client.InfoAsync("one.group.info", -1, false)).Int("ID"));
    }

    [BackendFact]
    public async Task GroupAddadmin_AdminManagesTheUsersOfItsGroupOnly()
    {
        var g = await NewGroupAsync();
        var (adminId, groupAdmin) = await NewUserAsync(null, g);
        var (memberId, _) = await NewUserAsync(null, g);
        var (outsiderId, _) = await NewUserAsync();

        await Admin.CallAsync("one.group.addadmin", g, adminId);

        Assert.Equal([adminId], (await Admin.InfoAsync("one.group.info", g)).Ids("ADMINS"));
        Assert.Contains(memberId, (await groupAdmin.InfoAsync("one.userpool.info")).EntryIds());
        await groupAdmin.CallAsync("one.user.passwd", memberId, "reset-by-admin");
        var created = await groupAdmin.CallIntAsync("one.user.allocate", Unique("byadmin"), "pw", "core", new[] { g });
        Assert.Equal(g, (await Admin.InfoAsync("one.user.info", created)).Int("GID"));
        await FailsUnchangedAsync(() => groupAdmin.CallAsync("one.user.passwd", outsiderId, "nope"), Err.Authorization);
    }

    [BackendFact]
    public async Task GroupDeladmin_FormerAdminLosesItsRights()
    {
        var g = await NewGroupAsync();
        var (adminId, groupAdmin) = await NewUserAsync(null, g);
        var (memberId, _) = await NewUserAsync(null, g);
        await Admin.CallAsync("one.group.addadmin", g, adminId);
        await groupAdmin.CallAsync("one.user.passwd", memberId, "first");

        await Admin.CallAsync("one.group.deladmin", g, adminId);

        Assert.Empty((await Admin.InfoAsync("one.group.info", g)).Ids("ADMINS"));
        await FailsUnchangedAsync(() => groupAdmin.CallAsync("one.user.passwd", memberId, "second"), Err.Authorization);
    }

    [BackendFact]
    public async Task GroupDelete_WithUsers_ActionErrorAndNothingChanges()
    {
        var g = await NewGroupAsync();
        await NewUserAsync(null, g);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.group.delete", g), Err.Action);
    }

    [BackendFact]
    public async Task GroupDelete_SystemGroup_ActionErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.group.delete", 1), Err.Action);

    [BackendFact]
    public async Task GroupDelete_Empty_IsGone()
    {
        var g = await NewGroupAsync();

        Assert.Equal(g, await Admin.CallIntAsync("one.group.delete", g));

        await FailsAsync(() => Admin.CallAsync("one.group.info", g), Err.NoExists, $"[one.group.info] Error getting group [{g}].");
        Assert.DoesNotContain(g, (await Admin.InfoAsync("one.grouppool.info")).EntryIds());
    }

    [BackendFact]
    public async Task GroupUpdate_ReplaceAndMerge()
    {
        var g = await NewGroupAsync();

        await Admin.CallAsync("one.group.update", g, "A = 1\nB = 2", 0);
        await Admin.CallAsync("one.group.update", g, "B = 3", 1);

        var t = (await Admin.InfoAsync("one.group.info", g)).At("TEMPLATE");
        Assert.Equal(("1", "3"), (t.Str("A"), t.Str("B")));
    }

    [BackendFact]
    public async Task DefaultQuotas_Info_ReturnsTheDefaultQuotaDocuments()
    {
        var users = await Admin.InfoAsync("one.userquota.info");
        var groups = await Admin.InfoAsync("one.groupquota.info");

        Assert.Equal("DEFAULT_USER_QUOTAS", users.Name.LocalName);
        Assert.Equal("DEFAULT_GROUP_QUOTAS", groups.Name.LocalName);
        foreach (var block in new[] { "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA" })
        {
            Assert.True(users.Has(block), block);
            Assert.True(groups.Has(block), block);
        }
    }
}

public sealed class UsersAndGroupsTests_Sqlite(SqliteFrontend fixture) : UsersAndGroupsTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class UsersAndGroupsTests_Postgres(PostgresFrontend fixture) : UsersAndGroupsTests(fixture), IClassFixture<PostgresFrontend>;
