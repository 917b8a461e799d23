namespace EdgeCloud.Hypervisor;

/// <summary>
/// Which libvirt domain type this host can run: <c>kvm</c> only where the CPU has hardware
/// virtualization (vmx/svm in /proc/cpuinfo) and /dev/kvm opens for read and write; <c>qemu</c>
/// (TCG, software emulation) otherwise. A /dev/kvm without vmx/svm is a nested paravirtual device
/// (kvm_pvm, for example) on which stock guests die, so it does not count. An explicit choice
/// (the constructor option, or EDGECLOUD_DOMAIN_TYPE=qemu|kvm) wins over the probe.
/// </summary>
public sealed record KvmCapability(string DomainType, string Reason)
{
    public const string EnvironmentVariable = "EDGECLOUD_DOMAIN_TYPE";

    public bool IsKvm => DomainType == "kvm";

    /// <summary>Probes this host; <paramref name="forced"/> ("kvm"/"qemu"), then the environment variable, override it.</summary>
    public static KvmCapability Probe(string? forced = null)
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        return Decide(cpuinfo, DevKvmUsable(), forced ?? Environment.GetEnvironmentVariable(EnvironmentVariable));
    }

    /// <summary>The decision from its inputs (what <see cref="Probe"/> reads from the host).</summary>
    public static KvmCapability Decide(string cpuinfo, bool devKvmUsable, string? forced)
    {
        if (!string.IsNullOrWhiteSpace(forced))
        {
            var f = forced.Trim().ToLowerInvariant();
            if (f is not ("kvm" or "qemu"))
                throw new ArgumentException($"domain type must be 'kvm' or 'qemu', not '{forced}' ({EnvironmentVariable})", nameof(forced));
            return new KvmCapability(f, "chosen explicitly");
        }
        var hw = HasVirtualizationFlag(cpuinfo);
        if (hw && devKvmUsable) return new KvmCapability("kvm", "vmx/svm present and /dev/kvm usable");
        if (!hw) return new KvmCapability("qemu", "no vmx/svm CPU flag: software emulation (TCG)");
        return new KvmCapability("qemu", "/dev/kvm missing or not accessible: software emulation (TCG)");
    }

    private static bool HasVirtualizationFlag(string cpuinfo)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var flags = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (flags.Contains("vmx") || flags.Contains("svm")) return true;
        }
        return false;
    }

    private static bool DevKvmUsable()
    {
        try
        {
            using var f = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }
}
