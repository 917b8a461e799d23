using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Tier 3 of the storage: a cluster with a REPLICA_HOST. A front-end and three agents as processes (the
/// replica host and two hosts); four VMs of one image on the two hosts. The image crosses from the
/// front-end to the cluster exactly once (the front-end's own log of bytes sent, and the replica's
/// cache counters); each host takes it once from the replica, and its second VM starts from its local copy.
/// The agents run the dummy hypervisor (no guests to boot: this is about the bytes; the kvm tests boot
/// VMs from cached images).
/// </summary>
public sealed partial class ReplicaCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-replica-" + Guid.NewGuid().ToString("N")[..8]);

    public ReplicaCacheTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [HostFact(HostNeeds.Qemu)]
    public async Task FourVmsOfOneImageOnTwoHosts_TheImageCrossesToTheClusterOnce()
    {
        HostPrerequisites.Require(HostNeeds.Qemu);
        // An image with real content: 8 MiB of random data as qcow2.
        var raw = Path.Combine(_dir, "img.raw");
        await File.WriteAllBytesAsync(raw, System.Security.Cryptography.RandomNumberGenerator.GetBytes(8 << 20));
        var image = Path.Combine(_dir, "img.qcow2");
        Run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, image);
        var size = new FileInfo(image).Length;

        var config = Path.Combine(_dir, "fe.yaml");
        await File.WriteAllTextAsync(config, "monitor-interval: 1\nscheduler-interval: 1\n");
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort(), "--config", config);
        using var c = fe.Client();
        var cluster = await c.CallIntAsync("one.cluster.allocate", "edge");
        await c.CallIntAsync("one.cluster.update", cluster, "REPLICA_HOST=replica", 1);
        await c.CallIntAsync("one.cluster.adddatastore", cluster, 0); // the system datastore serves this cluster too
        var agents = new List<AgentProcess>();
        var ids = new Dictionary<string, int>();
        try
        {
            foreach (var name in new[] { "replica", "h1", "h2" })
            {
                var id = await c.CallIntAsync("one.host.allocate", name, "kvm", "kvm", cluster);
                var token = await c.CallStringAsync("one.host.jointoken", id, 600);
                agents.Add(AgentProcess.Start(Path.Combine(_dir, name), fe.AgentUrl, token, "dummy", "--listen", "127.0.0.1:0", "--advertise", "127.0.0.1"));
                ids[name] = id;
            }
            string Logs() => string.Join("\n---\n", agents.Select(a => a.Output)) + "\n--- front-end\n" + fe.Output;
            foreach (var id in ids.Values) await WaitHostMonitoredAsync(c, id, TimeSpan.FromSeconds(60), Logs);
            await Wait.ForAsync(async () => HostAttr(await HostAsync(c, ids["replica"]), "AGENT_ENDPOINT").Length > 0, "the replica reports its endpoint", TimeSpan.FromSeconds(30));

            var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", cluster);
            var img = await c.CallIntAsync("one.image.allocate", $"NAME=base\nPATH=\"{image}\"\nTYPE=OS", ds, false);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", img)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));

            var vms = new List<int>();
            foreach (var host in new[] { "h1", "h1", "h2", "h2" })
                vms.Add(await c.CallIntAsync("one.vm.allocate", $"NAME=v\nCPU=0.1\nMEMORY=64\nDISK=[IMAGE_ID={img}]\nSCHED_REQUIREMENTS=\"ID={ids[host]}\"", false));
            foreach (var vm in vms) await WaitVmAsync(c, vm, 3, 3, TimeSpan.FromSeconds(120), Logs);

            // Every VM's disk is an overlay on its host's cached copy.
            foreach (var (vm, host) in vms.Zip(new[] { "h1", "h1", "h2", "h2" }))
            {
                var info = Run("qemu-img", "info", Path.Combine(_dir, host, "datastores", "0", vm.ToString(CultureInfo.InvariantCulture), "disk.0"));
                Assert.Contains(Path.Combine(_dir, host, "cache"), info, StringComparison.Ordinal);
            }

            await ImageCrossedToTheClusterOnceAsync(c, fe, ids, size);
            Assert.Contains("from the replica cache", string.Join('\n', agents[0].Output), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var a in agents) await a.DisposeAsync();
        }
    }

    /// <summary>The front-end's log line for each image body it sends (ImageEndpoint).</summary>
    /// <summary>
    /// The byte counters of a front-end, a replica host and hosts h1 and h2 that each ran two VMs of one image of
    /// <paramref name="size"/> bytes: exactly one copy left the front-end (its log of bodies sent), the replica
    /// fetched it once, and each host fetched it once from the replica and served its second VM locally.
    /// </summary>
    internal static async Task ImageCrossedToTheClusterOnceAsync(OneClient c, FrontendProcess fe, IReadOnlyDictionary<string, int> ids, long size)
    {
        var sent = SentLine().Matches(fe.Output).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(size, sent);
        await Wait.ForAsync(async () =>
        {
            var r = await HostAsync(c, ids["replica"]);
            var h1 = await HostAsync(c, ids["h1"]);
            var h2 = await HostAsync(c, ids["h2"]);
            return Num(r, "REPLICA_CACHE_FETCHED_BYTES") == size
                   && Num(h1, "REPLICA_CACHE_FETCHED_BYTES") == size && Num(h2, "REPLICA_CACHE_FETCHED_BYTES") == size
                   && Num(h1, "REPLICA_CACHE_LOCAL_BYTES") >= size && Num(h2, "REPLICA_CACHE_LOCAL_BYTES") >= size;
        }, "replica and host cache counters", TimeSpan.FromSeconds(30));
    }

    [GeneratedRegex(@"Image \d+ sent to [^:]*: (\d+) bytes")]
    internal static partial Regex SentLine();

}
