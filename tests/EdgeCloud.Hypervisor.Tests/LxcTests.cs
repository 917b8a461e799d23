using System.Diagnostics;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;
using Xunit.Abstractions;

namespace EdgeCloud.Hypervisor.Tests;

public sealed class LxcConfigTests
{
    private static VmSpec Spec() => new()
    {
        VmId = 21,
        Name = "ct",
        VmDir = "/srv/one/21",
        Cpu = 0.5,
        Vcpu = 2,
        MemoryMb = 64,
        Disks = [new DiskSpec { DiskId = 0, Path = "/srv/one/21/disk.0", Target = "sda", Format = "raw" }],
        Nics = [new NicSpec { NicId = 0, Mac = "02:00:0A:00:00:15", Bridge = "br0", Target = "one-21-0", Ip = "10.1.0.21", PrefixLength = 24, Gateway = "10.1.0.1", Mtu = 1400 }],
        Context = new Dictionary<string, string> { ["SET_HOSTNAME"] = "ct-21" },
    };

    [Fact]
    public void Build_V1_RootfsNetworkLimitsConsoleContext()
    {
        var config = LxcConfig.Build(Spec(), "loop:/srv/one/21/disk.0", cgroupV2: false).Split('\n');
        Assert.Contains("lxc.uts.name = ct-21", config);
        Assert.Contains("lxc.rootfs.path = loop:/srv/one/21/disk.0", config);
        Assert.Contains("lxc.apparmor.profile = unconfined", config);
        Assert.Contains("lxc.console.logfile = /srv/one/21/console.log", config);
        Assert.Contains("lxc.cgroup.memory.limit_in_bytes = 67108864", config);
        Assert.Contains("lxc.cgroup.cpu.shares = 512", config);
        Assert.Contains("lxc.cgroup.cpu.cfs_quota_us = 200000", config);
        Assert.Contains("lxc.net.0.type = veth", config);
        Assert.Contains("lxc.net.0.link = br0", config);
        Assert.Contains("lxc.net.0.veth.pair = one-21-0", config);
        Assert.Contains("lxc.net.0.hwaddr = 02:00:0a:00:00:15", config);
        Assert.Contains("lxc.net.0.name = eth0", config);
        Assert.Contains("lxc.net.0.mtu = 1400", config);
        Assert.Contains("lxc.net.0.ipv4.address = 10.1.0.21/24", config);
        Assert.Contains("lxc.net.0.ipv4.gateway = 10.1.0.1", config);
        Assert.Contains("lxc.mount.entry = /srv/one/21/context context none bind,ro,create=dir 0 0", config);
    }

    [Fact]
    public void Build_V2AndNoNics()
    {
        var config = LxcConfig.Build(Spec() with { Nics = [], Context = null }, "dir:/x", cgroupV2: true).Split('\n');
        Assert.Contains("lxc.cgroup2.memory.max = 67108864", config);
        Assert.Contains("lxc.cgroup2.cpu.max = 200000 100000", config);
        Assert.Contains("lxc.net.0.type = empty", config);
        Assert.Contains("lxc.uts.name = one-21", config);
        Assert.DoesNotContain(config, l => l.StartsWith("lxc.mount.entry", StringComparison.Ordinal));
    }

    [Fact]
    public void RootfsFor_DirectoryRawImageOrClearError()
    {
        var spec = Spec();
        Assert.Equal("dir:/srv/one/21/disk.0", LxcConfig.RootfsFor(spec, _ => true, _ => false));
        Assert.Equal("loop:/srv/one/21/disk.0", LxcConfig.RootfsFor(spec, _ => false, _ => true));
        var qcow = spec with { Disks = [spec.Disks[0] with { Format = "qcow2" }] };
        Assert.Contains("qcow2", Assert.Throws<HostDriverException>(() => LxcConfig.RootfsFor(qcow, _ => false, _ => true)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<HostDriverException>(() => LxcConfig.RootfsFor(spec, _ => false, _ => false)).Message, StringComparison.Ordinal);
        Assert.Contains("needs a disk", Assert.Throws<HostDriverException>(() => LxcConfig.RootfsFor(spec with { Disks = [] }, _ => true, _ => true)).Message, StringComparison.Ordinal);
    }
}

/// <summary>The lxc driver with real busybox system containers.</summary>
public sealed class LxcTests(ITestOutputHelper output)
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Lxc | HostNeeds.Network;
    private static readonly CancellationToken None = CancellationToken.None;

