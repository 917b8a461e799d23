using System.Globalization;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>Human units for SCHED_MESSAGE: people read "64 GiB", not "67108864".</summary>
internal static class Units
{
    public static string MemoryKib(long kib) => kib >= 1024 ? MebiBytes(kib / 1024.0) : $"{kib} KiB";

    public static string MebiBytes(double mib)
    {
        if (mib >= 1024) return $"{Number(mib / 1024)} GiB";
        return $"{Number(mib)} MiB";
    }

    /// <summary>CPU in percent (100 = one core) as cores: "2 CPUs", "0.5 free CPU".</summary>
    public static string Cpu(long percent, bool free = false)
    {
        var cores = percent / 100.0;
        return $"{Number(cores)} {(free ? "free " : "")}{(cores > 1 ? "CPUs" : "CPU")}";
    }

    private static string Number(double v) =>
        Math.Round(v, 2, MidpointRounding.AwayFromZero).ToString("0.##", CultureInfo.InvariantCulture);
}
