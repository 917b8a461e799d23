using System.Diagnostics;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;
using Xunit.Abstractions;

namespace EdgeCloud.Hypervisor.Tests;

/// <summary>
/// The kvm driver against the real libvirtd with the tiny test guest (TCG where the host has no
/// usable KVM). One long test walks a disk-booted VM with a context CD and a NIC through every action,
/// because each boot costs seconds under TCG.
/// </summary>
public sealed class KvmLifecycleTests(ITestOutputHelper output)
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools | HostNeeds.Network;
    private static readonly CancellationToken None = CancellationToken.None;

    [HostFact(Needs)]
    public async Task DiskBootedVm_WithContextAndNic_GoesThroughEveryAction()
    {
        HostPrerequisites.Require(Needs);
        await TestHost.EnsureLibvirtAsync();
        var guest = await TestHost.GuestAsync();
        var kvm = new KvmHypervisor();
        Assert.True(kvm.Capability.DomainType is "qemu" or "kvm");
        output.WriteLine($"domain type {kvm.Capability.DomainType}: {kvm.Capability.Reason}");

        const int vmId = 9101;
        var name = $"one-{vmId}";
        await kvm.DestroyAsync(name, None); // a leftover of an interrupted run
        var dir = TestHost.NewVmDir(name);
        await using var bridge = await TestBridge.CreateAsync();
        try
        {
            var disk0 = Path.Combine(dir, "disk.0");
            await TestHost.QcowOverlayAsync(guest.Disk, disk0);
            var spec = new VmSpec
            {
                VmId = vmId,
                Name = "lifecycle",
                VmDir = dir,
                Vcpu = 1,
                VcpuMax = 2,
                MemoryMb = 128,
                MemoryMaxMb = 192,
                Disks = [new DiskSpec { DiskId = 0, Path = disk0, Target = "vda", Format = "qcow2" }],
                Nics = [Specs.Nic(vmId, 0, bridge.Name, ip: "10.213.77.10")],
                Context = new Dictionary<string, string> { ["SET_HOSTNAME"] = "eck-guest" },
            };
            var log = spec.ConsoleLog;

            // deploy → the guest boots, reads its context CD and configures eth0 from it
            var sw = Stopwatch.StartNew();
            Assert.Equal(name, await kvm.DeployAsync(spec, None));
            var deployed = sw.Elapsed;
            await TestHost.ForConsoleAsync(log, "TESTGUEST-BOOT-OK");
            var booted = sw.Elapsed;
            await TestHost.ForConsoleAsync(log, "TESTGUEST-READY");
            output.WriteLine($"deploy {deployed.TotalSeconds:F1} s, boot marker {booted.TotalSeconds:F1} s, ready {sw.Elapsed.TotalSeconds:F1} s after deploy");
            Assert.Contains("TESTGUEST-CONTEXT source=/dev/sr0", TestHost.ConsoleText(log), StringComparison.Ordinal);
            Assert.Contains("TESTGUEST-NET eth0 10.213.77.10/24", TestHost.ConsoleText(log), StringComparison.Ordinal);
            Assert.Equal(bridge.Name, TestHost.MasterOf("one-9101-0"));

            // deploy again: nothing changes
            var pid = kvm.PidOf(name);
            Assert.True(pid > 0);
            Assert.Equal(name, await kvm.DeployAsync(spec, None));
            Assert.Equal(pid, kvm.PidOf(name));

            // list with usage: the CPU percentage needs two samples
            var status = (await kvm.ListAsync(None)).Single(s => s.Name == name);
            Assert.Equal(DomainState.Running, status.State);
            Assert.Equal(pid, status.Pid);
            Assert.StartsWith("qemu", Process.GetProcessById(pid).ProcessName, StringComparison.Ordinal);
            Assert.True(status.CpuTimeNs > 0);
            Assert.True(status.MemoryKb > 0);
            Assert.True(status.DiskReadBytes > 0, "the guest booted from its disk");
            var sampled = await Wait.ForAsync(async () => (await kvm.ListAsync(None)).Single(s => s.Name == name),
                s => s.CpuPercent > 0 && s.CpuTimeNs > status.CpuTimeNs, "a second sample with CPU use");
            Assert.InRange(sampled.CpuPercent, 0.01, 100.0 * Environment.ProcessorCount + 50);

            // hot-plug a disk: libvirt and the guest see it; detach it again
            var disk1Path = Path.Combine(dir, "disk.1");
            await TestHost.Run.CheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", disk1Path, "16M"], None);
            var disk1 = new DiskSpec { DiskId = 1, Path = disk1Path, Target = "vdb", Format = "qcow2" };
            await kvm.AttachDiskAsync(name, disk1, None);
            await kvm.AttachDiskAsync(name, disk1, None); // idempotent
            Assert.Equal(disk1Path, (await kvm.BlockDevicesAsync(name, None))["vdb"]);
            await TestHost.TypeOnConsoleAsync(name, log, "echo \"TG-BLK $(ls /sys/block | tr '\\n' ,)\"", "TG-BLK [a-z0-9,]*vdb");
            await kvm.DetachDiskAsync(name, disk1, None);
            Assert.False((await kvm.BlockDevicesAsync(name, None)).ContainsKey("vdb"));
            await kvm.DetachDiskAsync(name, disk1, None); // idempotent

            // hot-plug a NIC: its tap joins the bridge under the OpenNebula name; detach removes it
            var nic1 = Specs.Nic(vmId, 1, bridge.Name);
            await kvm.AttachNicAsync(name, nic1, None);
            await kvm.AttachNicAsync(name, nic1, None);
            Assert.Contains(await kvm.InterfacesAsync(name, None), i => i.Mac == nic1.Mac && i.Interface == "one-9101-1");
            Assert.Equal(bridge.Name, TestHost.MasterOf("one-9101-1"));
            await TestHost.TypeOnConsoleAsync(name, log, "echo \"TG-NIC $(ls /sys/class/net | tr '\\n' ,)\"", "TG-NIC [a-z0-9,]*eth1");
            await kvm.DetachNicAsync(name, nic1, None);
            Assert.DoesNotContain(await kvm.InterfacesAsync(name, None), i => i.Mac == nic1.Mac);
            Assert.False(TestHost.LinkExists("one-9101-1"));

            // snapshot with memory; a disk attached after it is gone once reverted (before the vCPU hotplug below:
            // libvirt 9.0 cannot revert, with a new QEMU, a snapshot taken after one)
            sw.Restart();
            await kvm.SnapshotCreateAsync(name, "snap-0", None);
            output.WriteLine($"snapshot create {sw.Elapsed.TotalSeconds:F1} s");
            await kvm.SnapshotCreateAsync(name, "snap-0", None);
            Assert.Equal(["snap-0"], await kvm.SnapshotsAsync(name, None));
            await kvm.AttachDiskAsync(name, disk1, None);
            sw.Restart();
            await kvm.SnapshotRevertAsync(name, "snap-0", None);
            output.WriteLine($"snapshot revert {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(DomainState.Running, await kvm.StateAsync(name, None));
            Assert.False((await kvm.BlockDevicesAsync(name, None)).ContainsKey("vdb"));
            await kvm.SnapshotDeleteAsync(name, "snap-0", None);
            Assert.Empty(await kvm.SnapshotsAsync(name, None));
            await kvm.SnapshotDeleteAsync(name, "snap-0", None);
            await Assert.ThrowsAsync<HostDriverException>(() => kvm.SnapshotRevertAsync(name, "snap-0", None));

            // reboot (ACPI) and reset: the guest boots again
            var boots = TestHost.Count(log, "TESTGUEST-BOOT-OK");
            sw.Restart();
            await kvm.RebootAsync(name, None);
            await TestHost.ForConsoleAsync(log, "TESTGUEST-BOOT-OK", boots + 1);
            output.WriteLine($"ACPI reboot to boot marker {sw.Elapsed.TotalSeconds:F1} s");
            await TestHost.ForConsoleAsync(log, "TESTGUEST-READY", boots + 1);
            sw.Restart();
            await kvm.ResetAsync(name, None);
            await TestHost.ForConsoleAsync(log, "TESTGUEST-BOOT-OK", boots + 2);
            output.WriteLine($"reset to boot marker {sw.Elapsed.TotalSeconds:F1} s");
            await TestHost.ForConsoleAsync(log, "TESTGUEST-READY", boots + 2);

            // resize live within VCPU_MAX / MEMORY_MAX; beyond them is refused with the reason
            await kvm.ResizeAsync(name, 2, 160, None);
            Assert.Equal("2", (await TestHost.DomStatsAsync(name))["vcpu.current"]);
            await Wait.ForAsync(async () => (await TestHost.DomStatsAsync(name))["balloon.current"], v => v == "163840",
                "the guest's balloon at 160 MiB", TimeSpan.FromSeconds(30));
            var tooBig = await Assert.ThrowsAsync<HostDriverException>(() => kvm.ResizeAsync(name, 4, 160, None));
            Assert.Contains("VCPU_MAX", tooBig.Message, StringComparison.Ordinal);

            // save → nothing left but the checkpoint; restore → the same guest runs on, persistent again
            var checkpoint = Path.Combine(dir, "checkpoint");
            sw.Restart();
            await kvm.SaveAsync(name, checkpoint, None);
            output.WriteLine($"save {sw.Elapsed.TotalSeconds:F1} s");
            Assert.True(File.Exists(checkpoint));
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));
            await kvm.SaveAsync(name, checkpoint, None); // idempotent
            sw.Restart();
            await kvm.RestoreAsync(spec, checkpoint, None);
            output.WriteLine($"restore {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(DomainState.Running, await kvm.StateAsync(name, None));
            Assert.Contains("Persistent:     yes", await TestHost.Run.CheckedAsync("virsh", ["dominfo", name], None), StringComparison.Ordinal);
            await TestHost.TypeOnConsoleAsync(name, log, "echo TG-ALIVE-$((40+2))", "TG-ALIVE-42");
            Assert.Equal(boots + 2, TestHost.Count(log, "TESTGUEST-BOOT-OK")); // resumed, not rebooted

            // paused behind the driver's back: listed as Paused; shutdown resumes it so the guest hears ACPI
            await TestHost.Run.CheckedAsync("virsh", ["suspend", name], None);
            Assert.Equal(DomainState.Paused, (await kvm.ListAsync(None)).Single(s => s.Name == name).State);

            // ACPI shutdown: the guest powers itself off and the domain is gone
            var poweroffs = TestHost.Count(log, "TESTGUEST-POWEROFF");
            sw.Restart();
            await kvm.ShutdownAsync(name, TimeSpan.FromSeconds(60), None);
            output.WriteLine($"ACPI shutdown {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(poweroffs + 1, TestHost.Count(log, "TESTGUEST-POWEROFF"));
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));
            Assert.DoesNotContain(await kvm.ListAsync(None), s => s.Name == name);
            Assert.False(TestHost.LinkExists("one-9101-0"));
            await kvm.ShutdownAsync(name, TimeSpan.FromSeconds(5), None); // idempotent
            await kvm.DestroyAsync(name, None);
        }
        finally
        {
            await kvm.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }
}
