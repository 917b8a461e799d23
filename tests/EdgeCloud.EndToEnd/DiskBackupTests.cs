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
/// Disk snapshots and backups on a real guest: a front-end and a kvm agent as processes, the tiny test guest
/// booted from a qcow2 image of an fs datastore. A live disk snapshot of the running VM, a full backup, data
/// written to the running VM's disk (through QEMU's block layer, as the guest would: the test guest runs from
/// its initramfs and never writes its disk itself), an incremental backup that holds only that change, disk
/// save-as of the live disk (has the write) and of the snapshot (has not), a restore of full + increment into
/// a new image, and a VM of the restored template that boots.
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class DiskBackupTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools;
    private const int Active = 3, Running = 3, Done = 6, Ready = 1;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-bak-");

    public DiskBackupTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task LiveDiskSnapshot_FullAndIncrementalBackup_RestoreBoots()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        var agentDir = Path.Combine(_work.Path, "agent");
        var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort(), "--agent-port", FrontendProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        AgentProcess? agent = null;
        try
        {
            using var c = fe.Client();
            var (hostId, token) = await AddHostAsync(c, "kvm-host");
            agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "kvm");
            var a = agent;
            string Logs() => "agent:\n" + a.Output;
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(60), Logs);

            var images = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
            var backups = await c.CallIntAsync("one.datastore.allocate", "NAME=backups\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=BACKUP_DS", -1);
            var image = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS", images, false);
            await ImageReadyAsync(c, image);
            var vmId = await c.CallIntAsync("one.vm.allocate", $"NAME=backed\nCPU=0.5\nMEMORY=128\nDISK=[IMAGE_ID={image}]\nBACKUP_CONFIG=[MODE=INCREMENT]", false);
            _work.Own($"one-{vmId}");
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), Logs);
            var vmDir = Path.Combine(agentDir, "datastores", "0", vmId.ToString(CultureInfo.InvariantCulture));
            var disk = Path.Combine(vmDir, "disk.0");
            await ForConsoleAsync(Path.Combine(vmDir, "console.log"), TestGuestImage.BootMarker);

            // ---- a live disk snapshot of the running VM: DISK_SNAPSHOT, then an internal qcow2 snapshot in its disk
            var snap = await c.CallIntAsync("one.vm.disksnapshotcreate", vmId, 0, "before-write");
            var vm = await WaitForAsync(c, vmId, v => Lcm(v) == Running && Int(v, "PREV_LCM_STATE") == 57, "disk snapshot taken", Logs);
            Assert.Equal("before-write", vm.Element("SNAPSHOTS")!.Element("SNAPSHOT")!.Element("NAME")!.Value);
            Assert.Contains($"snap-{snap}", RunAll("qemu-img", "snapshot", "-U", "-l", disk), StringComparison.Ordinal);
            Assert.True(File.Exists($"/run/libvirt/qemu/one-{vmId}.pid"), "the VM kept running");

            // ---- full backup
            await c.CallIntAsync("one.vm.backup", vmId, backups, false);
            vm = await WaitForAsync(c, vmId, v => Lcm(v) == Running && Config(v, "LAST_INCREMENT_ID") == "0", "full backup", Logs);
            var backupId = int.Parse(Config(vm, "LAST_BACKUP_ID")!, CultureInfo.InvariantCulture);

            // ---- the running VM writes 1 MiB (through QEMU's block layer, as the guest's own writes go)
            var io = RunAll("virsh", "-c", "qemu:///system", "qemu-monitor-command", $"one-{vmId}", "--hmp", "qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend \"write -P 0xab 62M 1M\"");
            Assert.DoesNotContain("rror", io, StringComparison.Ordinal);

            // ---- incremental backup: only what changed
            await c.CallIntAsync("one.vm.backup", vmId, backups, false);
            vm = await WaitForAsync(c, vmId, v => Lcm(v) == Running && Config(v, "LAST_INCREMENT_ID") == "1", "incremental backup", Logs);
            var backup = XElement.Parse(await c.CallStringAsync("one.image.info", backupId));
            var incs = backup.Element("BACKUP_INCREMENTS")!.Elements("INCREMENT").ToList();
            Assert.Equal(["FULL", "INCREMENT"], incs.Select(i => i.Element("TYPE")!.Value));
            var dir = backup.Element("SOURCE")!.Value;
            var full = new FileInfo(Path.Combine(dir, "disk.0.0.qcow2")).Length;
            var increment = new FileInfo(Path.Combine(dir, "disk.0.1.qcow2")).Length;
            _out.WriteLine($"full backup {full} bytes, incremental {increment} bytes");
            Assert.True(increment >= 1 << 20, $"the increment holds the 1 MiB written ({increment} bytes)");
            Assert.True(increment * 4 < full, $"the increment ({increment} bytes) is much smaller than the full backup ({full} bytes)");

            // ---- disk save-as of the running disk (a point-in-time copy: it has the write) and of the snapshot (taken before it)
            var saved = await c.CallIntAsync("one.vm.disksaveas", vmId, 0, "saved-now", "", -1);
            await WaitForAsync(c, vmId, v => Lcm(v) == Running && Int(v, "PREV_LCM_STATE") == 26, "disk saved", Logs);
            var savedFile = (await ImageReadyAsync(c, saved)).Element("SOURCE")!.Value;
            Assert.Contains("read 1048576/1048576", RunAll("qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0xab 62M 1M", savedFile), StringComparison.Ordinal);
            var fromSnapshot = await c.CallIntAsync("one.vm.disksaveas", vmId, 0, "saved-snap", "", snap);
            await WaitForAsync(c, vmId, v => Lcm(v) == Running && Int(v, "PREV_LCM_STATE") == 26, "snapshot saved", Logs);
            var snapFile = (await ImageReadyAsync(c, fromSnapshot)).Element("SOURCE")!.Value;
            Assert.Contains("verification failed", RunAll("qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0xab 62M 1M", snapFile), StringComparison.Ordinal);

            // ---- restore full + increment into a new image and a template; the restored disk has the write
            var restored = await c.CallStringAsync("one.image.restore", backupId, images, "NAME=restored");
            var ids = restored.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
            var newImage = await ImageReadyAsync(c, ids["IMAGE_IDS"]);
            var file = newImage.Element("SOURCE")!.Value;
            Assert.DoesNotContain("backing", RunAll("qemu-img", "info", file), StringComparison.Ordinal);
            var check = RunAll("qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0xab 62M 1M", file);
            Assert.DoesNotContain("verification failed", check, StringComparison.Ordinal);
            Assert.Contains("read 1048576/1048576", check, StringComparison.Ordinal);

            // ---- a VM of the restored template boots
            var restoredVm = await c.CallIntAsync("one.template.instantiate", ids["TEMPLATE_ID"], "from-backup", false, "", false);
            _work.Own($"one-{restoredVm}");
            await WaitVmAsync(c, restoredVm, Active, Running, TimeSpan.FromSeconds(120), Logs);
            await ForConsoleAsync(Path.Combine(agentDir, "datastores", "0", restoredVm.ToString(CultureInfo.InvariantCulture), "console.log"), TestGuestImage.BootMarker);

            // ---- powered off, the disk goes back to the snapshot (taken before the write)
            await c.CallIntAsync("one.vm.action", "poweroff", vmId);
            await WaitVmAsync(c, vmId, 8, -1, TimeSpan.FromSeconds(120), Logs);
            await c.CallIntAsync("one.vm.disksnapshotrevert", vmId, 0, snap);
            await WaitForAsync(c, vmId, v => Int(v, "STATE") == 8 && Int(v, "PREV_LCM_STATE") == 52, "snapshot reverted", Logs);
            Assert.Contains("verification failed", RunAll("qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0xab 62M 1M", disk), StringComparison.Ordinal);

            foreach (var id in new[] { vmId, restoredVm })
            {
                await c.CallIntAsync("one.vm.action", "terminate-hard", id);
                await WaitVmAsync(c, id, Done, -1, TimeSpan.FromSeconds(60), Logs);
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

    private static int Int(XElement e, string name) => int.Parse(e.Element(name)!.Value, CultureInfo.InvariantCulture);

    private static int Lcm(XElement vm) => Int(vm, "LCM_STATE");

    private static string? Config(XElement vm, string name) => vm.Element("BACKUPS")?.Element("BACKUP_CONFIG")?.Element(name)?.Value;

    private static async Task<XElement> WaitForAsync(OneClient c, int id, Func<XElement, bool> done, string what, Func<string> context)
    {
        XElement? last = null;
        try
        {
            await Wait.ForAsync(async () => done(last = await VmAsync(c, id)), what, TimeSpan.FromSeconds(120));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{what}: VM {id} is {last}\n{context()}");
        }
        return last!;
    }

    private static async Task<XElement> ImageReadyAsync(OneClient c, int id)
    {
        XElement? image = null;
        await Wait.ForAsync(async () => (image = XElement.Parse(await c.CallStringAsync("one.image.info", id))).Element("STATE")!.Value is "1" or "5", $"image {id} READY", TimeSpan.FromSeconds(120));
        Assert.True(image!.Element("STATE")!.Value == Ready.ToString(CultureInfo.InvariantCulture), $"image {id}: {image}");
        return image;
    }

}
