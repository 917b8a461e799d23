using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Xml.Linq;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Live migration between two kvm agent hosts whose libvirtds are separate daemons: host A on the machine's
/// system libvirtd, host B on a second libvirtd in its own mount and UTS namespaces (<see cref="SecondLibvirt"/>).
/// The same QEMU guest keeps running on B (no second boot, its shell answers there), A forgets the VM; a live
/// migration to a host whose libvirt takes no migrations fails and leaves the VM RUNNING where it was.
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class LiveMigrationTests(ITestOutputHelper output) : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools | HostNeeds.Network;
    private const int Active = 3, Running = 3, Done = 6;

    /// <summary>Where host A says it takes migrations: nothing listens there.</summary>
    private const string UnreachableLibvirt = "qemu+tcp://127.0.0.1:1/system";

    private readonly GuestWorkDir _work = new("ec-live-");

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task LiveMigration_KeepsTheSameGuestRunningOnTheNewHost_AndAFailedOneLeavesItWhereItWas()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        await using var libvirtB = await SecondLibvirt.StartAsync();
        var domain = "";
        try
        {
            await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort());
            using var c = fe.Client();
            var (hostA, tokenA) = await AddHostAsync(c, "host-a");
            var (hostB, tokenB) = await AddHostAsync(c, "host-b");
            await using var a = AgentProcess.Start(Path.Combine(_work.Path, "agent-a"), fe.AgentUrl, tokenA, "kvm", "--migration-uri", UnreachableLibvirt);
            await using var b = AgentProcess.Start(Path.Combine(_work.Path, "agent-b"), fe.AgentUrl, tokenB, "kvm", "--libvirt-uri", libvirtB.Uri);
            string Logs() => "A:\n" + a.Output + "\nB:\n" + b.Output + "\nfront-end:\n" + fe.Output;
            await WaitHostMonitoredAsync(c, hostA, TimeSpan.FromSeconds(60), Logs);
            await WaitHostMonitoredAsync(c, hostB, TimeSpan.FromSeconds(60), Logs);
            await Wait.ForAsync(async () => HostAttr(await HostAsync(c, hostB), "LIBVIRT_MIGRATION_URI") == libvirtB.Uri,
                "host B reports its libvirt migration URI", TimeSpan.FromSeconds(60));

            // A VM on host A whose disk is a qcow2 overlay on A's cached copy of an image.
            var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
            var image = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS", ds, false);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", image)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));
            var vmId = await c.CallIntAsync("one.vm.allocate", $"NAME=live\nCPU=0.5\nMEMORY=128\nDISK=[IMAGE_ID={image}]\nSCHED_REQUIREMENTS=\"ID={hostA}\"", false);
            domain = $"one-{vmId}";
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), Logs);
            var id = vmId.ToString(CultureInfo.InvariantCulture);
            var dirA = Path.Combine(_work.Path, "agent-a", "datastores", "0", id);
            var dirB = Path.Combine(_work.Path, "agent-b", "datastores", "0", id);
            var consoleA = Path.Combine(dirA, "console.log");
            var consoleB = Path.Combine(dirB, "console.log");
            await ForConsoleAsync(consoleA, TestGuestImage.BootMarker, 1);
            await TypeOnConsoleAsync(KvmUri, domain, consoleA, "echo TG-BEFORE-$((20+1))", "TG-BEFORE-21");
            Assert.Equal(1, ConsoleCount(consoleA, TestGuestImage.BootMarker)); // booted once, on A (A's directory goes with the migration)

            // ---- live migration A → B: MIGRATE, then RUNNING on B
            var sw = Stopwatch.StartNew();
            await c.CallIntAsync("one.vm.migrate", vmId, hostB, true, false, -1, 0);
            var vm = await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(300), Logs);
            output.WriteLine($"live migration A → B (one.vm.migrate → RUNNING on B): {sw.Elapsed.TotalSeconds:0.0} s");
            var history = vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").ToList();
            Assert.Equal([hostA, hostB], history.Select(h => (int)h.Element("HID")!));
            Assert.NotEqual(0, (long)history[0].Element("ETIME")!);

            // Only B's libvirt has the domain, persistent, its disk in B's VM directory on B's own cached base.
            Assert.DoesNotContain(domain, Virsh("list", "--all", "--name"), StringComparison.Ordinal);
            Assert.Equal("running", Run("virsh", "-c", libvirtB.Uri, "domstate", domain).Trim());
            Assert.Contains("Persistent:     yes", Run("virsh", "-c", libvirtB.Uri, "dominfo", domain), StringComparison.Ordinal);
            Assert.Contains(Path.Combine(dirB, "disk.0"), Run("virsh", "-c", libvirtB.Uri, "domblklist", domain), StringComparison.Ordinal);
            Assert.Contains(Path.Combine(_work.Path, "agent-b", "cache"), Run("qemu-img", "info", "-U", Path.Combine(dirB, "disk.0")), StringComparison.Ordinal);

            // The same guest runs on: no boot marker on B's console, and its shell answers there.
            await TypeOnConsoleAsync(libvirtB.Uri, domain, consoleB, "echo TG-LIVE-$((40+2))", "TG-LIVE-42");
            Assert.Equal(0, ConsoleCount(consoleB, TestGuestImage.BootMarker));

            // Host A forgot the VM (files and local state); host B keeps it.
            Assert.False(Directory.Exists(dirA), "host A removed the VM's directory");
            Assert.False(File.Exists(Path.Combine(_work.Path, "agent-a", "vms", $"{id}.json")));
            Assert.True(File.Exists(Path.Combine(_work.Path, "agent-b", "vms", $"{id}.json")));

            // ---- a live migration to a host whose libvirt takes no migrations: RUNNING on B, the reason in the VM's log
            await c.CallIntAsync("one.vm.migrate", vmId, hostA, true, false, -1, 0);
            vm = await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(300), Logs);
            Assert.Equal([hostA, hostB], vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").Select(h => (int)h.Element("HID")!));
            var error = vm.Element("USER_TEMPLATE")?.Element("ERROR")?.Value ?? "";
            output.WriteLine("failed live migration: " + error);
            Assert.Contains("MigrateLive", error, StringComparison.Ordinal);
            Assert.Contains("127.0.0.1:1", error, StringComparison.Ordinal);
            Assert.Equal("running", Run("virsh", "-c", libvirtB.Uri, "domstate", domain).Trim());
            Assert.DoesNotContain(domain, Virsh("list", "--all", "--name"), StringComparison.Ordinal);
            Assert.False(Directory.Exists(dirA), "host A removed what it had prepared");
            await TypeOnConsoleAsync(libvirtB.Uri, domain, consoleB, "echo TG-STILL-$((1+2))", "TG-STILL-3");
            Assert.Equal(0, ConsoleCount(consoleB, TestGuestImage.BootMarker));

            await c.CallIntAsync("one.vm.action", "terminate-hard", vmId);
            await WaitVmAsync(c, vmId, Done, -1, TimeSpan.FromSeconds(60), Logs);
            Assert.NotEqual("running", Run("virsh", "-c", libvirtB.Uri, "domstate", domain).Trim());
        }
        finally
        {
            if (domain.Length > 0)
                foreach (var uri in new[] { KvmUri, libvirtB.Uri })
                {
                    Run("virsh", "-c", uri, "destroy", domain);
                    Run("virsh", "-c", uri, "undefine", domain);
                }
        }
    }

    private const string KvmUri = "qemu:///system";

    /// <summary>Types a line on the guest's serial console (its pty on that libvirt) until its console log shows <paramref name="expect"/>.</summary>
    private static async Task TypeOnConsoleAsync(string uri, string domain, string log, string line, string expect)
    {
        var pty = Run("virsh", "-c", uri, "ttyconsole", domain).Trim();
        Assert.StartsWith("/dev/pts/", pty, StringComparison.Ordinal);
        await using var tty = new FileStream(pty, FileMode.Open, FileAccess.Write);
        var bytes = Encoding.ASCII.GetBytes(line + "\n");
        await Wait.ForAsync(async () =>
        {
            await tty.WriteAsync(bytes);
            await tty.FlushAsync();
            await Task.Delay(3000);
            return ConsoleCount(log, expect) > 0;
        }, $"'{line}' answered on {domain}'s console", TimeSpan.FromSeconds(90));
    }
}
