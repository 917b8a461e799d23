using EdgeCloud.Core.Objects;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Monitoring;

/// <summary>
/// The monitor's failure handling (leader-only: wrapped in <c>LeaderOnlyService</c>, it stops the moment this
/// front-end loses the leadership), after OpenNebula's host_error hook: a host that stays in ERROR (its agent
/// silent) for longer than <see cref="FrontendOptions.HostErrorGrace"/> has its VMs restarted on other hosts of
/// its cluster by <see cref="Cloud.RecoverFailedHostAsync"/> — from their last checkpoint on the cluster's
/// replica when they have one, else recreated from their images. The time a host entered ERROR is what this
/// service saw, so a new leader waits a whole grace period again before acting (never too early).
/// </summary>
public sealed class HostFailureRecovery(Func<Cloud> cloud, FrontendOptions options, TimeProvider time, ILogger<HostFailureRecovery> logger) : BackgroundService
{
    private readonly Dictionary<int, DateTimeOffset> _errorSince = [];

    /// <summary>The grace period: the option, or five monitoring intervals (OpenNebula's hook waits <c>-p 5</c> cycles).</summary>
    public TimeSpan Grace => TimeSpan.FromSeconds(options.HostErrorGrace >= 0 ? options.HostErrorGrace : 5 * options.MonitorInterval);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.HostErrorRecovery) return;
        var tick = TimeSpan.FromSeconds(Math.Clamp(options.MonitorInterval / 2, 0.5, 5));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "Host failure recovery round failed"); }
            try { await Task.Delay(tick, time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One look at the hosts: recovers those in ERROR past the grace period (public for tests).</summary>
    public async Task<IReadOnlyList<VmRecovery>> RoundAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var state = cloud().State;
        var hosts = state.All<Host>(ObjectType.Host).ToList();
        foreach (var id in _errorSince.Keys.Where(id => hosts.All(h => h.Id != id || h.State != HostState.ERROR)).ToList()) _errorSince.Remove(id);
        var all = new List<VmRecovery>();
        foreach (var h in hosts.Where(h => h.State == HostState.ERROR))
        {
            if (!_errorSince.TryGetValue(h.Id, out var since)) _errorSince[h.Id] = since = now;
            if (now - since < Grace) continue;
            if (!state.All<Vm>(ObjectType.Vm).Any(v => v.HostId == h.Id && v.State == VmState.ACTIVE)) continue;
            ct.ThrowIfCancellationRequested(); // leadership lost: not one more move
            var done = await cloud().RecoverFailedHostAsync(h.Id, ct).ConfigureAwait(false);
            foreach (var r in done)
            {
                if (r.ToHost >= 0) logger.LogWarning("VM {VmId}: {Message}", r.VmId, r.Message);
                else logger.LogWarning("VM {VmId} stays: {Message}", r.VmId, r.Message);
            }
            all.AddRange(done);
        }
        return all;
    }
}
