using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Pool listings: the filter flag (-4 … -1, a user id), id ranges, pagination (end &lt; -1), the VM
/// state filter and the search argument. Each test builds its own population of users and VMs and
/// only looks at ids it created.
/// </summary>
public abstract class PoolFilterTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    /// <summary>
    /// Users A and B in group G (with the create rule of `onegroup create`), C in "users". A has two VMs
    /// (one group-readable), B one group-readable VM and one private, C one VM.
    /// </summary>
    private async Task<World> WorldAsync()
    {
        var g = await NewGroupAsync();
        await Admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        var a = await NewUserAsync(null, g);
        var b = await NewUserAsync(null, g);
        var c = await NewUserAsync();
        var a1 = await NewVmAsync(hold: true, client: a.Client);
        var a2 = await NewVmAsync(hold: true, client: a.Client);
        var b1 = await NewVmAsync(hold: true, client: b.Client);
        var b2 = await NewVmAsync(hold: true, client: b.Client);
        var c1 = await NewVmAsync(hold: true, client: c.Client);
        await a.Client.CallAsync("one.vm.chmod", a2, -1, -1, -1, 1, -1, -1, -1, -1, -1);
        await b.Client.CallAsync("one.vm.chmod", b1, -1, -1, -1, 1, -1, -1, -1, -1, -1);
        return new World(g, a, b, c, a1, a2, b1, b2, c1);
    }

    private sealed record World(int G, (int Id, OneClient Client) A, (int Id, OneClient Client) B, (int Id, OneClient Client) C,
        int A1, int A2, int B1, int B2, int C1)
    {
        public int[] All => [A1, A2, B1, B2, C1];
    }

    private static async Task<List<int>> VmIdsAsync(OneClient client, int filter, int start = -1, int end = -1, int state = -1, string search = "") =>
        (await client.InfoAsync("one.vmpool.info", filter, start, end, state, search)).EntryIds();

    private static List<int> Mine(List<int> listed, World w) => listed.Where(w.All.Contains).ToList();

    [BackendFact]
    public async Task VmpoolInfo_FilterFlags_AsOpenNebulaDefinesThem()
    {
        var w = await WorldAsync();
        var a = w.A.Client;

        Assert.Equal([w.A1, w.A2, w.B1], Mine(await VmIdsAsync(a, -2), w)); // all visible
        Assert.Equal([w.A1, w.A2], Mine(await VmIdsAsync(a, -3), w));       // mine
        Assert.Equal([w.A1, w.A2, w.B1], Mine(await VmIdsAsync(a, -1), w)); // mine and my groups'
        Assert.Equal([w.A1, w.A2, w.B1], Mine(await VmIdsAsync(a, -4), w)); // my primary group
        Assert.Equal([w.B1], Mine(await VmIdsAsync(a, w.B.Id), w));        // that user's, as far as visible
        Assert.Equal([w.C1], Mine(await VmIdsAsync(w.C.Client, -2), w));
        Assert.Equal(w.All, Mine(await VmIdsAsync(Admin, -2), w));
        Assert.Equal([w.B1, w.B2], Mine(await VmIdsAsync(Admin, w.B.Id), w));
    }

    [BackendFact]
    public async Task VmpoolInfo_FilterFlagBelowMinusFour_ApiErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vmpool.info", -5, -1, -1, -1, ""), Err.Api);

    [BackendFact]
    public async Task VmpoolInfo_IdRange_InclusiveAndOpenEnded()
    {
        var w = await WorldAsync();

        Assert.Equal([w.A2, w.B1, w.B2], await VmIdsAsync(Admin, -2, w.A2, w.B2));
        Assert.Equal([w.B2], await VmIdsAsync(Admin, -2, w.B2, w.B2));
        Assert.Equal(w.All[3..], (await VmIdsAsync(Admin, -2, w.B2, -1)).Where(w.All.Contains));
        Assert.Equal([w.A1, w.A2], Mine(await VmIdsAsync(w.A.Client, -3, w.A1, w.C1), w));
    }

    [BackendFact]
    public async Task VmpoolInfo_EndBelowMinusOne_PagesFromAnOffset()
    {
        var w = await WorldAsync();
        var all = await VmIdsAsync(w.A.Client, -3);

        var firstTwo = await VmIdsAsync(w.A.Client, -3, 0, -2);
        var second = await VmIdsAsync(w.A.Client, -3, 1, -2);

        Assert.Equal([w.A1, w.A2], all);
        Assert.Equal([w.A1, w.A2], firstTwo);
        Assert.Equal([w.A2], second);
        var adminPage = await VmIdsAsync(Admin, -2, 0, -3);
        Assert.Equal(3, adminPage.Count);
    }

    [BackendFact]
    public async Task VmpoolInfo_StateFilter_DoneOnlyWithMinusTwo()
    {
        var w = await WorldAsync();
        await Admin.CallAsync("one.vm.action", "terminate", w.C1);

        Assert.DoesNotContain(w.C1, await VmIdsAsync(Admin, -2, state: -1));
        Assert.Contains(w.C1, await VmIdsAsync(Admin, -2, state: -2));
        Assert.Equal([w.C1], Mine(await VmIdsAsync(Admin, -2, state: 6), w));
        Assert.Equal([w.A1, w.A2, w.B1, w.B2], Mine(await VmIdsAsync(Admin, -2, state: 2), w));
        Assert.Empty(Mine(await VmIdsAsync(Admin, -2, state: 3), w));
    }

    [BackendFact]
    public async Task VmpoolInfo_Search_ByNameAsTheCliSendsIt()
    {
        var name = Unique("searched");
        var vm = await NewVmAsync(hold: true, name: name);
        await NewVmAsync(hold: true);

        Assert.Equal([vm], await VmIdsAsync(Admin, -2, search: $"VM.NAME={name}"));
        Assert.Empty(await VmIdsAsync(Admin, -2, search: "VM.NAME=nothing-is-called-this"));
    }

    [BackendFact]
    public async Task VmpoolInfo_PyoneFourArguments_SearchIsOptional()
    {
        var vm = await NewVmAsync(hold: true);
        using var pyone = new OneClient(Fe.Endpoint, Fe.AdminSession, options: new OneClientOptions { IntegerTag = OneIntegerTag.Int });

        var ids = (await pyone.InfoAsync("one.vmpool.info", -2, -1, -1, -1)).EntryIds();

        Assert.Contains(vm, ids);
    }

    [BackendFact]
    public async Task VmpoolInfo_ShortBodies_AtMostOneHistoryAndTheShortTemplate()
    {
        var host = await SharedHostAsync("poolhost");
        var other = await SharedHostAsync("poolhost2");
        var vm = await RunningOnAsync(host);
        await Admin.CallAsync("one.vm.migrate", vm, other, true, false, -1, 0);
        await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", vm), v => v.At("HISTORY_RECORDS").Elements("HISTORY").Count() == 2 && v.Int("LCM_STATE") == Lcm.Running, "the migration");

        var entry = (await Admin.InfoAsync("one.vmpool.info", -2, vm, vm, -1, "")).Entry(vm);
        var full = (await Admin.InfoAsync("one.vmpool.infoextended", -2, vm, vm, -1, "")).Entry(vm);

        var history = Assert.Single(entry.At("HISTORY_RECORDS").Elements("HISTORY"));
        Assert.Equal((1, other), (history.Int("SEQ"), history.Int("HID")));
        Assert.Equal(["CPU", "MEMORY", "VCPU"], entry.At("TEMPLATE").Elements().Select(e => e.Name.LocalName).Where(n => n is not ("DISK" or "NIC" or "GRAPHICS")).Order());
        Assert.False(entry.Has("PERMISSIONS"));
        Assert.True(full.Has("PERMISSIONS"));
        Assert.Equal(2, full.At("HISTORY_RECORDS").Elements("HISTORY").Count());
    }

    [BackendFact]
    public async Task OtherPools_FilterFlagsAndRanges()
    {
        var w = await WorldAsync();
        var t1 = await w.A.Client.CallIntAsync("one.template.allocate", VmTemplate());
        var t2 = await w.B.Client.CallIntAsync("one.template.allocate", VmTemplate());
        await w.B.Client.CallAsync("one.template.chmod", t2, -1, -1, -1, 1, -1, -1, -1, -1, -1);

        var mine = (await w.A.Client.InfoAsync("one.templatepool.info", -3, -1, -1)).EntryIds();
        var visible = (await w.A.Client.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds();
        var ranged = (await Admin.InfoAsync("one.templatepool.info", -2, t2, t2)).EntryIds();

        Assert.Equal([t1], mine);
        Assert.Equal([t1, t2], visible.Where(id => id == t1 || id == t2));
        Assert.Equal([t2], ranged);
        var forC = (await w.C.Client.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds();
        Assert.DoesNotContain(t1, forC);
        Assert.DoesNotContain(t2, forC);
        // A new group gets the default VDC's rules (NET+DATASTORE USE), so its users list the datastores.
        Assert.Contains(1, (await w.A.Client.InfoAsync("one.datastorepool.info")).EntryIds());
    }
}

public sealed class PoolFilterTests_Sqlite(SqliteFrontend fixture) : PoolFilterTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class PoolFilterTests_Postgres(PostgresFrontend fixture) : PoolFilterTests(fixture), IClassFixture<PostgresFrontend>;
