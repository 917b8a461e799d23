using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>LinuxHostNetwork's orchestration with a recording runner (no root): what it reads, what it runs, how it fails.</summary>
public sealed class DriverTests
{
    private const string FreshHost = """[{"ifname":"lo","flags":["UP"]},{"ifname":"eth0","flags":["UP"],"mtu":1500}]""";

    private static (LinuxHostNetwork Net, RecordingCommandRunner Log) Recorded(Func<HostCommand, CommandResult?> answers)
    {
        var log = new RecordingCommandRunner { Answers = answers };
        return (new LinuxHostNetwork(new LinuxHostNetworkOptions { Runner = log }), log);
    }

    private static CommandResult? Links(HostCommand c) =>
        c.ToString() == "ip -j -d link show" ? new CommandResult(0, FreshHost, "") : null;

    [Fact]
    public async Task Pre_reads_the_links_once_then_runs_the_plan_in_order()
    {
        var (net, log) = Recorded(Links);
        await net.PreAsync(new NicSpec { NicId = 0, Mac = "m", Bridge = "br7", VnMad = "bridge", Mtu = 1400 }, default);
        Assert.Equal(
            ["ip -j -d link show", "ip link add name br7 mtu 1400 up type bridge", "ip link set dev br7 alias edgecloud:bridge"],
            log.Commands.Select(c => c.ToString()));
    }

    [Fact]
    public async Task A_kernel_without_8021q_gives_the_clear_error_naming_the_command()
    {
        var (net, _) = Recorded(c => Links(c) ?? (c.Args.Contains("vlan") ? new CommandResult(2, "", "Error: Unknown device type.\n") : null));
        var e = await Assert.ThrowsAsync<HostDriverException>(() =>
            net.PreAsync(new NicSpec { NicId = 0, Mac = "m", Bridge = "", VnMad = "802.1Q", PhyDev = "eth0", VlanId = "100" }, default));
        Assert.Equal("the kernel has no 802.1Q support (module 8021q): `ip link add link eth0 name eth0.100 master onebr.100 up type vlan id 100` failed: Error: Unknown device type.", e.Message);
    }

    [Fact]
    public async Task Any_other_failure_names_the_command_and_its_stderr()
    {
        var (net, _) = Recorded(c => Links(c) ?? (c.Args.Contains("bridge") ? new CommandResult(2, "", "RTNETLINK answers: Operation not permitted\n") : null));
        var e = await Assert.ThrowsAsync<HostDriverException>(() => net.PreAsync(new NicSpec { NicId = 0, Mac = "m", Bridge = "br7" }, default));
        Assert.Equal("`ip link add name br7 up type bridge` failed (exit 2): RTNETLINK answers: Operation not permitted", e.Message);
    }

    [Fact]
    public async Task Post_turns_br_netfilter_on_when_it_is_off_and_sends_one_nft_transaction()
    {
        var (net, log) = Recorded(c => c.ToString() == "sysctl -n net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables" ? new CommandResult(0, "0\n1\n", "") : null);
        var nic = new NicSpec { NicId = 1, Mac = "m", Bridge = "br7", SecurityRules = [new() { Protocol = "TCP", Range = "22" }], SecurityGroups = [3] };
        await net.PostAsync(4, nic, default);
        await net.PostAsync(4, nic, default); // checked once per driver
        var cmds = log.Commands;
        Assert.Equal(
            ["sysctl -n net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables",
             "sysctl -q -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1", "nft -f -", "nft -f -"],
            cmds.Select(c => c.ToString()));
        Assert.Contains("add element bridge edgecloud nic_in { \"one-4-1\" : jump one-4-1-i }", cmds[2].Input, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_without_groups_removes_stale_chains_and_clean_drops_the_tables_with_the_last_nic()
    {
        const string chains = """{"nftables":[{"metainfo":{}},{"chain":{"family":"bridge","table":"edgecloud","name":"one-4-1-i"}},{"chain":{"family":"bridge","table":"edgecloud","name":"one-4-1-o"}},{"chain":{"family":"bridge","table":"edgecloud","name":"forward"}}]}""";
        var (net, log) = Recorded(c => c.ToString() == "nft -j list chains bridge" ? new CommandResult(0, chains, "") : Links(c));
        await net.PostAsync(4, new NicSpec { NicId = 1, Mac = "m", Bridge = "br7" }, default);
        Assert.Equal("add table bridge edgecloud\ndelete table bridge edgecloud\nadd table inet edgecloud\ndelete table inet edgecloud\n", log.Commands[^1].Input);
        await net.CleanAsync(5, [new NicSpec { NicId = 0, Mac = "m", Bridge = "br7" }], [], default);
        Assert.DoesNotContain(log.Commands.Skip(2), c => c.Program == "nft" && c.Input is not null); // VM 5 had no chains: no nft change
    }

    [Fact]
    public void Dummy_networks_ignore_security_groups_like_opennebula()
    {
        var rules = new SecurityRuleSpec[] { new() { Protocol = "TCP", Range = "22" } };
        Assert.False(LinuxHostNetwork.Filtered(new NicSpec { NicId = 0, Mac = "m", Bridge = "b", VnMad = "dummy", SecurityRules = rules }));
        Assert.True(LinuxHostNetwork.Filtered(new NicSpec { NicId = 0, Mac = "m", Bridge = "b", VnMad = "vxlan", SecurityRules = rules }));
        Assert.False(LinuxHostNetwork.Filtered(new NicSpec { NicId = 0, Mac = "m", Bridge = "b", VnMad = "bridge" }));
    }
}
