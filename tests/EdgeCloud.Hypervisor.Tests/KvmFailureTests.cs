using System.Diagnostics;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;
using Xunit.Abstractions;

namespace EdgeCloud.Hypervisor.Tests;

/// <summary>The kvm driver when things go wrong: a QEMU killed behind its back, bad input.</summary>
public sealed class KvmFailureTests(ITestOutputHelper output)
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools;
    private static readonly CancellationToken None = CancellationToken.None;

    [HostFact(Needs)]
    public async Task KilledQemu_IsCrashed_RedeployRecovers_FailedMigrationKeepsIt_ShutdownWithoutAcpiIsHard()
    {
        HostPrerequisites.Require(Needs);
        await TestHost.EnsureLibvirtAsync();
        var guest = await TestHost.GuestAsync();
        var kvm = new KvmHypervisor();
        const int vmId = 9102;
        var name = $"one-{vmId}";
        await kvm.DestroyAsync(name, None);
        var dir = TestHost.NewVmDir(name);
        try
        {
            // direct kernel boot, no disk at all
            var spec = new VmSpec
            {
                VmId = vmId,
                VmDir = dir,
                MemoryMb = 128,
                Features = new Dictionary<string, string> { ["ACPI"] = "no" }, // deaf to the power button
                Os = new OsSpec { Kernel = guest.Kernel, Initrd = guest.Initrd, KernelCmd = guest.Cmdline + " tg.halt=wait tg.ctxwait=0" },
            };
            var sw = Stopwatch.StartNew();
            await kvm.DeployAsync(spec, None);
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "TESTGUEST-BOOT-OK");
            output.WriteLine($"direct kernel boot: boot marker {sw.Elapsed.TotalSeconds:F1} s after deploy");

            var pid = kvm.PidOf(name);
            Assert.True(pid > 0);

            // a migration that cannot reach its destination fails and leaves the domain running here
            var m = await Assert.ThrowsAsync<HostDriverException>(() => kvm.MigrateAsync(name, "qemu+tcp://127.0.0.1:1/system", live: true, None));
            Assert.Contains("virsh migrate --live --unsafe --persistent --undefinesource", m.Message, StringComparison.Ordinal);
            Assert.Equal(DomainState.Running, await kvm.StateAsync(name, None));
            Assert.Equal(pid, kvm.PidOf(name));

            Process.GetProcessById(pid).Kill();
            var crashed = await Wait.ForAsync(async () => (await kvm.ListAsync(None)).Single(s => s.Name == name),
                s => s.State != DomainState.Running, "the killed domain to leave Running");
            Assert.Equal(DomainState.Crashed, crashed.State);
            Assert.Equal(0, crashed.Pid);
            Assert.Equal(DomainState.Crashed, await kvm.StateAsync(name, None));

            // resizing a domain that does not run changes its definition
            await kvm.ResizeAsync(name, 2, 192, None);
            var inactive = System.Xml.Linq.XElement.Parse(await TestHost.Run.CheckedAsync("virsh", ["dumpxml", "--inactive", name], None));
            Assert.Equal("2", inactive.Element("vcpu")!.Value);
            Assert.Equal("196608", inactive.Element("memory")!.Value);
            Assert.Equal("196608", inactive.Element("currentMemory")!.Value);

            // deploy again starts it afresh
            await kvm.DeployAsync(spec, None);
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "TESTGUEST-BOOT-OK", 2);
            Assert.NotEqual(pid, kvm.PidOf(name));

            // no ACPI: shutdown powers it off hard once its time is up
            await kvm.ShutdownAsync(name, TimeSpan.FromSeconds(3), None);
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));
            Assert.Equal(0, TestHost.Count(spec.ConsoleLog, "TESTGUEST-POWEROFF"));
            await kvm.DestroyAsync(name, None); // idempotent
            await Assert.ThrowsAsync<HostDriverException>(() => kvm.RebootAsync(name, None));
        }
        finally
        {
            await kvm.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }

    [HostFact(Needs)]
    public async Task BadInput_FailsWithClearMessage_AndLeavesNoDomain()
    {
        HostPrerequisites.Require(Needs);
        await TestHost.EnsureLibvirtAsync();
        var kvm = new KvmHypervisor();
        const int vmId = 9103;
        var name = $"one-{vmId}";
        await kvm.DestroyAsync(name, None);
        var dir = TestHost.NewVmDir(name);
        try
        {
            var missing = Path.Combine(dir, "disk.0");
            var spec = new VmSpec
            {
                VmId = vmId,
                VmDir = dir,
                Disks = [new DiskSpec { DiskId = 0, Path = missing, Target = "vda" }],
            };

            // a disk file that does not exist
            var e = await Assert.ThrowsAsync<HostDriverException>(() => kvm.DeployAsync(spec, None));
            Assert.Contains(missing, e.Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));

            // a "qcow2" that is not one: QEMU refuses it at start; libvirt's reason is in the message
            await File.WriteAllTextAsync(missing, new string('x', 4096));
            e = await Assert.ThrowsAsync<HostDriverException>(() => kvm.DeployAsync(spec, None));
            output.WriteLine(e.Message);
            Assert.StartsWith($"deploy {name}: virsh start {name} failed", e.Message, StringComparison.Ordinal);
            Assert.Contains("qcow2", e.Message, StringComparison.Ordinal);
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));

            // a kernel that does not exist, RAW data that is not XML
            e = await Assert.ThrowsAsync<HostDriverException>(() => kvm.DeployAsync(
                spec with { Disks = [], Os = new OsSpec { Kernel = Path.Combine(dir, "vmlinuz") } }, None));
            Assert.Contains("kernel", e.Message, StringComparison.Ordinal);
            e = await Assert.ThrowsAsync<HostDriverException>(() => kvm.DeployAsync(spec with { Disks = [], RawData = "<devices>" }, None));
            Assert.Contains("RAW", e.Message, StringComparison.Ordinal);
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));

            // actions on a domain that is not there
            await Assert.ThrowsAsync<HostDriverException>(() => kvm.ResetAsync(name, None));
            await Assert.ThrowsAsync<HostDriverException>(() => kvm.SaveAsync(name, Path.Combine(dir, "checkpoint"), None));
            await Assert.ThrowsAsync<HostDriverException>(() => kvm.RestoreAsync(spec with { Disks = [] }, Path.Combine(dir, "checkpoint"), None));
        }
        finally
        {
            await kvm.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }

    [HostFact(HostNeeds.Root | HostNeeds.Libvirt)]
    public async Task Facts_NameHypervisorMachinesAndVersions()
    {
        HostPrerequisites.Require(HostNeeds.Root | HostNeeds.Libvirt);
        await TestHost.EnsureLibvirtAsync();
        var kvm = new KvmHypervisor();
        var facts = await kvm.FactsAsync(None);
        Assert.Equal("kvm", facts["HYPERVISOR"]);
        Assert.Equal(kvm.Capability.DomainType, facts["KVM_DOMAIN_TYPE"]);
        Assert.Contains("pc", facts["KVM_MACHINES"].Split(' '));
        Assert.Matches(@"^\d+\.\d+", facts["LIBVIRT_VERSION"]);
        Assert.Matches(@"^\d+\.\d+", facts["QEMU_VERSION"]);
        Assert.False(string.IsNullOrEmpty(facts["MODELNAME"]));
        output.WriteLine(string.Join("\n", facts.Select(kv => $"{kv.Key}={kv.Value}")));
    }
}
