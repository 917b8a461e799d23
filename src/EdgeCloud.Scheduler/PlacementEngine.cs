using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Scheduler.Engine;
using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler;

/// <summary>
/// OpenNebula-style match-making: pending VMs to hosts and system datastores, on one consistent
/// snapshot, deterministically (the same snapshot, monitoring and options give the same plan).
/// Pure logic: it reads the snapshot and returns a <see cref="PlacementPlan"/>; the caller
/// dispatches it. One instance lives for the front-end's lifetime so compiled expressions are
/// reused across cycles; <see cref="Plan(StateSnapshot, IMonitoringSource)"/> is thread-safe
/// (each call has its own cycle state).
/// </summary>
public sealed class PlacementEngine
{
    private readonly TimeProvider _time;

    /// <exception cref="ArgumentException">Invalid options, or a custom policy's rank does not parse.</exception>
    public PlacementEngine(SchedulerOptions? options = null, TimeProvider? timeProvider = null)
    {
        Options = options ?? new SchedulerOptions();
        Options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        Expressions = new ExpressionCache(Options.ExpressionCacheCapacity);
        try
        {
            if (Options.Policy == HostPolicy.Custom) Expressions.GetRank(Options.Rank!);
            if (Options.DatastorePolicy == DatastorePolicy.Custom) Expressions.GetRank(Options.DatastoreRank!);
        }
        catch (ExpressionException e)
        {
            throw new ArgumentException($"Invalid default rank expression: {e.Message}", nameof(options), e);
        }
    }

    public SchedulerOptions Options { get; }

    /// <summary>The engine's compiled-expression cache; the API can use it to validate SCHED_* on update.</summary>
    public ExpressionCache Expressions { get; }

    /// <summary>One cycle over every VM of the snapshot that needs scheduling (<see cref="SelectVms"/>).</summary>
    public PlacementPlan Plan(StateSnapshot snapshot, IMonitoringSource monitoring) =>
        Plan(snapshot, SelectVms(snapshot), monitoring);

    /// <summary>
    /// One cycle over the given VMs (order does not matter: the cycle orders them by USER_PRIORITY
    /// then id). VMs that are neither PENDING nor RUNNING with RESCHED=1 are ignored.
    /// </summary>
    public PlacementPlan Plan(StateSnapshot snapshot, IEnumerable<Vm> vms, IMonitoringSource monitoring)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(vms);
        ArgumentNullException.ThrowIfNull(monitoring);
        var start = _time.GetTimestamp();
        var cycle = new Cycle(Options, Expressions, snapshot, monitoring);
        return cycle.Run(vms, () => _time.GetElapsedTime(start));
    }

    /// <summary>VMs a cycle should look at: PENDING ones, and RUNNING ones flagged for rescheduling.</summary>
    public static IReadOnlyList<Vm> SelectVms(StateSnapshot snapshot) =>
        [.. snapshot.All<Vm>(ObjectType.Vm).Where(IsSchedulable)];

    public static bool IsSchedulable(Vm vm) =>
        vm.State == VmState.PENDING ||
        (vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING && vm.Resched == 1 && vm.HostId >= 0);
}
