using EdgeCloud.Bench.Scheduler;
using EdgeCloud.Core.Objects;
using EdgeCloud.Scheduler;

// Scheduler cycle time: one PlacementEngine.Plan over a synthetic snapshot, median of several runs.
// Wall time is what the goal is about; process CPU time is printed beside it because the
// build machine is shared and wall time there includes waiting for other processes.
// Usage: dotnet run -c Release --project bench/EdgeCloud.Bench.Scheduler [runs]
var runs = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 9;
var time = TimeProvider.System;

(string Name, int Hosts, int Vms, bool Unique)[] scenarios =
[
    ("100 hosts / 1,000 VMs", 100, 1_000, false),
    ("2,500 hosts / 10,000 VMs", 2_500, 10_000, false),
    ("2,500 hosts / 10,000 VMs, every VM a different size", 2_500, 10_000, true),
];
(string Name, SchedulerOptions Options)[] policies =
[
    ("striping", new SchedulerOptions { Policy = HostPolicy.Striping }),
    ("packing", new SchedulerOptions { Policy = HostPolicy.Packing }),
    ("load-aware", new SchedulerOptions { Policy = HostPolicy.LoadAware }),
    ("custom rank", new SchedulerOptions { Policy = HostPolicy.Custom, Rank = "FREE_MEM / 1024 + FREE_CPU * 2" }),
];

Console.WriteLine($"Scheduler cycle time, median of {runs} runs ({Environment.ProcessorCount} CPUs, .NET {Environment.Version})");
foreach (var s in scenarios)
{
    var build = time.GetTimestamp();
    var snapshot = SyntheticCloud.Build(s.Hosts, s.Vms, s.Unique);
    Console.WriteLine($"\n{s.Name} (snapshot built in {time.GetElapsedTime(build).TotalMilliseconds:F0} ms)");
    foreach (var (name, options) in policies)
    {
        if (s.Unique && name != "striping") continue;
        var engine = new PlacementEngine(options, time);
        var wall = new List<double>();
        var cpu = new List<double>();
        PlacementPlan? plan = null;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (var i = 0; i < runs + 3; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var start = time.GetTimestamp();
            plan = engine.Plan(snapshot, NoMonitoring.Instance);
            var ms = time.GetElapsedTime(start).TotalMilliseconds;
            process.Refresh();
            if (i < 3) continue; // the first runs warm the JIT (tiered compilation) and the expression cache
            wall.Add(ms);
            cpu.Add((process.TotalProcessorTime - cpu0).TotalMilliseconds);
        }
        wall.Sort();
        cpu.Sort();
        Console.WriteLine(
            $"  {name,-12} median {wall[wall.Count / 2],7:F1} ms  (min {wall[0]:F1}, max {wall[^1]:F1}; CPU median {cpu[cpu.Count / 2]:F0} ms)  " +
            $"placed {plan!.Placements.Count}, unplaced {plan.Unplaced.Count}");
    }
}
