using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>
/// NIC_ALIAS on the wire: a VM's NIC carries a public alias address on the same interface, as the
/// guest's contextualization configures it (NetworkPlan.GuestAddresses, run inside the endpoint that
/// stands in for the guest). Another VM on the bridge reaches the alias address; an EXTERNAL alias is
/// not put on the interface.
/// </summary>
public sealed class AliasTests
{
    [RequiresRootFact]
    public async Task Alias_address_is_on_the_parent_interface_and_reachable_and_an_external_alias_is_not_configured()
    {
        await using var lab = await Lab.StartAsync(hosts: 1);
        var nic = Nics.Bridged(5, "onebr9") with
        {
            Ip = "10.61.0.5", PrefixLength = 24,
            Aliases =
            [
                new NicAliasSpec { NicId = 1, AliasId = 0, Ip = "192.0.2.10", PrefixLength = 24, Mac = "02:00:c0:00:02:0a" },
                new NicAliasSpec { NicId = 2, AliasId = 1, Ip = "198.51.100.7", PrefixLength = 24, External = true },
            ],
        };
        var other = Nics.Bridged(6, "onebr9");
        // The guest stand-ins start without the VM's addresses: the alias plan gives them.
        var vm5 = await lab.AddEndpointAsync(1, "one-5-0", "169.254.5.5/32");
        var vm6 = await lab.AddEndpointAsync(1, "one-6-0", "192.0.2.20/24");
        await lab.Driver(1).PreAsync(nic, default);
        await lab.Driver(1).PreAsync(other, default);
        await lab.PlugAsync(1, "one-5-0", "onebr9");
        await lab.PlugAsync(1, "one-6-0", "onebr9");

        var plan = NetworkPlan.GuestAddresses(nic, "eth0");
        Assert.Equal(
            ["ip addr replace 10.61.0.5/24 dev eth0", "ip addr replace 192.0.2.10/24 dev eth0", "ip link set dev eth0 up"],
            plan.Select(c => c.ToString()));
        var guest = new ProcessCommandRunner(vm5);
        foreach (var c in plan)
        {
            var r = await guest.RunAsync(c, default);
            Assert.True(r.ExitCode == 0, $"{c}: {r.Stderr}");
        }

        var addrs = await Sh.CheckAsync("ip", "-n", vm5, "-4", "-o", "addr", "show", "dev", "eth0");
        Assert.Contains("10.61.0.5/24", addrs, StringComparison.Ordinal);
        Assert.Contains("192.0.2.10/24", addrs, StringComparison.Ordinal);
        Assert.DoesNotContain("198.51.100.7", addrs, StringComparison.Ordinal);
        Assert.True(await lab.PingsAsync(vm6, "192.0.2.10"), "VM 6 should reach VM 5's alias address 192.0.2.10 over the bridge");
        Assert.True(await lab.BlockedAsync(vm6, "192.0.2.11"), "an address that is no alias must not answer");
    }
}
