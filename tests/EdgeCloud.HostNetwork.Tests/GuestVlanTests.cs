using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>
/// 802.1Q for real: this host's kernel has no 8021q, so the driver runs, unchanged, inside two TCG
/// guests (their kernel has it) through their serial consoles; the guests' eth0 share one lab wire.
/// </summary>
public sealed class GuestVlanTests
{
    private static NicSpec Vlan(int vlan) => new()
    {
        NicId = 0, Mac = "02:00:00:00:0a:00", Bridge = "", VnMad = "802.1Q", PhyDev = "eth0",
        VlanId = vlan.ToString(System.Globalization.CultureInfo.InvariantCulture), Target = "one-1-0",
    };

    [RequiresRootFact(HostNeeds.Netns | HostNeeds.Qemu)]
    public async Task Same_vlan_reaches_other_vlans_do_not_with_the_drivers_own_commands_in_guests()
    {
        HostPrerequisites.Require(HostNeeds.Netns | HostNeeds.Qemu);
        await TestGuest.ImageAsync();
        await using var lab = await Lab.StartAsync(hosts: 0);
        foreach (var tap in new[] { "gt1", "gt2" })
        {
            await Sh.CheckAsync("ip", "-n", lab.SwitchNs, "tuntap", "add", "dev", tap, "mode", "tap");
            await Sh.CheckAsync("ip", "-n", lab.SwitchNs, "link", "set", tap, "master", "sw0", "up");
        }
        var boot1 = TestGuest.BootAsync("g1", lab.SwitchNs, "gt1", "52:54:00:ec:00:01");
        var boot2 = TestGuest.BootAsync("g2", lab.SwitchNs, "gt2", "52:54:00:ec:00:02");
        await using var g1 = await boot1;
        await using var g2 = await boot2;
        var net1 = new LinuxHostNetwork(new LinuxHostNetworkOptions { Runner = g1 });
        var net2 = new LinuxHostNetwork(new LinuxHostNetworkOptions { Runner = g2 });

        // The plan on a fresh guest (eth0 still down) is exactly the documented command list.
        Assert.Equal(
        [
            "ip link add name onebr.100 up type bridge",
            "ip link set dev onebr.100 alias edgecloud:bridge",
            "ip link set dev eth0 up",
            "ip link add link eth0 name eth0.100 master onebr.100 up type vlan id 100",
            "ip link set dev eth0.100 alias edgecloud:vlan",
        ], (await net1.PlanPreAsync(Vlan(100), default)).Select(c => c.ToString()));

        // Guest 1 on VLAN 100, guest 2 on VLAN 200, one IP subnet: the bridges stand in for the VMs.
        await net1.PreAsync(Vlan(100), default);
        await net2.PreAsync(Vlan(200), default);
        await g1.RunCheckedAsync(HostCommand.Ip("addr", "add", "10.100.0.1/24", "dev", "onebr.100"), default);
        await g2.RunCheckedAsync(HostCommand.Ip("addr", "add", "10.100.0.2/24", "dev", "onebr.200"), default);
        var links = HostLinks.Parse(await g2.RunCheckedAsync(HostCommand.Ip("-j", "-d", "link", "show"), default));
        Assert.Equal(("vlan", 200, "eth0", "onebr.200", true), (links["eth0.200"]?.Kind, links["eth0.200"]?.Id, links["eth0.200"]?.Parent, links["eth0.200"]?.Master, links["eth0.200"]?.Ours));
        // Different VLANs on one wire and one subnet: three pings must all fail.
        var blocked = await g1.RunAsync(new HostCommand("ping", ["-c", "3", "-i", "0.3", "-W", "1", "10.100.0.2"]), default);
        Assert.NotEqual(0, blocked.ExitCode);

        // Guest 2 joins VLAN 100 and leaves VLAN 200: the driver cleans VLAN 200's bridge and device.
        await net2.PreAsync(Vlan(100), default);
        await g2.RunCheckedAsync(HostCommand.Ip("addr", "add", "10.100.0.2/24", "dev", "onebr.100"), default);
        await net2.CleanAsync(1, [Vlan(200)], [Vlan(100)], default);
        links = HostLinks.Parse(await g2.RunCheckedAsync(HostCommand.Ip("-j", "-d", "link", "show"), default));
        Assert.False(links.Has("onebr.200") || links.Has("eth0.200"), "VLAN 200's bridge and device are removed");
        // Watch the lab wire meanwhile: the frames between the guests must carry the 802.1Q tag 100.
        var capture = Sh.RunAsync("ip", "netns", "exec", lab.SwitchNs, "timeout", "30", "tcpdump", "-l", "-e", "-n", "-c", "1", "-i", "sw0", "vlan 100 and icmp");
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var reached = false;
        while (!reached && DateTime.UtcNow < until)
            reached = (await g1.RunAsync(new HostCommand("ping", ["-c", "1", "-W", "1", "10.100.0.2"]), default)).ExitCode == 0;
        Assert.True(reached, $"guest 1 should reach guest 2 on VLAN 100. Guest 2 console:\n{g2.Console[^Math.Min(2000, g2.Console.Length)..]}");
        // tcpdump may still be starting when the first replies pass: keep pinging until it has seen one.
        while (!capture.IsCompleted && DateTime.UtcNow < until + TimeSpan.FromSeconds(15))
            await g1.RunAsync(new HostCommand("ping", ["-c", "1", "-W", "1", "10.100.0.2"]), default);
        var seen = await capture;
        Assert.True(seen.ExitCode == 0, $"tcpdump saw no tagged frame: {seen.Stderr}");
        Assert.Contains("vlan 100", seen.Stdout, StringComparison.Ordinal);
        Assert.Contains("10.100.0.2", seen.Stdout, StringComparison.Ordinal);
    }
}
