using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.secgroup.* and one.vmgroup.* (roles, and VMs joining a role through VMGROUP).</summary>
public abstract class SecGroupsVmGroupsTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    // ------------------------------------------------------------------ security groups

    private async Task<int> NewSecGroupAsync(string rules = "RULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\" ]\nRULE = [ PROTOCOL = \"ALL\", RULE_TYPE = \"outbound\" ]\n") =>
        await Admin.CallIntAsync("one.secgroup.allocate", $"NAME = \"{Unique("sg")}\"\n{rules}");

    [BackendFact]
    public async Task SecgroupAllocate_Rules_InTheTemplateAndValid()
    {
        var id = await NewSecGroupAsync();

        var sg = await Admin.InfoAsync("one.secgroup.info", id, false);

        Assert.True(id >= 100);
        var rules = sg.At("TEMPLATE").Elements("RULE").ToList();
        Assert.Equal([("TCP", "inbound"), ("ALL", "outbound")], rules.Select(r => (r.Str("PROTOCOL"), r.Str("RULE_TYPE"))));
        Schemas.AssertValid(sg.ToString(), "security_group.xsd");
        // Other tests of this class may have added rules with port ranges (the known deviation) to the shared pool.
        var pool = (await Admin.InfoAsync("one.secgrouppool.info", -2, -1, -1)).ToString();
        Schemas.AssertValid(pool, "security_group_pool.xsd", pool.Contains("<RANGE>", StringComparison.Ordinal) ? [KnownOnedDeviations.SecurityGroupRuleAttributes] : []);
    }

    [BackendFact]
    public async Task SecgroupAllocate_PortRanges_OnlyTheKnownRuleDeviation()
    {
        var id = await NewSecGroupAsync("RULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"22,80:90\" ]\n");

        var sg = await Admin.InfoAsync("one.secgroup.info", id);

        Assert.Equal("22,80:90", sg.Str("TEMPLATE/RULE/RANGE"));
        Schemas.AssertValid(sg.ToString(), "security_group.xsd", KnownOnedDeviations.SecurityGroupRuleAttributes);
    }

    [BackendTheory]
    [InlineData("RULE = [ PROTOCOL = \"FOO\", RULE_TYPE = \"inbound\" ]")]
    [InlineData("RULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"sideways\" ]")]
    [InlineData("RULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"99999\" ]")]
    public async Task SecgroupAllocate_BadRule_ActionErrorAndNothingChanges(string rule) =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.secgroup.allocate", $"NAME = \"{Unique("sg")}\"\n{rule}\n"), Err.Action, "[one.secgroup.allocate]");

    [BackendFact]
    public async Task SecgroupCloneUpdateRenameChmodChown_ChangeTheGroup()
    {
        var id = await NewSecGroupAsync();
        var (uid, _) = await NewUserAsync();
        var cloneName = Unique("clone");

        var clone = await Admin.CallIntAsync("one.secgroup.clone", id, cloneName);
        await Admin.CallAsync("one.secgroup.update", clone, "DESCRIPTION = \"web\"", 1);
        var name = Unique("renamed");
        await Admin.CallAsync("one.secgroup.rename", clone, name);
        await Admin.CallAsync("one.secgroup.chmod", clone, 1, 1, 0, 1, 0, 0, 0, 0, 0);
        await Admin.CallAsync("one.secgroup.chown", clone, uid, 1);
        await Admin.CallAsync("one.secgroup.commit", clone, false);

        var sg = await Admin.InfoAsync("one.secgroup.info", clone);
        Assert.Equal((name, "web", "640", uid), (sg.Str("NAME"), sg.Str("TEMPLATE/DESCRIPTION"), sg.Octal(), sg.Int("UID")));
        Assert.Equal(2, sg.At("TEMPLATE").Elements("RULE").Count());
    }

    [BackendFact]
    public async Task SecgroupDelete_Default_ActionErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.secgroup.delete", 0), Err.Action);

    [BackendFact]
    public async Task SecgroupDelete_UsedByANetwork_RefusedUntilTheNetworkDropsIt()
    {
        var sg = await NewSecGroupAsync();
        var net = await Admin.CallIntAsync("one.vn.allocate", $"NAME = \"{Unique("n")}\"\nVN_MAD = \"dummy\"\nSECURITY_GROUPS = \"0,{sg}\"\n", -1);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.secgroup.delete", sg), Err.Action);

        await Admin.CallAsync("one.vn.update", net, "SECURITY_GROUPS = \"0\"", 1);
        await Admin.CallAsync("one.secgroup.delete", sg);
        await FailsAsync(() => Admin.CallAsync("one.secgroup.info", sg), Err.NoExists, $"[one.secgroup.info] Error getting security group [{sg}].");
    }

    // ------------------------------------------------------------------ VM groups

    private async Task<int> NewVmGroupAsync(string roles = "ROLE = [ NAME = \"web\", POLICY = \"AFFINED\" ]\nROLE = [ NAME = \"db\" ]\n") =>
        await Admin.CallIntAsync("one.vmgroup.allocate", $"NAME = \"{Unique("vmg")}\"\n{roles}");

    [BackendFact]
    public async Task VmgroupAllocate_Roles_NumberedWithTheirPolicies()
    {
        var id = await NewVmGroupAsync();

        var g = await Admin.InfoAsync("one.vmgroup.info", id, false);

        var roles = g.At("ROLES").Elements("ROLE").ToList();
        Assert.Equal([(0, "web", "AFFINED"), (1, "db", "NONE")], roles.Select(r => (r.Int("ID"), r.Str("NAME"), r.Str("POLICY"))));
        Schemas.AssertValid(g.ToString(), "vm_group.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.vmgrouppool.info", -2, -1, -1)).ToString(), "vm_group_pool.xsd");
    }

    [BackendFact]
    public async Task VmgroupAllocate_RuleOnUndefinedRole_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmgroup.allocate", $"NAME = \"{Unique("vmg")}\"\nROLE = [ NAME = \"a\" ]\nAFFINED = \"a, ghost\"\n"), Err.Allocate);

    [BackendFact]
    public async Task VmgroupRoleaddRoleupdateRoledelete_RolesChange()
    {
        var id = await NewVmGroupAsync();

        await Admin.CallAsync("one.vmgroup.roleadd", id, "ROLE = [ NAME = \"cache\", POLICY = \"ANTI_AFFINED\" ]");
        var added = (await Admin.InfoAsync("one.vmgroup.info", id)).At("ROLES").Elements("ROLE").Single(r => r.Str("NAME") == "cache");
        Assert.Equal("ANTI_AFFINED", added.Str("POLICY"));

        await Admin.CallAsync("one.vmgroup.roleupdate", id, added.Int("ID"), "ROLE = [ POLICY = \"AFFINED\" ]");
        Assert.Equal("AFFINED", (await Admin.InfoAsync("one.vmgroup.info", id)).At("ROLES").Elements("ROLE").Single(r => r.Str("NAME") == "cache").Str("POLICY"));

        await Admin.CallAsync("one.vmgroup.roledelete", id, added.Int("ID"));
        Assert.DoesNotContain("cache", (await Admin.InfoAsync("one.vmgroup.info", id)).At("ROLES").Elements("ROLE").Select(r => r.Str("NAME")));
    }

    [BackendFact]
    public async Task VmgroupRoleadd_DuplicateName_ActionErrorAndNothingChanges()
    {
        var id = await NewVmGroupAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmgroup.roleadd", id, "ROLE = [ NAME = \"web\" ]"), Err.Action);
    }

    [BackendFact]
    public async Task VmJoiningARole_ListedInTheRoleUntilDone_AndBlocksDeletes()
    {
        var id = await NewVmGroupAsync();

        var vm = await NewVmAsync($"VMGROUP = [ VMGROUP_ID = {id}, ROLE = \"web\" ]\n", hold: true);

        var web = (await Admin.InfoAsync("one.vmgroup.info", id)).At("ROLES").Elements("ROLE").Single(r => r.Str("NAME") == "web");
        Assert.Equal(vm.ToString(System.Globalization.CultureInfo.InvariantCulture), web.Str("VMS"));
        Assert.Equal(id, (await Admin.InfoAsync("one.vm.info", vm)).Int("TEMPLATE/VMGROUP/VMGROUP_ID"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmgroup.roledelete", id, web.Int("ID")), Err.Action);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmgroup.delete", id), Err.Action);

        await Admin.CallAsync("one.vm.action", "terminate", vm);

        var after = (await Admin.InfoAsync("one.vmgroup.info", id)).At("ROLES").Elements("ROLE").Single(r => r.Str("NAME") == "web");
        Assert.True(!after.Has("VMS") || after.Str("VMS").Length == 0);
        await Admin.CallAsync("one.vmgroup.delete", id);
        await FailsAsync(() => Admin.CallAsync("one.vmgroup.info", id), Err.NoExists, $"[one.vmgroup.info] Error getting VM group [{id}].");
    }

    [BackendFact]
    public async Task VmJoining_UnknownRole_AllocateErrorAndNothingChanges()
    {
        var id = await NewVmGroupAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", VmTemplate(null, $"VMGROUP = [ VMGROUP_ID = {id}, ROLE = \"ghost\" ]\n"), true), Err.Allocate);
    }

    [BackendFact]
    public async Task VmgroupUpdateRenameChmodChownLock_ChangeTheGroup()
    {
        var id = await NewVmGroupAsync();
        var (uid, _) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.vmgroup.update", id, "DESCRIPTION = \"d\"", 1);
        await Admin.CallAsync("one.vmgroup.rename", id, name);
        await Admin.CallAsync("one.vmgroup.chmod", id, 1, 1, 0, 1, 0, 0, 0, 0, 0);
        await Admin.CallAsync("one.vmgroup.chown", id, uid, 1);
        await Admin.CallAsync("one.vmgroup.lock", id, 1, false);

        var g = await Admin.InfoAsync("one.vmgroup.info", id);
        Assert.Equal((name, "d", "640", uid, 1), (g.Str("NAME"), g.Str("TEMPLATE/DESCRIPTION"), g.Octal(), g.Int("UID"), g.Int("LOCK/LOCKED")));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmgroup.delete", id), Err.Locked);
        await Admin.CallAsync("one.vmgroup.unlock", id);
    }
}

public sealed class SecGroupsVmGroupsTests_Sqlite(SqliteFrontend fixture) : SecGroupsVmGroupsTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class SecGroupsVmGroupsTests_Postgres(PostgresFrontend fixture) : SecGroupsVmGroupsTests(fixture), IClassFixture<PostgresFrontend>;
