using EdgeCloud.Core.State;
using EdgeCloud.Frontend.Monitoring;
using EdgeCloud.Requests;
using EdgeCloud.Scheduler;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Scheduling;

/// <summary>
/// The scheduler loop: a cycle every interval, and at once when a VM becomes pending (so one VM is
/// placed in well under a second). Each cycle plans on one consistent snapshot and dispatches the
/// plan as commands; cycles never overlap.
/// </summary>
public sealed class SchedulerService(Func<Cloud> cloud, PlacementEngine engine, MonitoringStore monitoring, FrontendOptions options,
    ILogger<SchedulerService> logger) : BackgroundService, IStateObserver
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>How long an event-triggered cycle waits for more events to join it.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(25);

    /// <summary>Cycles run so far (tests and metrics).</summary>
    public long Cycles { get; private set; }

    public PlacementPlan? LastPlan { get; private set; }

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
        {
            if (e is VmPending or HostAdded)
            {
                Wake();
                return;
            }
        }
    }

    public void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.SchedulerInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Woken by an event: wait a moment so a burst of new VMs is planned in one cycle.
                if (await _wake.WaitAsync(interval, stoppingToken).ConfigureAwait(false))
                    await Task.Delay(Coalesce, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            try
            {
                var c = cloud();
                var plan = engine.Plan(c.State, monitoring);
                LastPlan = plan;
                Cycles++;
                if (plan.Placements.Count == 0 && plan.Migrations.Count == 0 && plan.Unplaced.Count == 0) continue;
                var decisions = plan.Placements.Select(p => new Dispatch(p.VmId, p.HostId, p.DatastoreId))
                    .Concat(plan.Migrations.Select(m => new Dispatch(m.VmId, m.ToHostId, m.DatastoreId, Migrate: true, Live: m.Live)))
                    .ToList();
                var unplaced = plan.Unplaced.Where(u => u.Reason != UnplacedReason.DispatchLimit).Select(u => (u.VmId, u.Message)).ToList();
                var n = await c.DispatchAsync(decisions, unplaced, stoppingToken).ConfigureAwait(false);
                logger.LogInformation("Scheduler cycle: {Placed} dispatched, {Unplaced} waiting, planned in {Ms:F0} ms", n, plan.Unplaced.Count, plan.Elapsed.TotalMilliseconds);
                // More work left behind a dispatch limit: go again soon.
                if (plan.Unplaced.Any(u => u.Reason == UnplacedReason.DispatchLimit)) Wake();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                logger.LogError(ex, "Scheduler cycle failed");
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
