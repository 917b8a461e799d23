using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Stop a front-end and start it again on the same data directory (SQLite) or database (PostgreSQL):
/// every object is there and identical, id sequences continue (ids are never reused), and the
/// credentials written at first start still work. Each test has a front-end of its own.
/// </summary>
public abstract class RestartTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private static async Task<Populated> PopulateAsync(FrontendHandle fe)
    {
        var admin = fe.Admin;
        var g = await admin.CallIntAsync("one.group.allocate", Unique("grp"));
        await admin.CallAsync("one.acl.addrule", (0x200000000L | (uint)g).ToString("X"), "125429400000000", "8", "400000000");
        await admin.CallAsync("one.group.update", g, "FIREEDGE = [ DEFAULT_VIEW = \"cloud\" ]", 1);
        var uname = Unique("usr");
        var uid = await admin.CallIntAsync("one.user.allocate", uname, "secret", "core", new[] { g });
        var user = fe.Client($"{uname}:secret");
        var token = await user.CallStringAsync("one.user.login", uname, "", -1, -1);
        await admin.CallAsync("one.user.quota", uid, "VM = [ VMS = 10, MEMORY = 4096 ]");
        await user.CallAsync("one.user.update", uid, "SSH_PUBLIC_KEY = \"ssh-ed25519 AAAA test\"", 1);

        var cluster = await admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        var host = await admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", -1);
        var host2 = await admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", cluster);
        await Wait.ForAsync(async () => (await admin.InfoAsync("one.hostpool.info")).Entries().All(x => x.Int("STATE") == 2), "hosts MONITORED");
        var ds = await admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("ds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\n", cluster);

        var image = await admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"/tmp/x\"\nSIZE = 5\n", 1, false);
        var net = await admin.CallIntAsync("one.vn.allocate", $"NAME = \"{Unique("net")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", IP = \"10.3.0.1\", SIZE = \"20\" ]\n", -1);
        await Wait.ForAsync(async () => (await admin.InfoAsync("one.image.info", image)).Int("STATE") == 1
                                        && (await admin.InfoAsync("one.vn.info", net)).Int("STATE") == 1, "image and network READY");
        await admin.CallAsync("one.vn.chmod", net, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await admin.CallAsync("one.image.chmod", image, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await admin.CallAsync("one.vn.hold", net, "LEASES = [ IP = 10.3.0.20 ]");

        var sg = await admin.CallIntAsync("one.secgroup.allocate", $"NAME = \"{Unique("sg")}\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\" ]\n");
        var vmg = await user.CallIntAsync("one.vmgroup.allocate", $"NAME = \"{Unique("vmg")}\"\nROLE = [ NAME = \"web\" ]\n");
        var template = await user.CallIntAsync("one.template.allocate",
            $"NAME = \"{Unique("tpl")}\"\nCPU = 0.1\nMEMORY = 64\nDISK = [ IMAGE_ID = {image} ]\nNIC = [ NETWORK_ID = {net} ]\nSCHED_REQUIREMENTS = \"ID = {host}\"\n");
        var running = await user.CallIntAsync("one.template.instantiate", template, Unique("run"), false, $"VMGROUP = [ VMGROUP_ID = {vmg}, ROLE = \"web\" ]", false);
        var held = await user.CallIntAsync("one.template.instantiate", template, Unique("held"), true, "", false);
        var done = await admin.CallIntAsync("one.vm.allocate", "NAME = \"gone\"\nCPU = 0.1\nMEMORY = 32\n", true);
        await admin.CallAsync("one.vm.action", "terminate", done);
        await Wait.ForAsync(async () => (await admin.InfoAsync("one.vm.info", running)).Int("LCM_STATE") == 3, "the VM RUNNING");
        await user.CallAsync("one.vm.snapshotcreate", running, "before-restart");
        await Wait.ForAsync(async () => (await admin.InfoAsync("one.vm.info", running)).Int("LCM_STATE") == 3, "the snapshot taken");
        await admin.CallAsync("one.template.lock", template, 2, false);
        var rule = await admin.CallIntAsync("one.acl.addrule", (0x100000000L | (uint)uid).ToString("X"), "200400000000", "1", "400000000");

        // A deleted object: its id must not come back.
        var deletedTemplate = await admin.CallIntAsync("one.template.allocate", $"NAME = \"{Unique("del")}\"\nMEMORY = 1\n");
        await admin.CallAsync("one.template.delete", deletedTemplate, false);

        return new Populated($"{uname}:secret", $"{uname}:{token}", uid, g, cluster, host2, ds, deletedTemplate, running, held, rule, sg);
    }

    private sealed record Populated(string Password, string Token, int User, int Group, int Cluster, int Host2, int Datastore,
        int DeletedTemplate, int RunningVm, int HeldVm, int Rule, int SecGroup);

    [BackendFact]
    public async Task Restart_SameData_EveryObjectIdenticalAndCredentialsStillWork()
    {
        await using var fe = await FrontendHandle.StartAsync(Backend);
        var world = await PopulateAsync(fe);
        var adminSession = fe.AdminSession;
        var before = await StoreDump.StableAsync(fe);

        await fe.RestartAsync();

        Assert.Equal(adminSession, fe.AdminSession);
        Assert.Equal("7.5.80", await fe.Admin.CallStringAsync("one.system.version"));
        Assert.Equal(world.User, (await fe.Client(world.Password).InfoAsync("one.user.info", -1)).Int("ID"));
        Assert.Equal(world.User, (await fe.Client(world.Token).InfoAsync("one.user.info", -1)).Int("ID"));
        StoreDump.AssertSame(before, await StoreDump.StableAsync(fe));
        Assert.Empty(fe.LoggedErrors);
    }

    [BackendFact]
    public async Task Restart_IdsContinueAndAreNeverReused()
    {
        await using var fe = await FrontendHandle.StartAsync(Backend);
        var world = await PopulateAsync(fe);
        var admin = fe.Admin;
        var maxVm = (await admin.InfoAsync("one.vmpool.info", -2, -1, -1, -2, "")).EntryIds().Max();

        await fe.RestartAsync();
        admin = fe.Admin;

        Assert.Equal(world.DeletedTemplate + 1, await admin.CallIntAsync("one.template.allocate", $"NAME = \"{Unique("t")}\"\nMEMORY = 1\n"));
        Assert.Equal(maxVm + 1, await admin.CallIntAsync("one.vm.allocate", "NAME = \"after\"\nCPU = 0.1\nMEMORY = 32\n", true));
        Assert.Equal(world.User + 1, await admin.CallIntAsync("one.user.allocate", Unique("u"), "pw", "core", Array.Empty<int>()));
        Assert.Equal(world.Group + 1, await admin.CallIntAsync("one.group.allocate", Unique("g")));
        Assert.Equal(world.Cluster + 1, await admin.CallIntAsync("one.cluster.allocate", Unique("c")));
        Assert.Equal(world.Host2 + 1, await admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", -1));
        Assert.Equal(world.Datastore + 1, await admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("d")}\"\nDS_MAD = dummy\nTM_MAD = dummy\n", -1));
        Assert.Equal(world.SecGroup + 1, await admin.CallIntAsync("one.secgroup.allocate", $"NAME = \"{Unique("s")}\"\n"));
        var rules = (await admin.InfoAsync("one.acl.info")).EntryIds();
        Assert.True(await admin.CallIntAsync("one.acl.addrule", "400000000", "1000400000000", "1", "400000000") > rules.Max());
    }

    [BackendFact]
    public async Task Restart_VmsKeepWorkingAfterwards()
    {
        await using var fe = await FrontendHandle.StartAsync(Backend);
        var world = await PopulateAsync(fe);

        await fe.RestartAsync();
        var user = fe.Client(world.Password);

        await user.CallAsync("one.vm.action", "poweroff", world.RunningVm);
        await Wait.ForAsync(async () => (await fe.Admin.InfoAsync("one.vm.info", world.RunningVm)).Int("STATE") == VmState.Poweroff, "the VM off");
        await fe.Admin.CallAsync("one.vm.action", "release", world.HeldVm);
        await Wait.ForAsync(async () => (await fe.Admin.InfoAsync("one.vm.info", world.HeldVm)).Int("LCM_STATE") == Lcm.Running, "the released VM running");
        var nic = (await fe.Admin.InfoAsync("one.vm.info", world.HeldVm)).Str("TEMPLATE/NIC/IP");
        Assert.NotEqual((await fe.Admin.InfoAsync("one.vm.info", world.RunningVm)).Str("TEMPLATE/NIC/IP"), nic);
        Assert.NotEqual("10.3.0.20", nic); // still on hold after the restart
    }

    [BackendFact]
    public async Task Restart_TwiceInARow_StillIdentical()
    {
        await using var fe = await FrontendHandle.StartAsync(Backend);
        await PopulateAsync(fe);
        var before = await StoreDump.StableAsync(fe);

        await fe.RestartAsync();
        await fe.RestartAsync();

        StoreDump.AssertSame(before, await StoreDump.StableAsync(fe));
    }
}

/// <summary>The restart suites need no shared front-end; the fixture only names the backend.</summary>
public sealed class RestartTests_Sqlite() : RestartTests(new BackendOnly(Backend.Sqlite));

[RequiresPostgres]
public sealed class RestartTests_Postgres() : RestartTests(new BackendOnly(Backend.Postgres));

/// <summary>Names the backend for suites whose tests start front-ends of their own; never initialized, it starts nothing.</summary>
public sealed class BackendOnly(Backend backend) : FrontendFixture(backend);
