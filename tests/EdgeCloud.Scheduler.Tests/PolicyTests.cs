using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Tests;

public sealed class PolicyTests
{
    public static TheoryData<int> Paths => new() { 1, int.MaxValue };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Striping_spreads_vms_over_hosts_within_one_cycle(int threshold)
    {
        var plan = new Cloud().Hosts(3).Vms(Enumerable.Range(1, 7)).Plan(new SchedulerOptions { Policy = HostPolicy.Striping, IndexThreshold = threshold });
        Assert.Equal([3, 2, 2], plan.Counts().Values);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Striping_prefers_hosts_with_fewer_running_vms()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 0).RunningVm(11, 0).Vm(1).Plan();
        Assert.Equal(1, plan.HostOf(1));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Packing_fills_a_host_before_the_next(int threshold)
    {
        var plan = new Cloud().Hosts(3, cpu: 300).Vms(Enumerable.Range(1, 5)).Plan(new SchedulerOptions { Policy = HostPolicy.Packing, IndexThreshold = threshold });
        Assert.Equal([0, 0, 0, 1, 1], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Packing_prefers_hosts_with_more_running_vms()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 1).Vm(1).Plan(new SchedulerOptions { Policy = HostPolicy.Packing });
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void Load_aware_prefers_the_most_free_cpu_from_monitoring()
    {
        var monitoring = new FakeMonitoring();
        monitoring.Hosts[0] = new HostMonitoring { FreeCpu = 100, UsedCpu = 700 };
        monitoring.Hosts[1] = new HostMonitoring { FreeCpu = 500, UsedCpu = 300 };
        monitoring.Hosts[2] = new HostMonitoring { FreeCpu = 350, UsedCpu = 450 };
        var plan = new Cloud().Hosts(3).Vm(1, cpu: 1).Vm(2, cpu: 1).Vm(3, cpu: 1)
            .Plan(new SchedulerOptions { Policy = HostPolicy.LoadAware }, monitoring);
        // 500 → host 1; then 400 (host 1) vs 350 (host 2) → host 1; then 300 vs 350 → host 2.
        Assert.Equal([1, 1, 2], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Load_aware_without_monitoring_uses_allocated_cpu()
    {
        var plan = new Cloud().Host(0, cpuUsage: 400).Host(1, cpuUsage: 100).Vm(1).Plan(new SchedulerOptions { Policy = HostPolicy.LoadAware });
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void Custom_policy_ranks_with_the_configured_expression()
    {
        var plan = new Cloud()
            .Host(0, template: Cloud.Attr("PRIORITY", "1"))
            .Host(1, template: Cloud.Attr("PRIORITY", "5"))
            .Host(2, template: Cloud.Attr("PRIORITY", "3"))
            .Vm(1)
            .Plan(new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "PRIORITY * 10" });
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void A_vms_sched_rank_overrides_the_default_policy()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 1)
            .Vm(1) // default striping: host 0 (no VMs) over host 1 (one)
            .Vm(2, rank: "RUNNING_VMS") // packing: one VM on each host by now, the tie goes to host 0
            .Vm(3, rank: "- ID") // its own rank: lowest id
            .Vm(4, rank: "RUNNING_VMS * 0 + ID") // highest id
            .Plan();
        Assert.Equal(0, plan.HostOf(1));
        Assert.Equal(0, plan.HostOf(2));
        Assert.Equal(0, plan.HostOf(3));
        Assert.Equal(1, plan.HostOf(4));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Custom_ranks_with_live_counters_are_re_ranked_as_vms_land(int threshold)
    {
        var plan = new Cloud().Host(0, memGiB: 32).Host(1, memGiB: 16).Vms(Enumerable.Range(1, 4), memMb: 4096)
            .Plan(new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "FREE_MEM / 1048576", IndexThreshold = threshold });
        // Free GiB: 32/16 → h0 (28/16) → h0 (24/16) → h0 (20/16) → h0: always host 0 until it is below 16.
        Assert.Equal([0, 0, 0, 0], plan.Placements.Select(p => p.HostId));
        var plan2 = new Cloud().Host(0, memGiB: 20).Host(1, memGiB: 16).Vms(Enumerable.Range(1, 4), memMb: 4096)
            .Plan(new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "FREE_MEM", IndexThreshold = threshold });
        Assert.Equal([0, 0, 1, 0], plan2.Placements.Select(p => p.HostId)); // 20/16 → 16/16 (tie → 0) → 12/16 → 12/12 (tie → 0)
    }

    [Fact]
    public void Ties_go_to_the_lowest_host_id()
    {
        var plan = new Cloud().Host(7).Host(3).Host(5).Vm(1).Plan(new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "1" });
        Assert.Equal(3, plan.HostOf(1));
    }

    [Fact]
    public void Higher_rank_wins_even_with_infinities()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 0).Vm(1, rank: "FREE_CPU / RUNNING_VMS").Plan();
        Assert.Equal(1, plan.HostOf(1)); // 800/0 = +inf beats 700/1
    }
}
