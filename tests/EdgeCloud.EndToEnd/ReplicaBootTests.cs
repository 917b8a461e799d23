using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.ReplicaCacheTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The cluster replica with real guests: a front-end, a replica host and two kvm hosts (agents as
/// processes). Four VMs of the tiny test guest's image, two per host, boot (serial marker of each),
/// while the byte counters show the image crossed from the front-end to the cluster exactly once and
/// from the replica to each host once.
/// </summary>
/// <remarks>
/// The two kvm agents share this machine's libvirtd. That is safe: each agent acts only on the VMs the
/// front-end sends it (domains one-ID), and the front-end applies a host's reports only to the VMs
/// placed on that host, so the other agent's domains it sees are ignored. The replica host runs the
/// dummy hypervisor: it serves images and runs no guests here.
/// </remarks>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class ReplicaBootTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools;
    private const int Active = 3, Running = 3, Done = 6;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-replicaboot-");

    public ReplicaBootTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task FourVmsOfOneImageOnTwoKvmHosts_Boot_AndTheImageCrossesToTheClusterOnce()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        var config = Path.Combine(_work.Path, "fe.yaml");
        await File.WriteAllTextAsync(config, "monitor-interval: 2\nscheduler-interval: 1\n");
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort(), "--config", config);
        using var c = fe.Client();
        var cluster = await c.CallIntAsync("one.cluster.allocate", "edge");
        await c.CallIntAsync("one.cluster.update", cluster, "REPLICA_HOST=replica", 1);
        await c.CallIntAsync("one.cluster.adddatastore", cluster, 0);
        var agents = new Dictionary<string, AgentProcess>();
        var ids = new Dictionary<string, int>();
        string Logs() => string.Join("\n", agents.Select(a => $"--- {a.Key}:\n{a.Value.Output}")) + "\n--- front-end:\n" + fe.Output;
        try
        {
            foreach (var (name, hypervisor) in new[] { ("replica", "dummy"), ("h1", "kvm"), ("h2", "kvm") })
            {
                var id = await c.CallIntAsync("one.host.allocate", name, "kvm", "kvm", cluster);
                var token = await c.CallStringAsync("one.host.jointoken", id, 600);
                agents[name] = AgentProcess.Start(Path.Combine(_work.Path, name), fe.AgentUrl, token, hypervisor);
                ids[name] = id;
            }
            foreach (var id in ids.Values) await WaitHostMonitoredAsync(c, id, TimeSpan.FromSeconds(60), Logs);
            await Wait.ForAsync(async () => HostAttr(await HostAsync(c, ids["replica"]), "AGENT_ENDPOINT").Length > 0, "the replica reports its endpoint", TimeSpan.FromSeconds(30));

            var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", cluster);
            var img = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS", ds, false);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", img)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));
            var size = new FileInfo(XElement.Parse(await c.CallStringAsync("one.image.info", img)).Element("SOURCE")!.Value).Length;

            // Four small guests at once (TCG on a shared machine): 96 MiB each, a tenth of a CPU for the scheduler.
            var sw = Stopwatch.StartNew();
            var placed = new[] { "h1", "h1", "h2", "h2" };
            var vms = new List<int>();
            foreach (var host in placed)
            {
                var vm = await c.CallIntAsync("one.vm.allocate", $"NAME=v\nCPU=0.1\nVCPU=1\nMEMORY=96\nDISK=[IMAGE_ID={img}]\nSCHED_REQUIREMENTS=\"ID={ids[host]}\"", false);
                vms.Add(vm);
                _work.Own($"one-{vm}");
            }
            foreach (var vm in vms) await WaitVmAsync(c, vm, Active, Running, TimeSpan.FromSeconds(180), Logs);

            // Every guest boots: its serial marker on the console its host keeps.
            foreach (var (vm, host) in vms.Zip(placed))
            {
                var console = Path.Combine(_work.Path, host, "datastores", "0", vm.ToString(CultureInfo.InvariantCulture), "console.log");
                await Wait.ForAsync(() => Task.FromResult(File.Exists(console) && File.ReadAllText(console).Contains(TestGuestImage.BootMarker, StringComparison.Ordinal)),
                    $"{TestGuestImage.BootMarker} on VM {vm}'s console on {host}", TimeSpan.FromSeconds(180));
                // Its disk is an overlay on its own host's cached copy of the image.
                Assert.Contains(Path.Combine(_work.Path, host, "cache"), Run("qemu-img", "info", "-U", Path.Combine(Path.GetDirectoryName(console)!, "disk.0")), StringComparison.Ordinal);
            }
            _out.WriteLine($"4 VMs allocated → 4 boot markers: {sw.Elapsed.TotalSeconds:0.0} s");

            await ImageCrossedToTheClusterOnceAsync(c, fe, ids, size);
            Assert.Contains("from the replica cache", agents["replica"].Output, StringComparison.Ordinal);

            foreach (var vm in vms) await c.CallIntAsync("one.vm.action", "terminate-hard", vm);
            foreach (var vm in vms) await WaitVmAsync(c, vm, Done, -1, TimeSpan.FromSeconds(60), Logs);
            var left = Run("virsh", "-c", "qemu:///system", "list", "--all", "--name").Split('\n', StringSplitOptions.TrimEntries);
            foreach (var vm in vms) Assert.DoesNotContain($"one-{vm}", left);
            _work.AllGone();
        }
        catch
        {
            _out.WriteLine(Logs());
            throw;
        }
        finally
        {
            foreach (var a in agents.Values) await a.DisposeAsync();
        }
    }
}
