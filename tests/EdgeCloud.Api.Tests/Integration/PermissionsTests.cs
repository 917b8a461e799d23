using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Owner / group / other × use / manage / admin bits across two users of one group and a third of
/// another group; chmod, chown, the UMASK of the user template; forbidden actions change nothing.
/// </summary>
public abstract class PermissionsTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    /// <summary>A and B share group G (with the CREATE rule `onegroup create` adds); C is in group "users".</summary>
    private async Task<(int G, (int Id, OneClient Client) A, (int Id, OneClient Client) B, (int Id, OneClient Client) C)> PeopleAsync()
    {
        var g = await NewGroupAsync();
        await Admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        return (g, await NewUserAsync(null, g), await NewUserAsync(null, g), await NewUserAsync());
    }

    private static int[] Chmod(string octal)
    {
        var bits = new int[9];
        for (var i = 0; i < 3; i++)
        {
            var d = octal[i] - '0';
            bits[i * 3] = (d >> 2) & 1;
            bits[i * 3 + 1] = (d >> 1) & 1;
            bits[i * 3 + 2] = d & 1;
        }
        return bits;
    }

    private static object?[] ChmodArgs(int id, string octal) => new object?[] { id }.Concat(Chmod(octal).Cast<object?>()).ToArray();

    [BackendFact]
    public async Task Allocate_DefaultUmask_OwnerUseAndManageOnly()
    {
        var (_, a, b, c) = await PeopleAsync();

        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        var t = await Admin.InfoAsync("one.template.info", tid);
        Assert.Equal("600", t.Octal());
        Assert.Equal(a.Id, t.Int("UID"));
        await a.Client.CallAsync("one.template.info", tid);
        await FailsAsync(() => b.Client.CallAsync("one.template.info", tid), Err.Authorization,
            $"[one.template.info] User [{b.Id}] : Not authorized to perform USE TEMPLATE [{tid}].");
        await FailsAsync(() => c.Client.CallAsync("one.template.info", tid), Err.Authorization);
    }

    [BackendFact]
    public async Task Chmod_GroupUse_GroupMemberMayUseButNotManage()
    {
        var (_, a, b, c) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await a.Client.CallAsync("one.template.chmod", ChmodArgs(tid, "640"));

        Assert.Equal("640", (await Admin.InfoAsync("one.template.info", tid)).Octal());
        Assert.Equal(tid, (await b.Client.InfoAsync("one.template.info", tid)).Int("ID"));
        Assert.Contains(tid, (await b.Client.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds());
        await FailsAsync(() => c.Client.CallAsync("one.template.info", tid), Err.Authorization);
        Assert.DoesNotContain(tid, (await c.Client.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds());
        await FailsUnchangedAsync(() => b.Client.CallAsync("one.template.update", tid, "X = 1", 1), Err.Authorization,
            $"Not authorized to perform MANAGE TEMPLATE [{tid}]");
        await FailsUnchangedAsync(() => b.Client.CallAsync("one.template.delete", tid, false), Err.Authorization);
        await FailsUnchangedAsync(() => b.Client.CallAsync("one.template.chmod", ChmodArgs(tid, "660")), Err.Authorization);
        await FailsUnchangedAsync(() => b.Client.CallAsync("one.template.rename", tid, Unique("stolen")), Err.Authorization);
    }

    [BackendFact]
    public async Task Chmod_GroupManage_GroupMemberMayUpdate()
    {
        var (_, a, b, _) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await a.Client.CallAsync("one.template.chmod", ChmodArgs(tid, "660"));
        await b.Client.CallAsync("one.template.update", tid, "EDITED_BY = \"b\"", 1);

        Assert.Equal("b", (await Admin.InfoAsync("one.template.info", tid)).Str("TEMPLATE/EDITED_BY"));
    }

    [BackendFact]
    public async Task Chmod_OtherUseByOwner_EveryoneMayUse()
    {
        // oned.conf's default ENABLE_OTHER_PERMISSIONS = YES (one.system.config says so): the owner sets
        // OTHER_U/OTHER_M with MANAGE; only the ADMIN bits need ADMIN.
        var (_, a, _, c) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());
        Assert.Equal("YES", (await a.Client.InfoAsync("one.system.config")).Str("ENABLE_OTHER_PERMISSIONS"));

        await a.Client.CallAsync("one.template.chmod", ChmodArgs(tid, "604"));

        Assert.Equal("604", (await Admin.InfoAsync("one.template.info", tid)).Octal());
        Assert.Equal(tid, (await c.Client.InfoAsync("one.template.info", tid)).Int("ID"));
    }

    [BackendFact]
    public async Task Chmod_AdminBitsWithoutAdminRight_AuthorizationErrorAndNothingChanges()
    {
        var (_, a, _, _) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await FailsUnchangedAsync(() => a.Client.CallAsync("one.template.chmod", ChmodArgs(tid, "700")), Err.Authorization,
            $"Not authorized to perform ADMIN TEMPLATE [{tid}]");
    }

    [BackendFact]
    public async Task Chmod_ByOneadmin_AnyBits()
    {
        var (_, a, _, _) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await Admin.CallAsync("one.template.chmod", ChmodArgs(tid, "777"));
        Assert.Equal("777", (await Admin.InfoAsync("one.template.info", tid)).Octal());

        await Admin.CallAsync("one.template.chmod", new object?[] { tid, -1, -1, 0, -1, -1, 0, 0, -1, 0 });
        Assert.Equal("662", (await Admin.InfoAsync("one.template.info", tid)).Octal());
    }

    [BackendFact]
    public async Task Chmod_OutOfRangeValue_ApiErrorAndNothingChanges()
    {
        var tid = await Admin.CallIntAsync("one.template.allocate", VmTemplate());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.chmod", new object?[] { tid, 2, 1, 0, 0, 0, 0, 0, 0, 0 }), Err.Api);
    }

    [BackendFact]
    public async Task Chown_PlainUserGivesItsTemplateAway_AuthorizationErrorAndNothingChanges()
    {
        var (_, a, b, _) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await FailsUnchangedAsync(() => a.Client.CallAsync("one.template.chown", tid, b.Id, -1), Err.Authorization);
    }

    [BackendFact]
    public async Task Chown_ByOneadmin_NewOwnerManagesAndOldOwnerLosesAccess()
    {
        var (g, a, b, _) = await PeopleAsync();
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await Admin.CallAsync("one.template.chown", tid, b.Id, -1);

        var t = await Admin.InfoAsync("one.template.info", tid);
        Assert.Equal((b.Id, g), (t.Int("UID"), t.Int("GID")));
        Assert.Equal((await Admin.InfoAsync("one.user.info", b.Id)).Str("NAME"), t.Str("UNAME"));
        await b.Client.CallAsync("one.template.update", tid, "OWNER = \"b\"", 1);
        await FailsAsync(() => a.Client.CallAsync("one.template.info", tid), Err.Authorization);
    }

    [BackendFact]
    public async Task Chown_GroupOnly_ToTheCallersOtherGroup()
    {
        var (g, a, _, _) = await PeopleAsync();
        var g2 = await NewGroupAsync();
        await Admin.CallAsync("one.user.addgroup", a.Id, g2);
        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());

        await a.Client.CallAsync("one.template.chown", tid, -1, g2);

        var t = await Admin.InfoAsync("one.template.info", tid);
        Assert.Equal((a.Id, g2), (t.Int("UID"), t.Int("GID")));
        Assert.NotEqual(g, t.Int("GID"));
    }

    [BackendFact]
    public async Task Chown_UnknownUser_NoExistsAndNothingChanges()
    {
        var tid = await Admin.CallIntAsync("one.template.allocate", VmTemplate());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.chown", tid, 99999, -1), Err.NoExists, "Error getting user [99999].");
    }

    [BackendFact]
    public async Task Umask_InUserTemplate_SetsNewObjectsPermissions()
    {
        var (_, a, b, _) = await PeopleAsync();
        await a.Client.CallAsync("one.user.update", a.Id, "UMASK = \"137\"", 1);

        var tid = await a.Client.CallIntAsync("one.template.allocate", VmTemplate());
        var vm = await a.Client.CallIntAsync("one.template.instantiate", tid, Unique("umaskvm"), true, "", false);

        Assert.Equal("640", (await Admin.InfoAsync("one.template.info", tid)).Octal());
        Assert.Equal("640", (await Admin.InfoAsync("one.vm.info", vm)).Octal());
        Assert.Equal(vm, (await b.Client.InfoAsync("one.vm.info", vm)).Int("ID"));
    }

    [BackendFact]
    public async Task VmAction_OnSomeoneElsesVm_AuthorizationErrorAndNothingChanges()
    {
        var (_, a, _, c) = await PeopleAsync();
        var vm = await NewVmAsync(hold: true, client: a.Client);

        await FailsUnchangedAsync(() => c.Client.CallAsync("one.vm.action", "release", vm), Err.Authorization,
            $"[one.vm.action] User [{c.Id}] : Not authorized to perform MANAGE VM [{vm}].");
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.vm.action", "terminate-hard", vm), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.vm.update", vm, "X = 1", 1), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.vm.rename", vm, "mine"), Err.Authorization);
    }

    [BackendFact]
    public async Task ForbiddenInfrastructure_PlainUser_AuthorizationErrorsAndNothingChanges()
    {
        var (_, _, _, c) = await PeopleAsync();

        await FailsUnchangedAsync(() => c.Client.CallAsync("one.host.allocate", Unique("h"), "dummy", "dummy", -1), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.cluster.allocate", Unique("c")), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.datastore.allocate", "NAME = x\nDS_MAD = dummy\nTM_MAD = dummy", -1), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.user.allocate", Unique("u"), "pw", "core", Array.Empty<int>()), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.datastore.delete", 1), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.cluster.delete", 0), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.user.delete", 0), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.user.quota", c.Id, "VM = [ VMS = 100 ]"), Err.Authorization);
        await FailsUnchangedAsync(() => c.Client.CallAsync("one.zone.rename", 0, "mine"), Err.Authorization);
    }
}

public sealed class PermissionsTests_Sqlite(SqliteFrontend fixture) : PermissionsTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class PermissionsTests_Postgres(PostgresFrontend fixture) : PermissionsTests(fixture), IClassFixture<PostgresFrontend>;
