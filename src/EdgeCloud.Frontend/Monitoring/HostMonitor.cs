using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Monitoring;

/// <summary>
/// Probes hosts through their IM driver: a new or re-enabled host at once (so it is MONITORED within
/// a second), every host on an interval. Results go to the in-memory <see cref="MonitoringStore"/>
/// and, when something changed, to the state in one command per round.
/// </summary>
public sealed class HostMonitor(Func<Cloud> cloud, IEnumerable<IHostProbe> probes, MonitoringStore store, FrontendOptions options,
    TimeProvider time, ILogger<HostMonitor> logger) : BackgroundService, IStateObserver
{
    private readonly Dictionary<string, IHostProbe> _probes = probes.ToDictionary(p => p.Name, StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly System.Collections.Concurrent.ConcurrentQueue<int> _urgent = new();

    /// <summary>Probes a host at the next moment (e.g. its agent just reported for the first time).</summary>
    public void ProbeSoon(int hostId)
    {
        _urgent.Enqueue(hostId);
        _wake.Release();
    }

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        var any = false;
        foreach (var e in events)
            if (e is HostAdded ha) { _urgent.Enqueue(ha.HostId); any = true; }
        if (any) _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.MonitorInterval);
        var next = time.GetUtcNow() + TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = next - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try { await _wake.WaitAsync(wait, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            var full = time.GetUtcNow() >= next;
            var ids = new HashSet<int>();
            while (_urgent.TryDequeue(out var id)) ids.Add(id);
            var snapshot = cloud().State;
            var hosts = full
                ? snapshot.All<Host>(ObjectType.Host).ToList()
                : ids.Select(i => snapshot.Get<Host>(ObjectType.Host, i)).OfType<Host>().ToList();
            if (full) next = time.GetUtcNow() + interval;
            if (hosts.Count == 0) continue;
            try
            {
                await ProbeAsync(hosts, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "Monitoring round failed"); }
        }
    }

    private async Task ProbeAsync(List<Host> hosts, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var outcomes = await Task.WhenAll(hosts.Where(h => h.State != HostState.OFFLINE).Select(async Task<HostProbeOutcome?> (h) =>
        {
            if (!_probes.TryGetValue(h.ImMad, out var probe))
                return new HostProbeOutcome(h.Id, null, $"No monitoring driver \"{h.ImMad}\" (is the host's agent connected?)");
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                var r = await probe.ProbeAsync(h, timeout.Token).ConfigureAwait(false);
                if (r is not null)
                {
                    store.SetHost(h.Id, new HostMonitoring
                    {
                        Timestamp = now, FreeCpu = Math.Max(0, r.TotalCpu - r.UsedCpu), UsedCpu = r.UsedCpu,
                        FreeMemory = Math.Max(0, r.TotalMemory - r.UsedMemory), UsedMemory = r.UsedMemory,
                    });
                }
                return new HostProbeOutcome(h.Id, r, r is null ? "Host did not answer the monitoring probe" : "");
            }
            catch (HostProbeDeferredException)
            {
                return null; // no news yet: the host keeps its state
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return new HostProbeOutcome(h.Id, null, "Monitoring probe failed: " + ex.Message);
            }
        })).ConfigureAwait(false);
        await cloud().HostsProbedAsync([.. outcomes.OfType<HostProbeOutcome>()], ct).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// A probe with no news yet that should not count as a failure (a host's agent still reconnecting to a new
/// leader): the host keeps its state until the next round.
/// </summary>
public sealed class HostProbeDeferredException(string message) : Exception(message);