    [HostFact(Needs)]
    public async Task BusyboxContainer_FromDirectory_GoesThroughItsActions()
    {
        HostPrerequisites.Require(Needs);
        var lxc = new LxcHypervisor();
        const int vmId = 9201;
        var name = $"one-{vmId}";
        await lxc.DestroyAsync(name, None);
        var dir = TestHost.NewVmDir(name);
        await using var bridge = await TestBridge.CreateAsync();
        try
        {
            var rootfs = await TestContainerImage.RootfsAsync(dir);
            var spec = new VmSpec
            {
                VmId = vmId,
                VmDir = dir,
                MemoryMb = 64,
                Disks = [new DiskSpec { DiskId = 0, Path = rootfs, Target = "sda", Format = "raw" }],
                Nics = [Specs.Nic(vmId, 0, bridge.Name, ip: "10.213.78.21")],
                Context = new Dictionary<string, string> { ["SET_HOSTNAME"] = "eck-ct" },
            };

            var sw = Stopwatch.StartNew();
            Assert.Equal(name, await lxc.DeployAsync(spec, None));
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "ECK-CT-CONTEXT eck-ct", seconds: 30);
            output.WriteLine($"lxc deploy to context marker {sw.Elapsed.TotalSeconds:F1} s");
            Assert.Contains("ECK-CT-UP eck-ct", TestHost.ConsoleText(spec.ConsoleLog), StringComparison.Ordinal);
            var status = (await lxc.ListAsync(None)).Single(s => s.Name == name);
            Assert.Equal(DomainState.Running, status.State);
            Assert.True(status.Pid > 0);
            Assert.True(status.MemoryKb > 0);
            Assert.Equal(name, await lxc.DeployAsync(spec, None)); // idempotent
            Assert.Equal(status.Pid, (await lxc.ListAsync(None)).Single(s => s.Name == name).Pid);

            // inside: hostname, the NIC with its MAC and address; outside: the veth on the bridge
            Assert.Equal("eck-ct", (await lxc.ExecAsync(name, ["hostname"], None)).Trim());
            var eth0 = await lxc.ExecAsync(name, ["ip", "addr", "show", "eth0"], None);
            Assert.Contains(spec.Nics[0].Mac, eth0, StringComparison.Ordinal);
            Assert.Contains("10.213.78.21/24", eth0, StringComparison.Ordinal);
            Assert.Equal(bridge.Name, TestHost.MasterOf("one-9201-0"));
            Assert.Equal("67108864", await lxc.CgroupAsync(name, LxcHypervisor.CgroupV2 ? "memory.max" : "memory.limit_in_bytes", None));

            // a second NIC live, then gone
            var nic1 = Specs.Nic(vmId, 1, bridge.Name);
            await lxc.AttachNicAsync(name, nic1, None);
            await lxc.AttachNicAsync(name, nic1, None);
            Assert.Contains(nic1.Mac, await lxc.ExecAsync(name, ["ip", "link", "show", "eth1"], None), StringComparison.Ordinal);
            Assert.Equal(bridge.Name, TestHost.MasterOf("one-9201-1"));
            await lxc.DetachNicAsync(name, nic1, None);
            Assert.False(TestHost.LinkExists("one-9201-1"));
            await Assert.ThrowsAsync<HostDriverException>(() => lxc.ExecAsync(name, ["ip", "link", "show", "eth1"], None));

            // limits change at once
            await lxc.ResizeAsync(name, 1, 96, None);
            Assert.Equal("100663296", await lxc.CgroupAsync(name, LxcHypervisor.CgroupV2 ? "memory.max" : "memory.limit_in_bytes", None));

            // what containers cannot do says so
            foreach (var call in new Func<Task>[]
            {
                () => lxc.SaveAsync(name, Path.Combine(dir, "checkpoint"), None),
                () => lxc.SnapshotCreateAsync(name, "snap-0", None),
                () => lxc.MigrateAsync(name, "qemu+tcp://10.0.0.2/system", live: true, None),
                () => lxc.AttachDiskAsync(name, spec.Disks[0] with { DiskId = 1, Target = "sdb" }, None),
            })
            {
                var e = await Assert.ThrowsAsync<HostDriverException>(call);
                Assert.Contains("not supported for containers", e.Message, StringComparison.Ordinal);
            }

            // reboot: init goes down cleanly and runs again
            var pid = (await lxc.ListAsync(None)).Single(s => s.Name == name).Pid;
            await lxc.RebootAsync(name, None);
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "ECK-CT-UP", 2, seconds: 60);
            Assert.Equal(1, TestHost.Count(spec.ConsoleLog, "ECK-CT-DOWN"));
            Assert.NotEqual(pid, (await lxc.ListAsync(None)).Single(s => s.Name == name).Pid);

