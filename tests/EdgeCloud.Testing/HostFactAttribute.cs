using Xunit.Abstractions;
using Xunit.Sdk;

namespace EdgeCloud.Testing;

/// <summary>What a test needs from the machine it runs on (real hypervisors, host tools, root).</summary>
[Flags]
public enum HostNeeds
{
    None = 0,
    /// <summary>Running as root (libvirt's system URI, LXC, bridges, loop mounts).</summary>
    Root = 1,
    /// <summary>qemu-system-x86_64 and qemu-img.</summary>
    Qemu = 2,
    /// <summary>libvirtd, virtlogd, virsh, and virt-xml-validate with xmllint.</summary>
    Libvirt = 4,
    /// <summary>The lxc-* tools and busybox (for test containers).</summary>
    Lxc = 8,
    /// <summary>genisoimage and isoinfo (context CDs).</summary>
    IsoTools = 16,
    /// <summary>iproute2 (bridges, veth).</summary>
    Network = 32,
}

/// <summary>
/// [Fact] for tests that drive the real host (libvirt, QEMU, LXC...). When something it needs is
/// missing, the test is reported as skipped with the reason, on a developer's machine only; with
/// CI=true it is never skipped: it runs and fails loudly (call <see cref="HostPrerequisites.Require"/>
/// first so the failure names what is missing). <c>scripts/install-host-deps.sh</c> installs it all.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("EdgeCloud.Testing.HostFactDiscoverer", "EdgeCloud.Testing")]
public sealed class HostFactAttribute(HostNeeds needs) : FactAttribute
{
    public HostNeeds Needs { get; } = needs;
}

/// <summary>Discovers <see cref="HostFactAttribute"/> tests, skipping them when the host lacks something and CI is not set.</summary>
public sealed class HostFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var arg = factAttribute.GetConstructorArguments().FirstOrDefault();
        var needs = arg is null ? HostNeeds.None : (HostNeeds)Convert.ToInt32(arg, System.Globalization.CultureInfo.InvariantCulture);
        if (HostPrerequisites.SkipReason(needs) is { } reason)
            return [new XunitSkippedDataRowTestCase(diagnosticMessageSink, display, displayOptions, testMethod, reason)];
        return [new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod)];
    }
}

/// <summary>Checks the host for what <see cref="HostNeeds"/> lists.</summary>
public static class HostPrerequisites
{
    public const string HowTo = "Run them as root on a host with the packages of scripts/install-host-deps.sh (Debian).";

    private static readonly (HostNeeds Need, string[] Tools)[] Tools =
    [
        (HostNeeds.Qemu, ["qemu-system-x86_64", "qemu-img"]),
        (HostNeeds.Libvirt, ["virsh", "libvirtd", "virtlogd", "virt-xml-validate", "xmllint"]),
        (HostNeeds.Lxc, ["lxc-create", "lxc-start", "lxc-stop", "lxc-attach", "lxc-info", "lxc-cgroup", "busybox"]),
        (HostNeeds.IsoTools, ["genisoimage", "isoinfo"]),
        (HostNeeds.Network, ["ip"]),
    ];

    public static bool InCi => PostgresTestServer.InCi;

    /// <summary>Everything <paramref name="needs"/> asks for that this host lacks (empty = all there).</summary>
    public static IReadOnlyList<string> Missing(HostNeeds needs)
    {
        var missing = new List<string>();
        if (needs.HasFlag(HostNeeds.Root) && Environment.UserName != "root") missing.Add("root");
        foreach (var (need, tools) in Tools)
        {
            if (!needs.HasFlag(need)) continue;
            missing.AddRange(tools.Where(t => !OnPath(t)));
        }
        return missing;
    }

    /// <summary>Non-null when the test may be skipped: something is missing and CI is not set.</summary>
    public static string? SkipReason(HostNeeds needs) =>
        Missing(needs) is { Count: > 0 } m && !InCi ? $"this host lacks {string.Join(", ", m)} (host tests skipped on this machine). {HowTo}" : null;

    /// <summary>Throws, naming what is missing, when the host lacks something (in CI, where such tests are not skipped).</summary>
    public static void Require(HostNeeds needs)
    {
        if (Missing(needs) is { Count: > 0 } m)
            throw new InvalidOperationException($"this host lacks {string.Join(", ", m)}, and host tests must run{(InCi ? " in CI (CI=true)" : "")}. {HowTo}");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .Any(d => File.Exists(Path.Combine(d, tool)));
}
