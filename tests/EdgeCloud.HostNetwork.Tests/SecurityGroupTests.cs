using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>Security groups checked with real packets between endpoints on one lab host.</summary>
public sealed class SecurityGroupTests
{
    private static readonly SecurityRuleSpec[] SshAndPing =
    [
        new() { SecurityGroupId = 100, Protocol = "TCP", RuleType = "INBOUND", Range = "22" },
        new() { SecurityGroupId = 100, Protocol = "ICMP", RuleType = "INBOUND" },
        new() { SecurityGroupId = 100, Protocol = "ALL", RuleType = "OUTBOUND" },
    ];

    [RequiresRootFact]
    public async Task Inbound_tcp_22_and_icmp_pass_the_rest_is_dropped_replies_to_outbound_pass_updates_apply_live_and_removal_cleans()
    {
        await using var lab = await Lab.StartAsync(hosts: 1);
        var h = lab.Driver(1);
        var nic = Nics.Bridged(5, "onebr.sg", SshAndPing);
        var client = Nics.Bridged(6, "onebr.sg");
        var vm = await lab.AddEndpointAsync(1, "one-5-0", "10.60.0.5/24");
        var other = await lab.AddEndpointAsync(1, "one-6-0", "10.60.0.6/24");
        await h.PreAsync(nic, default);
        await h.PreAsync(client, default);
        await lab.PlugAsync(1, "one-5-0", "onebr.sg");
        await lab.PlugAsync(1, "one-6-0", "onebr.sg");
        await lab.ListenAsync(vm, 22);
        await lab.ListenAsync(vm, 80);
        await lab.ListenAsync(other, 8080);
        // Before any rule everything passes (so the drops below are the group's doing).
        Assert.True(await lab.PingsAsync(other, "10.60.0.5"));
        Assert.True(await lab.ConnectsAsync(other, "10.60.0.5", 80));

        await h.PostAsync(5, nic, default);
        Assert.True(await lab.ConnectsAsync(other, "10.60.0.5", 22), "TCP 22 is allowed inbound");
        Assert.True(await lab.PingsAsync(other, "10.60.0.5"), "ICMP is allowed inbound");
        Assert.False(await lab.ConnectsAsync(other, "10.60.0.5", 80), "TCP 80 is not in the group and must be dropped");
        // Stateful: the VM's own connection to 8080 gets its replies although inbound 8080 is not allowed.
        Assert.True(await lab.ConnectsAsync(vm, "10.60.0.6", 8080), "replies to the VM's outbound connection must pass");

        // The group changes while the VM runs: now only TCP 80 inbound (and nothing outbound).
        var updated = nic with { SecurityRules = [new() { SecurityGroupId = 100, Protocol = "TCP", RuleType = "INBOUND", Range = "80,443" }] };
        await h.UpdateSecurityAsync(5, updated, default);
        Assert.True(await lab.ConnectsAsync(other, "10.60.0.5", 80), "after the update TCP 80 is allowed");
        Assert.False(await lab.ConnectsAsync(other, "10.60.0.5", 22), "after the update TCP 22 is dropped");
        Assert.True(await lab.BlockedAsync(other, "10.60.0.5"), "after the update ICMP is dropped");
        Assert.False(await lab.ConnectsAsync(vm, "10.60.0.6", 8080), "no OUTBOUND rule left: the VM cannot open connections");

        // The VM goes: Clean removes its chains, and with no filtered NIC left, the tables.
        await h.CleanAsync(5, [nic], [client], default);
        var rules = await lab.RulesetAsync(1);
        Assert.DoesNotContain("edgecloud", rules, StringComparison.Ordinal);
        Assert.True(await lab.ConnectsAsync(other, "10.60.0.5", 22));
        Assert.True(await lab.ConnectsAsync(other, "10.60.0.5", 80));
    }

    [RequiresRootFact]
    public async Task Remote_networks_limit_who_may_connect_and_two_filtered_vms_on_one_host_talk_through_both_groups()
    {
        await using var lab = await Lab.StartAsync(hosts: 1);
        var h = lab.Driver(1);
        // VM 7 accepts TCP 22 only from 10.61.0.8 (IP+SIZE 1) and 10.61.0.16/30; VM 8 may only talk outbound TCP 22.
        var server = Nics.Bridged(7, "onebr.sn",
        [
            new() { SecurityGroupId = 101, Protocol = "TCP", RuleType = "INBOUND", Range = "22", Networks = ["10.61.0.8+1", "10.61.0.16/30"] },
        ]);
        var allowed = Nics.Bridged(8, "onebr.sn", [new() { SecurityGroupId = 102, Protocol = "TCP", RuleType = "OUTBOUND", Range = "22" }]);
        var stranger = Nics.Bridged(9, "onebr.sn");
        var srv = await lab.AddEndpointAsync(1, "one-7-0", "10.61.0.7/24");
        var ok = await lab.AddEndpointAsync(1, "one-8-0", "10.61.0.8/24");
        var bad = await lab.AddEndpointAsync(1, "one-9-0", "10.61.0.9/24");
        foreach (var n in new[] { server, allowed, stranger }) await h.PreAsync(n, default);
        foreach (var t in new[] { "one-7-0", "one-8-0", "one-9-0" }) await lab.PlugAsync(1, t, "onebr.sn");
        await lab.ListenAsync(srv, 22);
        await lab.ListenAsync(srv, 23);
        await h.PostAsync(7, server, default);
        await h.PostAsync(8, allowed, default);
        await h.PostAsync(9, stranger, default); // no group: no filtering, no chain

        Assert.True(await lab.ConnectsAsync(ok, "10.61.0.7", 22), "10.61.0.8 is in the rule's networks and its own outbound 22 is allowed");
        Assert.False(await lab.ConnectsAsync(bad, "10.61.0.7", 22), "10.61.0.9 is outside the rule's networks");
        Assert.False(await lab.ConnectsAsync(ok, "10.61.0.7", 23), "VM 8 may not connect out to 23 (and VM 7 does not accept it)");
        Assert.Equal(["one-7-0", "one-8-0"], (await h.NicChainsAsync(default)).Order());

        // The group of VM 7 changes to allow the whole subnet, applied with VM 8's in one batch transaction.
        var wider = server with { SecurityRules = [new() { SecurityGroupId = 101, Protocol = "TCP", RuleType = "INBOUND", Range = "22:23" }] };
        var widerOut = allowed with { SecurityRules = [new() { SecurityGroupId = 102, Protocol = "TCP", RuleType = "OUTBOUND", Range = "22,23" }] };
        await h.UpdateSecurityAsync([(7, wider), (8, widerOut)], default);
        Assert.True(await lab.ConnectsAsync(bad, "10.61.0.7", 22), "after the batch update any address may connect to 22");
        Assert.True(await lab.ConnectsAsync(ok, "10.61.0.7", 23), "after the batch update VM 8 reaches 23 and VM 7 accepts it");
    }
}
