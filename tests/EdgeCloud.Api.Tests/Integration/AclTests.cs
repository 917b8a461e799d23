using System.Globalization;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.acl.addrule / delrule / info: rules grant rights to non-admins, and take them back.</summary>
public abstract class AclTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private static string UserHex(int uid) => (0x100000000L | (uint)uid).ToString("X", CultureInfo.InvariantCulture);

    private static string TemplateHex(int id) => (0x20000000000L | 0x100000000L | (uint)id).ToString("X", CultureInfo.InvariantCulture);

    [BackendFact]
    public async Task AclInfo_Bootstrap_HasTheDefaultRules()
    {
        var pool = await Admin.InfoAsync("one.acl.info");

        var strings = pool.Elements("ACL").Select(a => a.Str("STRING")).ToList();
        Assert.Contains("@1 VM+NET+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE #0", strings);
        Assert.Contains("* ZONE/* USE *", strings);
        Assert.Contains("* MARKETPLACE+MARKETPLACEAPP/* USE *", strings);
        Assert.Contains("@1 HOST/* MANAGE #0", strings);
        Assert.Contains("@1 NET+DATASTORE/* USE #0", strings);
        Schemas.AssertValid(pool.ToString(), "acl_pool.xsd");
    }

    [BackendFact]
    public async Task AclAddrule_CliExample_IsStoredAndRendered()
    {
        var id = await Admin.CallIntAsync("one.acl.addrule", "200000001", "5400000000", "3", "400000000");

        var rule = (await Admin.InfoAsync("one.acl.info")).Entry(id);
        Assert.Equal("200000001", rule.Str("USER"));
        Assert.Equal("5400000000", rule.Str("RESOURCE"));
        Assert.Equal("3", rule.Str("RIGHTS"));
        Assert.Equal("400000000", rule.Str("ZONE"));
        Assert.Equal("@1 VM+NET/* USE+MANAGE *", rule.Str("STRING"));
        await Admin.CallAsync("one.acl.delrule", id);
    }

    [BackendFact]
    public async Task AclAddrule_GrantsAndDelruleRevokes_UseOfOneTemplate()
    {
        var (uid, user) = await NewUserAsync();
        var tid = await Admin.CallIntAsync("one.template.allocate", VmTemplate());
        await FailsAsync(() => user.CallAsync("one.template.info", tid, false, false), Err.Authorization,
            $"[one.template.info] User [{uid}] : Not authorized to perform USE TEMPLATE [{tid}].");

        var rule = await Admin.CallIntAsync("one.acl.addrule", UserHex(uid), TemplateHex(tid), "1", "400000000");

        Assert.Equal(tid, (await user.InfoAsync("one.template.info", tid, false, false)).Int("ID"));
        Assert.Contains(tid, (await user.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds());
        var vm = await user.CallIntAsync("one.template.instantiate", tid, Unique("aclvm"), true, "", false);
        Assert.Equal(uid, (await Admin.InfoAsync("one.vm.info", vm)).Int("UID"));
        await FailsUnchangedAsync(() => user.CallAsync("one.template.update", tid, "X = 1", 1), Err.Authorization); // USE is not MANAGE

        await Admin.CallAsync("one.acl.delrule", rule);

        await FailsAsync(() => user.CallAsync("one.template.info", tid, false, false), Err.Authorization);
        Assert.DoesNotContain(tid, (await user.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds());
        await FailsUnchangedAsync(() => user.CallAsync("one.template.instantiate", tid, Unique("aclvm"), true, "", false), Err.Authorization);
    }

    [BackendFact]
    public async Task AclAddrule_ClusterUseForAGroup_MembersSeeTheCluster()
    {
        var g = await NewGroupAsync();
        var (_, user) = await NewUserAsync(null, g);
        await FailsAsync(() => user.CallAsync("one.cluster.info", 0, false), Err.Authorization);

        var rule = await Admin.CallIntAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X", CultureInfo.InvariantCulture), "200400000000", "1", "");

        Assert.Equal("default", (await user.InfoAsync("one.cluster.info", 0, false)).Str("NAME"));
        var stored = (await Admin.InfoAsync("one.acl.info")).Entry(rule);
        Assert.Equal("100000000", stored.Str("ZONE")); // no zone given: this zone (#0)
        await Admin.CallAsync("one.acl.delrule", rule);
        await FailsAsync(() => user.CallAsync("one.cluster.info", 0, false), Err.Authorization);
    }

    [BackendTheory]
    [InlineData("0", "5400000000", "3", "400000000")]               // user without #, @ or *
    [InlineData("300000001", "5400000000", "3", "400000000")]       // user with # and @
    [InlineData("400000001", "5400000000", "3", "400000000")]       // * with an id
    [InlineData("200000001", "400000000", "3", "400000000")]        // resource without a type
    [InlineData("200000001", "5000000000", "3", "400000000")]       // resource without #, @, % or *
    [InlineData("200000001", "5400000000", "0", "400000000")]       // no rights
    [InlineData("200000001", "5400000000", "10", "400000000")]      // rights beyond CREATE
    [InlineData("200000001", "5400000000", "3", "0")]               // zone without # or *
    [InlineData("zz", "5400000000", "3", "400000000")]              // not hexadecimal
    public async Task AclAddrule_Malformed_InternalErrorAndNothingChanges(string user, string resource, string rights, string zone) =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.acl.addrule", user, resource, rights, zone), Err.Internal, "[one.acl.addrule]");

    [BackendFact]
    public async Task AclAddrule_Duplicate_InternalErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.acl.addrule", "400000000", "800400000000", "1", "400000000"), Err.Internal, "exists");

    [BackendFact]
    public async Task AclAddrule_PlainUser_AuthorizationErrorAndNothingChanges()
    {
        var (uid, user) = await NewUserAsync();

        await FailsUnchangedAsync(() => user.CallAsync("one.acl.addrule", UserHex(uid), "2400000000", "4", "400000000"), Err.Authorization);
    }

    [BackendFact]
    public async Task AclDelrule_PlainUser_AuthorizationErrorAndNothingChanges()
    {
        var (_, user) = await NewUserAsync();

        await FailsUnchangedAsync(() => user.CallAsync("one.acl.delrule", 1), Err.Authorization);
    }

    [BackendFact]
    public async Task AclDelrule_UnknownRule_InternalErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.acl.delrule", 99999), Err.Internal, "does not exist");

    [BackendFact]
    public async Task UserDelete_RemovesTheUsersRules()
    {
        var (uid, _) = await NewUserAsync();
        var rule = await Admin.CallIntAsync("one.acl.addrule", UserHex(uid), "200400000000", "1", "400000000");

        await Admin.CallAsync("one.user.delete", uid);

        Assert.DoesNotContain(rule, (await Admin.InfoAsync("one.acl.info")).EntryIds());
    }
}

public sealed class AclTests_Sqlite(SqliteFrontend fixture) : AclTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class AclTests_Postgres(PostgresFrontend fixture) : AclTests(fixture), IClassFixture<PostgresFrontend>;
