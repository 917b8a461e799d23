using System.Globalization;
using System.Runtime.InteropServices;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Agent;

/// <summary>
/// Reads the host's capacity and usage from /proc and the filesystem: CPU (percent, 100 per core) from
/// two /proc/stat samples, memory from /proc/meminfo (KiB), the data directory's disk (MiB), network
/// bytes from /proc/net/dev, CPU model and speed from /proc/cpuinfo, the kernel from uname.
/// </summary>
public sealed class HostFactsReader(string dataDir)
{
    private (long Busy, long Total)? _lastCpu;

    public HostFacts Read(string hypervisor, IReadOnlyDictionary<string, string> extra)
    {
        var cores = Environment.ProcessorCount;
        var mem = MemInfo();
        var total = mem.GetValueOrDefault("MemTotal");
        var available = mem.GetValueOrDefault("MemAvailable", mem.GetValueOrDefault("MemFree"));
        var drive = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(dataDir)) is { Length: > 0 } root && Directory.Exists(dataDir) ? dataDir : "/");
        var (rx, tx) = NetDev();
        var (model, mhz) = CpuInfo();
        return new HostFacts
        {
            Hostname = Environment.MachineName,
            TotalCpu = cores * 100L,
            UsedCpu = (long)Math.Round(CpuBusyFraction() * cores * 100),
            TotalMemoryKb = total,
            UsedMemoryKb = Math.Max(0, total - available),
            TotalDiskMb = drive.TotalSize / (1024 * 1024),
            FreeDiskMb = drive.AvailableFreeSpace / (1024 * 1024),
            Hypervisor = hypervisor,
            CpuModel = model,
            CpuMhz = mhz,
            Kernel = Kernel(),
            Arch = RuntimeInformation.OSArchitecture switch { Architecture.X64 => "x86_64", Architecture.Arm64 => "aarch64", var a => a.ToString().ToLowerInvariant() },
            NetRxBytes = rx,
            NetTxBytes = tx,
            Extra = extra,
        };
    }

    private double CpuBusyFraction()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var idle = v[3] + (v.Length > 4 ? v[4] : 0);
            var totalTicks = v.Sum();
            var now = (Busy: totalTicks - idle, Total: totalTicks);
            var last = _lastCpu;
            _lastCpu = now;
            if (last is not { } l || now.Total <= l.Total) return 0;
            return Math.Clamp((double)(now.Busy - l.Busy) / (now.Total - l.Total), 0, 1);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static Dictionary<string, long> MemInfo()
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!File.Exists("/proc/meminfo")) return d;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            var parts = line.Split(':', 2);
            if (parts.Length == 2 && long.TryParse(parts[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture, out var kb)) d[parts[0]] = kb;
        }
        return d;
    }

    private static (long Rx, long Tx) NetDev()
    {
        long rx = 0, tx = 0;
        if (!File.Exists("/proc/net/dev")) return (0, 0);
        foreach (var line in File.ReadLines("/proc/net/dev").Skip(2))
        {
            var parts = line.Split(':', 2);
            if (parts.Length != 2 || parts[0].Trim() == "lo") continue;
            var f = parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 9) continue;
            rx += long.TryParse(f[0], CultureInfo.InvariantCulture, out var r) ? r : 0;
            tx += long.TryParse(f[8], CultureInfo.InvariantCulture, out var t) ? t : 0;
        }
        return (rx, tx);
    }

    private static (string Model, long Mhz) CpuInfo()
    {
        if (!File.Exists("/proc/cpuinfo")) return ("", 0);
        string model = "";
        long mhz = 0;
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
        {
            if (model.Length == 0 && line.StartsWith("model name", StringComparison.Ordinal)) model = line.Split(':', 2)[1].Trim();
            if (mhz == 0 && line.StartsWith("cpu MHz", StringComparison.Ordinal) && double.TryParse(line.Split(':', 2)[1].Trim(), CultureInfo.InvariantCulture, out var m)) mhz = (long)m;
            if (model.Length > 0 && mhz > 0) break;
        }
        return (model, mhz);
    }

    private static string Kernel()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return Environment.OSVersion.VersionString; }
    }
}
