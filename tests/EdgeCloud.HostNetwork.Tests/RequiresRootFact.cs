namespace EdgeCloud.HostNetwork.Tests;

/// <summary>What a host test needs from the machine.</summary>
[Flags]
public enum HostNeeds
{
    /// <summary>root, iproute2 (ip, bridge), nftables, busybox (ping, nc in the endpoints).</summary>
    Netns = 1,
    /// <summary>Also QEMU (TCG), cpio, gzip, tcpdump and the test guest builder's tools.</summary>
    Qemu = 2,
}

/// <summary>
/// [Fact] for tests that change the host's networking (namespaces, bridges, nftables). When the
/// machine lacks what they need, the test is skipped with the reason on a developer's machine; with
/// CI=true it is never skipped: it runs, and <see cref="HostPrerequisites.Require"/> fails it loudly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresRootFactAttribute : FactAttribute
{
    public RequiresRootFactAttribute(HostNeeds needs = HostNeeds.Netns)
    {
        if (!HostPrerequisites.InCi && HostPrerequisites.Missing(needs) is { } reason) Skip = reason;
    }
}

public static class HostPrerequisites
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private const string HowTo = "Run the tests as root on Linux with the host packages (scripts/install-host-deps.sh).";

    /// <summary>Null when everything is there, else what is missing.</summary>
    public static string? Missing(HostNeeds needs)
    {
        var missing = new List<string>();
        if (!OperatingSystem.IsLinux()) return "host network tests need Linux. " + HowTo;
        if (Environment.UserName != "root" && !IsRoot()) missing.Add("root");
        foreach (var tool in new[] { "ip", "bridge", "nft", "busybox", "sysctl" })
            if (Which(tool) is null) missing.Add(tool);
        if (needs.HasFlag(HostNeeds.Qemu))
            foreach (var tool in new[] { "qemu-system-x86_64", "cpio", "gzip", "qemu-img", "dpkg-deb", "tcpdump", "timeout" })
                if (Which(tool) is null) missing.Add(tool);
        return missing.Count == 0 ? null : $"missing {string.Join(", ", missing)}. {HowTo}";
    }

    /// <summary>Fails the test (CI=true, where it was not skipped) when something is missing.</summary>
    public static void Require(HostNeeds needs = HostNeeds.Netns)
    {
        if (Missing(needs) is { } reason)
            throw new InvalidOperationException($"CI=true, so host network tests are not skipped, but this machine cannot run them: {reason}");
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
                .Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";
        }
        catch (IOException) { return false; }
    }

    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/sbin"])
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
