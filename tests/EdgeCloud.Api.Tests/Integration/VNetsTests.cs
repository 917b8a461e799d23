using System.Collections.Concurrent;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.vn.*: INIT → READY, address ranges, hold/release, reserve, leases that run out, concurrent leasing.</summary>
public abstract class VNetsTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    [BackendFact]
    public async Task VnAllocate_DummyDriver_ReadyWithItsAddressRange()
    {
        var name = Unique("net");
        var id = await Admin.CallIntAsync("one.vn.allocate",
            $"NAME = \"{name}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.1\", SIZE = \"50\" ]\n", -1);

        Assert.Contains((await Admin.InfoAsync("one.vn.info", id)).Int("STATE"), new[] { 0, 1 });
        var net = await Wait.ForAsync(() => Admin.InfoAsync("one.vn.info", id, false), n => n.Int("STATE") == 1, "the network READY");
        Assert.Equal((name, "dummy", "br0"), (net.Str("NAME"), net.Str("VN_MAD"), net.Str("BRIDGE")));
        Assert.True(net.Has("VLAN_ID"));
        Assert.True(net.Has("OUTER_VLAN_ID"));
        Assert.Equal([0], net.Ids("CLUSTERS"));
        var ar = net.At("AR_POOL/AR");
        Assert.Equal(("IP4", "10.0.0.1", 50), (ar.Str("TYPE"), ar.Str("IP"), ar.Int("SIZE")));
        Assert.Equal(0, net.Int("USED_LEASES"));
        Assert.Contains(id, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("VNETS"));
        Schemas.AssertValid(net.ToString(), "vnet.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.vnpool.info", -2, -1, -1)).ToString(), "vnet_pool.xsd");
    }

    [BackendFact]
    public async Task VnAllocate_UnknownDriver_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.allocate", $"NAME = \"{Unique("n")}\"\nVN_MAD = \"nosuch\"\n", -1), Err.Allocate,
            "[one.vn.allocate] Error allocating a new virtual network.");

    [BackendFact]
    public async Task VnAllocate_BadAddressRange_FailsAndNothingChanges()
    {
        var ex = await Assert.ThrowsAsync<OneException>(() => Admin.CallAsync("one.vn.allocate",
            $"NAME = \"{Unique("n")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", IP = \"not-an-ip\", SIZE = \"5\" ]\n", -1));
        Assert.True(ex.IsServerError, ex.Message);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.allocate",
            $"NAME = \"{Unique("n")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", IP = \"not-an-ip\", SIZE = \"5\" ]\n", -1), ex.Code);
    }

    [BackendFact]
    public async Task VnAddArRmArUpdateAr_RangesComeAndGo()
    {
        var net = await NewNetAsync(5);

        await Admin.CallAsync("one.vn.add_ar", net, "AR = [ TYPE=\"IP4\", SIZE = 5, IP = 10.0.1.1]");

        var ars = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL").Elements("AR").ToList();
        Assert.Equal(2, ars.Count);
        Assert.Equal(("10.0.1.1", 5), (ars[1].Str("IP"), ars[1].Int("SIZE")));
        var arId = ars[1].Int("AR_ID");

        await Admin.CallAsync("one.vn.update_ar", net, $"AR = [ AR_ID = {arId}, SIZE = 8 ]");
        Assert.Equal(8, (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL").Elements("AR").Single(a => a.Int("AR_ID") == arId).Int("SIZE"));

        await Admin.CallAsync("one.vn.rm_ar", net, arId, false);
        Assert.Single((await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL").Elements("AR"));

        await Admin.CallAsync("one.vn.add_ar", net, "AR = [ TYPE=\"IP4\", SIZE = 2, IP = 10.0.2.1]");
        var third = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL").Elements("AR").Last().Int("AR_ID");
        await Admin.CallAsync("one.vn.free_ar", net, third);
        Assert.Single((await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL").Elements("AR"));
    }

    [BackendFact]
    public async Task VnRmAr_UnknownRange_ActionErrorAndNothingChanges()
    {
        var net = await NewNetAsync(2);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.rm_ar", net, 42, false), Err.Action);
    }

    [BackendFact]
    public async Task VnHoldRelease_HeldAddressIsNotLeasedUntilReleased()
    {
        var net = await NewNetAsync(2, "10.0.0.14");

        await Admin.CallAsync("one.vn.hold", net, "LEASES = [ IP = 10.0.0.15]");

        var lease = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR/LEASES/LEASE");
        Assert.Equal(("10.0.0.15", -1), (lease.Str("IP"), lease.Int("VM")));
        var vm1 = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);
        Assert.Equal("10.0.0.14", (await Admin.InfoAsync("one.vm.info", vm1)).Str("TEMPLATE/NIC/IP"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", VmTemplate(null, $"NIC = [ NETWORK_ID = {net}, IP = \"10.0.0.15\" ]\n"), true), Err.Allocate);

        await Admin.CallAsync("one.vn.release", net, "LEASES = [ IP = 10.0.0.15]");

        var vm2 = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);
        Assert.Equal("10.0.0.15", (await Admin.InfoAsync("one.vm.info", vm2)).Str("TEMPLATE/NIC/IP"));
    }

    [BackendFact]
    public async Task VnHold_AddressOutsideTheNetwork_ActionErrorAndNothingChanges()
    {
        var net = await NewNetAsync(2, "10.0.0.1");

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.hold", net, "LEASES = [ IP = 192.168.9.9 ]"), Err.Action);
    }

    [BackendFact]
    public async Task VnReserve_NewReservationHoldsTheAddresses()
    {
        var net = await NewNetAsync(10, "10.1.0.1");
        var name = Unique("resv");

        var resv = await Admin.CallIntAsync("one.vn.reserve", net, $"SIZE = 4\nNAME = \"{name}\"");

        var r = await Admin.InfoAsync("one.vn.info", resv);
        Assert.Equal((name, net), (r.Str("NAME"), r.Int("PARENT_NETWORK_ID")));
        Assert.Equal(("10.1.0.1", 4), (r.Str("AR_POOL/AR/IP"), r.Int("AR_POOL/AR/SIZE")));
        Assert.Equal(4, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES"));
        var vm = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);
        Assert.Equal("10.1.0.5", (await Admin.InfoAsync("one.vm.info", vm)).Str("TEMPLATE/NIC/IP"));
    }

    [BackendFact]
    public async Task VnReserve_TooMany_ActionErrorAndNothingChanges()
    {
        var net = await NewNetAsync(3);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.reserve", net, $"SIZE = 30\nNAME = \"{Unique("r")}\""), Err.Action);
    }

    [BackendFact]
    public async Task VnLeases_Exhausted_ClearErrorNoVmAndNoPartialLease()
    {
        var net = await NewNetAsync(2, "10.9.0.1");
        var other = await NewNetAsync(5, "10.9.1.1");
        await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);
        await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);

        // The first NIC would get an address from the other network; the second finds none: nothing is taken.
        var ex = await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate",
            VmTemplate(null, $"NIC = [ NETWORK_ID = {other} ]\nNIC = [ NETWORK_ID = {net} ]\n"), true), Err.Allocate);

        Assert.Contains($"virtual network {net}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES"));
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", other)).Int("USED_LEASES"));
    }

    [BackendFact]
    public async Task VnLeases_EightConcurrentClients_NeverTheSameIpTwice()
    {
        var net = await NewNetAsync(50, "10.50.0.1");
        var (_, user) = await NewUserAsync();
        await Admin.CallAsync("one.vn.chmod", net, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        var created = new ConcurrentBag<int>();
        var refused = new ConcurrentBag<OneException>();

        // 8 clients × 7 VMs = 56 attempts for 50 addresses.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var client = c % 2 == 0 ? Admin : user;
            for (var i = 0; i < 7; i++)
            {
                try { created.Add(await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true, client: client)); }
                catch (OneException ex) { refused.Add(ex); }
            }
        })));

        Assert.Equal(50, created.Count);
        Assert.Equal(6, refused.Count);
        Assert.All(refused, ex => Assert.True(ex.IsServerError, ex.Message));
        var pool = await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, -1, "");
        var ips = created.Select(id => pool.Entry(id).Str("TEMPLATE/NIC/IP")).ToList();
        Assert.Equal(50, ips.Distinct().Count());
        var leases = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR/LEASES").Elements("LEASE").ToList();
        Assert.Equal(50, leases.Count);
        Assert.Equal(created.Order(), leases.Select(l => l.Int("VM")).Order());
    }

    [BackendFact]
    public async Task VnUpdate_MergeAndReplaceKeepVnMad()
    {
        var net = await NewNetAsync(2);

        await Admin.CallAsync("one.vn.update", net, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);
        Assert.Equal("updated by cli", (await Admin.InfoAsync("one.vn.info", net)).Str("TEMPLATE/DESCRIPTION"));

        await Admin.CallAsync("one.vn.update", net, "ONLY = \"this\"", 0);
        var t = (await Admin.InfoAsync("one.vn.info", net)).At("TEMPLATE");
        Assert.Equal("this", t.Str("ONLY"));
        Assert.False(t.Has("DESCRIPTION"));
        Assert.Equal("dummy", t.Str("VN_MAD"));
    }

    [BackendFact]
    public async Task VnRenameChmodChownLock_ChangeTheNetwork()
    {
        var net = await NewNetAsync(2);
        var (uid, user) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.vn.rename", net, name);
        await Admin.CallAsync("one.vn.chmod", net, 1, 1, 0, 1, 0, 0, 0, 0, 0);
        await Admin.CallAsync("one.vn.chown", net, uid, 1);
        await Admin.CallAsync("one.vn.lock", net, 3, false);

        var n = await Admin.InfoAsync("one.vn.info", net);
        Assert.Equal((name, "640", uid, 3), (n.Str("NAME"), n.Octal(), n.Int("UID"), n.Int("LOCK/LOCKED")));
        Assert.Contains(net, (await user.InfoAsync("one.vnpool.info", -3, -1, -1)).EntryIds());
        await Admin.CallAsync("one.vn.unlock", net);
    }

    [BackendFact]
    public async Task VnDelete_WithLeasesInUse_RefusedUntilTheVmIsGone()
    {
        var net = await NewNetAsync(2);
        var vm = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.delete", net), Err.Action, "[one.vn.delete]");

        await Admin.CallAsync("one.vm.action", "terminate", vm);
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES"));
        await Admin.CallAsync("one.vn.delete", net);
        await FailsAsync(() => Admin.CallAsync("one.vn.info", net), Err.NoExists, $"[one.vn.info] Error getting virtual network [{net}].");
        Assert.DoesNotContain(net, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("VNETS"));
    }
}

public sealed class VNetsTests_Sqlite(SqliteFrontend fixture) : VNetsTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class VNetsTests_Postgres(PostgresFrontend fixture) : VNetsTests(fixture), IClassFixture<PostgresFrontend>;
