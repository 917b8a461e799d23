using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// The latest monitoring sample of a host. Monitoring is not replicated state: it changes every few
/// seconds for thousands of hosts, so it lives in the monitor's memory and is rendered into the
/// host's MONITORING element on demand. CPU in percent (100 = one core), memory in KiB.
/// </summary>
public sealed record HostMonitoring
{
    public long Timestamp { get; init; }
    public long FreeCpu { get; init; }
    public long UsedCpu { get; init; }
    public long FreeMemory { get; init; }
    public long UsedMemory { get; init; }
    public long NetRx { get; init; }
    public long NetTx { get; init; }
    /// <summary>Per system datastore on the host: id → (total, free, used) MiB.</summary>
    public ImmutableSortedDictionary<int, (long Total, long Free, long Used)> Datastores { get; init; } =
        ImmutableSortedDictionary<int, (long Total, long Free, long Used)>.Empty;
}

/// <summary>The latest monitoring sample of a VM. CPU in percent, memory in KiB, counters in bytes.</summary>
public sealed record VmMonitoring
{
    public long Timestamp { get; init; }
    public double Cpu { get; init; }
    public long Memory { get; init; }
    public long NetRx { get; init; }
    public long NetTx { get; init; }
    public long DiskRdBytes { get; init; }
    public long DiskWrBytes { get; init; }
    public long DiskRdIops { get; init; }
    public long DiskWrIops { get; init; }
}

/// <summary>Where renderers and the scheduler read live monitoring from.</summary>
public interface IMonitoringSource
{
    HostMonitoring? Host(int hostId);
    VmMonitoring? Vm(int vmId);
}

/// <summary>No monitoring at all (tests, a front-end before its first sample).</summary>
public sealed class NoMonitoring : IMonitoringSource
{
    public static readonly NoMonitoring Instance = new();
    public HostMonitoring? Host(int hostId) => null;
    public VmMonitoring? Vm(int vmId) => null;
}
