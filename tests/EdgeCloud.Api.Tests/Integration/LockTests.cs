using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Locks: level 1 (USE) blocks use, manage and admin operations, 2 (MANAGE) manage and admin, 3 (ADMIN)
/// admin only, 4 (all) is stored as 1. A refused operation is LOCKED (0x8000) and changes nothing.
/// </summary>
public abstract class LockTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private async Task<int> TemplateAsync() => await Admin.CallIntAsync("one.template.allocate", VmTemplate());

    private static string LockedMessage(string word, int id) => $"The resource {word} is locked. [{id}].";

    [BackendFact]
    public async Task Lock_Use_BlocksUseManageAndAdmin()
    {
        var id = await TemplateAsync();

        await Admin.CallAsync("one.template.lock", id, 1, false);

        var t = await Admin.InfoAsync("one.template.info", id);
        Assert.Equal((1, 0), (t.Int("LOCK/LOCKED"), t.Int("LOCK/OWNER")));
        Assert.True(t.Long("LOCK/TIME") > 0);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.instantiate", id, Unique("v"), true, "", false), Err.Locked, LockedMessage("template", id));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", id, "X = 1", 1), Err.Locked, "[one.template.update] " + LockedMessage("template", id));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.rename", id, Unique("r")), Err.Locked);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.chown", id, 0, 1), Err.Locked);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.delete", id, false), Err.Locked);
        Assert.Equal(id, (await Admin.InfoAsync("one.template.info", id)).Int("ID")); // reading is not blocked
    }

    [BackendFact]
    public async Task Lock_Manage_AllowsUseBlocksManage()
    {
        var id = await TemplateAsync();

        await Admin.CallAsync("one.template.lock", id, 2, false);

        await Admin.CallIntAsync("one.template.instantiate", id, Unique("v"), true, "", false);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", id, "X = 1", 1), Err.Locked);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.chown", id, 0, 1), Err.Locked);
    }

    [BackendFact]
    public async Task Lock_Admin_AllowsManageBlocksAdmin()
    {
        var id = await TemplateAsync();

        await Admin.CallAsync("one.template.lock", id, 3, false);

        await Admin.CallAsync("one.template.update", id, "X = 1", 1);
        await Admin.CallAsync("one.template.chown", id, -1, 1); // chown is a MANAGE operation
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.chmod", id, -1, -1, 1, -1, -1, -1, -1, -1, -1), Err.Locked); // an ADMIN bit
    }

    [BackendFact]
    public async Task Lock_All_StoredAsUse()
    {
        var id = await TemplateAsync();

        await Admin.CallAsync("one.template.lock", id, 4, false);

        Assert.Equal(1, (await Admin.InfoAsync("one.template.info", id)).Int("LOCK/LOCKED"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.instantiate", id, Unique("v"), true, "", false), Err.Locked);
    }

    [BackendFact]
    public async Task Unlock_EverythingAllowedAgain()
    {
        var id = await TemplateAsync();
        await Admin.CallAsync("one.template.lock", id, 1, false);

        await Admin.CallAsync("one.template.unlock", id);

        Assert.False((await Admin.InfoAsync("one.template.info", id)).Has("LOCK"));
        await Admin.CallAsync("one.template.update", id, "X = 1", 1);
        await Admin.CallAsync("one.template.delete", id, false);
    }

    [BackendFact]
    public async Task Lock_AlreadyLockedWithTest_ActionErrorAndNothingChanges()
    {
        var id = await TemplateAsync();
        await Admin.CallAsync("one.template.lock", id, 2, false);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.lock", id, 1, true), Err.Action);
    }

    [BackendTheory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task Lock_WrongLevel_ActionErrorAndNothingChanges(int level)
    {
        var id = await TemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.lock", id, level, false), Err.Action, "lock level");
    }

    [BackendFact]
    public async Task Lock_UnknownObject_NoExistsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.lock", 99999, 1, false), Err.NoExists, "Error getting template [99999].");

    [BackendFact]
    public async Task Lock_WithoutManageRight_AuthorizationErrorAndNothingChanges()
    {
        var id = await TemplateAsync();
        var (_, user) = await NewUserAsync();

        await FailsUnchangedAsync(() => user.CallAsync("one.template.lock", id, 1, false), Err.Authorization);
    }

    [BackendFact]
    public async Task Unlock_LockOfAnotherUser_ActionErrorAndNothingChanges()
    {
        var g = await NewGroupAsync();
        await Admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        var (_, owner) = await NewUserAsync(null, g);
        var (_, mate) = await NewUserAsync(null, g);
        var id = await owner.CallIntAsync("one.template.allocate", VmTemplate());
        await owner.CallAsync("one.template.chmod", id, -1, -1, -1, 1, 1, -1, -1, -1, -1);
        await owner.CallAsync("one.template.lock", id, 1, false);

        await FailsUnchangedAsync(() => mate.CallAsync("one.template.unlock", id), Err.Action, "Lock is owned by another user");

        await Admin.CallAsync("one.template.unlock", id); // oneadmin may unlock anything
        Assert.False((await Admin.InfoAsync("one.template.info", id)).Has("LOCK"));
    }

    [BackendFact]
    public async Task Lock_EveryLockableKind_RefusesDeleteWhileLocked()
    {
        var template = await TemplateAsync();
        var image = await NewImageAsync();
        var net = await NewNetAsync(2);
        var vmg = await Admin.CallIntAsync("one.vmgroup.allocate", $"NAME = \"{Unique("g")}\"\nROLE = [ NAME = \"r\" ]\n");
        var vm = await NewVmAsync(hold: true);

        foreach (var (kind, word, id, delete) in new (string, string, int, object?[])[]
                 {
                     ("template", "template", template, [template, false]), ("image", "image", image, [image, false]),
                     ("vn", "virtual network", net, [net]), ("vmgroup", "VM group", vmg, [vmg]),
                 })
        {
            await Admin.CallAsync($"one.{kind}.lock", id, 1, false);
            await FailsUnchangedAsync(() => Admin.CallAsync($"one.{kind}.delete", delete), Err.Locked, LockedMessage(word, id));
            await Admin.CallAsync($"one.{kind}.unlock", id);
            await Admin.CallAsync($"one.{kind}.delete", delete);
        }

        await Admin.CallAsync("one.vm.lock", vm, 1, false);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", "terminate", vm), Err.Locked, LockedMessage("virtual machine", vm));
        await Admin.CallAsync("one.vm.unlock", vm);
        await Admin.CallAsync("one.vm.action", "terminate", vm);
    }
}

public sealed class LockTests_Sqlite(SqliteFrontend fixture) : LockTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class LockTests_Postgres(PostgresFrontend fixture) : LockTests(fixture), IClassFixture<PostgresFrontend>;
