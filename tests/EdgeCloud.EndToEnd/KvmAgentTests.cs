using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// A front-end and a host agent as separate processes, the agent running the real kvm driver (libvirt,
/// QEMU under TCG on machines without usable KVM): a VM instantiated through the API boots the tiny
/// test guest, and every life-cycle action is checked on the real QEMU process and in the API.
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class KvmAgentTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools | HostNeeds.Network;
    private const int Active = 3, Running = 3, Suspended = 5, Poweroff = 8, Done = 6, BootFailure = 36, PrologFailure = 39;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-kvm-");
    private readonly string _bridge = "eckb" + Guid.NewGuid().ToString("N")[..6];

    public KvmAgentTests(ITestOutputHelper output) => _out = output;

    public void Dispose()
    {
        Run("ip", "link", "del", _bridge);
        _work.Dispose();
    }

    [HostFact(Needs)]
    public async Task Vm_BootsOnTheAgentHost_AndObeysEveryAction_ThroughFrontendAndAgentRestarts()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        var feDir = Path.Combine(_work.Path, "fe");
        var agentDir = Path.Combine(_work.Path, "agent");
        var port = FrontendProcess.FreePort();
        var agentPort = FrontendProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        var fe = await FrontendProcess.StartAsync(feDir, port, "--agent-port", agentPort);
        AgentProcess? agent = null;
        try
        {
            using var c = fe.Client();
            var (hostId, token) = await AddHostAsync(c, "kvm-host");
            agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "kvm");
            var a = agent;
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(60), () => a.Output);
            var host = XElement.Parse(await c.CallStringAsync("one.host.info", hostId));
            Assert.Equal("kvm", host.Element("TEMPLATE")!.Element("HYPERVISOR")!.Value);

            var netId = await c.CallIntAsync("one.vn.allocate",
                $"NAME=priv\nVN_MAD=bridge\nBRIDGE={_bridge}\nAR=[TYPE=IP4,IP=172.31.240.10,SIZE=20]\nNETWORK_MASK=255.255.255.0\nGATEWAY=172.31.240.1", -1);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.vn.info", netId)).Element("STATE")! == 1, "network READY", TimeSpan.FromSeconds(30));
            var template =
                "NAME=tg\nCPU=1\nVCPU=1\nMEMORY=128\n" +
                $"OS=[KERNEL=\"{guest.Kernel}\",INITRD=\"{guest.Initrd}\",KERNEL_CMD=\"{guest.Cmdline} tg.halt=wait tg.ctxwait=3\"]\n" +
                $"NIC=[NETWORK_ID={netId}]\n" +
                "CONTEXT=[NETWORK=YES,SET_HOSTNAME=\"edge-$VMID\"]\n";

            // ---- deploy → the guest boots (serial marker), read from the real console log
            var sw = Stopwatch.StartNew();
            var vmId = await c.CallIntAsync("one.vm.allocate", template, false);
            var console = Path.Combine(agentDir, "datastores", "0", vmId.ToString(CultureInfo.InvariantCulture), "console.log");
            _work.Own($"one-{vmId}");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            await ForConsoleAsync(console, TestGuestImage.BootMarker, 1);
            _out.WriteLine($"instantiate → {TestGuestImage.BootMarker}: {sw.Elapsed.TotalSeconds:0.0} s");
            await ForConsoleAsync(console, "TESTGUEST-CONTEXT", 1);
            await ForConsoleAsync(console, @"TESTGUEST-NET eth0 172\.31\.240\.10/24", 1);
            var pid = QemuPid(vmId);
            Assert.True(Directory.Exists($"/proc/{pid}"), "the QEMU process runs");
            Assert.Equal($"one-{vmId}", (await VmAsync(c, vmId)).Element("DEPLOY_ID")!.Value);

            // ---- poweroff (ACPI) / resume
            await c.CallIntAsync("one.vm.action", "poweroff", vmId);
            await WaitVmAsync(c, vmId, Poweroff, -1, TimeSpan.FromSeconds(120), () => a.Output);
            await Wait.ForAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), "QEMU gone after poweroff", TimeSpan.FromSeconds(30));
            await c.CallIntAsync("one.vm.action", "resume", vmId);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            await ForConsoleAsync(console, TestGuestImage.BootMarker, 1);
            pid = QemuPid(vmId);

            // ---- suspend (memory saved to the checkpoint) / resume (restored, not rebooted)
            await c.CallIntAsync("one.vm.action", "suspend", vmId);
            await WaitVmAsync(c, vmId, Suspended, -1, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.False(Directory.Exists($"/proc/{pid}"), "QEMU stops while suspended");
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(console)!, "checkpoint")), "the memory checkpoint is on the host");
            var bootsBefore = ConsoleCount(console, TestGuestImage.BootMarker);
            await c.CallIntAsync("one.vm.action", "resume", vmId);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            pid = QemuPid(vmId);
            Assert.True(Directory.Exists($"/proc/{pid}"));

            // ---- reboot (ACPI): the guest boots again in the same QEMU
            var boots = ConsoleCount(console, TestGuestImage.BootMarker);
            await c.CallIntAsync("one.vm.action", "reboot", vmId);
            await ForConsoleAsync(console, TestGuestImage.BootMarker, boots + 1);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(60));

            // ---- disk attach (a new volatile disk) and NIC attach on the running guest
            await c.CallIntAsync("one.vm.attach", vmId, "DISK=[TYPE=fs,SIZE=16,FORMAT=qcow2]");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(60), () => a.Output);
            var diskId = (await VmAsync(c, vmId)).Element("TEMPLATE")!.Elements("DISK").Select(d => (int)d.Element("DISK_ID")!).Single();
            Assert.Contains($"/disk.{diskId}", Virsh("domblklist", $"one-{vmId}"), StringComparison.Ordinal);
            await c.CallIntAsync("one.vm.attachnic", vmId, $"NIC=[NETWORK_ID={netId}]");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(60), () => a.Output);
            Assert.Contains($"one-{vmId}-1", Virsh("domiflist", $"one-{vmId}"), StringComparison.Ordinal);
            var nics = (await VmAsync(c, vmId)).Element("TEMPLATE")!.Elements("NIC").Count();
            Assert.Equal(2, nics);

            // ---- a change of the VM's security group reaches the running VM's NICs on the host (nftables)
            await c.CallIntAsync("one.secgroup.update", 0, "NAME=default\nRULE=[PROTOCOL=TCP,RULE_TYPE=INBOUND,RANGE=2222]\nRULE=[PROTOCOL=ALL,RULE_TYPE=OUTBOUND]", 0);
            await Wait.ForAsync(async () => XElement.Parse(await c.CallStringAsync("one.secgroup.info", 0)).Element("UPDATED_VMS")!.Elements("ID").Any(e => (int)e == vmId),
                "the VM is in the group's UPDATED_VMS", TimeSpan.FromSeconds(60));
            var ruleset = Run("nft", "list", "table", "bridge", "edgecloud");
            Assert.Contains("2222", ruleset, StringComparison.Ordinal);
            Assert.Contains($"one-{vmId}-0", ruleset, StringComparison.Ordinal);

            // ---- system snapshot (memory + disks)
            await c.CallIntAsync("one.vm.snapshotcreate", vmId, "before-change");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.Contains("snap-0", Virsh("snapshot-list", $"one-{vmId}", "--name"), StringComparison.Ordinal);

            // ---- a broken VM next to it (its kernel does not exist): BOOT_FAILURE with the reason; the host and the first VM are unaffected
            var bad = await c.CallIntAsync("one.vm.allocate", "NAME=bad\nCPU=0.5\nMEMORY=64\nOS=[KERNEL=\"/nonexistent/vmlinuz\"]", false);
            _work.Own($"one-{bad}");
            var badVm = await WaitVmAsync(c, bad, Active, BootFailure, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.Contains("vmlinuz", badVm.Element("USER_TEMPLATE")!.Element("ERROR")!.Value, StringComparison.Ordinal);
            await ForVmLogAsync(feDir, bad, "vmlinuz", "BOOT_FAILURE");
            Assert.True(Directory.Exists($"/proc/{pid}"), "the first VM's QEMU still runs");
            Assert.Equal(2, (int)XElement.Parse(await c.CallStringAsync("one.host.info", hostId)).Element("STATE")!);
            await c.CallIntAsync("one.vm.recover", bad, 3);

            // ---- the host refuses to start a VM (its RAW data plugs it into a bridge the host does not have):
            //      BOOT_FAILURE with libvirt's words, no domain left behind
            var refused = await c.CallIntAsync("one.vm.allocate", "NAME=refused\nCPU=0.5\nMEMORY=64\nOS=[KERNEL=\"" + guest.Kernel + "\"]\n" +
                "RAW=[TYPE=kvm,DATA=\"<devices><interface type='bridge'><source bridge='ecnobridge0'/></interface></devices>\"]", false);
            _work.Own($"one-{refused}");
            var refusedVm = await WaitVmAsync(c, refused, Active, BootFailure, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.Contains("ecnobridge0", refusedVm.Element("USER_TEMPLATE")!.Element("ERROR")!.Value, StringComparison.Ordinal);
            await ForVmLogAsync(feDir, refused, "ecnobridge0", "BOOT_FAILURE");
            Assert.DoesNotContain($"one-{refused}", Virsh("list", "--all", "--name"), StringComparison.Ordinal);
            await c.CallIntAsync("one.vm.recover", refused, 3);

            // ---- a broken image: a valid qcow2 registered, then its file in the front-end's datastore overwritten at the start
            //      (same size). A VM of it fails with the reason (the host's cache checks the image's checksum); the host and
            //      the first VM are unaffected
            var images = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
            var imageId = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS\nFORMAT=qcow2", images, false);
            var imageFile = (await Wait.ForAsync(async () => XElement.Parse(await c.CallStringAsync("one.image.info", imageId)),
                i => (int)i.Element("STATE")! is 1 or 5, "image READY", TimeSpan.FromSeconds(60))).Element("SOURCE")!.Value;
            Assert.Equal(1, (int)XElement.Parse(await c.CallStringAsync("one.image.info", imageId)).Element("STATE")!);
            var size = new FileInfo(imageFile).Length;
            using (var f = new FileStream(imageFile, FileMode.Open, FileAccess.Write))
                f.Write(Enumerable.Repeat((byte)0x5a, 64 * 1024).ToArray());
            Assert.Equal(size, new FileInfo(imageFile).Length);
            var corrupt = await c.CallIntAsync("one.vm.allocate", $"NAME=corrupt\nCPU=0.5\nMEMORY=64\nDISK=[IMAGE_ID={imageId}]", false);
            _work.Own($"one-{corrupt}");
            var corruptVm = await Wait.ForAsync(() => VmAsync(c, corrupt),
                v => (int)v.Element("LCM_STATE")! is PrologFailure or BootFailure or Running, "the VM of the corrupt image failed", TimeSpan.FromSeconds(120));
            var corruptLcm = (int)corruptVm.Element("LCM_STATE")!;
            Assert.True(corruptLcm is PrologFailure or BootFailure, $"the VM of a corrupt image must fail, it is in LCM state {corruptLcm}");
            var corruptError = corruptVm.Element("USER_TEMPLATE")!.Element("ERROR")!.Value;
            _out.WriteLine("corrupt image: " + corruptError);
            Assert.Contains("checksum", corruptError, StringComparison.OrdinalIgnoreCase);
            await ForVmLogAsync(feDir, corrupt, "hecksum", corruptLcm == PrologFailure ? "PROLOG_FAILURE" : "BOOT_FAILURE");
            Assert.DoesNotContain($"one-{corrupt}", Virsh("list", "--all", "--name"), StringComparison.Ordinal);
            Assert.True(Directory.Exists($"/proc/{pid}"), "the first VM's QEMU still runs");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(5));
            Assert.Equal(2, (int)XElement.Parse(await c.CallStringAsync("one.host.info", hostId)).Element("STATE")!);
            await c.CallIntAsync("one.vm.recover", corrupt, 3);

            // ---- a disk from an image that does not exist: refused at once with the reason, nothing created
            var unknown = await Assert.ThrowsAsync<OneException>(() => c.CallIntAsync("one.vm.allocate", "NAME=nodisk\nCPU=0.5\nMEMORY=64\nDISK=[IMAGE=no-such-image]", false));
            Assert.Contains("no-such-image", unknown.Message, StringComparison.Ordinal);
            Assert.True(Directory.Exists($"/proc/{pid}"), "the first VM's QEMU still runs");

            // ---- the front-end dies (SIGKILL) while the VM runs: the VM keeps running; when it comes back
            //      the agent reconnects and the states agree (and actions work again)
            fe.Kill9();
            await fe.DisposeAsync();
            await Task.Delay(2000);
            Assert.True(Directory.Exists($"/proc/{pid}"), "the VM runs on while the front-end is down");
            fe = await FrontendProcess.StartAsync(feDir, port, "--agent-port", agentPort);
            using (var c2 = fe.Client())
            {
                await WaitHostMonitoredAsync(c2, hostId, TimeSpan.FromSeconds(60), () => a.Output);
                await WaitVmAsync(c2, vmId, Active, Running, TimeSpan.FromSeconds(10));
                Assert.Equal(pid, QemuPid(vmId));
            }

            // ---- the agent dies (SIGKILL): the VM keeps running; a restarted agent (no token needed) adopts it
            agent.Kill9();
            await agent.DisposeAsync();
            await Task.Delay(2000);
            Assert.True(Directory.Exists($"/proc/{pid}"), "the VM runs on without its agent");
            agent = AgentProcess.Start(agentDir, null, null, "kvm");
            var b = agent;
            using (var c3 = fe.Client())
            {
                await Wait.ForAsync(() => Task.FromResult(b.Output.Contains("Connected to the front-end", StringComparison.Ordinal)), "agent reconnected", TimeSpan.FromSeconds(60));
                // Monitoring of the adopted VM flows again: the VM's memory use is reported.
                await Wait.ForAsync(async () => (await VmAsync(c3, vmId)).Element("MONITORING")?.Element("MEMORY") is { } m && long.Parse(m.Value, CultureInfo.InvariantCulture) > 0,
                    "monitoring of the adopted VM", TimeSpan.FromSeconds(60));
                await WaitVmAsync(c3, vmId, Active, Running, TimeSpan.FromSeconds(5));
                Assert.Equal(pid, QemuPid(vmId));

                // ---- terminate: the domain and the VM's files are gone from the host
                await c3.CallIntAsync("one.vm.action", "terminate-hard", vmId);
                await WaitVmAsync(c3, vmId, Done, -1, TimeSpan.FromSeconds(60), () => b.Output);
                Assert.DoesNotContain($"one-{vmId}", Virsh("list", "--all", "--name"), StringComparison.Ordinal);
                Assert.False(Directory.Exists(Path.GetDirectoryName(console)), "the VM's directory is removed");
                Assert.False(Directory.Exists($"/proc/{pid}"));
            }
        }
        catch
        {
            _out.WriteLine("agent output:\n" + agent?.Output);
            _out.WriteLine("front-end output:\n" + fe.Output);
            throw;
        }
        finally
        {
            if (agent is not null) await agent.DisposeAsync();
            await fe.DisposeAsync();
        }
    }

    [HostFact(Needs)]
    public async Task ColdMigration_MovesTheVmsDisksAndMemoryToAnotherHost_AndTheOldHostForgetsIt()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        var (hostA, tokenA) = await AddHostAsync(c, "host-a");
        var (hostB, tokenB) = await AddHostAsync(c, "host-b");
        await using var a = AgentProcess.Start(Path.Combine(_work.Path, "agent-a"), fe.AgentUrl, tokenA, "kvm");
        await using var b = AgentProcess.Start(Path.Combine(_work.Path, "agent-b"), fe.AgentUrl, tokenB, "kvm");
        string Logs() => "A:\n" + a.Output + "\nB:\n" + b.Output;
        await WaitHostMonitoredAsync(c, hostA, TimeSpan.FromSeconds(60), Logs);
        await WaitHostMonitoredAsync(c, hostB, TimeSpan.FromSeconds(60), Logs);

        // An image in a real datastore: the VM's disk is a qcow2 overlay on host A's cached copy.
        var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
        var image = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS", ds, false);
        await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", image)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));
        var vmId = await c.CallIntAsync("one.vm.allocate", $"NAME=mover\nCPU=0.5\nMEMORY=128\nDISK=[IMAGE_ID={image}]\nSCHED_REQUIREMENTS=\"ID={hostA}\"", false);
        _work.Own($"one-{vmId}");
        await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), Logs);
        var dirA = Path.Combine(_work.Path, "agent-a", "datastores", "0", vmId.ToString(CultureInfo.InvariantCulture));
        await ForConsoleAsync(Path.Combine(dirA, "console.log"), TestGuestImage.BootMarker, 1);

        // Cold migration: saved on A, disks and memory pulled by B from A's agent, restored on B.
        await c.CallIntAsync("one.vm.migrate", vmId, hostB, false, false, -1, 0);
        var vm = await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(180), Logs);
        Assert.Equal(hostB, (int)vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").Last().Element("HID")!);
        var dirB = Path.Combine(_work.Path, "agent-b", "datastores", "0", vmId.ToString(CultureInfo.InvariantCulture));
        Assert.Contains(Path.Combine(dirB, "disk.0"), Virsh("domblklist", $"one-{vmId}"), StringComparison.Ordinal);
        // The overlay now rests on B's own cached copy of the image.
        Assert.Contains(Path.Combine(_work.Path, "agent-b", "cache"), Run("qemu-img", "info", "-U", Path.Combine(dirB, "disk.0")), StringComparison.Ordinal);
        // Restored from memory, not booted again: no boot marker on B's console.
        Assert.True(Directory.Exists($"/proc/{QemuPid(vmId)}"));
        Assert.DoesNotContain(TestGuestImage.BootMarker, File.Exists(Path.Combine(dirB, "console.log")) ? File.ReadAllText(Path.Combine(dirB, "console.log")) : "", StringComparison.Ordinal);
        // Host A forgot the VM: its files and its local state are gone.
        await Wait.ForAsync(() => Task.FromResult(!Directory.Exists(dirA)), "host A removes the VM's directory", TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(Path.Combine(_work.Path, "agent-a", "vms", $"{vmId}.json")));
        // The front-end's log of the VM tells the move.
        var vmLog = Path.Combine(_work.Path, "fe", "vms", $"{vmId}.log");
        await Wait.ForAsync(() => Task.FromResult(File.Exists(vmLog) && File.ReadAllText(vmLog).Contains($"[VM][I]: Migrating to host host-b ({hostB}) from host host-a ({hostA})", StringComparison.Ordinal)),
            "the migration in the VM's log", TimeSpan.FromSeconds(10));

        await c.CallIntAsync("one.vm.action", "terminate-hard", vmId);
        await WaitVmAsync(c, vmId, Done, -1, TimeSpan.FromSeconds(60), Logs);
    }

    /// <summary>Waits until the front-end's log of the VM (DATA/vms/VMID.log) has an error line naming <paramref name="reason"/> and the line of <paramref name="lcm"/>.</summary>
    private static async Task ForVmLogAsync(string feDir, int vmId, string reason, string lcm)
    {
        var path = Path.Combine(feDir, "vms", vmId.ToString(CultureInfo.InvariantCulture) + ".log");
        string[] Lines() { try { return File.Exists(path) ? File.ReadAllLines(path) : []; } catch (IOException) { return []; } }
        var lines = await Wait.ForAsync(() => Task.FromResult(Lines()),
            l => l.Any(x => x.Contains("[VM][E]: ", StringComparison.Ordinal) && x.Contains(reason, StringComparison.Ordinal))
                 && l.Any(x => x.EndsWith("[VM][I]: New LCM state is " + lcm, StringComparison.Ordinal)),
            $"an error line naming {reason} and {lcm} in {path}", TimeSpan.FromSeconds(10));
        // The error comes before the failure state it caused.
        Assert.True(Array.FindIndex(lines, x => x.Contains("[VM][E]: ", StringComparison.Ordinal) && x.Contains(reason, StringComparison.Ordinal))
            < Array.FindLastIndex(lines, x => x.EndsWith("New LCM state is " + lcm, StringComparison.Ordinal)), string.Join("\n", lines));
    }


    private static int QemuPid(int vmId)
    {
        var file = $"/run/libvirt/qemu/one-{vmId}.pid";
        Assert.True(File.Exists(file), $"{file} exists (the domain runs)");
        return int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
    }

}
