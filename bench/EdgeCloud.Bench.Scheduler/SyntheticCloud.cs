using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Bench.Scheduler;

/// <summary>
/// A synthetic edge cloud: clusters of 100 hosts, one shared system datastore per cluster, and
/// pending VMs from a handful of templates the way people instantiate them (same template many
/// times). Deterministic (fixed seed) so runs compare.
/// </summary>
internal static class SyntheticCloud
{
    public static StateSnapshot Build(int hosts, int vms, bool uniqueSizes = false, int seed = 42)
    {
        var rnd = new Random(seed);
        var objects = new List<PoolObject>();
        var clusterCount = Math.Max(1, hosts / 100);
        var clusterHosts = Enumerable.Range(0, clusterCount).Select(_ => ImmutableSortedSet.CreateBuilder<int>()).ToArray();

        for (var c = 0; c < clusterCount; c++)
        {
            objects.Add(new Datastore
            {
                Id = 100 + c,
                Name = $"system-{c}",
                DsType = DatastoreType.SYSTEM_DS,
                TmMad = "ssh",
                Clusters = [c],
                TotalMb = 10_000_000,
                FreeMb = 10_000_000,
            });
        }

        for (var h = 0; h < hosts; h++)
        {
            var cluster = h % clusterCount;
            clusterHosts[cluster].Add(h);
            var t = new Template();
            t.Add("HYPERVISOR", "kvm");
            t.Add("HOSTNAME", $"edge{h:D5}.example");
            t.Add("ZONE", rnd.Next(4) == 0 ? "metro" : "far");
            objects.Add(new Host
            {
                Id = h,
                Name = $"edge{h:D5}",
                State = h % 97 == 0 ? HostState.DISABLED : HostState.MONITORED,
                ClusterId = cluster,
                ClusterName = $"cluster-{cluster}",
                ImMad = "dummy",
                VmMad = "dummy",
                Template = t,
                Share = new HostShare
                {
                    TotalCpu = 1600,
                    MaxCpu = 1600,
                    TotalMem = 64L << 20,
                    MaxMem = 64L << 20,
                    CpuUsage = rnd.Next(0, 4) * 100,
                    MemUsage = rnd.Next(0, 8) * (1L << 20),
                },
            });
        }

        for (var c = 0; c < clusterCount; c++)
            objects.Add(new Cluster { Id = c, Name = $"cluster-{c}", Hosts = clusterHosts[c].ToImmutable(), Datastores = [100 + c] });

        (double Cpu, int Mem)[] sizes = [(0.5, 512), (1, 1024), (1, 2048), (2, 4096)];
        for (var v = 0; v < vms; v++)
        {
            var t = new Template();
            var u = new Template();
            var kind = v % 10;
            var (cpu, mem) = uniqueSizes ? (1 + (v % 7) * 0.1, 512 + v) : sizes[v % sizes.Length];
            t.Set("CPU", cpu);
            t.Set("MEMORY", mem);
            var disk = new VectorAttribute("DISK");
            disk.Set("SIZE", 2048);
            disk.Set("TYPE", "fs");
            t.Add(disk);
            if (kind < 6)
            {
                // VMs whose networks and images tie them to one cluster (what the core writes).
                t.Set("AUTOMATIC_REQUIREMENTS", $"(CLUSTER_ID = {v % clusterCount}) & !(PUBLIC_CLOUD = YES) & !(PIN_POLICY = PINNED)");
            }
            if (kind == 7) u.Set("SCHED_REQUIREMENTS", "HYPERVISOR = kvm & ZONE = \"metro\"");
            if (kind == 8) u.Set("SCHED_RANK", "FREE_CPU - RUNNING_VMS * 10");
            objects.Add(new Vm { Id = v, Name = $"vm-{v}", State = VmState.PENDING, Template = t, UserTemplate = u });
        }

        return StateSnapshot.Load(objects, new Dictionary<ObjectType, int>
        {
            [ObjectType.Host] = hosts - 1,
            [ObjectType.Vm] = vms - 1,
            [ObjectType.Cluster] = clusterCount - 1,
            [ObjectType.Datastore] = 100 + clusterCount - 1,
        }, 1);
    }
}
