using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor.Tests;

public sealed class KvmCapabilityTests
{
    private const string WithVmx = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n";
    private const string NoVmx = "processor\t: 0\nflags\t\t: fpu vme de pse sse2 hypervisor\n";

    [Fact]
    public void Decide_KvmOnlyWithFlagAndDevice()
    {
        Assert.Equal("kvm", KvmCapability.Decide(WithVmx, devKvmUsable: true, forced: null).DomainType);
        Assert.Equal("kvm", KvmCapability.Decide(WithVmx.Replace("vmx", "svm", StringComparison.Ordinal), true, null).DomainType);
        Assert.Equal("qemu", KvmCapability.Decide(WithVmx, devKvmUsable: false, forced: null).DomainType);
        var pvm = KvmCapability.Decide(NoVmx, devKvmUsable: true, forced: null); // /dev/kvm of a nested paravirtual kind
        Assert.Equal("qemu", pvm.DomainType);
        Assert.Contains("vmx/svm", pvm.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ExplicitChoiceWins_AndIsChecked()
    {
        Assert.Equal("qemu", KvmCapability.Decide(WithVmx, true, "qemu").DomainType);
        Assert.Equal("kvm", KvmCapability.Decide(NoVmx, false, " KVM ").DomainType);
        Assert.Throws<ArgumentException>(() => KvmCapability.Decide(NoVmx, false, "xen"));
        Assert.Equal("qemu", new KvmHypervisor(new KvmOptions { DomainType = "qemu" }).Capability.DomainType);
    }

    [Fact]
    public void Probe_OnThisHost_KvmOnlyWithVmxOrSvmAndUsableDevKvm()
    {
        var flags = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("flags", StringComparison.Ordinal)).SelectMany(l => l.Split(' ')).ToHashSet()
            : [];
        bool devKvm;
        try
        {
            using var f = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            devKvm = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            devKvm = false;
        }
        var expected = (flags.Contains("vmx") || flags.Contains("svm")) && devKvm ? "kvm" : "qemu";
        var forced = Environment.GetEnvironmentVariable(KvmCapability.EnvironmentVariable);
        Assert.Equal(string.IsNullOrWhiteSpace(forced) ? expected : forced.Trim().ToLowerInvariant(), KvmCapability.Probe().DomainType);
        Assert.Equal("kvm", KvmCapability.Probe(forced: "kvm").DomainType);
    }

    [Theory]
    [InlineData("qemu:///system", true)]
    [InlineData("qemu:///session", true)]
    [InlineData("qemu+tcp://10.0.0.2/system", false)]
    [InlineData("qemu+ssh://host/system", false)]
    public void LibvirtDaemon_StartsOnlyLocalDaemons(string uri, bool local) => Assert.Equal(local, LibvirtDaemon.IsLocal(uri));
}

public sealed class VirshParsingTests
{
    [Fact]
    public void DomStats_ParsesDomainsAndSumsDevices()
    {
        const string text = """
            Domain: 'one-1'
              state.state=1
              state.reason=1
              cpu.time=7406320000
              balloon.current=131072
              balloon.rss=224080
              block.count=2
              block.0.name=vda
              block.0.rd.bytes=100
              block.0.wr.bytes=5
              block.1.rd.bytes=20
              block.1.rd.reqs=3
              net.count=1
              net.0.rx.bytes=900
              net.0.tx.bytes=800

            Domain: 'other'
              state.state=5
              state.reason=3
            """;
        var stats = DomStats.Parse(text);
        Assert.Equal(["one-1", "other"], stats.Select(s => s.Name));
        var s = stats[0];
        Assert.Equal(7406320000, s.Long("cpu.time"));
        Assert.Equal(120, s.Sum("block.", ".rd.bytes"));
        Assert.Equal(5, s.Sum("block.", ".wr.bytes"));
        Assert.Equal(3, s.Sum("block.", ".rd.reqs"));
        Assert.Equal(900, s.Sum("net.", ".rx.bytes"));
        Assert.Equal(0, s.Long("missing.key"));
    }

    [Theory]
    [InlineData("running (booted)", DomainState.Running)]
    [InlineData("paused (user)", DomainState.Paused)]
    [InlineData("shut off (crashed)", DomainState.Crashed)]
    [InlineData("shut off (failed)", DomainState.Crashed)]
    [InlineData("shut off (shutdown)", DomainState.Shutoff)]
    [InlineData("shut off (destroyed)", DomainState.Shutoff)]
    [InlineData("crashed (panicked)", DomainState.Crashed)]
    [InlineData("in shutdown (user)", DomainState.Running)]
    public void DomState_MapsToDomainState(string text, DomainState expected) =>
        Assert.Equal(expected, KvmHypervisor.ParseState(text));

    [Fact]
    public void Table_SkipsHeader()
    {
        const string text = " Target   Source\n------------------------------\n vda      /x/disk.0\n hda      -\n\n";
        var rows = KvmHypervisor.Table(text).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(["vda", "/x/disk.0"], rows[0]);
    }

    [Theory]
    [InlineData("qemu+tcp://10.0.0.2/system", "tcp://10.0.0.2")]
    [InlineData("qemu+ssh://root@host2/system", "tcp://host2")]
    [InlineData("qemu:///system", null)]
    public void MigrateUri_FromDestinationHost(string destination, string? expected) =>
        Assert.Equal(expected, KvmHypervisor.MigrateUri(destination));

    [Fact]
    public void CommandFailure_NamesCommandAndQuotesStderrOnOneLine()
    {
        var e = CommandRunner.Failure("virsh", ["start", "one-7"], new CommandResult(1, "", "error: Failed to start domain 'one-7'\nerror: Cannot access storage file '/x'\n"));
        Assert.Equal("virsh start one-7 failed (exit 1): error: Failed to start domain 'one-7' error: Cannot access storage file '/x'", e.Message);
    }

    [Fact]
    public async Task Runner_TimesOutAndKills()
    {
        var runner = new CommandRunner();
        var e = await Assert.ThrowsAsync<HostDriverException>(() => runner.RunAsync("sleep", ["30"], CancellationToken.None, TimeSpan.FromMilliseconds(300)));
        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<HostDriverException>(() => runner.RunAsync("no-such-tool-edgecloud", [], CancellationToken.None));
        Assert.Contains("no-such-tool-edgecloud", missing.Message, StringComparison.Ordinal);
    }
}
