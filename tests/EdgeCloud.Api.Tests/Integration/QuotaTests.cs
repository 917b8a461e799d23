using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.user.quota / one.group.quota: a request over a limit is refused with AUTHORIZATION and creates nothing; usage follows the resources.</summary>
public abstract class QuotaTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private async Task<System.Xml.Linq.XElement> UserAsync(int id) => await Admin.InfoAsync("one.user.info", id);

    [BackendFact]
    public async Task UserQuota_OneVm_SecondVmRefusedAndNothingCreated()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 1 ]");
        var first = await NewVmAsync(hold: true, client: user);

        var ex = await FailsUnchangedAsync(() => user.CallAsync("one.vm.allocate", VmTemplate(), true), Err.Authorization, "[one.vm.allocate]");
        Assert.Contains("quota", ex.Message, StringComparison.OrdinalIgnoreCase);

        var u = await UserAsync(uid);
        Assert.Equal((1, 1), (u.Int("VM_QUOTA/VM/VMS"), u.Int("VM_QUOTA/VM/VMS_USED")));
        Assert.Equal([first], (await user.InfoAsync("one.vmpool.info", -3, -1, -1, -1, "")).EntryIds());
        Schemas.AssertValid(u.ToString(), "user.xsd");
    }

    [BackendFact]
    public async Task UserquotaUpdate_DefaultVms_AppliesToUsersWithoutTheirOwnLimit()
    {
        var (uid, user) = await NewUserAsync();
        try
        {
            var answer = await Admin.CallStringAsync("one.userquota.update", "VM = [ VMS = 1 ]");
            Assert.Contains("<VMS>1</VMS>", answer, StringComparison.Ordinal);
            Assert.Contains("<VMS>1</VMS>", await Admin.CallStringAsync("one.userquota.info"), StringComparison.Ordinal);
            // Users and their pool show the new default block (not a stale rendering).
            Assert.Equal(1, (await UserAsync(uid)).Int("DEFAULT_USER_QUOTAS/VM_QUOTA/VM/VMS"));
            Assert.Equal(1, (await Admin.InfoAsync("one.userpool.info")).Int("DEFAULT_USER_QUOTAS/VM_QUOTA/VM/VMS"));

            await NewVmAsync(hold: true, client: user);
            var ex = await FailsUnchangedAsync(() => user.CallAsync("one.vm.allocate", VmTemplate(), true), Err.Authorization, "[one.vm.allocate]");
            Assert.Contains("VMS", ex.Message, StringComparison.Ordinal);

            // The user's own limit wins over the default.
            await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 2 ]");
            await NewVmAsync(hold: true, client: user);
        }
        finally
        {
            await Admin.CallStringAsync("one.userquota.update", "VM = [ VMS = -2 ]");
        }
    }

    [BackendFact]
    public async Task GroupquotaUpdate_ByAUser_AuthorizationAndNothingChanges()
    {
        var (_, user) = await NewUserAsync();

        await FailsUnchangedAsync(() => user.CallStringAsync("one.groupquota.update", "VM = [ VMS = 5 ]"), Err.Authorization);
        await FailsUnchangedAsync(() => Admin.CallStringAsync("one.groupquota.update", "VM = [ VMS = lots ]"), Err.Action, "Invalid quota value");
        var defaults = System.Xml.Linq.XElement.Parse(await Admin.CallStringAsync("one.groupquota.info"));
        Assert.Equal("DEFAULT_GROUP_QUOTAS", defaults.Name.LocalName);
        Assert.DoesNotContain("<VMS>5</VMS>", defaults.ToString(), StringComparison.Ordinal);
    }

    [BackendFact]
    public async Task UserQuota_UsageGoesDownWhenTheVmIsTerminated()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 1, CPU = 1, MEMORY = 1024 ]");
        var host = await SharedHostAsync("quotahost");
        var vm = await RunningOnAsync(host, client: user);
        var running = (await UserAsync(uid)).At("VM_QUOTA/VM");
        Assert.Equal((1, 64, 1, 64), (running.Int("VMS_USED"), running.Int("MEMORY_USED"), running.Int("RUNNING_VMS_USED"), running.Int("RUNNING_MEMORY_USED")));
        Assert.Equal(0.1, running.Double("CPU_USED"), 3);

        await user.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);

        var after = (await UserAsync(uid)).At("VM_QUOTA/VM");
        Assert.Equal((0, 0, 0), (after.Int("VMS_USED"), after.Int("MEMORY_USED"), after.Int("RUNNING_VMS_USED")));
        await NewVmAsync(hold: true, client: user); // room again
    }

    [BackendFact]
    public async Task UserQuota_Memory_BiggerVmRefused()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ MEMORY = 100 ]");

        await FailsUnchangedAsync(() => user.CallAsync("one.vm.allocate", "NAME = \"big\"\nCPU = 0.1\nMEMORY = 128\n", true), Err.Authorization);

        await NewVmAsync(hold: true, client: user); // 64 MiB fits
    }

    [BackendFact]
    public async Task UserQuota_ResizeBeyondTheLimit_RefusedAndNothingChanges()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ MEMORY = 100 ]");
        var vm = await NewVmAsync(hold: true, client: user);

        await FailsUnchangedAsync(() => user.CallAsync("one.vm.resize", vm, "MEMORY = 256", false), Err.Authorization);
    }

    [BackendFact]
    public async Task GroupQuota_OneVmForTheGroup_SecondUsersVmRefused()
    {
        var g = await NewGroupAsync();
        await Admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        var (_, a) = await NewUserAsync(null, g);
        var (_, b) = await NewUserAsync(null, g);
        await Admin.CallAsync("one.group.quota", g, "VM = [ VMS = 1 ]");

        await NewVmAsync(hold: true, client: a);
        await FailsUnchangedAsync(() => b.CallAsync("one.vm.allocate", VmTemplate(), true), Err.Authorization);

        var group = await Admin.InfoAsync("one.group.info", g);
        Assert.Equal((1, 1), (group.Int("VM_QUOTA/VM/VMS"), group.Int("VM_QUOTA/VM/VMS_USED")));
        Schemas.AssertValid(group.ToString(), "group.xsd");
    }

    [BackendFact]
    public async Task UserQuota_Datastore_SecondImageRefused()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "DATASTORE = [ ID = 1, IMAGES = 1, SIZE = 1000 ]");
        await NewImageAsync(client: user, size: 10);

        await FailsUnchangedAsync(() => user.CallAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"/tmp/x\"\nSIZE = 10\n", 1, false), Err.Authorization);

        var ds = (await UserAsync(uid)).At("DATASTORE_QUOTA/DATASTORE");
        Assert.Equal((1, 1, 1), (ds.Int("ID"), ds.Int("IMAGES"), ds.Int("IMAGES_USED")));
    }

    [BackendFact]
    public async Task UserQuota_Network_SecondLeaseRefusedAndNoLeaseTaken()
    {
        var (uid, user) = await NewUserAsync();
        var net = await NewNetAsync(10, "10.77.0.1");
        await Admin.CallAsync("one.vn.chmod", net, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await Admin.CallAsync("one.user.quota", uid, $"NETWORK = [ ID = {net}, LEASES = 1 ]");
        await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true, client: user);

        await FailsUnchangedAsync(() => user.CallAsync("one.vm.allocate", VmTemplate(null, $"NIC = [ NETWORK_ID = {net} ]\n"), true), Err.Authorization);

        Assert.Equal(1, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES"));
        var q = (await UserAsync(uid)).At("NETWORK_QUOTA/NETWORK");
        Assert.Equal((net, 1, 1), (q.Int("ID"), q.Int("LEASES"), q.Int("LEASES_USED")));
    }

    [BackendFact]
    public async Task UserQuota_Unlimited_MinusTwo()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 1 ]");
        await NewVmAsync(hold: true, client: user);

        await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = -2 ]");

        await NewVmAsync(hold: true, client: user);
        Assert.Equal(2, (await UserAsync(uid)).Int("VM_QUOTA/VM/VMS_USED"));
    }

    [BackendFact]
    public async Task UserQuota_SyntaxErrorOrUnknownMetric_ActionErrorAndNothingChanges()
    {
        var (uid, _) = await NewUserAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 1"), Err.Action, "Parse error");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.quota", uid, "VM = [ BANANAS = 1 ]"), Err.Action);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = \"many\" ]"), Err.Action);
    }

    [BackendFact]
    public async Task UserQuota_PlainUserRaisesItsOwnQuota_AuthorizationErrorAndNothingChanges()
    {
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 1 ]");

        await FailsUnchangedAsync(() => user.CallAsync("one.user.quota", uid, "VM = [ VMS = 100 ]"), Err.Authorization);
    }

    [BackendFact]
    public async Task UserQuota_Oneadmin_ActionErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.user.quota", 0, "VM = [ VMS = 1 ]"), Err.Action);
}

public sealed class QuotaTests_Sqlite(SqliteFrontend fixture) : QuotaTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class QuotaTests_Postgres(PostgresFrontend fixture) : QuotaTests(fixture), IClassFixture<PostgresFrontend>;
