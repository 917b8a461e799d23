using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>The commands and rules the driver generates (no root needed).</summary>
public sealed class PlanTests
{
    private static readonly HostLinks Bare = new([new HostLink { Name = "lo", Up = true }, new HostLink { Name = "eth0", Up = true, Mtu = 1500 }]);

    private static string[] Lines(IEnumerable<HostCommand> cmds) => [.. cmds.Select(c => c.ToString())];

    [Fact]
    public void A_vlan_network_on_a_fresh_host_is_a_marked_bridge_and_a_marked_vlan_device_in_it()
    {
        var nic = new NicSpec { NicId = 0, Mac = "m", Bridge = "", VnMad = "802.1Q", PhyDev = "eth0", VlanId = "100", Mtu = 1400 };
        Assert.Equal(
        [
            "ip link add name onebr.100 mtu 1400 up type bridge",
            "ip link set dev onebr.100 alias edgecloud:bridge",
            "ip link add link eth0 name eth0.100 mtu 1400 master onebr.100 up type vlan id 100",
            "ip link set dev eth0.100 alias edgecloud:vlan",
        ], Lines(NetworkPlan.Pre(nic, Bare)));
    }

    [Fact]
    public void Vxlan_multicast_uses_the_opennebula_group_and_unicast_uses_nolearning_and_flood_entries()
    {
        var mc = new NicSpec { NicId = 0, Mac = "m", Bridge = "onebr.300", VnMad = "vxlan", PhyDev = "eth0", VlanId = "300" };
        Assert.Contains("ip link add name eth0.300 master onebr.300 up type vxlan id 300 group 239.0.1.44 dev eth0 ttl 16 dstport 4789", Lines(NetworkPlan.Pre(mc, Bare)));
        Assert.Equal("239.0.1.44", NetworkPlan.VxlanGroup("239.0.0.0", 300));
        Assert.Contains("group 239.9.9.9", string.Join('\n', Lines(NetworkPlan.Pre(mc with { VxlanGroup = "239.9.9.9" }, Bare))));

        var uc = mc with { VxlanMode = "unicast", VxlanPeers = ["10.0.0.2", "10.0.0.3"] };
        var lines = Lines(NetworkPlan.Pre(uc, Bare, localTep: "10.0.0.1"));
        Assert.Contains("ip link add name eth0.300 master onebr.300 up type vxlan id 300 dev eth0 nolearning local 10.0.0.1 dstport 4789", lines);
        Assert.Equal(["bridge fdb append 00:00:00:00:00:00 dev eth0.300 dst 10.0.0.2", "bridge fdb append 00:00:00:00:00:00 dev eth0.300 dst 10.0.0.3"], lines[^2..]);
    }

    [Fact]
    public void Flood_entries_are_synced_both_ways_and_the_local_tep_is_never_a_peer()
    {
        Assert.Equal(
            ["bridge fdb append 00:00:00:00:00:00 dev vx dst 10.0.0.4", "bridge fdb del 00:00:00:00:00:00 dev vx dst 10.0.0.2"],
            Lines(NetworkPlan.Fdb("vx", ["10.0.0.3", "10.0.0.4", "10.0.0.1"], ["10.0.0.2", "10.0.0.3"], localTep: "10.0.0.1")));
        Assert.Throws<HostDriverException>(() => NetworkPlan.Fdb("vx", ["host-2"], []));
    }

    [Fact]
    public void Existing_devices_are_reused_and_foreign_ones_are_reported_not_replaced()
    {
        var nic = new NicSpec { NicId = 0, Mac = "m", Bridge = "br0", VnMad = "bridge", Mtu = 9000 };
        var links = new HostLinks([new HostLink { Name = "br0", Kind = "bridge", Mtu = 1500, Up = false }]);
        Assert.Equal(["ip link set dev br0 mtu 9000", "ip link set dev br0 up"], Lines(NetworkPlan.Pre(nic, links)));
        var notBridge = new HostLinks([new HostLink { Name = "br0", Kind = "veth" }]);
        Assert.Contains("is not a bridge", Assert.Throws<HostDriverException>(() => NetworkPlan.Pre(nic, notBridge)).Message);
        var vx = new NicSpec { NicId = 0, Mac = "m", Bridge = "b", VnMad = "vxlan", PhyDev = "eth9", VlanId = "5" };
        Assert.Contains("PHYDEV \"eth9\" does not exist", Assert.Throws<HostDriverException>(() => NetworkPlan.Pre(vx, Bare)).Message);
        var longName = vx with { PhyDev = "enp0s31f6abcdef" };
        Assert.Contains("not a valid Linux interface name", Assert.Throws<HostDriverException>(() => NetworkPlan.DeviceName(longName)).Message);
        Assert.Contains("not a valid 802.1Q VLAN id", Assert.Throws<HostDriverException>(() => NetworkPlan.Pre(vx with { VnMad = "802.1Q", PhyDev = "eth0", VlanId = "5000" }, Bare)).Message);
        Assert.Empty(NetworkPlan.Pre(nic with { VnMad = "dummy" }, HostLinks.Empty));
    }

