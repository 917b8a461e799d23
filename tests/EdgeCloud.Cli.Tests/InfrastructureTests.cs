using System.Globalization;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Tests;

/// <summary>host, cluster, datastore, zone, market and marketapp verbs.</summary>
public sealed class InfrastructureTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task Hosts_are_created_enabled_disabled_taken_offline_and_deleted()
    {
        var cid = await cloud.CreateAsync("cluster", "create", "edge");
        var id = await cloud.CreateAsync("host", "create", "h3", "--im", "dummy", "--vm", "dummy", "--cluster", "edge");
        var host = await cloud.InfoAsync("one.host.info", id);
        Assert.Equal(cid.ToString(CultureInfo.InvariantCulture), host.Element("CLUSTER_ID")!.Value);

        await cloud.OkAsync("host", "disable", "h3");
        Assert.Matches(@"(?m)^ *\d+ h3 +edge +0 .* dsbl$", await cloud.OkAsync("host", "list"));
        await cloud.OkAsync("host", "offline", "h3");
        Assert.Equal("NAME STAT\nh3   off\n", await cloud.OkAsync("host", "list", "--list", "NAME,STAT", "--filter", "NAME=h3"));
        await cloud.OkAsync("host", "enable", "h3");
        await CloudFixture.WaitAsync(async () => (await cloud.OkAsync("host", "list", "-l", "STAT", "-f", "NAME=h3")) == "STAT\non\n", "h3 on");

        await cloud.OkAsync("host", "update", "h3", cloud.WriteFile("hostupd.txt", "LABEL=\"rack1\"\n"), "--append");
        await cloud.OkAsync("host", "rename", "h3", "h3b");
        var shown = await cloud.OkAsync("host", "show", "h3b");
        Assert.Contains($"HOST {id} INFORMATION", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^STATE +: MONITORED$", shown);
        Assert.Matches(@"(?m)^LABEL=""rack1""$", shown);

        var json = await cloud.OkAsync("host", "show", "h3b", "--json");
        Assert.Contains("\"HOST\": {", json, StringComparison.Ordinal);

        await cloud.OkAsync("host", "delete", "h3b");
        Assert.DoesNotContain("h3b", await cloud.OkAsync("host", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clusters_gather_hosts_datastores_and_networks()
    {
        var cid = await cloud.CreateAsync("cluster", "create", "rack");
        var host = await cloud.CreateAsync("host", "create", "rackhost", "--im", "dummy", "--vm", "dummy");
        var ds = await cloud.CreateAsync("datastore", "create", cloud.WriteFile("rackds.txt", "NAME=\"rackds\"\nDS_MAD=\"dummy\"\nTM_MAD=\"dummy\"\nTYPE=\"SYSTEM_DS\"\n"));
        var net = await cloud.CreateAsync("vnet", "create", cloud.WriteFile("racknet.txt", "NAME=\"racknet\"\nVN_MAD=\"dummy\"\nBRIDGE=\"br9\"\n"));

        await cloud.OkAsync("cluster", "addhost", "rack", "rackhost");
        await cloud.OkAsync("cluster", "adddatastore", "rack", "rackds");
        await cloud.OkAsync("cluster", "addvnet", "rack", "racknet");
        Assert.Matches(@"(?m)^ *\d+ rack +1 +1 +1$", await cloud.OkAsync("cluster", "list"));
        var cluster = await cloud.InfoAsync("one.cluster.info", cid);
        Assert.Equal(host.ToString(CultureInfo.InvariantCulture), cluster.Element("HOSTS")!.Element("ID")!.Value);
        Assert.Contains(ds.ToString(CultureInfo.InvariantCulture), cluster.Element("DATASTORES")!.Elements("ID").Select(e => e.Value));
        Assert.Contains(net.ToString(CultureInfo.InvariantCulture), cluster.Element("VNETS")!.Elements("ID").Select(e => e.Value));

        await cloud.OkAsync("cluster", "delhost", "rack", "rackhost");
        await cloud.OkAsync("cluster", "deldatastore", "rack", "rackds");
        await cloud.OkAsync("cluster", "delvnet", "rack", "racknet");
        Assert.Matches(@"(?m)^ *\d+ rack +0 +0 +0$", await cloud.OkAsync("cluster", "list"));
        await cloud.OkAsync("cluster", "rename", "rack", "rack2");
        await cloud.OkAsync("cluster", "update", "rack2", cloud.WriteFile("clupd.txt", "RESERVED_CPU=\"100\"\n"));
        Assert.Matches(@"(?m)^RESERVED_CPU=""100""$", await cloud.OkAsync("cluster", "show", "rack2"));
        await cloud.OkAsync("cluster", "delete", "rack2");
    }

    [Fact]
    public async Task Datastores_are_listed_created_disabled_and_deleted()
    {
        var list = await cloud.OkAsync("datastore", "list");
        Assert.Matches(@"(?m)^ID +NAME +SIZE +AVA +CLUSTERS +IMAGES +TYPE +DS +TM +STAT$", list);
        Assert.Matches(@"(?m)^ *1 default +\S+ +\d+% +0 +\d+ +img +dummy +dummy +on$", list);

        var id = await cloud.CreateAsync("datastore", "create", cloud.WriteFile("sysds.txt", "NAME=\"sys2\"\nTM_MAD=\"dummy\"\nTYPE=\"SYSTEM_DS\"\n"));
        await cloud.OkAsync("datastore", "disable", "sys2");
        Assert.Equal("STAT\noff\n", await cloud.OkAsync("datastore", "list", "-l", "STAT", "-f", "NAME=sys2"));
        await cloud.OkAsync("datastore", "enable", "sys2");
        await cloud.OkAsync("datastore", "chmod", "sys2", "664");
        var ds = await cloud.InfoAsync("one.datastore.info", id);
        Assert.Equal("1", ds.Element("PERMISSIONS")!.Element("OTHER_U")!.Value);
        await cloud.OkAsync("datastore", "rename", "sys2", "sys3");
        Assert.Contains("DATASTORE " + id + " INFORMATION", await cloud.OkAsync("datastore", "show", "sys3"), StringComparison.Ordinal);
        await cloud.OkAsync("datastore", "delete", "sys3");
    }

    [Fact]
    public async Task Zones_and_marketplaces_are_listed()
    {
        Assert.Matches(@"(?m)^ID +NAME +ENDPOINT +STAT\n *0 OpenNebula +http://\S+ +on$", await cloud.OkAsync("zone", "list"));
        Assert.Contains("ZONE 0 INFORMATION", await cloud.OkAsync("zone", "show", "OpenNebula"), StringComparison.Ordinal);
        await cloud.OkAsync("zone", "update", "0", cloud.WriteFile("zone.txt", "DESCRIPTION=\"edge\"\n"), "--append");
        Assert.Equal("edge", (await cloud.InfoAsync("one.zone.info", 0)).Element("TEMPLATE")!.Element("DESCRIPTION")!.Value);

        Assert.Equal("ID NAME SIZE AVAIL APPS MAD ZONE STAT\n", await cloud.OkAsync("market", "list"));
        Assert.Equal("ID NAME VERSION SIZE STAT TYPE REGTIME MARKET ZONE\n", await cloud.OkAsync("marketapp", "list"));
        Assert.Equal("MARKETPLACE_POOL", XElement.Parse(await cloud.OkAsync("market", "list", "--xml")).Name.LocalName);
        Assert.Equal("{\n  \"MARKETPLACEAPP_POOL\": {\n    \"MARKETPLACEAPP\": []\n  }\n}\n", await cloud.OkAsync("marketapp", "list", "--json"));
        Assert.Equal("marketplace \"public\" not found", (await cloud.RunAsync("market", "show", "public")).Fails(255));
    }

    [Fact]
    public async Task Zone_raft_shows_a_standalone_front_end_as_solo()
    {
        Assert.Contains("runs alone", await cloud.OkAsync("zone", "raft"), StringComparison.Ordinal);
        var raft = XElement.Parse(await cloud.OkAsync("zone", "raft", "--xml"));
        Assert.Equal("-1", raft.Element("SERVER_ID")!.Value);
        Assert.Equal("0", raft.Element("STATE")!.Value);
    }
}
