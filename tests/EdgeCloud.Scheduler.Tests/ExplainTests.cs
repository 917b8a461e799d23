using EdgeCloud.Core.Objects;

namespace EdgeCloud.Scheduler.Tests;

public sealed class ExplainTests
{
    [Fact]
    public void Memory_shortage_with_disabled_hosts()
    {
        var cloud = new Cloud().Hosts(12, memGiB: 16);
        for (var i = 0; i < 3; i++) cloud.Host(20 + i, state: HostState.DISABLED, memGiB: 128);
        var plan = cloud.Vm(1, memMb: 64 * 1024).Plan();
        Assert.Equal("No host with enough capacity: 12 hosts lack 64 GiB of free memory, 3 are disabled", plan.Unplaced(1).Message);
    }

    [Fact]
    public void Requirements_failing_in_the_vms_cluster()
    {
        var plan = new Cloud().Hosts(2, 0, cluster: 3).Host(5, cluster: 1, template: Cloud.Attr("GPU", "yes"))
            .Vm(1, template: Cloud.Attr("AUTOMATIC_REQUIREMENTS", "CLUSTER_ID = 3"), requirements: "GPU = yes")
            .Plan();
        Assert.Equal("No host in cluster 3 satisfies SCHED_REQUIREMENTS: 2 hosts do not satisfy SCHED_REQUIREMENTS, 1 is in a cluster the VM cannot use",
            plan.Unplaced(1).Message);
    }

    [Fact]
    public void No_host_in_the_vms_clusters()
    {
        var plan = new Cloud().Hosts(2).Vm(1, template: Cloud.Attr("AUTOMATIC_REQUIREMENTS", "CLUSTER_ID = 9")).Plan();
        Assert.Equal("No host in a cluster the VM can use (AUTOMATIC_REQUIREMENTS): 2 hosts are in clusters the VM cannot use", plan.Unplaced(1).Message);
    }

    [Fact]
    public void Capacity_in_the_cluster_the_requirements_chose()
    {
        var plan = new Cloud().Hosts(3, 0, cluster: 0, cpu: 100).Hosts(2, 10, cluster: 1)
            .Vm(1, cpu: 2, requirements: "CLUSTER_ID = 0").Plan();
        Assert.Equal("No host in cluster 0 with enough capacity: 3 hosts lack 2 free CPUs, 2 do not satisfy SCHED_REQUIREMENTS", plan.Unplaced(1).Message);
    }

    [Fact]
    public void Every_dimension_that_fails_is_counted()
    {
        var plan = new Cloud().Host(0, cpu: 100, memGiB: 1).Host(1, cpu: 100).Host(2, memGiB: 1)
            .Vm(1, cpu: 2, memMb: 2048).Plan();
        Assert.Equal("No host with enough capacity: 2 hosts lack 2 GiB of free memory, 2 lack 2 free CPUs", plan.Unplaced(1).Message);
    }

    [Fact]
    public void No_hosts_at_all()
    {
        var plan = new Cloud().Vm(1).Plan();
        Assert.Equal("No hosts are registered", plan.Unplaced(1).Message);
    }

    [Fact]
    public void Vms_of_an_exhausted_class_all_get_the_explanation()
    {
        var plan = new Cloud().Host(0, memGiB: 2).Vms(Enumerable.Range(1, 50), memMb: 1024).Plan();
        Assert.Equal(2, plan.Placements.Count);
        Assert.Equal(48, plan.Unplaced.Count);
        Assert.All(plan.Unplaced, u => Assert.Equal("No host with enough capacity: 1 host lacks 1 GiB of free memory", u.Message));
    }
}

public sealed class DeterminismTests
{
    private static Cloud Mixed()
    {
        var cloud = new Cloud();
        for (var h = 0; h < 40; h++)
            cloud.Host(h, cluster: h % 4, cpu: 400 + h % 3 * 200, memGiB: 8 + h % 5 * 4,
                template: Cloud.Attr("ZONE", h % 3 == 0 ? "metro" : "far"), state: h % 13 == 12 ? HostState.DISABLED : HostState.MONITORED);
        cloud.Group(0, [Cloud.Role(0, "web", "ANTI_AFFINED"), Cloud.Role(1, "db", "AFFINED")], antiAffined: "web, db");
        for (var v = 0; v < 300; v++)
        {
            var id = v;
            Action<Core.Templates.Template>? t = (v % 7) switch
            {
                0 => Cloud.Attr("AUTOMATIC_REQUIREMENTS", $"CLUSTER_ID = {v % 4}"),
                1 => Cloud.InGroup(0, "web"),
                2 when v < 60 => Cloud.InGroup(0, "db"),
                3 => Cloud.Disk(50_000),
                _ => null,
            };
            cloud.Vm(id, cpu: 0.5 + v % 4 * 0.5, memMb: 512 * (1 + v % 6), template: t,
                requirements: v % 5 == 0 ? "ZONE = metro" : null, rank: v % 11 == 0 ? "FREE_CPU - RUNNING_VMS * 50" : null);
        }
        return cloud;
    }

    private static string Render(PlacementPlan p) =>
        string.Join("\n", p.Placements.Select(x => $"P {x.VmId} {x.HostId} {x.DatastoreId}")
            .Concat(p.Migrations.Select(x => $"M {x.VmId} {x.FromHostId} {x.ToHostId}"))
            .Concat(p.Unplaced.Select(x => $"U {x.VmId} {x.Reason} {x.Message}")));

    [Theory]
    [InlineData(HostPolicy.Striping)]
    [InlineData(HostPolicy.Packing)]
    [InlineData(HostPolicy.LoadAware)]
    public void The_same_input_gives_the_same_plan(HostPolicy policy)
    {
        var options = new SchedulerOptions { Policy = policy };
        var snapshot = Mixed().Snapshot();
        var engine = new PlacementEngine(options);
        var first = Render(engine.Plan(snapshot, NoMonitoring.Instance));
        Assert.Equal(first, Render(engine.Plan(snapshot, NoMonitoring.Instance)));
        Assert.Equal(first, Render(new PlacementEngine(options).Plan(Mixed().Snapshot(), NoMonitoring.Instance)));
        // The order in which the caller lists the VMs does not matter.
        var shuffled = PlacementEngine.SelectVms(snapshot).OrderBy(v => (v.Id * 7919) % 301).ToList();
        Assert.Equal(first, Render(engine.Plan(snapshot, shuffled, NoMonitoring.Instance)));
    }

    [Theory]
    [InlineData(HostPolicy.Striping)]
    [InlineData(HostPolicy.Packing)]
    [InlineData(HostPolicy.LoadAware)]
    public void The_rank_index_and_the_plain_scan_agree(HostPolicy policy)
    {
        var snapshot = Mixed().Snapshot();
        var indexed = new PlacementEngine(new SchedulerOptions { Policy = policy, IndexThreshold = 1 }).Plan(snapshot, NoMonitoring.Instance);
        var scanned = new PlacementEngine(new SchedulerOptions { Policy = policy, IndexThreshold = int.MaxValue }).Plan(snapshot, NoMonitoring.Instance);
        Assert.Equal(Render(scanned), Render(indexed));
        Assert.NotEmpty(indexed.Placements);
        Assert.NotEmpty(indexed.Unplaced);
    }
}