    [Fact]
    public void Clean_deletes_only_marked_devices_that_no_remaining_nic_uses_and_bridges_without_ports()
    {
        var a = new NicSpec { NicId = 0, Mac = "m", Bridge = "onebr.5", VnMad = "vxlan", PhyDev = "eth0", VlanId = "5" };
        var links = new HostLinks(
        [
            new HostLink { Name = "onebr.5", Kind = "bridge", Alias = "edgecloud:bridge" },
            new HostLink { Name = "eth0.5", Kind = "vxlan", Master = "onebr.5", Alias = "edgecloud:vxlan" },
        ]);
        Assert.Equal(["ip link del dev eth0.5", "ip link del dev onebr.5"], Lines(NetworkPlan.Clean([a], [], links)));
        Assert.Empty(NetworkPlan.Clean([a], [a with { NicId = 1 }], links));
        var foreign = new HostLinks([new HostLink { Name = "onebr.5", Kind = "bridge" }, new HostLink { Name = "eth0.5", Kind = "vxlan", Master = "onebr.5" }]);
        Assert.Empty(NetworkPlan.Clean([a], [], foreign));
        var withTap = new HostLinks([.. links.All, new HostLink { Name = "one-9-0", Kind = "tun", Master = "onebr.5" }]);
        Assert.Equal(["ip link del dev eth0.5"], Lines(NetworkPlan.Clean([a], [], withTap)));
    }

    [Fact]
    public void Rules_translate_protocols_ports_and_networks()
    {
        Assert.Equal(["meta l4proto tcp th dport 22"], SecurityRules.Translate(new() { Protocol = "TCP", Range = "22" }, true));
        Assert.Equal(["meta l4proto udp th dport { 53, 1000-2000 }"], SecurityRules.Translate(new() { Protocol = "udp", Range = "53,1000:2000" }, true));
        Assert.Equal(["meta l4proto icmp icmp type 8"], SecurityRules.Translate(new() { Protocol = "ICMP", IcmpType = 8 }, true));
        Assert.Equal(["meta l4proto ipv6-icmp"], SecurityRules.Translate(new() { Protocol = "ICMPv6" }, true));
        Assert.Equal(["meta l4proto { esp, ah }"], SecurityRules.Translate(new() { Protocol = "IPSEC" }, true));
        Assert.Equal(
            ["meta l4proto tcp ip saddr { 10.0.0.5-10.0.0.14, 10.1.0.0/16 }", "meta l4proto tcp ip6 saddr 2001:db8::/64"],
            SecurityRules.Translate(new() { Protocol = "TCP", Networks = ["10.0.0.5+10", "10.1.2.3/16", "2001:db8::/64"] }, inbound: true));
        Assert.Equal(["ip daddr 10.0.0.1-10.0.0.3"], SecurityRules.Translate(new() { Protocol = "ALL", Networks = ["10.0.0.1-10.0.0.3"] }, inbound: false));
        Assert.Equal(["meta l4proto icmp ip saddr 10.0.0.1"], SecurityRules.Translate(new() { Protocol = "ICMP", Networks = ["10.0.0.1", "::1"] }, true));
        Assert.Throws<HostDriverException>(() => SecurityRules.Translate(new() { Protocol = "GRE" }, true));
        Assert.Throws<HostDriverException>(() => SecurityRules.Ports("22:10"));
        Assert.Throws<HostDriverException>(() => SecurityRules.Ports("ssh"));
        Assert.Throws<HostDriverException>(() => SecurityRules.Networks(["10.0.0.300/24"]));
    }

    [Fact]
    public void A_nic_transaction_rewrites_both_chains_atomically_and_splits_rules_by_direction()
    {
        var script = SecurityRules.Apply("one-5-0",
        [
            new() { Protocol = "TCP", RuleType = "INBOUND", Range = "22" },
            new() { Protocol = "UDP", RuleType = "OUTBOUND", Range = "53" },
        ]);
        var lines = script.Split('\n');
        Assert.Contains("flush chain bridge edgecloud one-5-0-i", lines);
        Assert.Contains("add rule bridge edgecloud one-5-0-i meta l4proto tcp th dport 22 return", lines);
        Assert.Contains("add rule bridge edgecloud one-5-0-o meta l4proto udp th dport 53 return", lines);
        Assert.DoesNotContain("add rule bridge edgecloud one-5-0-o meta l4proto tcp th dport 22 return", lines);
        Assert.Contains("add element bridge edgecloud nic_in { \"one-5-0\" : jump one-5-0-i }", lines);
        Assert.Equal("add rule bridge edgecloud one-5-0-i counter drop", lines.Last(l => l.Contains("one-5-0-i ", StringComparison.Ordinal) && l.StartsWith("add rule", StringComparison.Ordinal)));
    }

    [Fact]
    public void Ip_link_json_is_read_with_kind_ids_alias_and_learning()
    {
        const string json = """
            [{"ifname":"eth0.42","flags":["BROADCAST","UP"],"mtu":1450,"master":"onebr.42","ifalias":"edgecloud:vxlan",
              "linkinfo":{"info_kind":"vxlan","info_data":{"id":42,"link":"eth0","learning":false,"port":4789}}},
             {"ifname":"onebr.42","flags":["BROADCAST"],"mtu":1450,"linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0}}}]
            """;
        var links = HostLinks.Parse(json);
        var vx = links["eth0.42"]!;
        Assert.Equal(("vxlan", 42, "eth0", false, true, true, 1450), (vx.Kind, vx.Id, vx.Parent, vx.Learning, vx.Ours, vx.Up, vx.Mtu));
        Assert.False(links["onebr.42"]!.Up);
        Assert.Equal(["eth0.42"], links.PortsOf("onebr.42").Select(l => l.Name));
        Assert.Equal(["10.0.0.2"], HostLinks.ParseFloodDestinations("""[{"mac":"00:00:00:00:00:00","dst":"10.0.0.2"},{"mac":"02:00:00:00:00:01","dst":"10.0.0.3"}]"""));
    }
}
