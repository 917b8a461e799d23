using System.Globalization;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Tests;

/// <summary>image, template, vnet, vntemplate, secgroup and vmgroup verbs.</summary>
public sealed class StorageNetworkTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task Images_are_registered_changed_cloned_and_deleted()
    {
        var disk = cloud.WriteFile("disk.raw", "not really a disk");
        var output = await cloud.OkAsync("image", "create", "--name", "base", "--path", disk, "--datastore", "default", "--type", "OS", "--wait");
        Assert.Matches(@"^ID: (\d+)\nIMAGE \1: READY\n$", output);
        var id = int.Parse(output.Split('\n')[0][4..], CultureInfo.InvariantCulture);
        Assert.Equal(disk, (await cloud.InfoAsync("one.image.info", id)).Element("PATH")!.Value);

        Assert.Matches(@"(?m)^ *\d+ oneadmin +oneadmin +base +default +\S+ +OS +No +rdy +0$", await cloud.OkAsync("image", "list"));
        await cloud.OkAsync("image", "persistent", "base");
        Assert.Equal("PER\nYes\n", await cloud.OkAsync("image", "list", "-l", "PER", "-f", "NAME=base"));
        await cloud.OkAsync("image", "nonpersistent", "base");
        await cloud.OkAsync("image", "disable", "base");
        Assert.Equal("STAT\ndisa\n", await cloud.OkAsync("image", "list", "-l", "STAT", "-f", "NAME=base"));
        await cloud.OkAsync("image", "enable", "base");
        await cloud.OkAsync("image", "chtype", "base", "DATABLOCK");
        Assert.Equal("TYPE\nDATABLOCK\n", await cloud.OkAsync("image", "list", "-l", "TYPE", "-f", "NAME=base"));

        var copy = await cloud.OkAsync("image", "clone", "base", "base-copy", "--wait");
        Assert.Matches(@"^ID: (\d+)\nIMAGE \1: READY\n$", copy);
        await cloud.OkAsync("image", "rename", "base-copy", "copy2");
        await cloud.OkAsync("image", "update", "copy2", cloud.WriteFile("imgupd.txt", "DESCRIPTION=\"copy\"\n"), "--append");
        await cloud.OkAsync("image", "lock", "copy2");
        Assert.StartsWith("[one.image.delete] The resource image is locked.", (await cloud.RunAsync("image", "delete", "copy2")).Fails(255), StringComparison.Ordinal);
        await cloud.OkAsync("image", "unlock", "copy2");
        await cloud.OkAsync("image", "chown", "copy2", "oneadmin", "users");
        Assert.Equal("GROUP\nusers\n", await cloud.OkAsync("image", "list", "-l", "GROUP", "-f", "NAME=copy2"));
        await cloud.OkAsync("image", "delete", "copy2");
        await cloud.OkAsync("image", "delete", "base");

        var blank = await cloud.CreateAsync("image", "create", "--name", "scratch", "--size", "2G", "-d", "default");
        var image = await cloud.InfoAsync("one.image.info", blank);
        Assert.Equal("2", image.Element("TYPE")!.Value);
        Assert.Equal("2048", image.Element("SIZE")!.Value);
    }

    [Fact]
    public async Task Vn_templates_are_created_cloned_instantiated_into_networks_and_deleted()
    {
        var file = cloud.WriteFile("vnt.txt", "NAME = \"edge-net\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br9\"\nAR = [ TYPE = \"IP4\", IP = \"10.90.0.1\", SIZE = \"4\" ]\n");
        var id = await cloud.CreateAsync("vntemplate", "create", file);
        Assert.Matches($@"(?m)^ *{id} oneadmin +oneadmin +edge-net +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d$", await cloud.OkAsync("vntemplate", "list"));
        Assert.Contains("TEMPLATE CONTENTS", await cloud.OkAsync("vntemplate", "show", "edge-net"), StringComparison.Ordinal);

        var output = await cloud.OkAsync("vntemplate", "instantiate", "edge-net", cloud.WriteFile("vntx.txt", "DESCRIPTION = \"site a\"\n"), "--name", "site-a");
        Assert.Matches(@"^VN ID: \d+\n$", output);
        var net = await cloud.InfoAsync("one.vn.info", int.Parse(output["VN ID: ".Length..].Trim(), CultureInfo.InvariantCulture));
        Assert.Equal("site-a", net.Element("NAME")!.Value);
        Assert.Equal("site a", net.Element("TEMPLATE")!.Element("DESCRIPTION")!.Value);
        Assert.Equal("edge-net", net.Element("TEMPLATE")!.Element("TEMPLATE_NAME")!.Value);

        var clone = await cloud.CreateAsync("vntemplate", "clone", "edge-net", "edge-copy");
        await cloud.OkAsync("vntemplate", "update", "edge-copy", cloud.WriteFile("vntupd.txt", "DESCRIPTION=\"updated\"\n"), "--append");
        await cloud.OkAsync("vntemplate", "chmod", "edge-copy", "644");
        await cloud.OkAsync("vntemplate", "rename", "edge-copy", "edge-copy2");
        await cloud.OkAsync("vntemplate", "lock", "edge-copy2");
        Assert.StartsWith("[one.vntemplate.delete] The resource virtual network template is locked.", (await cloud.RunAsync("vntemplate", "delete", "edge-copy2")).Fails(255), StringComparison.Ordinal);
        await cloud.OkAsync("vntemplate", "unlock", "edge-copy2");
        var copy = (await cloud.Client.CallXmlAsync("one.vntemplate.info", clone, false)).Root!;
        Assert.Equal("edge-copy2", copy.Element("NAME")!.Value);
        Assert.Equal("updated", copy.Element("TEMPLATE")!.Element("DESCRIPTION")!.Value);
        Assert.Equal("1", copy.Element("PERMISSIONS")!.Element("OTHER_U")!.Value);
        await cloud.OkAsync("vntemplate", "delete", "edge-copy2,edge-net");
        Assert.DoesNotContain("edge-", await cloud.OkAsync("vntemplate", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Templates_are_created_from_files_and_flags_cloned_instantiated_and_deleted()
    {
        var file = cloud.WriteFile("tpl.txt", "NAME = \"from-file\"\nCPU = 1\nMEMORY = 64\n# a comment\nDISK = [ IMAGE = \"img\" ]\n");
        var fromFile = await cloud.CreateAsync("template", "create", file);
        var flags = await cloud.CreateAsync("template", "create", "--name", "from-flags", "--cpu", "0.25", "--vcpu", "2", "--memory", "1.5G",
            "--disk", "img:size=2048", "--nic", "net", "--net-context", "--ssh", "--vnc", "--description", "made by flags");

        var t = (await cloud.Client.CallXmlAsync("one.template.info", flags, false, false)).Root!.Element("TEMPLATE")!;
        Assert.Equal("0.25", t.Element("CPU")!.Value);
        Assert.Equal("2", t.Element("VCPU")!.Value);
        Assert.Equal("1536", t.Element("MEMORY")!.Value);
        Assert.Equal("2048", t.Element("DISK")!.Element("SIZE")!.Value);
        Assert.Equal("0", t.Element("NIC")!.Element("NETWORK_ID")!.Value);
        Assert.Equal("YES", t.Element("CONTEXT")!.Element("NETWORK")!.Value);
        Assert.Equal("$USER[SSH_PUBLIC_KEY]", t.Element("CONTEXT")!.Element("SSH_PUBLIC_KEY")!.Value);
        Assert.Equal("VNC", t.Element("GRAPHICS")!.Element("TYPE")!.Value);

        var list = await cloud.OkAsync("template", "list");
        Assert.Matches($@"(?m)^ *{fromFile} oneadmin +oneadmin +from-file +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d$", list);
        Assert.Contains("TEMPLATE CONTENTS", await cloud.OkAsync("template", "show", "from-flags"), StringComparison.Ordinal);

        var vms = await cloud.OkAsync("template", "instantiate", "from-file", "--name", "batch-%i", "--multiple", "3", "--hold");
        Assert.Matches(@"^VM ID: \d+\nVM ID: \d+\nVM ID: \d+\n$", vms);
        Assert.Equal("NAME    STAT\nbatch-0 hold\nbatch-1 hold\nbatch-2 hold\n", await cloud.OkAsync("vm", "list", "-l", "NAME,STAT", "-f", "NAME=batch-*"));
        var ids = string.Join(",", vms.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l["VM ID: ".Length..]));
        await cloud.OkAsync("vm", "terminate", ids, "--hard", "--wait", "DONE");

        var over = await cloud.OkAsync("template", "instantiate", "from-file", "--name", "bigger", "--memory", "256", "--hold");
        var vm = await cloud.InfoAsync("one.vm.info", int.Parse(over["VM ID: ".Length..].Trim(), CultureInfo.InvariantCulture));
        Assert.Equal("256", vm.Element("TEMPLATE")!.Element("MEMORY")!.Value);
        Assert.Equal("bigger", vm.Element("NAME")!.Value);

        var clone = await cloud.CreateAsync("template", "clone", "from-file", "copy");
        await cloud.OkAsync("template", "update", "copy", cloud.WriteFile("tplupd.txt", "DESCRIPTION=\"updated\"\n"), "--append");
        await cloud.OkAsync("template", "chmod", "copy", "644");
        await cloud.OkAsync("template", "rename", "copy", "copy2");
        var copy = (await cloud.Client.CallXmlAsync("one.template.info", clone, false, false)).Root!;
        Assert.Equal("copy2", copy.Element("NAME")!.Value);
        Assert.Equal("updated", copy.Element("TEMPLATE")!.Element("DESCRIPTION")!.Value);
        Assert.Equal("1", copy.Element("PERMISSIONS")!.Element("OTHER_U")!.Value);
        await cloud.OkAsync("template", "delete", "copy2,from-flags");
        Assert.DoesNotContain("copy2", await cloud.OkAsync("template", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Virtual_networks_get_ranges_holds_and_reservations()
    {
        var id = await cloud.CreateAsync("vnet", "create", cloud.WriteFile("lan.txt", "NAME=\"lan\"\nVN_MAD=\"dummy\"\nBRIDGE=\"br1\"\n"));
        await cloud.OkAsync("vnet", "addar", "lan", "--ip", "192.168.1.10", "--size", "20");
        await cloud.OkAsync("vnet", "addar", "lan", "--mac", "02:00:00:00:01:00", "--size", "5");
        var ars = (await cloud.InfoAsync("one.vn.info", id)).Element("AR_POOL")!.Elements("AR").ToList();
        Assert.Equal(["IP4", "ETHER"], ars.Select(a => a.Element("TYPE")!.Value));

        await cloud.OkAsync("vnet", "hold", "lan", "192.168.1.15");
        Assert.Equal("LEASES\n     1\n", await cloud.OkAsync("vnet", "list", "-l", "LEASES", "-f", "NAME=lan"));
        await cloud.OkAsync("vnet", "release", "lan", "192.168.1.15");
        Assert.Equal("LEASES\n     0\n", await cloud.OkAsync("vnet", "list", "-l", "LEASES", "-f", "NAME=lan"));

        var reservation = await cloud.CreateAsync("vnet", "reserve", "lan", "--name", "mine", "--size", "4", "--ar-id", "0");
        Assert.Equal("4", (await cloud.InfoAsync("one.vn.info", reservation)).Element("AR_POOL")!.Element("AR")!.Element("SIZE")!.Value);

        var shown = await cloud.OkAsync("vnet", "show", "lan");
        Assert.Contains("ADDRESS RANGES", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^0 +IP4 +20 +4 +192\.168\.1\.10 ", shown);

        await cloud.OkAsync("vnet", "updatear", "lan", cloud.WriteFile("ar.txt", "AR=[AR_ID=\"1\",SIZE=\"8\"]\n"));
        await cloud.OkAsync("vnet", "rmar", "lan", "1");
        Assert.Single((await cloud.InfoAsync("one.vn.info", id)).Element("AR_POOL")!.Elements("AR"));
        await cloud.OkAsync("vnet", "update", "lan", cloud.WriteFile("lanupd.txt", "DNS=\"10.0.0.53\"\n"), "--append");
        await cloud.OkAsync("vnet", "rename", "mine", "mine2");
        await cloud.OkAsync("vnet", "delete", "mine2");
        await cloud.OkAsync("vnet", "chmod", "lan", "640");
        Assert.Matches(@"(?m)^ *\d+ oneadmin +oneadmin +lan +0 +br1 +rdy +\d+$", await cloud.OkAsync("vnet", "list"));
    }

    [Fact]
    public async Task Security_groups_and_vm_groups()
    {
        var sg = cloud.WriteFile("sg.txt", "NAME=\"web\"\nRULE=[PROTOCOL=\"TCP\",RULE_TYPE=\"inbound\",RANGE=\"80,443\"]\nRULE=[PROTOCOL=\"ALL\",RULE_TYPE=\"outbound\"]\n");
        await cloud.CreateAsync("secgroup", "create", sg);
        Assert.Matches(@"(?m)^ *\d+ oneadmin +oneadmin +web +2 +0 +0 +0$", await cloud.OkAsync("secgroup", "list"));
        Assert.Matches(@"(?m)^inbound +TCP +any +80,443$", await cloud.OkAsync("secgroup", "show", "web"));
        await cloud.CreateAsync("secgroup", "clone", "web", "web2");
        await cloud.OkAsync("secgroup", "commit", "web");
        await cloud.OkAsync("secgroup", "delete", "web2");

        var vmg = cloud.WriteFile("vmg.txt", "NAME=\"tiers\"\nROLE=[NAME=\"app\",POLICY=\"ANTI_AFFINED\"]\n");
        var id = await cloud.CreateAsync("vmgroup", "create", vmg);
        await cloud.OkAsync("vmgroup", "role-add", "tiers", cloud.WriteFile("role.txt", "ROLE=[NAME=\"db\",POLICY=\"AFFINED\"]\n"));
        Assert.Matches(@"(?m)^ *\d+ oneadmin +oneadmin +tiers +app,db +0$", await cloud.OkAsync("vmgroup", "list"));
        await cloud.OkAsync("vmgroup", "role-update", "tiers", "1", cloud.WriteFile("role2.txt", "ROLE=[NAME=\"db\",POLICY=\"NONE\"]\n"));
        await cloud.OkAsync("vmgroup", "role-delete", "tiers", "1");
        var group = await cloud.InfoAsync("one.vmgroup.info", id);
        Assert.Equal(["app"], group.Element("ROLES")!.Elements("ROLE").Select(r => r.Element("NAME")!.Value));
        Assert.Matches(@"(?m)^0 +app +ANTI_AFFINED", await cloud.OkAsync("vmgroup", "show", "tiers"));
        await cloud.OkAsync("vmgroup", "delete", "tiers");
        Assert.Equal("VM_GROUP_POOL", XElement.Parse(await cloud.OkAsync("vmgroup", "list", "-x")).Name.LocalName);
    }
}