            // shutdown: init goes down cleanly; the container is gone, its rootfs stays
            await lxc.ShutdownAsync(name, TimeSpan.FromSeconds(20), None);
            Assert.Equal(2, TestHost.Count(spec.ConsoleLog, "ECK-CT-DOWN"));
            Assert.DoesNotContain(await lxc.ListAsync(None), s => s.Name == name);
            Assert.False(Directory.Exists(lxc.ContainerDir(name)));
            Assert.False(TestHost.LinkExists("one-9201-0"));
            Assert.True(File.Exists(Path.Combine(rootfs, "bin", "busybox")));
            await lxc.ShutdownAsync(name, TimeSpan.FromSeconds(1), None);
            await lxc.DestroyAsync(name, None);
        }
        finally
        {
            await lxc.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }

    [HostFact(Needs)]
    public async Task BusyboxContainer_FromRawImage_RunsAndDestroyUnmounts()
    {
        HostPrerequisites.Require(Needs);
        var lxc = new LxcHypervisor();
        const int vmId = 9202;
        var name = $"one-{vmId}";
        await lxc.DestroyAsync(name, None);
        var dir = TestHost.NewVmDir(name);
        try
        {
            var rootfs = await TestContainerImage.RootfsAsync(dir);
            var image = Path.Combine(dir, "disk.0");
            await TestHost.Run.CheckedAsync("mke2fs", ["-q", "-t", "ext4", "-d", rootfs, image, "64M"], None);
            var spec = new VmSpec
            {
                VmId = vmId,
                VmDir = dir,
                Disks = [new DiskSpec { DiskId = 0, Path = image, Target = "sda", Format = "raw" }],
            };
            await lxc.DeployAsync(spec, None);
            await TestHost.ForConsoleAsync(spec.ConsoleLog, "ECK-CT-UP one-9202", seconds: 30);
            Assert.Equal(DomainState.Running, (await lxc.ListAsync(None)).Single(s => s.Name == name).State);
            Assert.Contains("lo", await lxc.ExecAsync(name, ["ls", "/sys/class/net"], None), StringComparison.Ordinal);

            await lxc.DestroyAsync(name, None);
            Assert.Equal(DomainState.Missing, (await lxc.InfoAsync(name, None)).State);
            Assert.DoesNotContain(image, await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
            var losetup = await TestHost.Run.CheckedAsync("losetup", ["-a"], None);
            Assert.DoesNotContain(image, losetup, StringComparison.Ordinal);

            // a qcow2 "rootfs" is refused before anything is created
            var e = await Assert.ThrowsAsync<HostDriverException>(() => lxc.DeployAsync(spec with { Disks = [spec.Disks[0] with { Format = "qcow2" }] }, None));
            Assert.Contains("raw filesystem image", e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(lxc.ContainerDir(name)));
        }
        finally
        {
            await lxc.DestroyAsync(name, None);
            TestHost.TryDelete(dir);
        }
    }
}
