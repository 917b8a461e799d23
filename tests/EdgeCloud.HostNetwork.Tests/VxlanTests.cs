namespace EdgeCloud.HostNetwork.Tests;

/// <summary>VMs on one VXLAN network across lab hosts reach each other; on different VNIs they do not.</summary>
public sealed class VxlanTests
{
    [RequiresRootFact]
    public async Task Unicast_vms_on_one_vni_reach_each_other_across_hosts_and_other_vnis_are_isolated()
    {
        await using var lab = await Lab.StartAsync(hosts: 2);
        // VM 1 on host 1 and VM 2 on host 2 share VNI 42; VM 3 on host 2 is on VNI 43 in the same IP subnet.
        // Host 1 uses its own address as the TEP (VXLAN_TEP=local_ip); the peer list may name it, it is skipped.
        var nic1 = Nics.Vxlan(1, 42, "unicast", [Lab.HostIp(1), Lab.HostIp(2)]) with { VxlanTep = "local_ip" };
        var nic2 = Nics.Vxlan(2, 42, "unicast", [Lab.HostIp(1)]);
        var nic3 = Nics.Vxlan(3, 43, "unicast", [Lab.HostIp(1)]);
        var vm1 = await lab.AddEndpointAsync(1, "one-1-0", "10.42.0.1/24", 1450);
        var vm2 = await lab.AddEndpointAsync(2, "one-2-0", "10.42.0.2/24", 1450);
        await lab.AddEndpointAsync(2, "one-3-0", "10.42.0.3/24", 1450);
        await lab.Driver(1).PreAsync(nic1, default);
        await lab.Driver(2).PreAsync(nic2, default);
        await lab.Driver(2).PreAsync(nic3, default);
        await lab.PlugAsync(1, "one-1-0", "onebr.42");
        await lab.PlugAsync(2, "one-2-0", "onebr.42");
        await lab.PlugAsync(2, "one-3-0", "onebr.43");

        var links = await lab.LinksAsync(1);
        var vx = links["eth0.42"];
        Assert.NotNull(vx);
        Assert.Equal(("vxlan", 42, false, "onebr.42", "edgecloud:vxlan", Lab.HostIp(1)), (vx.Kind, vx.Id, vx.Learning, vx.Master, vx.Alias, vx.Local));
        Assert.Equal([Lab.HostIp(2)], HostLinks.ParseFloodDestinations(await Sh.CheckAsync("bridge", "-n", lab.HostNs(1), "-j", "fdb", "show", "dev", "eth0.42")));

        Assert.True(await lab.PingsAsync(vm1, "10.42.0.2"), "VM 1 (host 1) should reach VM 2 (host 2) over VNI 42");
        Assert.True(await lab.PingsAsync(vm2, "10.42.0.1"), "VM 2 should reach VM 1");
        Assert.True(await lab.BlockedAsync(vm1, "10.42.0.3"), "VM 3 is on VNI 43: VM 1 (VNI 42) must not reach it");
    }

    [RequiresRootFact]
    public async Task Multicast_vms_on_one_vni_reach_each_other_across_hosts_and_other_vnis_are_isolated()
    {
        await using var lab = await Lab.StartAsync(hosts: 3);
        var vm1 = await lab.AddEndpointAsync(1, "one-1-0", "10.43.0.1/24", 1450);
        var vm2 = await lab.AddEndpointAsync(2, "one-2-0", "10.43.0.2/24", 1450);
        await lab.AddEndpointAsync(3, "one-3-0", "10.43.0.3/24", 1450);
        await lab.Driver(1).PreAsync(Nics.Vxlan(1, 100, "multicast"), default);
        await lab.Driver(2).PreAsync(Nics.Vxlan(2, 100, "multicast"), default);
        await lab.Driver(3).PreAsync(Nics.Vxlan(3, 101, "multicast"), default);
        await lab.PlugAsync(1, "one-1-0", "onebr.100");
        await lab.PlugAsync(2, "one-2-0", "onebr.100");
        await lab.PlugAsync(3, "one-3-0", "onebr.101");

        var vx = (await lab.LinksAsync(1))["eth0.100"];
        Assert.NotNull(vx);
        Assert.Equal(("239.0.0.100", true), (vx.Group, vx.Learning)); // VXLAN_MC 239.0.0.0 + VNI 100
        Assert.Equal("239.0.0.101", (await lab.LinksAsync(3))["eth0.101"]?.Group);

        Assert.True(await lab.PingsAsync(vm1, "10.43.0.2"), "VM 1 should reach VM 2 over multicast VNI 100");
        Assert.True(await lab.PingsAsync(vm2, "10.43.0.1"), "VM 2 should reach VM 1");
        Assert.True(await lab.BlockedAsync(vm1, "10.43.0.3"), "VM 3 is on VNI 101 and must stay unreachable");
    }

    [RequiresRootFact]
    public async Task Unicast_peers_that_change_update_the_flood_entries_and_stale_ones_go()
    {
        await using var lab = await Lab.StartAsync(hosts: 3);
        var h1 = lab.Driver(1);
        await h1.PreAsync(Nics.Vxlan(1, 7, "unicast", [Lab.HostIp(2)]), default);
        Assert.Equal([Lab.HostIp(2)], await FloodAsync(lab));

        // A VM starts on host 3: the agent calls Pre again with the new peer list.
        await h1.PreAsync(Nics.Vxlan(1, 7, "unicast", [Lab.HostIp(2), Lab.HostIp(3)]), default);
        Assert.Equal([Lab.HostIp(2), Lab.HostIp(3)], (await FloodAsync(lab)).Order());

        // The VM on host 2 leaves: its entry is removed, host 3's stays.
        await h1.PreAsync(Nics.Vxlan(1, 7, "unicast", [Lab.HostIp(3)]), default);
        Assert.Equal([Lab.HostIp(3)], await FloodAsync(lab));

        // Reachability follows the entries: host 3's VM is reachable, host 2's VM is not.
        var vm1 = await lab.AddEndpointAsync(1, "one-1-0", "10.7.0.1/24", 1450);
        await lab.AddEndpointAsync(2, "one-2-0", "10.7.0.2/24", 1450);
        await lab.AddEndpointAsync(3, "one-3-0", "10.7.0.3/24", 1450);
        await lab.Driver(2).PreAsync(Nics.Vxlan(2, 7, "unicast", [Lab.HostIp(1)]), default);
        await lab.Driver(3).PreAsync(Nics.Vxlan(3, 7, "unicast", [Lab.HostIp(1)]), default);
        await lab.PlugAsync(1, "one-1-0", "onebr.7");
        await lab.PlugAsync(2, "one-2-0", "onebr.7");
        await lab.PlugAsync(3, "one-3-0", "onebr.7");
        Assert.True(await lab.PingsAsync(vm1, "10.7.0.3"));
        Assert.True(await lab.BlockedAsync(vm1, "10.7.0.2"), "host 2 is no longer a flood peer of host 1");
    }

    private static async Task<string[]> FloodAsync(Lab lab) =>
        [.. HostLinks.ParseFloodDestinations(await Sh.CheckAsync("bridge", "-n", lab.HostNs(1), "-j", "fdb", "show", "dev", "eth0.7"))];
}
