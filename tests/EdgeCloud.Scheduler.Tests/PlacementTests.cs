using System.Collections.Immutable;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Tests;

public sealed class PlacementTests
{
    /// <summary>Both selection paths (per-VM scan and shared rank index) must give the same plans.</summary>
    public static TheoryData<int> Paths => new() { 1, int.MaxValue };

    [Fact]
    public void A_pending_vm_gets_a_host_and_the_system_datastore_of_its_cluster()
    {
        var plan = new Cloud().Host(0).Vm(1).Plan();
        var p = plan.Placement(1);
        Assert.Equal(0, p.HostId);
        Assert.Equal(100, p.DatastoreId);
        Assert.Empty(plan.Unplaced);
        Assert.Equal(1, plan.ConsideredVms);
        Assert.Equal(7, plan.SnapshotVersion);
    }

    [Fact]
    public void Only_pending_and_resched_running_vms_are_considered()
    {
        var cloud = new Cloud().Host(0).Host(1).Vm(1).RunningVm(2, 0).EditVm(1, v => v).Vm(3)
            .EditVm(3, v => v with { State = VmState.HOLD });
        var plan = cloud.Plan();
        Assert.Equal(1, plan.ConsideredVms);
        Assert.Single(plan.Placements);
        Assert.Equal([1], PlacementEngine.SelectVms(cloud.Snapshot()).Select(v => v.Id));
    }

    [Theory]
    [InlineData(HostState.DISABLED)]
    [InlineData(HostState.OFFLINE)]
    [InlineData(HostState.ERROR)]
    [InlineData(HostState.INIT)]
    [InlineData(HostState.MONITORING_MONITORED)]
    public void Only_monitored_hosts_are_eligible(HostState state)
    {
        var plan = new Cloud().Host(0, state: state).Host(1, state: state).Host(2).Vms([1, 2, 3]).Plan();
        Assert.All(plan.Placements, p => Assert.Equal(2, p.HostId));
        Assert.Equal(3, plan.Placements.Count);
    }

