using System.Globalization;
using System.Xml.Linq;

namespace EdgeCloud.EndToEnd;

/// <summary>The scheduler against the real binary and dummy hosts, at the scale the issue names.</summary>
public sealed class SchedulerEndToEndTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-sched-" + Guid.NewGuid().ToString("N"));

    public SchedulerEndToEndTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Instantiate1000_EveryVmRunningOnMatchingHost_NoHostOverCapacity()
    {
        await using var fe = await FrontendProcess.StartAsync(_dir, FrontendProcess.FreePort());
        using var c = fe.Client();

        // 30 hosts: 20 "edge" hosts sized so that 1,000 VMs only just fit, 10 "core" hosts the VMs must avoid.
        var edge = new HashSet<int>();
        for (var i = 0; i < 30; i++)
        {
            var id = await c.CallIntAsync("one.host.allocate", $"host-{i:D2}", "dummy", "dummy", -1);
            var isEdge = i % 3 != 2;
            await c.CallIntAsync("one.host.update", id, isEdge ? "ZONE=\"edge\"\nDUMMY_CPU=\"2600\"" : "ZONE=\"core\"", 1);
            if (isEdge) edge.Add(id);
        }
        // Re-enabling makes the monitor probe again with the new capacity.
        foreach (var id in Enumerable.Range(0, 30))
        {
            await c.CallIntAsync("one.host.status", id, 1);
            await c.CallIntAsync("one.host.status", id, 0);
        }
        await WaitAsync(async () =>
        {
            var hosts = XDocument.Parse(await c.CallStringAsync("one.hostpool.info")).Root!.Elements("HOST").ToList();
            return hosts.All(h => h.Element("STATE")!.Value == "2")
                   && hosts.Where(h => edge.Contains(Int(h, "ID"))).All(h => Int(h.Element("HOST_SHARE")!, "MAX_CPU") == 2600);
        }, TimeSpan.FromSeconds(30));

        var tid = await c.CallIntAsync("one.template.allocate", "NAME=\"edge-vm\"\nCPU=\"0.5\"\nVCPU=\"1\"\nMEMORY=\"128\"\nSCHED_REQUIREMENTS=\"ZONE = \\\"edge\\\"\"");
        var clients = Enumerable.Range(0, 4).Select(_ => fe.Client()).ToArray();
        var next = -1;
        await Task.WhenAll(clients.Select(async cl =>
        {
            while (Interlocked.Increment(ref next) < 1000)
                await cl.CallIntAsync("one.template.instantiate", tid, "", false, "", false);
        }));
        foreach (var cl in clients) cl.Dispose();

        XDocument pool = new();
        await WaitAsync(async () =>
        {
            pool = XDocument.Parse(await c.CallStringAsync("one.vmpool.info", -2, -1, -1, -1, ""));
            return pool.Root!.Elements("VM").Count(v => v.Element("STATE")!.Value == "3" && v.Element("LCM_STATE")!.Value == "3") == 1000;
        }, TimeSpan.FromSeconds(120));

        var vms = pool.Root!.Elements("VM").ToList();
        Assert.Equal(1000, vms.Count);
        var byHost = vms.GroupBy(v => Int(v.Element("HISTORY_RECORDS")!.Element("HISTORY")!, "HID")).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(byHost.Keys, h => Assert.Contains(h, edge));

        var hostPool = XDocument.Parse(await c.CallStringAsync("one.hostpool.info")).Root!.Elements("HOST").ToList();
        foreach (var h in hostPool)
        {
            var share = h.Element("HOST_SHARE")!;
            var id = Int(h, "ID");
            var count = byHost.GetValueOrDefault(id);
            Assert.Equal(count * 50, Int(share, "CPU_USAGE"));
            Assert.True(Int(share, "CPU_USAGE") <= Int(share, "MAX_CPU"), $"host {id} over CPU capacity");
            Assert.True(Int(share, "MEM_USAGE") <= Int(share, "MAX_MEM"), $"host {id} over memory capacity");
            Assert.Equal(count, Int(share, "RUNNING_VMS"));
        }
        // 20 edge hosts × 52 slots = 1,040: the VMs fill them nearly completely, so striping had to count every placement.
        Assert.Equal(1000, byHost.Values.Sum());
    }

    private static int Int(XElement e, string name) => int.Parse(e.Element(name)!.Value, CultureInfo.InvariantCulture);

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(200);
        }
        Assert.Fail($"condition not met within {timeout.TotalSeconds} s");
    }
}
