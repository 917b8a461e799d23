namespace EdgeCloud.Scheduler.Tests;

public sealed class VmGroupTests
{
    private static readonly SchedulerOptions Packing = new() { Policy = HostPolicy.Packing };

    [Fact]
    public void Anti_affined_role_puts_each_vm_on_its_own_host()
    {
        var plan = new Cloud().Hosts(3)
            .Group(0, [Cloud.Role(0, "workers", "ANTI_AFFINED")])
            .Vms([1, 2, 3, 4], template: Cloud.InGroup(0, "workers"))
            .Plan(Packing);
        Assert.Equal([0, 1, 2], plan.Placements.Select(p => p.HostId));
        Assert.Equal("No host satisfies the rules of role 'workers' of VM group 0: 3 hosts are excluded by the VM group rules", plan.Unplaced(4).Message);
    }

    [Fact]
    public void Anti_affinity_sees_vms_already_running()
    {
        var plan = new Cloud().Hosts(2)
            .Group(0, [Cloud.Role(0, "db", "ANTI_AFFINED", vms: [10])])
            .RunningVm(10, 0)
            .Vm(1, template: Cloud.InGroup(0, "db"))
            .Plan(Packing);
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void Role_membership_can_come_from_the_roles_vm_list_alone()
    {
        var plan = new Cloud().Hosts(3).Group(0, [Cloud.Role(0, "w", "ANTI_AFFINED", vms: [1, 2, 3])]).Vms([1, 2, 3]).Plan(Packing);
        Assert.Equal([0, 1, 2], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Affined_role_puts_its_vms_together()
    {
        var plan = new Cloud().Hosts(3)
            .Group(0, [Cloud.Role(0, "db", "AFFINED")])
            .Vms([1, 2, 3], template: Cloud.InGroup(0, "db"))
            .Plan(); // striping would spread them
        Assert.Single(plan.Counts());
        Assert.Equal(3, plan.Placements.Count);
    }

    [Fact]
    public void Affined_role_joins_its_running_vms()
    {
        var plan = new Cloud().Hosts(3)
            .Group(0, [Cloud.Role(0, "db", "AFFINED", vms: [10])])
            .RunningVm(10, 2)
            .Vms([1, 2], template: Cloud.InGroup(0, "db"))
            .Plan();
        Assert.Equal([2, 2], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void The_leader_of_an_affined_set_needs_room_for_the_whole_set()
    {
        // Packing would pick host 0 (it runs a VM) but only host 1 has room for the three VMs together.
        var plan = new Cloud().Host(0, memGiB: 16).Host(1, memGiB: 16).RunningVm(50, 0, memMb: 6 * 1024)
            .Group(0, [Cloud.Role(0, "db", "AFFINED")])
            .Vms([1, 2, 3], memMb: 4 * 1024, template: Cloud.InGroup(0, "db"))
            .Plan(Packing);
        Assert.Equal([1, 1, 1], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void An_affined_set_that_fits_nowhere_stays_pending_together()
    {
        var plan = new Cloud().Hosts(2, memGiB: 8)
            .Group(0, [Cloud.Role(0, "db", "AFFINED")])
            .Vms([1, 2, 3], memMb: 4 * 1024, template: Cloud.InGroup(0, "db"))
            .Plan();
        Assert.Empty(plan.Placements);
        Assert.Equal("No host with enough capacity for the 3 VMs that must share it (affined role 'db' of VM group 0): 2 hosts lack 12 GiB of free memory",
            plan.Unplaced(1).Message);
        Assert.Equal(UnplacedReason.WaitingForAffinedVm, plan.Unplaced(2).Reason);
        Assert.Equal("Waiting for VM 1, the first VM of the affined role 'db' of VM group 0, to be placed", plan.Unplaced(2).Message);
    }

    [Fact]
    public void Followers_are_placed_right_after_their_leader()
    {
        // VM 2 (no group) comes between the affined VMs 1 and 3 in id order and would take the room on their host.
        var plan = new Cloud().Host(0, memGiB: 8).Host(1, memGiB: 4)
            .Group(0, [Cloud.Role(0, "db", "AFFINED")])
            .Vm(1, memMb: 4096, template: Cloud.InGroup(0, "db"))
            .Vm(2, memMb: 4096)
            .Vm(3, memMb: 4096, template: Cloud.InGroup(0, "db"))
            .Plan(Packing);
        Assert.Equal(0, plan.HostOf(1));
        Assert.Equal(0, plan.HostOf(3));
        Assert.Equal(1, plan.HostOf(2));
        Assert.Equal([1, 3, 2], plan.Placements.Select(p => p.VmId));
    }

    [Fact]
    public void Host_affined_restricts_to_the_listed_hosts()
    {
        var plan = new Cloud().Hosts(5)
            .Group(0, [Cloud.Role(0, "edge", hostAffined: "2, 4")])
            .Vms([1, 2, 3], template: Cloud.InGroup(0, "edge"))
            .Plan();
        Assert.All(plan.Placements, p => Assert.Contains(p.HostId, new[] { 2, 4 }));
        Assert.Equal([2, 4, 2], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Host_anti_affined_avoids_the_listed_hosts()
    {
        var plan = new Cloud().Hosts(3)
            .Group(0, [Cloud.Role(0, "r", hostAntiAffined: "0,1")])
            .Vms([1, 2], template: Cloud.InGroup(0, "r"))
            .Plan(Packing);
        Assert.Equal([2, 2], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Anti_affined_roles_never_share_a_host()
    {
        var plan = new Cloud().Hosts(3)
            .Group(0, [Cloud.Role(0, "web"), Cloud.Role(1, "db")], antiAffined: "web, db")
            .Vms([1, 2], template: Cloud.InGroup(0, "web"))
            .Vms([3, 4], template: Cloud.InGroup(0, "db"))
            .Plan(Packing);
        Assert.Equal([0, 0, 1, 1], plan.Placements.Select(p => p.HostId));
    }

    [Fact]
    public void Anti_affined_roles_see_running_vms_of_the_other_role()
    {
        var plan = new Cloud().Hosts(2)
            .Group(0, [Cloud.Role(0, "web", vms: [10]), Cloud.Role(1, "db")], antiAffined: "web, db")
            .RunningVm(10, 0)
            .Vm(1, template: Cloud.InGroup(0, "db"))
            .Plan(Packing);
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void Affined_roles_share_hosts()
    {
        var plan = new Cloud().Hosts(4)
            .Group(0, [Cloud.Role(0, "web", vms: [10]), Cloud.Role(1, "app"), Cloud.Role(2, "other")], affined: "web, app")
            .RunningVm(10, 3)
            .Vms([1, 2], template: Cloud.InGroup(0, "app"))
            .Vm(3, template: Cloud.InGroup(0, "other"))
            .Plan();
        Assert.Equal(3, plan.HostOf(1));
        Assert.Equal(3, plan.HostOf(2));
        Assert.Equal(0, plan.HostOf(3));
    }

    [Fact]
    public void Affined_rules_that_share_a_role_are_merged()
    {
        var plan = new Cloud().Hosts(4)
            .Group(0, [Cloud.Role(0, "a"), Cloud.Role(1, "b"), Cloud.Role(2, "c")], affined: "a, b", antiAffined: null, "AFFINED = b, c")
            .Vm(1, template: Cloud.InGroup(0, "a"))
            .Vm(2, template: Cloud.InGroup(0, "c"))
            .Vm(3, template: Cloud.InGroup(0, "b"))
            .Plan();
        Assert.Single(plan.Counts());
    }

    [Fact]
    public void Group_rules_combine_with_the_vms_own_requirements()
    {
        var plan = new Cloud().Hosts(4)
            .Group(0, [Cloud.Role(0, "w", "ANTI_AFFINED", hostAntiAffined: "3")])
            .Vms([1, 2, 3], template: Cloud.InGroup(0, "w"), requirements: "ID > 0")
            .Plan(Packing);
        Assert.Equal([1, 2], plan.Placements.Select(p => p.HostId));
        // Hosts 1 and 2 hold the role's VMs, host 3 is HOST_ANTI_AFFINED, host 0 fails ID > 0.
        Assert.Equal("No host satisfies the rules of role 'w' of VM group 0: 3 hosts are excluded by the VM group rules, 1 does not satisfy SCHED_REQUIREMENTS",
            plan.Unplaced(3).Message);
    }

    [Fact]
    public void A_vm_naming_a_missing_group_or_role_is_left_pending_with_a_message()
    {
        var plan = new Cloud().Hosts(1).Group(0, [Cloud.Role(0, "web")])
            .Vm(1, template: Cloud.InGroup(9, "web"))
            .Vm(2, template: Cloud.InGroup(0, "nope"))
            .Vm(3, template: t =>
            {
                var v = new Core.Templates.VectorAttribute("VMGROUP");
                v.Set("VMGROUP_NAME", "group0");
                v.Set("ROLE", "web");
                t.Set(v);
            })
            .Plan();
        Assert.Equal("VM group 9 does not exist", plan.Unplaced(1).Message);
        Assert.Equal(UnplacedReason.InvalidVmGroup, plan.Unplaced(1).Reason);
        Assert.Equal("VM group 0 has no role 'nope'", plan.Unplaced(2).Message);
        Assert.Equal(0, plan.HostOf(3)); // by name
    }
}