    [Fact]
    public void No_eligible_host_leaves_the_vm_pending_with_the_states_counted()
    {
        var plan = new Cloud().Host(0, state: HostState.DISABLED).Host(1, state: HostState.OFFLINE)
            .Host(2, state: HostState.ERROR).Host(3, state: HostState.INIT).Host(4, state: HostState.DISABLED).Vm(1).Plan();
        var u = plan.Unplaced(1);
        Assert.Equal(UnplacedReason.NoMatchingHost, u.Reason);
        Assert.Equal("No host is available: 2 hosts are disabled, 1 is offline, 1 is in error, 1 is not monitored yet", u.Message);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Two_vms_that_each_fit_but_not_together_never_share_a_host(int threshold)
    {
        // Packing prefers the host the first VM went to; it must notice that host is now full.
        var options = new SchedulerOptions { Policy = HostPolicy.Packing, IndexThreshold = threshold };
        var plan = new Cloud().Host(0, memGiB: 16, memUsageGiB: 6).Host(1, memGiB: 16, memUsageGiB: 6)
            .Vm(1, memMb: 6 * 1024).Vm(2, memMb: 6 * 1024).Plan(options);
        Assert.Equal(2, plan.Placements.Count);
        Assert.NotEqual(plan.HostOf(1), plan.HostOf(2));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Cpu_is_accounted_within_the_cycle(int threshold)
    {
        var options = new SchedulerOptions { Policy = HostPolicy.Packing, IndexThreshold = threshold };
        var plan = new Cloud().Host(0, cpu: 400, cpuUsage: 100).Vms([1, 2, 3, 4], cpu: 1).Plan(options);
        Assert.Equal([1, 2, 3], plan.Placements.Select(p => p.VmId));
        Assert.Equal("No host with enough capacity: 1 host lacks 1 free CPU", plan.Unplaced(4).Message);
    }

    [Fact]
    public void Fractional_cpu_is_in_percent()
    {
        var plan = new Cloud().Host(0, cpu: 100).Vms([1, 2], cpu: 0.5).Vm(3, cpu: 0.25).Plan();
        Assert.Equal(2, plan.Placements.Count);
        Assert.Equal("No host with enough capacity: 1 host lacks 0.25 free CPU", plan.Unplaced(3).Message);
    }

    [Fact]
    public void Memory_is_mebibytes_compared_with_kibibytes_of_the_host()
    {
        var plan = new Cloud().Host(0, memGiB: 4).Vm(1, memMb: 4096).Vm(2, memMb: 1).Plan();
        Assert.Equal(0, plan.HostOf(1));
        Assert.Equal("No host with enough capacity: 1 host lacks 1 MiB of free memory", plan.Unplaced(2).Message);
    }

    [Fact]
    public void Existing_usage_of_the_host_counts()
    {
        var plan = new Cloud().Host(0, memGiB: 16, memUsageGiB: 15).Host(1, memGiB: 16, memUsageGiB: 10).Vm(1, memMb: 4096).Plan();
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void Automatic_requirements_tie_the_vm_to_its_cluster()
    {
        var plan = new Cloud().Hosts(3, 0, cluster: 0).Hosts(3, 10, cluster: 1)
            .Vm(1, template: Cloud.Attr("AUTOMATIC_REQUIREMENTS", "(CLUSTER_ID = 1) & !(PUBLIC_CLOUD = YES) & !(PIN_POLICY = PINNED)"))
            .Plan();
        var p = plan.Placement(1);
        Assert.InRange(p.HostId, 10, 12);
        Assert.Equal(101, p.DatastoreId);
    }

    [Fact]
    public void Sched_requirements_can_pick_clusters_and_hosts()
    {
        var plan = new Cloud().Hosts(3, 0, cluster: 0).Hosts(3, 10, cluster: 100)
            .Vm(1, requirements: "CLUSTER_ID = 100")
            .Vm(2, requirements: "ID = 1 | ID = 3")
            .Vm(3, requirements: "NAME = \"host1?\" & ID > 10")
            .Plan();
        Assert.InRange(plan.HostOf(1), 10, 12);
        Assert.Equal(1, plan.HostOf(2));
        Assert.InRange(plan.HostOf(3), 11, 12);
    }

    [Fact]
    public void Requirements_see_host_template_share_and_cluster_template()
    {
        var plan = new Cloud()
            .Host(0, template: Cloud.Attr("HYPERVISOR", "lxc"))
            .Host(1, template: t => { t.Set("HYPERVISOR", "kvm"); t.Set("HOSTNAME", "edge-bcn-01"); })
            .Host(2, cluster: 5, template: Cloud.Attr("HYPERVISOR", "kvm"))
            .ClusterTemplate(5, "QOS", "GOLD")
            .Vm(1, requirements: "HYPERVISOR = kvm & HOSTNAME = \"edge*\"")
            .Vm(2, requirements: "QOS = GOLD")
            .Vm(3, requirements: "MAX_CPU > 700 & HYPERVISOR != lxc & CLUSTER = \"cluster0\"")
            .Vm(4, requirements: "HOSTNAME = \"host00\"")
            .Plan();
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal(2, plan.HostOf(2));
        Assert.Equal(1, plan.HostOf(3));
        Assert.Equal(0, plan.HostOf(4)); // no HOSTNAME in its template: the host's name answers
    }

    [Fact]
    public void Requirements_with_live_counters_see_this_cycles_placements()
    {
        // RUNNING_VMS < 2 is re-evaluated as VMs land: no host gets a third VM.
        var plan = new Cloud().Hosts(2).Vms(Enumerable.Range(1, 6), requirements: "RUNNING_VMS < 2")
            .Plan(new SchedulerOptions { Policy = HostPolicy.Packing });
        Assert.Equal(4, plan.Placements.Count);
        Assert.All(plan.Counts().Values, n => Assert.Equal(2, n));
    }

    [Fact]
    public void Current_vms_lists_vms_running_and_placed_on_the_host()
    {
        var plan = new Cloud().Host(0).Host(1).RunningVm(50, 1).Vm(1, requirements: "CURRENT_VMS @> 50").Plan();
        Assert.Equal(1, plan.HostOf(1));
    }

    [Fact]
    public void The_vm_needs_a_system_datastore_in_the_hosts_cluster()
    {
        var plan = new Cloud().Host(0, noDefaultDs: true).Host(1, cluster: 1).ImageDs(1, [0]).Vm(1).Vm(2, requirements: "CLUSTER_ID = 0").Plan();
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal("No host in cluster 0 with a usable system datastore: 1 host has no usable system datastore, 1 does not satisfy SCHED_REQUIREMENTS",
            plan.Unplaced(2).Message);
    }

    [Fact]
    public void Disabled_system_datastores_are_not_used()
    {
        var plan = new Cloud().Host(0).SystemDs(100, [0], state: DatastoreState.DISABLED).SystemDs(105, [0]).Vm(1).Plan();
        Assert.Equal(105, plan.Placement(1).DatastoreId);
    }

    [Fact]
    public void The_datastore_must_have_room_for_the_system_disks()
    {
        var plan = new Cloud().Host(0).Host(1, cluster: 1)
            .SystemDs(100, [0], freeMb: 10 * 1024).SystemDs(101, [1], freeMb: 100 * 1024)
            .Vm(1, template: Cloud.Disk(50 * 1024))
            .Plan();
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal(101, plan.Placement(1).DatastoreId);
    }

    [Fact]
    public void Only_disks_that_live_on_the_system_datastore_count()
    {
        var vm = Cloud.Disk(30 * 1024, cloneTarget: "SELF", imageId: 4) + Cloud.Disk(30 * 1024, cloneTarget: "NONE", imageId: 5)
                 + Cloud.Disk(2 * 1024, cloneTarget: "SYSTEM", imageId: 6) + Cloud.Disk(1024);
        var plan = new Cloud().Host(0).SystemDs(100, [0], freeMb: 3 * 1024).Vm(1, template: vm).Vm(2, template: Cloud.Disk(1024)).Plan();
        Assert.Equal(0, plan.HostOf(1)); // 3 GiB counted: exactly fits
        Assert.Equal("No host with a usable system datastore: 1 host has no system datastore with 1 GiB free", plan.Unplaced(2).Message);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Datastore_space_is_accounted_within_the_cycle(int threshold)
    {
        var plan = new Cloud().Hosts(2).SystemDs(100, [0], freeMb: 15 * 1024)
            .Vm(1, template: Cloud.Disk(10 * 1024)).Vm(2, template: Cloud.Disk(10 * 1024)).Vm(3, template: Cloud.Disk(5 * 1024))
            .Plan(new SchedulerOptions { IndexThreshold = threshold });
        Assert.Equal([1, 3], plan.Placements.Select(p => p.VmId));
        Assert.Equal(UnplacedReason.NoMatchingHost, plan.Unplaced(2).Reason);
    }

    [Fact]
    public void Host_local_datastore_monitoring_gives_the_free_space_per_host()
    {
        var monitoring = new FakeMonitoring();
        monitoring.Hosts[0] = new HostMonitoring { Datastores = ImmutableSortedDictionary<int, (long, long, long)>.Empty.Add(100, (100_000, 5 * 1024, 0)) };
        monitoring.Hosts[1] = new HostMonitoring { Datastores = ImmutableSortedDictionary<int, (long, long, long)>.Empty.Add(100, (100_000, 50 * 1024, 0)) };
        var plan = new Cloud().Host(0).Host(1).SystemDs(100, [0], freeMb: 0, tm: "ssh")
            .Vm(1, template: Cloud.Disk(20 * 1024)).Vm(2, template: Cloud.Disk(20 * 1024)).Vm(3, template: Cloud.Disk(20 * 1024))
            .Plan(monitoring: monitoring);
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal(1, plan.HostOf(2));
        Assert.Equal(UnplacedReason.NoMatchingHost, plan.Unplaced(3).Reason); // 10 GiB left on host 1, 5 GiB on host 0
    }

    [Fact]
    public void Datastore_requirements_and_rank()
    {
        var cloud = new Cloud().Host(0)
            .SystemDs(100, [0], freeMb: 500_000, template: Cloud.Attr("MODE", "slow"))
            .SystemDs(101, [0], freeMb: 100_000, template: Cloud.Attr("MODE", "fast"))
            .SystemDs(102, [0], freeMb: 200_000, template: Cloud.Attr("MODE", "fast"))
            .Vm(1, user: Cloud.Attr("SCHED_DS_REQUIREMENTS", "MODE = fast"))
            .Vm(2, user: t => { t.Set("SCHED_DS_REQUIREMENTS", "MODE = fast"); t.Set("SCHED_DS_RANK", "- FREE_MB"); })
            .Vm(3, user: Cloud.Attr("SCHED_DS_REQUIREMENTS", "ID = 100 | NAME = \"system102\""))
            .Vm(4, user: Cloud.Attr("SCHED_DS_REQUIREMENTS", "MODE = nvme"));
        var plan = cloud.Plan();
        Assert.Equal(102, plan.Placement(1).DatastoreId); // striping: most free
        Assert.Equal(101, plan.Placement(2).DatastoreId); // its own rank: least free
        Assert.Equal(100, plan.Placement(3).DatastoreId);
        Assert.Equal("No host with a usable system datastore: 1 host has no usable system datastore that satisfies SCHED_DS_REQUIREMENTS",
            plan.Unplaced(4).Message);
    }

    [Theory]
    [InlineData(DatastorePolicy.Striping, 101)]
    [InlineData(DatastorePolicy.Packing, 100)]
    public void Datastore_policies(DatastorePolicy policy, int expected)
    {
        var plan = new Cloud().Host(0).SystemDs(100, [0], freeMb: 100_000).SystemDs(101, [0], freeMb: 200_000).Vm(1)
            .Plan(new SchedulerOptions { DatastorePolicy = policy });
        Assert.Equal(expected, plan.Placement(1).DatastoreId);
    }

    [Fact]
    public void Custom_datastore_policy()
    {
        var plan = new Cloud().Host(0).SystemDs(100, [0], template: Cloud.Attr("WEIGHT", "1")).SystemDs(101, [0], template: Cloud.Attr("WEIGHT", "9")).Vm(1)
            .Plan(new SchedulerOptions { DatastorePolicy = DatastorePolicy.Custom, DatastoreRank = "WEIGHT" });
        Assert.Equal(101, plan.Placement(1).DatastoreId);
    }

    [Fact]
    public void A_resumed_vm_keeps_its_system_datastore()
    {
        var plan = new Cloud().Host(0).Host(1, cluster: 1).SystemDs(105, [1], freeMb: 5_000_000)
            .Vm(1).EditVm(1, v => v with { PrevState = VmState.UNDEPLOYED, History = [new HistoryRecord { Hid = 0, DsId = 105 }] })
            .Plan();
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal(105, plan.Placement(1).DatastoreId);
    }

    [Fact]
    public void Pci_devices_are_matched_and_each_used_once()
    {
        var gpuHost = Cloud.Pci("10de", "1eb8", "0302", "01:00.0") + Cloud.Pci("10DE", "1eb8", "0302", "02:00.0") + Cloud.Pci("8086", "1572", "0200", "03:00.0");
        var plan = new Cloud().Host(0).Host(1, template: gpuHost).Host(2, template: Cloud.Pci("10de", "1eb8", "0302", "01:00.0", vmid: 9))
            .Vm(1, template: Cloud.Pci("0x10de"))
            .Vm(2, template: Cloud.Pci(vendor: "10de", device: "1eb8"))
            .Vm(3, template: Cloud.Pci(cls: "0302"))
            .Vm(4, template: Cloud.Pci(cls: "0200"))
            .Plan();
        Assert.Equal(1, plan.HostOf(1));
        Assert.Equal(["01:00.0"], plan.Placement(1).PciDevices);
        Assert.Equal(["02:00.0"], plan.Placement(2).PciDevices);
        Assert.Equal("No host with enough capacity: 3 hosts lack the requested PCI devices", plan.Unplaced(3).Message);
        Assert.Equal(["03:00.0"], plan.Placement(4).PciDevices);
        Assert.Empty(plan.Placement(4).PciDevices.Except(["03:00.0"]));
    }

    [Fact]
    public void Pci_matching_gives_a_specific_request_the_device_a_generic_one_could_have_taken()
    {
        var host = Cloud.Pci("10de", "1111", "0302", "01:00.0") + Cloud.Pci("10de", "2222", "0302", "02:00.0");
        var vm = Cloud.Pci(vendor: "10de") + Cloud.Pci(vendor: "10de", device: "1111");
        var plan = new Cloud().Host(0, template: host).Vm(1, template: vm).Plan();
        Assert.Equal(["02:00.0", "01:00.0"], plan.Placement(1).PciDevices);
    }

    [Fact]
    public void A_malformed_expression_leaves_only_that_vm_pending()
    {
        var plan = new Cloud().Hosts(2)
            .Vm(1, requirements: "CPU > 2 )")
            .Vm(2)
            .Vm(3, rank: "FREE_CPU *")
            .Vm(4, user: Cloud.Attr("SCHED_DS_REQUIREMENTS", "MODE = \"x"))
            .Vm(5, template: Cloud.Attr("AUTOMATIC_REQUIREMENTS", "CLUSTER_ID = = 0"))
            .Vm(6, user: Cloud.Attr("SCHED_DS_RANK", "FREE_MB +"))
            .Plan();
        Assert.Equal([2], plan.Placements.Select(p => p.VmId));
        Assert.All(plan.Unplaced, u => Assert.Equal(UnplacedReason.InvalidExpression, u.Reason));
        Assert.Equal("Error in SCHED_REQUIREMENTS: syntax error at position 9: unexpected ')', expected '&', '|' or the end of the expression", plan.Unplaced(1).Message);
        Assert.StartsWith("Error in SCHED_RANK: syntax error at position 11", plan.Unplaced(3).Message, StringComparison.Ordinal);
        Assert.StartsWith("Error in SCHED_DS_REQUIREMENTS: syntax error at position 8: unterminated string", plan.Unplaced(4).Message, StringComparison.Ordinal);
        Assert.StartsWith("Error in AUTOMATIC_REQUIREMENTS: syntax error at position 12: '==' is not an operator", plan.Unplaced(5).Message, StringComparison.Ordinal);
        Assert.StartsWith("Error in SCHED_DS_RANK: syntax error at position 10", plan.Unplaced(6).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sched_attributes_are_read_from_the_user_template_first()
    {
        var plan = new Cloud().Hosts(3)
            .Vm(1, template: Cloud.Attr("SCHED_REQUIREMENTS", "ID = 1"), user: Cloud.Attr("SCHED_REQUIREMENTS", "ID = 2"))
            .Vm(2, template: Cloud.Attr("SCHED_REQUIREMENTS", "ID = 1"))
            .Plan();
        Assert.Equal(2, plan.HostOf(1));
        Assert.Equal(1, plan.HostOf(2));
    }

    [Fact]
    public void Higher_user_priority_goes_first()
    {
        var plan = new Cloud().Host(0, memGiB: 1).Vm(1, memMb: 1024).Vm(2, memMb: 1024, user: Cloud.Attr("USER_PRIORITY", "10")).Plan();
        Assert.Equal(0, plan.HostOf(2));
        Assert.Equal(-1, plan.HostOf(1));
        Assert.Equal([2], plan.Placements.Select(p => p.VmId));
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new PlacementEngine(new SchedulerOptions { MaxDispatchPerCycle = 0 }));
        Assert.Throws<ArgumentException>(() => new PlacementEngine(new SchedulerOptions { Policy = HostPolicy.Custom }));
        var e = Assert.Throws<ArgumentException>(() => new PlacementEngine(new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "FREE_CPU +" }));
        Assert.Contains("syntax error at position 11", e.Message, StringComparison.Ordinal);
    }
}
