using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>Idempotence, clean-up, and the 802.1Q error on a kernel without 8021q, on lab hosts.</summary>
public sealed class LifecycleTests
{
    [RequiresRootFact]
    public async Task Pre_and_post_twice_are_harmless_and_the_second_time_plans_nothing()
    {
        await using var lab = await Lab.StartAsync(hosts: 2);
        var h = lab.Driver(1);
        var nic = Nics.Vxlan(1, 77, "unicast", [Lab.HostIp(2)]) with
        {
            SecurityRules = [new() { Protocol = "TCP", RuleType = "INBOUND", Range = "22" }],
            SecurityGroups = [100],
        };
        await h.PreAsync(nic, default);
        await h.PostAsync(1, nic, default);
        var rules = await lab.RulesetAsync(1);
        await h.PreAsync(nic, default);
        await h.PostAsync(1, nic, default);
        Assert.Empty(await h.PlanPreAsync(nic, default));
        Assert.Equal(rules, await lab.RulesetAsync(1)); // the same chains, not duplicated
        Assert.Single(HostLinks.ParseFloodDestinations(await Sh.CheckAsync("bridge", "-n", lab.HostNs(1), "-j", "fdb", "show", "dev", "eth0.77")));
    }

    [RequiresRootFact]
    public async Task Clean_removes_only_what_no_vm_needs_and_never_what_the_driver_did_not_create()
    {
        await using var lab = await Lab.StartAsync(hosts: 1);
        var h = lab.Driver(1);
        await Sh.CheckAsync("ip", "-n", lab.HostNs(1), "link", "add", "mybr", "type", "bridge"); // the admin's own bridge
        var a = Nics.Vxlan(1, 88, "multicast") with { SecurityRules = [new() { Protocol = "ALL", RuleType = "OUTBOUND" }], SecurityGroups = [0] };
        var b = Nics.Vxlan(2, 88, "multicast") with { SecurityRules = [new() { Protocol = "ICMP", RuleType = "INBOUND" }], SecurityGroups = [0] };
        var c = Nics.Bridged(3, "mybr", [new() { Protocol = "ICMP", RuleType = "INBOUND" }]);
        foreach (var (vm, n) in new[] { (1, a), (2, b), (3, c) })
        {
            await lab.AddEndpointAsync(1, n.Target, $"10.88.0.{vm}/24");
            await h.PreAsync(n, default);
            await lab.PlugAsync(1, n.Target, n.Bridge);
            await h.PostAsync(vm, n, default);
        }

        // VM 1 goes; VM 2 still uses the network: bridge and VXLAN device stay, VM 1's chains go.
        await lab.UnplugAsync(1, "one-1-0");
        await h.CleanAsync(1, [a], [b, c], default);
        var links = await lab.LinksAsync(1);
        Assert.True(links.Has("onebr.88") && links.Has("eth0.88"));
        Assert.Equal(["one-2-0", "one-3-0"], (await h.NicChainsAsync(default)).Order());

        // A wrong "still in use" list cannot pull a bridge from under a running VM: its tap is still a port.
        await h.CleanAsync(2, [b], [c], default);
        links = await lab.LinksAsync(1);
        Assert.True(links.Has("onebr.88"), "VM 2's tap is still in the bridge, so the bridge stays");
        Assert.False(links.Has("eth0.88"), "the VXLAN device nobody lists is removed");

        // VM 2 and VM 3 go: everything the driver made is gone, the admin's bridge stays.
        await lab.UnplugAsync(1, "one-2-0");
        await lab.UnplugAsync(1, "one-3-0");
        await h.CleanAsync(2, [b], [], default);
        await h.CleanAsync(3, [c], [], default);
        links = await lab.LinksAsync(1);
        Assert.Empty(links.All.Where(l => l.Ours).Select(l => l.Name));
        Assert.True(links.Has("mybr"), "a bridge the driver did not create is never removed");
        Assert.DoesNotContain("edgecloud", await lab.RulesetAsync(1), StringComparison.Ordinal);

        // Clean again: nothing to do, no error.
        await h.CleanAsync(2, [b], [], default);
    }

    [RequiresRootFact]
    public async Task Vlan_on_a_host_without_8021q_fails_with_a_clear_error_and_works_where_the_kernel_has_it()
    {
        await using var lab = await Lab.StartAsync(hosts: 1);
        var nic = new NicSpec { NicId = 0, Mac = "02:00:00:00:01:00", Bridge = "", VnMad = "802.1Q", PhyDev = "eth0", VlanId = "100", Target = "one-1-0" };
        var probe = await Sh.RunAsync("ip", "-n", lab.HostNs(1), "link", "add", "link", "eth0", "name", "probe.9", "type", "vlan", "id", "9");
        if (probe.ExitCode == 0)
        {
            await lab.Driver(1).PreAsync(nic, default);
            var links = await lab.LinksAsync(1);
            Assert.Equal(("vlan", 100, "onebr.100"), (links["eth0.100"]?.Kind, links["eth0.100"]?.Id, links["eth0.100"]?.Master));
            return;
        }
        var e = await Assert.ThrowsAsync<HostDriverException>(() => lab.Driver(1).PreAsync(nic, default));
        Assert.StartsWith("the kernel has no 802.1Q support (module 8021q)", e.Message, StringComparison.Ordinal);
        Assert.Contains("ip link add link eth0 name eth0.100", e.Message, StringComparison.Ordinal);
    }
}
