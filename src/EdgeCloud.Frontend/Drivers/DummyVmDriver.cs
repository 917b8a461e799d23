using System.Globalization;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Frontend.Drivers;

/// <summary>
/// OpenNebula's dummy VM driver: every action succeeds after a configurable delay, so thousands of
/// simulated hosts run on one machine. Failures on request, for tests: a VM or host template
/// attribute DUMMY_FAIL = "deploy,shutdown" (driver op names, or "all") makes those actions fail.
/// </summary>
public sealed class DummyVmDriver(TimeSpan delay, TimeProvider time) : IVmDriver
{
    public string Name => "dummy";

    public async Task<DriverReply> ExecuteAsync(DriverRequest request, Vm vm, Host host, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero) await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        var fail = vm.UserTemplate.Get("DUMMY_FAIL") ?? host.Template.Get("DUMMY_FAIL") ?? "";
        var ops = fail.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ops.Any(o => o.Equals("all", StringComparison.OrdinalIgnoreCase) || o.Equals(request.Op.ToString(), StringComparison.OrdinalIgnoreCase)))
            return new DriverReply(false, $"dummy driver asked to fail {request.Op} (DUMMY_FAIL)");
        var deployId = request.Op is DriverOp.Deploy or DriverOp.Restore ? $"one-{vm.Id.ToString(CultureInfo.InvariantCulture)}" : "";
        return new DriverReply(true, "", deployId);
    }
}

/// <summary>The dummy IM: a simulated host reports a fixed capacity (its template may override it with DUMMY_CPU / DUMMY_MEMORY in MiB).</summary>
public sealed class DummyHostProbe(long cpu, long memoryMb, long diskMb) : IHostProbe
{
    public string Name => "dummy";

    public Task<HostProbeResult?> ProbeAsync(Host host, CancellationToken cancellationToken)
    {
        if (host.Template.Get("DUMMY_UNREACHABLE") is "YES") return Task.FromResult<HostProbeResult?>(null);
        var c = host.Template.TryGetLong("DUMMY_CPU", out var tc) ? tc : cpu;
        var m = (host.Template.TryGetLong("DUMMY_MEMORY", out var tm) ? tm : memoryMb) * 1024;
        var used = host.Share.CpuUsage;
        var attrs = new Dictionary<string, string>
        {
            ["HYPERVISOR"] = "dummy",
            ["CPUSPEED"] = "2400",
            ["MODELNAME"] = "Dummy CPU",
            ["ARCH"] = "x86_64",
            // No HOSTNAME: a simulated host has no real hostname (reporting its name would rewrite it on every rename).
        };
        return Task.FromResult<HostProbeResult?>(new HostProbeResult(c, m, diskMb, Math.Min(c, used / 2), Math.Min(m, host.Share.MemUsage / 2), diskMb - host.Share.DiskUsage, attrs));
    }
}
