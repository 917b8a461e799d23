using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Scheduler.Tests;

/// <summary>Correctness at edge scale (no timing here: the benchmark measures time).</summary>
public sealed class ScaleTests
{
    private const int Clusters = 25;

    private static StateSnapshot Build(int hosts, int vms, bool uniqueSizes)
    {
        var objects = new List<PoolObject>();
        for (var c = 0; c < Clusters; c++)
        {
            objects.Add(new Datastore { Id = 100 + c, Name = $"sys{c}", DsType = DatastoreType.SYSTEM_DS, Clusters = [c], TotalMb = 2_000_000, FreeMb = 2_000_000 });
            objects.Add(new Cluster { Id = c, Name = $"c{c}", Hosts = [.. Enumerable.Range(0, hosts).Where(h => h % Clusters == c)], Datastores = [100 + c] });
        }
        for (var h = 0; h < hosts; h++)
        {
            objects.Add(new Host
            {
                Id = h,
                Name = $"edge{h}",
                ClusterId = h % Clusters,
                State = h % 50 == 49 ? HostState.OFFLINE : HostState.MONITORED,
                Share = new HostShare { MaxCpu = 800 + h % 3 * 400, TotalCpu = 1600, MaxMem = (16 + h % 4 * 8) * Cloud.GiB, TotalMem = 48 * Cloud.GiB },
            });
        }
        for (var v = 0; v < vms; v++)
        {
            var t = new Template();
            t.Set("CPU", uniqueSizes ? 0.5 + v % 10 * 0.1 : v % 2 == 0 ? 1 : 0.5);
            t.Set("MEMORY", uniqueSizes ? 1024 + v % 997 : v % 3 == 0 ? 4096 : 2048);
            var disk = new VectorAttribute("DISK");
            disk.Set("SIZE", 1024);
            t.Add(disk);
            if (v % 2 == 0) t.Set("AUTOMATIC_REQUIREMENTS", $"(CLUSTER_ID = {v % Clusters}) & !(PUBLIC_CLOUD = YES)");
            objects.Add(new Vm { Id = v, Name = $"vm{v}", State = VmState.PENDING, Template = t });
        }
        return StateSnapshot.Load(objects, new Dictionary<ObjectType, int>(), 1);
    }

    [Theory]
    [InlineData(HostPolicy.Striping, false)]
    [InlineData(HostPolicy.Packing, false)]
    [InlineData(HostPolicy.LoadAware, false)]
    [InlineData(HostPolicy.Striping, true)]
    public void Ten_thousand_vms_on_2500_hosts_all_placed_none_over_capacity(HostPolicy policy, bool uniqueSizes)
    {
        var snapshot = Build(2_500, 10_000, uniqueSizes);
        var plan = new PlacementEngine(new SchedulerOptions { Policy = policy }).Plan(snapshot, NoMonitoring.Instance);

        Assert.Empty(plan.Unplaced);
        Assert.Equal(10_000, plan.Placements.Count);
        Assert.Equal(10_000, plan.Placements.Select(p => p.VmId).Distinct().Count());
        AssertWithinCapacity(snapshot, plan);
    }

    [Fact]
    public void Overcommitted_demand_fills_hosts_exactly_to_capacity_and_explains_the_rest()
    {
        // 200 hosts (4 offline) with about 5.6 TiB of memory, 3,000 VMs asking for about 8 TiB.
        var snapshot = Build(200, 3_000, uniqueSizes: false);
        var plan = new PlacementEngine().Plan(snapshot, NoMonitoring.Instance);
        AssertWithinCapacity(snapshot, plan);
        Assert.NotEmpty(plan.Unplaced);
        Assert.All(plan.Unplaced, u => Assert.StartsWith("No host", u.Message, StringComparison.Ordinal));
        Assert.Equal(3_000, plan.Placements.Count + plan.Unplaced.Count);
    }

    [Fact]
    public void A_thousand_instances_of_one_template_land_on_hosts_that_satisfy_it()
    {
        var cloud = new Cloud();
        for (var h = 0; h < 100; h++) cloud.Host(h, cluster: h % 4, template: Cloud.Attr("ZONE", h % 2 == 0 ? "metro" : "far"));
        cloud.Vms(Enumerable.Range(1, 1_000), cpu: 0.25, memMb: 512, requirements: "ZONE = metro & CLUSTER_ID != 3");
        var snapshot = cloud.Snapshot();
        var plan = new PlacementEngine().Plan(snapshot, NoMonitoring.Instance);
        Assert.Equal(1_000, plan.Placements.Count);
        Assert.All(plan.Placements, p => Assert.True(p.HostId % 2 == 0 && p.HostId % 4 != 3));
        Assert.All(plan.Placements, p => Assert.Equal(100 + p.HostId % 4, p.DatastoreId));
        AssertWithinCapacity(snapshot, plan);
    }

    private static void AssertWithinCapacity(StateSnapshot snapshot, PlacementPlan plan)
    {
        var cpu = new Dictionary<int, long>();
        var mem = new Dictionary<int, long>();
        var disk = new Dictionary<int, long>();
        foreach (var p in plan.Placements)
        {
            var vm = snapshot.Get<Vm>(ObjectType.Vm, p.VmId)!;
            var host = snapshot.Get<Host>(ObjectType.Host, p.HostId)!;
            Assert.Equal(HostState.MONITORED, host.State);
            Assert.Contains(host.ClusterId, snapshot.Get<Datastore>(ObjectType.Datastore, p.DatastoreId)!.Clusters);
            if (vm.Template.Get("AUTOMATIC_REQUIREMENTS") is { } auto)
                Assert.StartsWith($"(CLUSTER_ID = {host.ClusterId})", auto, StringComparison.Ordinal);
            vm.Template.TryGetDouble("CPU", out var c);
            vm.Template.TryGetDouble("MEMORY", out var m);
            cpu[p.HostId] = cpu.GetValueOrDefault(p.HostId) + (long)Math.Round(c * 100);
            mem[p.HostId] = mem.GetValueOrDefault(p.HostId) + (long)m * 1024;
            disk[p.DatastoreId] = disk.GetValueOrDefault(p.DatastoreId) + 1024;
        }
        foreach (var (id, used) in cpu)
        {
            var share = snapshot.Get<Host>(ObjectType.Host, id)!.Share;
            Assert.True(share.CpuUsage + used <= share.MaxCpu, $"host {id} CPU over capacity: {used} of {share.MaxCpu}");
            Assert.True(share.MemUsage + mem[id] <= share.MaxMem, $"host {id} memory over capacity");
        }
        foreach (var (id, used) in disk)
            Assert.True(used <= snapshot.Get<Datastore>(ObjectType.Datastore, id)!.FreeMb, $"datastore {id} over capacity");
    }
}
