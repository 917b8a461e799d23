using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// The exact call sequences of OpenNebula's CLI and pyone (shared/OPENNEBULA-CLI-WIRE.md), with the
/// argument types Ruby sends (i4 ints, booleans, strings, arrays) or pyone sends (int, XML templates),
/// and the answers checked for what the CLI reads: quota blocks on users and groups, VLAN ids on
/// networks, TYPE on every VM disk, at most one HISTORY per VM in one.vmpool.info.
/// </summary>
public abstract class CliCompatibilityTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private static readonly string[] QuotaBlocks = ["DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA"];

    private static void AssertUserShape(XElement user)
    {
        foreach (var b in QuotaBlocks)
        {
            Assert.True(user.Has(b), $"USER lacks {b}");
            Assert.True(user.Has("DEFAULT_USER_QUOTAS/" + b), $"USER lacks DEFAULT_USER_QUOTAS/{b}");
        }
    }

    private static void AssertGroupShape(XElement group)
    {
        foreach (var b in QuotaBlocks)
        {
            Assert.True(group.Has(b), $"GROUP lacks {b}");
            Assert.True(group.Has("DEFAULT_GROUP_QUOTAS/" + b), $"GROUP lacks DEFAULT_GROUP_QUOTAS/{b}");
        }
    }

    /// <summary>What `onevm list` needs: one.vmpool.info short bodies with at most one HISTORY, a TYPE on every DISK.</summary>
    private async Task<XElement> OnevmListAsync(OneClient cli, int filter = -2, string search = "")
    {
        Assert.Equal("CLUSTER_POOL", (await cli.InfoAsync("one.clusterpool.info")).Name.LocalName);
        var pool = await cli.InfoAsync("one.vmpool.info", filter, -1, -1, -1, search);
        foreach (var vm in pool.Entries())
        {
            Assert.True(vm.At("HISTORY_RECORDS").Elements("HISTORY").Count() <= 1, $"VM {vm.Int("ID")} has several HISTORY in one.vmpool.info");
            Assert.All(vm.At("TEMPLATE").Elements("DISK"), d => Assert.True(d.Has("TYPE"), "DISK without TYPE"));
        }
        return pool;
    }

    /// <summary>What `onevm show` needs: every DISK has TYPE.</summary>
    private async Task<XElement> OnevmShowAsync(OneClient cli, int id)
    {
        await cli.CallAsync("one.vmpool.info", -2, -1, -1, -1, "");
        var vm = await cli.InfoAsync("one.vm.info", id, false);
        Assert.All(vm.At("TEMPLATE").Elements("DISK"), d => Assert.True(d.Has("TYPE"), "DISK without TYPE"));
        return vm;
    }

    [BackendFact]
    public async Task Cli_UserAndGroupCommands_AnswersHaveTheShapeTheCliReads()
    {
        var cli = Admin;
        var uname = Unique("capuser");
        var gname = Unique("capgroup");

        // oneuser create / list / show / show (self)
        var uid = await cli.CallIntAsync("one.user.allocate", uname, "cappass", "core", Array.Empty<int>());
        await cli.CallAsync("one.userpool.info");
        AssertUserShape(await cli.InfoAsync("one.user.info", uid, false));
        Assert.Equal("OPENNEBULA_CONFIGURATION", (await cli.InfoAsync("one.system.config")).Name.LocalName);
        AssertUserShape(await cli.InfoAsync("one.user.info", -1, false));

        // onegroup create / list / show
        var gid = await cli.CallIntAsync("one.group.allocate", gname);
        await cli.CallIntAsync("one.acl.addrule", (0x200000000L | (uint)gid).ToString("X"), "125429400000000", "8", "400000000");
        await cli.CallIntAsync("one.group.update", gid, "FIREEDGE=[VIEWS=\"cloud\",\nDEFAULT_VIEW=\"cloud\",\nGROUP_ADMIN_VIEWS=\"groupadmin,cloud\",\nGROUP_ADMIN_DEFAULT_VIEW=\"groupadmin\"]", 1);
        Assert.Contains(gid, (await cli.InfoAsync("one.grouppool.info")).EntryIds());
        AssertGroupShape(await cli.InfoAsync("one.group.info", gid, false));

        // oneuser chgrp / passwd / login / token-create / addgroup; onegroup addadmin
        await cli.CallIntAsync("one.user.chgrp", uid, gid);
        await cli.CallIntAsync("one.user.passwd", uid, "newpass");
        var user = Fe.Client($"{uname}:newpass");
        var token = await user.CallStringAsync("one.user.login", uname, "", 3600, -1);
        var viaToken = Fe.Client($"{uname}:{token}");
        await OnevmListAsync(viaToken);
        await user.CallStringAsync("one.user.login", uname, "", 600, -1);
        await cli.CallIntAsync("one.user.addgroup", uid, 1);
        await cli.CallIntAsync("one.group.addadmin", gid, uid);

        // oneuser show (tokens)
        var shown = await cli.InfoAsync("one.user.info", uid, false);
        AssertUserShape(shown);
        Assert.Equal(2, shown.Elements("LOGIN_TOKEN").Count());
        AssertGroupShape(await cli.InfoAsync("one.group.info", gid, false));

        // oneuser login (self, as oneadmin)
        await cli.InfoAsync("one.user.info", -1, false);
        var adminToken = await cli.CallStringAsync("one.user.login", "oneadmin", "", 36000, -1);
        Assert.Equal(0, (await Fe.Client($"oneadmin:{adminToken}").InfoAsync("one.user.info", -1, false)).Int("ID"));
    }

    [BackendFact]
    public async Task Cli_InfrastructureCommands_Succeed()
    {
        var cli = Admin;

        // onecluster create / list; onehost create (--cluster); onecluster addhost
        var cid = await cli.CallIntAsync("one.cluster.allocate", Unique("capcluster"));
        await cli.CallAsync("one.clusterpool.info");
        var h1 = await cli.CallIntAsync("one.host.allocate", Unique("caphost"), "dummy", "dummy", -1);
        var h2 = await cli.CallIntAsync("one.host.allocate", Unique("caphost2"), "dummy", "dummy", cid);
        await cli.CallIntAsync("one.cluster.addhost", cid, h1);

        // onehost list / show / disable / enable / offline / update
        await cli.CallAsync("one.hostpool.info");
        var host = await cli.InfoAsync("one.host.info", h1, false);
        Assert.True(host.Has("HOST_SHARE/MAX_CPU"));
        await OnevmListAsync(cli);
        await cli.CallIntAsync("one.host.status", h2, 1);
        await cli.CallIntAsync("one.host.status", h2, 0);
        await cli.CallIntAsync("one.host.status", h2, 2);
        await cli.CallIntAsync("one.host.update", h2, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);

        // onecluster show; onedatastore create / list / show / disable / enable; onecluster adddatastore / update
        await cli.InfoAsync("one.cluster.info", cid, false);
        var ds = await cli.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("cap_ds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\nTYPE = \"IMAGE_DS\"\n", -1);
        await cli.CallAsync("one.datastorepool.info");
        await cli.InfoAsync("one.datastore.info", ds, false);
        var sys = await cli.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("cap_sys")}\"\nTM_MAD = \"dummy\"\nTYPE = \"SYSTEM_DS\"\n", -1);
        await cli.CallIntAsync("one.datastore.enable", sys, false);
        await cli.CallIntAsync("one.datastore.enable", sys, true);
        await cli.CallIntAsync("one.cluster.adddatastore", cid, ds);
        await cli.CallIntAsync("one.cluster.update", cid, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 0);

        // onecluster delhost; onehost delete; onedatastore delete; onecluster delete
        await cli.CallIntAsync("one.host.delete", h2);
        await cli.CallIntAsync("one.cluster.delhost", cid, h1);
        await cli.CallIntAsync("one.host.delete", h1);
        await cli.CallIntAsync("one.cluster.deldatastore", cid, ds);
        await cli.CallIntAsync("one.datastore.delete", ds);
        await cli.CallIntAsync("one.datastore.delete", sys);
        await cli.CallIntAsync("one.cluster.delete", cid);
    }

    [BackendFact]
    public async Task Cli_ImageAndNetworkCommands_NetworksCarryVlanIds()
    {
        var cli = Admin;

        // oneimage create / list / show / clone / persistent / disable
        await cli.CallAsync("one.datastorepool.info");
        var img = await cli.CallIntAsync("one.image.allocate", $"TYPE=\"OS\"\nPATH=\"/var/tmp/disk.img\"\nNAME=\"{Unique("cap_img")}\"\n", 1, false);
        await cli.CallAsync("one.imagepool.info", -2, -1, -1);
        await WaitImageStateAsync(img, 1);
        await cli.InfoAsync("one.image.info", img, false);
        var clone = await cli.CallIntAsync("one.image.clone", img, Unique("cap_img_clone"), -1);
        await WaitImageStateAsync(clone, 1);
        await cli.CallIntAsync("one.image.persistent", clone, true);
        await cli.CallIntAsync("one.image.enable", clone, false);

        // onevnet create / list / show / addar / hold / release / update; onecluster addvnet
        var net = await cli.CallIntAsync("one.vn.allocate", $"NAME = \"{Unique("cap_net")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.1\", SIZE = \"50\" ]\n", -1);
        await cli.CallAsync("one.vnpool.info", -2, -1, -1);
        var vnet = await Wait.ForAsync(() => cli.InfoAsync("one.vn.info", net, false), n => n.Int("STATE") == 1, "the network READY");
        Assert.True(vnet.Has("VLAN_ID"), "VNET lacks VLAN_ID");
        Assert.True(vnet.Has("OUTER_VLAN_ID"), "VNET lacks OUTER_VLAN_ID");
        Assert.All((await cli.InfoAsync("one.vnpool.info", -2, -1, -1)).Entries(), n => Assert.True(n.Has("VLAN_ID") && n.Has("OUTER_VLAN_ID")));
        await cli.CallIntAsync("one.vn.add_ar", net, "AR = [ TYPE=\"IP4\", SIZE = 5, IP = 10.0.1.1]");
        var cid = await cli.CallIntAsync("one.cluster.allocate", Unique("capcl"));
        await cli.CallAsync("one.vnpool.info", 0, -1, -1);
        await cli.CallIntAsync("one.cluster.addvnet", cid, net);
        await cli.CallIntAsync("one.vn.hold", net, "LEASES = [ IP = 10.0.0.15]");
        await cli.CallIntAsync("one.vn.release", net, "LEASES = [ IP = 10.0.0.15]");
        await cli.CallIntAsync("one.vn.update", net, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);

        // oneimage delete; onevnet delete
        await cli.CallIntAsync("one.image.delete", clone, false);
        await cli.CallIntAsync("one.image.delete", img, false);
        await cli.CallIntAsync("one.cluster.delvnet", cid, net);
        await cli.CallIntAsync("one.vn.delete", net);
    }

    [BackendFact]
    public async Task Cli_TemplateAndVmCommands_EveryAnswerHasTheShapeTheCliReads()
    {
        var cli = Admin;
        var host0 = await SharedHostAsync("clihost0");
        var host1 = await SharedHostAsync("clihost1");
        var img = await NewImageAsync();
        var net = await NewNetAsync(10, "10.44.0.1");

        // onetemplate create / list / show / instantiate (--hold)
        var tplName = Unique("cap_tpl");
        var tpl = await cli.CallIntAsync("one.template.allocate",
            $"NAME = \"{tplName}\"\nCPU = \"0.5\"\nVCPU = \"1\"\nMEMORY = \"128\"\nDISK = [ TYPE = \"fs\", SIZE = \"10\" ]\nSCHED_REQUIREMENTS = \"ID = {host0}\"\n");
        await cli.CallAsync("one.templatepool.info", -2, -1, -1);
        await cli.InfoAsync("one.template.info", tpl, false, false);
        var vmName = Unique("cap_vm");
        var vm = await cli.CallIntAsync("one.template.instantiate", tpl, vmName, false, $"NAME=\"{vmName}\"", false);
        var heldName = Unique("cap_vm_held");
        // The capture's extra template is NAME="..." alone; here the held VM also matches no host, so the real
        // scheduler cannot place it between `onevm release` and `onevm hold` (the capture server had no scheduler).
        var held = await cli.CallIntAsync("one.template.instantiate", tpl, heldName, true, $"NAME=\"{heldName}\"\nSCHED_REQUIREMENTS=\"NAME = \\\"nowhere\\\"\"", false);

        // onevm list / show (pending); release / hold; deploy
        await OnevmListAsync(cli);
        await OnevmShowAsync(cli, held);
        await cli.CallIntAsync("one.vm.action", "release", held);
        await cli.CallIntAsync("one.vm.action", "hold", held);
        await cli.CallAsync("one.vmpool.info", -2, -1, -1, -1, "");
        await cli.CallAsync("one.hostpool.info");
        await cli.InfoAsync("one.vm.info", held, false);
        await cli.CallIntAsync("one.vm.deploy", held, host1, false, -1, "");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await WaitVmAsync(held, VmState.Active, Lcm.Running);

        // onevm show; migrate; migrate --live
        var shown = await OnevmShowAsync(cli, vm);
        await cli.InfoAsync("one.cluster.info", shown.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("CID"), false);
        await cli.CallIntAsync("one.vm.migrate", vm, host1, false, false, -1, 0);
        await Wait.ForAsync(() => cli.InfoAsync("one.vm.info", vm), v => v.Int("LCM_STATE") == Lcm.Running && v.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("HID") == host1, "the cold migration");
        await cli.CallIntAsync("one.vm.migrate", vm, host0, true, false, -1, 0);
        await Wait.ForAsync(() => cli.InfoAsync("one.vm.info", vm), v => v.Int("LCM_STATE") == Lcm.Running && v.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("HID") == host0, "the live migration");
        Assert.Equal(3, (await cli.InfoAsync("one.vm.info", vm)).At("HISTORY_RECORDS").Elements("HISTORY").Count());
        await OnevmListAsync(cli);

        // snapshot-create / snapshot-list; disk-attach; nic-attach; show (after attach)
        var snap = await cli.CallIntAsync("one.vm.snapshotcreate", vm, "snap1");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await OnevmShowAsync(cli, vm);
        await cli.CallAsync("one.imagepool.info", -1, -1, -1);
        await cli.CallIntAsync("one.vm.attach", vm, $"DISK = [ IMAGE_ID = {img} ]");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallAsync("one.vnpool.info", 0, -1, -1);
        await cli.CallIntAsync("one.vm.attachnic", vm, $"NIC = [ NETWORK_ID = {net}]");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        var attached = await OnevmShowAsync(cli, vm);
        Assert.Equal(2, attached.At("TEMPLATE").Elements("DISK").Count());
        Assert.Single(attached.At("TEMPLATE").Elements("NIC"));
        await OnevmListAsync(cli);

        // poweroff / resume / reboot / suspend / resume / stop / undeploy / resume
        await cli.CallIntAsync("one.vm.action", "poweroff", vm);
        await WaitVmAsync(vm, VmState.Poweroff);
        await cli.CallIntAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.action", "reboot", vm);
        await cli.CallIntAsync("one.vm.action", "suspend", vm);
        await WaitVmAsync(vm, VmState.Suspended);
        await cli.CallIntAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.action", "stop", held);
        await WaitVmAsync(held, VmState.Stopped);
        await cli.CallIntAsync("one.vm.action", "undeploy", vm);
        await WaitVmAsync(vm, VmState.Undeployed);
        await cli.CallIntAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);

        // lock / unlock / chown / chmod / resize / disk-detach / nic-detach / snapshot-revert / snapshot-delete
        await cli.CallIntAsync("one.vm.lock", vm, 1, false);
        await cli.CallIntAsync("one.vm.unlock", vm);
        var (uid, _) = await NewUserAsync();
        var gid = await NewGroupAsync();
        await cli.CallAsync("one.userpool.info");
        await cli.CallAsync("one.grouppool.info");
        await cli.CallIntAsync("one.vm.chown", vm, uid, gid);
        await cli.CallIntAsync("one.vm.chmod", vm, 1, 1, 0, 1, 0, 0, 0, 0, 0);
        await cli.CallIntAsync("one.vm.resize", vm, "CPU = 1.0\nMEMORY = 256\n", false);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.detach", vm, 1);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.detachnic", vm, 0);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.snapshotrevert", vm, snap);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await cli.CallIntAsync("one.vm.snapshotdelete", vm, snap);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);

        // onevm list mine / --search; create (no template); rename; update
        await OnevmListAsync(cli, -3);
        Assert.Equal([vm], (await OnevmListAsync(cli, -2, $"VM.NAME={vmName}")).EntryIds());
        var raw = await cli.CallIntAsync("one.vm.allocate", "NAME=\"cap_vm_raw\"\nCPU=1.0\nMEMORY=64\n", true);
        Assert.Equal(VmState.Hold, (await OnevmShowAsync(cli, raw)).Int("STATE"));
        await cli.CallIntAsync("one.vm.rename", raw, Unique("cap_vm_renamed"));
        await cli.CallIntAsync("one.vm.update", vm, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 0);

        // onetemplate update --append / clone / chmod; delete
        await cli.CallIntAsync("one.template.update", tpl, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);
        var tplClone = await cli.CallIntAsync("one.template.clone", tpl, Unique("cap_tpl_clone"), false);
        await cli.CallIntAsync("one.template.chmod", tplClone, 1, 1, 0, 1, 1, 0, 0, 0, 0, false);

        // onevm terminate / terminate --hard; list (after terminate)
        await cli.CallIntAsync("one.vm.action", "terminate", vm);
        await cli.CallIntAsync("one.vm.action", "terminate-hard", held);
        await cli.CallIntAsync("one.vm.action", "terminate-hard", raw);
        await WaitVmAsync(vm, VmState.Done);
        await WaitVmAsync(held, VmState.Done);
        var afterList = await OnevmListAsync(cli);
        Assert.DoesNotContain(vm, afterList.EntryIds());
        await cli.CallIntAsync("one.template.delete", tpl, false);
        await cli.CallIntAsync("one.template.delete", tplClone, false);
    }

    [BackendFact]
    public async Task Cli_SecgroupVmgroupAclZoneAndListOnlyPools_Succeed()
    {
        var cli = Admin;

        var sg = await cli.CallIntAsync("one.secgroup.allocate", $"NAME = \"{Unique("cap_sg")}\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"inbound\", RANGE = \"22\" ]\n");
        await cli.CallAsync("one.secgrouppool.info", -2, -1, -1);
        await cli.InfoAsync("one.secgroup.info", sg, false);
        var vmg = await cli.CallIntAsync("one.vmgroup.allocate", $"NAME = \"{Unique("cap_vmg")}\"\nROLE = [ NAME = \"web\", POLICY = \"AFFINED\" ]\n");
        await cli.CallAsync("one.vmgrouppool.info", -2, -1, -1);
        Assert.Equal("ACL_POOL", (await cli.InfoAsync("one.acl.info")).Name.LocalName);
        var rule = await cli.CallIntAsync("one.acl.addrule", "200000001", "5400000000", "3", "400000000");
        await cli.CallIntAsync("one.acl.delrule", rule);
        Assert.Equal("ZONE_POOL", (await cli.InfoAsync("one.zonepool.info")).Name.LocalName);
        Assert.Equal("ZONE", (await cli.InfoAsync("one.zone.info", 0, false)).Name.LocalName);

        foreach (var (method, args, root) in new (string, object?[], string)[]
                 {
                     ("one.marketpool.info", [], "MARKETPLACE_POOL"), ("one.marketapppool.info", [-2, -1, -1], "MARKETPLACEAPP_POOL"),
                     ("one.vrouterpool.info", [-2, -1, -1], "VROUTER_POOL"), ("one.vdcpool.info", [], "VDC_POOL"),
                     ("one.vntemplatepool.info", [-2, -1, -1], "VNTEMPLATE_POOL"), ("one.hookpool.info", [-1, -1, -1], "HOOK_POOL"),
                     ("one.backupjobpool.info", [-2, -1, -1], "BACKUPJOB_POOL"), ("one.documentpool.info", [-2, -1, -1, 100], "DOCUMENT_POOL"),
                 })
        {
            Assert.Equal(root, (await cli.InfoAsync(method, args)).Name.LocalName);
        }

        await cli.CallIntAsync("one.secgroup.delete", sg);
        await cli.CallIntAsync("one.vmgroup.delete", vmg);
    }

    [BackendFact]
    public async Task Cli_DeleteUserAndGroup_AsTheCliDoes()
    {
        var gid = await NewGroupAsync();
        var (uid, _) = await NewUserAsync(null, gid);

        await Admin.CallAsync("one.userpool.info");
        await Admin.CallIntAsync("one.user.delete", uid);
        await Admin.CallAsync("one.grouppool.info");
        await Admin.CallIntAsync("one.group.delete", gid);

        Assert.DoesNotContain(gid, (await Admin.InfoAsync("one.grouppool.info")).EntryIds());
    }

    [BackendFact]
    public async Task Cli_ErrorAnswers_MessagesAsTheCliPrintsThem()
    {
        await FailsAsync(() => Admin.CallAsync("one.vm.info", 999999, false), Err.NoExists, "[one.vm.info] Error getting virtual machine [999999].");

        var bad = Fe.Client("oneadmin:not-the-password");
        await FailsAsync(() => bad.CallAsync("one.clusterpool.info"), Err.Authentication, "[one.clusterpool.info] User couldn't be authenticated, aborting call.");
        await FailsAsync(() => bad.CallAsync("one.vmpool.info", -2, -1, -1, -1, ""), Err.Authentication, "[one.vmpool.info] User couldn't be authenticated, aborting call.");
    }

    [BackendFact]
    public async Task Pyone_Sequence_IntTagsOmittedArgumentsAndXmlTemplates()
    {
        using var pyone = new OneClient(Fe.Endpoint, Fe.AdminSession, options: new OneClientOptions { IntegerTag = OneIntegerTag.Int });

        Assert.Equal("7.5.80", await pyone.CallStringAsync("one.system.version"));
        await pyone.CallAsync("one.hostpool.info");
        await pyone.CallAsync("one.vmpool.info", -2, -1, -1, -1);
        var tpl = await pyone.CallIntAsync("one.template.allocate", $"NAME=\"{Unique("pytpl")}\"\nCPU=1\nMEMORY=64");
        var vm = await pyone.CallIntAsync("one.template.instantiate", tpl, Unique("pyvm"), false, "<TEMPLATE><CONTEXT><A><![CDATA[b]]></A></CONTEXT></TEMPLATE>");
        await pyone.CallIntAsync("one.vm.action", "hold", vm);
        var info = await pyone.InfoAsync("one.vm.info", vm);
        Assert.Equal(("b", VmState.Hold), (info.Str("TEMPLATE/CONTEXT/A"), info.Int("STATE")));
        await pyone.CallIntAsync("one.vm.update", vm, "<TEMPLATE><X><![CDATA[1]]></X></TEMPLATE>", 1);
        Assert.Equal("1", (await pyone.InfoAsync("one.vm.info", vm)).Str("USER_TEMPLATE/X"));
        var uid = await pyone.CallIntAsync("one.user.allocate", Unique("pyuser"), "pw", "core", new[] { 1 });
        Assert.Equal(1, (await pyone.InfoAsync("one.user.info", uid)).Int("GID"));
    }
}

public sealed class CliCompatibilityTests_Sqlite(SqliteFrontend fixture) : CliCompatibilityTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class CliCompatibilityTests_Postgres(PostgresFrontend fixture) : CliCompatibilityTests(fixture), IClassFixture<PostgresFrontend>;
