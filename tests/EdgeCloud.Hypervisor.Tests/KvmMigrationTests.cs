using System.Diagnostics;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;
using Xunit.Abstractions;

namespace EdgeCloud.Hypervisor.Tests;

/// <summary>Live migration from the system libvirtd to a second libvirtd playing another host.</summary>
public sealed class KvmMigrationTests(ITestOutputHelper output)
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt;
    private static readonly CancellationToken None = CancellationToken.None;

    [HostFact(Needs)]
    public async Task LiveMigration_MovesTheRunningGuest_AndRepeatingItSucceeds()
    {
        HostPrerequisites.Require(Needs);
        await TestHost.EnsureLibvirtAsync();
        var guest = await TestHost.GuestAsync();
        var kvm = new KvmHypervisor();
        const int vmId = 9104;
        var name = $"one-{vmId}";
        await kvm.DestroyAsync(name, None);
        var dir = TestHost.NewVmDir(name);
        await using var host2 = await SecondLibvirt.StartAsync();
        var kvm2 = new KvmHypervisor(new KvmOptions { Uri = host2.Uri });
        try
        {
            var spec = new VmSpec
            {
                VmId = vmId,
                VmDir = dir,
                MemoryMb = 128,
                Os = new OsSpec { Kernel = guest.Kernel, Initrd = guest.Initrd, KernelCmd = guest.Cmdline + " tg.halt=wait tg.ctxwait=0" },
            };
            await kvm.DeployAsync(spec, None);
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "TESTGUEST-READY");

            var sw = Stopwatch.StartNew();
            await kvm.MigrateAsync(name, host2.Uri, live: true, None);
            output.WriteLine($"live migration {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(DomainState.Missing, await kvm.StateAsync(name, None));   // --undefinesource
            Assert.Equal(DomainState.Running, await kvm2.StateAsync(name, None));
            Assert.Contains("Persistent:     yes", await TestHost.Run.CheckedAsync("virsh", ["-c", host2.Uri, "dominfo", name], None), StringComparison.Ordinal);

            // the same guest runs on, without a new boot
            await TestHost.TypeOnConsoleAsync(name, spec.ConsoleLog, "echo TG-MIGRATED-$((1+1))", "TG-MIGRATED-2", uri: host2.Uri);
            Assert.Equal(1, TestHost.Count(spec.ConsoleLog, "TESTGUEST-BOOT-OK"));

            await kvm.MigrateAsync(name, host2.Uri, live: true, None); // repeated: already there
            await kvm2.DestroyAsync(name, None);
            Assert.Equal(DomainState.Missing, await kvm2.StateAsync(name, None));
        }
        finally
        {
            await kvm.DestroyAsync(name, None);
            await kvm2.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }
}
