using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Tests;

public sealed class DispatchLimitTests
{
    [Fact]
    public void At_most_max_dispatch_vms_per_cycle_the_rest_wait()
    {
        var plan = new Cloud().Hosts(3).Vms(Enumerable.Range(1, 5)).Plan(new SchedulerOptions { MaxDispatchPerCycle = 2 });
        Assert.Equal([1, 2], plan.Placements.Select(p => p.VmId));
        Assert.Equal([3, 4, 5], plan.Unplaced.Select(u => u.VmId));
        Assert.All(plan.Unplaced, u => Assert.Equal(UnplacedReason.DispatchLimit, u.Reason));
        Assert.Equal("Not scheduled in this cycle: the limit of 2 VMs dispatched per cycle was reached", plan.Unplaced(3).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public void At_most_max_per_host_vms_go_to_one_host_per_cycle(int threshold)
    {
        var plan = new Cloud().Hosts(3).Vms(Enumerable.Range(1, 8))
            .Plan(new SchedulerOptions { Policy = HostPolicy.Packing, MaxPerHostPerCycle = 2, IndexThreshold = threshold });
        Assert.Equal([0, 0, 1, 1, 2, 2], plan.Placements.Select(p => p.HostId));
        Assert.Equal("All matching hosts reached the limit of 2 VMs per host in this cycle: 3 hosts reached the per-host dispatch limit",
            plan.Unplaced(7).Message);
    }

    [Fact]
    public void Migrations_count_against_the_limits()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 0).RunningVm(11, 0, resched: true).Vm(1).Vm(2)
            .Plan(new SchedulerOptions { MaxDispatchPerCycle = 2 });
        Assert.Equal(2, plan.Placements.Count);
        Assert.Empty(plan.Migrations);
    }
}

public sealed class ReschedTests
{
    [Fact]
    public void A_flagged_vm_moves_to_a_better_host()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 0).RunningVm(11, 0).RunningVm(12, 0, resched: true).Plan();
        var m = Assert.Single(plan.Migrations);
        Assert.Equal(new VmMigration(12, 0, 1, 100, false), m);
        Assert.Empty(plan.Placements);
        Assert.Empty(plan.Unplaced);
        Assert.Equal(1, plan.ConsideredVms);
    }

    [Fact]
    public void Live_resched_marks_the_migration_live()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(10, 0).RunningVm(12, 0, resched: true)
            .Plan(new SchedulerOptions { LiveResched = true });
        Assert.True(Assert.Single(plan.Migrations).Live);
    }

    [Fact]
    public void An_equally_good_host_is_not_a_reason_to_move()
    {
        // Host 0 without the VM has 0 VMs, like host 1: no migration (and no ping-pong).
        var plan = new Cloud().Host(0).Host(1).RunningVm(12, 0, resched: true).Plan();
        Assert.Empty(plan.Migrations);
        Assert.Empty(plan.Unplaced);
    }

    [Fact]
    public void A_vm_on_a_host_that_no_longer_matches_moves_anywhere_eligible()
    {
        var plan = new Cloud().Host(0, state: HostState.DISABLED).Host(1).Host(2).RunningVm(20, 1).RunningVm(12, 0, resched: true)
            .Plan(new SchedulerOptions { Policy = HostPolicy.Packing });
        Assert.Equal(1, Assert.Single(plan.Migrations).ToHostId);
    }

    [Fact]
    public void A_move_needs_capacity_and_keeps_the_datastore()
    {
        var plan = new Cloud().Host(0).Host(1, memGiB: 1).Host(2, cluster: 1).RunningVm(10, 0).RunningVm(12, 0, memMb: 2048, resched: true).Plan();
        Assert.Empty(plan.Migrations); // host 1 lacks memory, host 2 cannot reach datastore 100
    }

    [Fact]
    public void Resched_respects_requirements_and_placements_of_the_cycle()
    {
        var plan = new Cloud().Host(0).Host(1).Host(2)
            .RunningVm(10, 0).RunningVm(11, 0)
            .RunningVm(12, 0, resched: true, user: Cloud.Attr("SCHED_REQUIREMENTS", "ID != 1"))
            .Vm(1)
            .Plan();
        Assert.Equal(1, plan.HostOf(1)); // pending VMs go first: host 1 (striping, lower id than host 2)
        Assert.Equal(2, Assert.Single(plan.Migrations).ToHostId);
    }
}

public sealed class ReschedInGroupTests
{
    [Fact]
    public void A_rescheduled_vm_never_gets_a_pending_message()
    {
        // The resched VM is the only placed member of an affined role whose leader (VM 1) cannot be placed.
        var plan = new Cloud().Host(0, memGiB: 2).Host(1, memGiB: 2)
            .Group(0, [Cloud.Role(0, "db", "AFFINED", vms: [10])])
            .RunningVm(10, 0, resched: true)
            .Vm(1, memMb: 8192, template: Cloud.InGroup(0, "db"))
            .Plan();
        Assert.DoesNotContain(plan.Unplaced, u => u.VmId == 10);
        Assert.Equal(UnplacedReason.NoMatchingHost, plan.Unplaced(1).Reason);
    }

    [Fact]
    public void Anti_affinity_does_not_count_the_moving_vm_against_itself()
    {
        var plan = new Cloud().Hosts(3).RunningVm(20, 1).RunningVm(21, 1)
            .Group(0, [Cloud.Role(0, "w", "ANTI_AFFINED", vms: [10, 11])])
            .RunningVm(10, 0).RunningVm(11, 1, resched: true)
            .Plan();
        // Host 1 runs three VMs; host 2 is empty and holds no VM of the role: VM 11 moves there, not to host 0.
        Assert.Equal(new VmMigration(11, 1, 2, 100, false), Assert.Single(plan.Migrations));
    }
}
