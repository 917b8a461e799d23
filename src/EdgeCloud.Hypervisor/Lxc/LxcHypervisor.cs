using EdgeCloud.Core;
using System.Collections.Concurrent;
using System.Globalization;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// The lxc driver: system containers run with the lxc-* tools. The driver writes the container's
/// config itself (<see cref="LxcConfig"/>) under <see cref="LxcOptions.LxcPath"/> and never runs
/// lxc-create or lxc-destroy: the root filesystem is the VM's first disk and stays where it is.
/// Ending a container (shutdown, destroy) removes its config directory, nothing else. Memory
/// snapshots, save/restore and migration have no container equivalent here and fail clearly.
/// </summary>
public sealed class LxcHypervisor : IHypervisor
{
    private readonly LxcOptions _options;
    private readonly CommandRunner _runner;
    private readonly TimeProvider _time;
    private readonly KeyedLocks<string> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long CpuNs, DateTimeOffset At)> _cpuSamples = [];
    private readonly Lock _samplesLock = new();

    public LxcHypervisor(LxcOptions? options = null, CommandRunner? runner = null, TimeProvider? time = null)
    {
        _options = options ?? new LxcOptions();
        _runner = runner ?? new CommandRunner { DefaultTimeout = _options.CommandTimeout };
        _time = time ?? TimeProvider.System;
    }

    public string Name => "lxc";

    /// <summary>A container's root filesystem is its first disk, loop-mounted: raw only.</summary>
    public string? RequiredDiskFormat => "raw";

    public LxcOptions Options => _options;

    /// <summary>True when the host's cgroups are the unified (v2) hierarchy only.</summary>
    public static bool CgroupV2 => File.Exists("/sys/fs/cgroup/cgroup.controllers") && !Directory.Exists("/sys/fs/cgroup/memory");

    /// <summary>The container's directory (its config) under the LXC path.</summary>
    public string ContainerDir(string domain) => Path.Combine(_options.LxcPath, domain);

    public async Task<string> DeployAsync(VmSpec spec, CancellationToken ct)
    {
        var name = spec.DomainName;
        using var _ = await LockAsync(name, ct);
        var (state, _) = await InfoAsync(name, ct);
        if (state is DomainState.Running) return name;
        if (state is DomainState.Paused)
        {
            await LxcAsync(ct, "lxc-unfreeze", name);
            return name;
        }
        var rootfs = LxcConfig.RootfsFor(spec, Directory.Exists, File.Exists);
        if (state is not DomainState.Missing) await StopAsync(name, kill: true, TimeSpan.Zero, ct);

        Directory.CreateDirectory(spec.VmDir);
        if (spec.Context is not null)
        {
            var ctxDir = LxcConfig.ContextDir(spec);
            Directory.CreateDirectory(ctxDir);
            await File.WriteAllTextAsync(Path.Combine(ctxDir, "context.sh"), ContextIso.ContextSh(spec), ct);
        }
        var dir = ContainerDir(name);
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "config"), LxcConfig.Build(spec, rootfs, CgroupV2), ct);

        var logFile = Path.Combine(spec.VmDir, "lxc.log");
        File.Delete(logFile);
        try
        {
            await LxcAsync(ct, "lxc-start", name, "-d", "--logfile", logFile, "--logpriority", "ERROR");
            await LxcAsync(ct, "lxc-wait", name, "-s", "RUNNING", "-t", ((int)_options.StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }
        catch (HostDriverException e)
        {
            var log = File.Exists(logFile) ? CommandRunner.OneLine(string.Join("\n", File.ReadLines(logFile).TakeLast(5))) : "";
            try { await StopAsync(name, kill: true, TimeSpan.Zero, CancellationToken.None); } catch (HostDriverException) { }
            RemoveConfig(name);
            throw new HostDriverException($"deploy {name}: {e.Message}{(log.Length > 0 ? $" (lxc log: {log})" : "")}", e);
        }
        return name;
    }

    public async Task ShutdownAsync(string domain, TimeSpan timeout, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if ((await InfoAsync(domain, ct)).State is not DomainState.Missing) await StopAsync(domain, kill: false, timeout, ct);
        RemoveConfig(domain);
    }

    public async Task DestroyAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if ((await InfoAsync(domain, ct)).State is not DomainState.Missing) await StopAsync(domain, kill: true, TimeSpan.Zero, ct);
        RemoveConfig(domain);
    }

    /// <summary>
    /// Asks the container's init to reboot (lxc.signal.reboot, SIGINT: init's ctrl-alt-del action) and waits
    /// for a new init; an init that ignores the request is restarted hard after <see cref="LxcOptions.RebootTimeout"/>.
    /// </summary>
    public async Task RebootAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var (state, info) = await InfoAsync(domain, ct);
        if (state is not DomainState.Running) throw new HostDriverException($"lxc: cannot reboot {domain}: it is {Describe(state)}");
        var pid = Long(info, "PID");
        await LxcAsync(ct, "lxc-stop", domain, "-r", "-W");
        var deadline = _time.GetUtcNow() + _options.RebootTimeout;
        while (_time.GetUtcNow() < deadline)
        {
            var (now, nowInfo) = await InfoAsync(domain, ct);
            if (now is DomainState.Running && Long(nowInfo, "PID") is var p && p > 0 && p != pid) return;
            await Task.Delay(200, ct);
        }
        await HardRestartAsync(domain, ct);
    }

    public async Task ResetAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        await RequireRunningAsync(domain, "reset", ct);
        await HardRestartAsync(domain, ct);
    }

    private async Task HardRestartAsync(string domain, CancellationToken ct)
    {
        await StopAsync(domain, kill: true, TimeSpan.Zero, ct);
        await LxcAsync(ct, "lxc-start", domain, "-d");
        await LxcAsync(ct, "lxc-wait", domain, "-s", "RUNNING", "-t", ((int)_options.StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture));
    }

    public Task SaveAsync(string domain, string checkpointPath, CancellationToken ct) => throw Unsupported("save (suspend/stop with memory)", domain);
    public Task RestoreAsync(VmSpec spec, string checkpointPath, CancellationToken ct) => throw Unsupported("restore from a checkpoint", spec.DomainName);
    public Task SnapshotCreateAsync(string domain, string snapshot, CancellationToken ct) => throw Unsupported("system snapshots (memory + disks)", domain);
    public Task SnapshotRevertAsync(string domain, string snapshot, CancellationToken ct) => throw Unsupported("system snapshots (memory + disks)", domain);
    public Task SnapshotDeleteAsync(string domain, string snapshot, CancellationToken ct) => throw Unsupported("system snapshots (memory + disks)", domain);
    public Task MigrateAsync(string domain, string destinationUri, bool live, CancellationToken ct) =>
        throw Unsupported(live ? "live migration" : "migration of a running container", domain);
    public Task AttachDiskAsync(string domain, DiskSpec disk, CancellationToken ct) => throw Unsupported("disk hot-plug", domain);
    public Task DetachDiskAsync(string domain, DiskSpec disk, CancellationToken ct) => throw Unsupported("disk hot-unplug", domain);

    /// <summary>
    /// A veth pair made with its inner end directly in the container's network namespace (named
    /// eth&lt;NICID&gt;, with the NIC's MAC); the host end, NicSpec.Target, joins the bridge.
    /// </summary>
    public async Task AttachNicAsync(string domain, NicSpec nic, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var (state, info) = await InfoAsync(domain, ct);
        if (state is not DomainState.Running) throw new HostDriverException($"lxc: cannot attach a NIC to {domain}: it is {Describe(state)}");
        if (nic.Target.Length == 0) throw new HostDriverException($"attach NIC {nic.NicId} to {domain}: no host-side name (Target)");
        if (Directory.Exists($"/sys/class/net/{nic.Target}")) return;
        var pid = Long(info, "PID").ToString(CultureInfo.InvariantCulture);
        var inner = $"eth{nic.NicId}";
        await _runner.CheckedAsync("ip", ["link", "add", nic.Target, "type", "veth", "peer", "name", inner, "address", nic.Mac.ToLowerInvariant(), "netns", pid], ct);
        try
        {
            if (nic.Mtu > 0)
                await _runner.CheckedAsync("ip", ["link", "set", nic.Target, "mtu", nic.Mtu.ToString(CultureInfo.InvariantCulture)], ct);
            await _runner.CheckedAsync("ip", ["link", "set", nic.Target, "master", nic.Bridge, "up"], ct);
            await _runner.CheckedAsync("nsenter", ["-t", pid, "-n", "ip", "link", "set", inner, "up"], ct);
        }
        catch (HostDriverException)
        {
            await _runner.RunAsync("ip", ["link", "del", nic.Target], CancellationToken.None);
            throw;
        }
    }

    /// <summary>Deletes the host side of the NIC's veth pair, which removes the container's side too.</summary>
    public async Task DetachNicAsync(string domain, NicSpec nic, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if (nic.Target.Length == 0 || !Directory.Exists($"/sys/class/net/{nic.Target}")) return;
        await _runner.CheckedAsync("ip", ["link", "del", nic.Target], ct);
    }

    /// <summary>Memory limit and CPU quota (vCPUs × one core) through the container's cgroup, at once.</summary>
    public async Task ResizeAsync(string domain, int vcpu, long memoryMb, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        await RequireRunningAsync(domain, "resize", ct);
        var v2 = CgroupV2;
        if (memoryMb > 0)
        {
            var bytes = (memoryMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
            await LxcAsync(ct, "lxc-cgroup", domain, v2 ? "memory.max" : "memory.limit_in_bytes", bytes);
        }
        if (vcpu > 0)
        {
            var quota = (vcpu * 100000).ToString(CultureInfo.InvariantCulture);
            if (v2) await LxcAsync(ct, "lxc-cgroup", domain, "cpu.max", $"{quota} 100000");
            else await LxcAsync(ct, "lxc-cgroup", domain, "cpu.cfs_quota_us", quota);
        }
    }

    /// <summary>Reads one cgroup value of the container (lxc-cgroup).</summary>
    public async Task<string> CgroupAsync(string domain, string key, CancellationToken ct) =>
        (await LxcAsync(ct, "lxc-cgroup", domain, key)).Trim();

    /// <summary>Runs a command inside the container (lxc-attach) and returns its stdout; a failure is a <see cref="HostDriverException"/>.</summary>
    public Task<string> ExecAsync(string domain, IReadOnlyList<string> command, CancellationToken ct, TimeSpan? timeout = null) =>
        _runner.CheckedAsync("lxc-attach", ["-n", domain, "-P", _options.LxcPath, "--clear-env", "--", .. command], ct, timeout ?? _options.CommandTimeout);

    public async Task<IReadOnlyList<DomainStatus>> ListAsync(CancellationToken ct)
    {
        var names = KvmHypervisor.Lines(await _runner.CheckedAsync("lxc-ls", ["-P", _options.LxcPath, "-1"], ct))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(n => n.StartsWith("one-", StringComparison.Ordinal)).ToList();
        var result = new List<DomainStatus>();
        foreach (var name in names)
        {
            var (state, info) = await InfoAsync(name, ct);
            if (state is DomainState.Missing) continue;
            var cpuNs = Long(info, "CPU use");
            double cpuPercent = 0;
            var now = _time.GetUtcNow();
            lock (_samplesLock)
            {
                if (state is DomainState.Running && _cpuSamples.TryGetValue(name, out var prev) && cpuNs >= prev.CpuNs && now > prev.At)
                    cpuPercent = Math.Round((cpuNs - prev.CpuNs) / ((now - prev.At).TotalMilliseconds * 1e6) * 100, 2);
                _cpuSamples[name] = (cpuNs, now);
            }
            result.Add(new DomainStatus
            {
                Name = name,
                State = state,
                Pid = (int)Long(info, "PID"),
                CpuTimeNs = cpuNs,
                CpuPercent = cpuPercent,
                MemoryKb = Long(info, "Memory use") / 1024,
                // lxc-info counts on the host side of the veth: what the host sends is what the container receives.
                NetRxBytes = Long(info, "TX bytes"),
                NetTxBytes = Long(info, "RX bytes"),
            });
        }
        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> FactsAsync(CancellationToken ct)
    {
        var facts = new Dictionary<string, string>
        {
            ["HYPERVISOR"] = "lxc",
            ["LXC_VERSION"] = (await _runner.CheckedAsync("lxc-start", ["--version"], ct)).Trim(),
            ["CGROUP_VERSION"] = CgroupV2 ? "2" : "1",
        };
        if (File.Exists("/proc/cpuinfo"))
        {
            var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (model is not null) facts["MODELNAME"] = model[(model.IndexOf(':') + 1)..].Trim();
        }
        return facts;
    }

    /// <summary>The container's state and lxc-info's fields (summed when a field repeats, as TX bytes per link).</summary>
    public async Task<(DomainState State, IReadOnlyDictionary<string, long> Info)> InfoAsync(string domain, CancellationToken ct)
    {
        var none = new Dictionary<string, long>();
        if (!File.Exists(Path.Combine(ContainerDir(domain), "config"))) return (DomainState.Missing, none);
        var r = await _runner.RunAsync("lxc-info", ["-n", domain, "-P", _options.LxcPath, "-H"], ct, _options.CommandTimeout);
        if (!r.Ok)
        {
            if (r.Output.Contains("doesn't exist", StringComparison.Ordinal)) return (DomainState.Missing, none);
            throw CommandRunner.Failure("lxc-info", ["-n", domain], r);
        }
        var info = new Dictionary<string, long>();
        var state = DomainState.Shutoff;
        foreach (var line in r.Stdout.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "State")
            {
                state = value switch
                {
                    "RUNNING" or "STARTING" or "STOPPING" => DomainState.Running,
                    "FROZEN" or "FREEZING" => DomainState.Paused,
                    _ => DomainState.Shutoff,
                };
            }
            else if (long.TryParse(value.Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                info[key] = info.GetValueOrDefault(key) + n;
            }
        }
        return (state, info);
    }

    private static long Long(IReadOnlyDictionary<string, long> info, string key) => info.TryGetValue(key, out var v) ? v : 0;

    private async Task StopAsync(string domain, bool kill, TimeSpan timeout, CancellationToken ct)
    {
        string[] args = kill ? ["-k"] : ["-t", Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture)];
        var r = await _runner.RunAsync("lxc-stop", ["-n", domain, "-P", _options.LxcPath, .. args], ct, timeout + _options.CommandTimeout);
        // exit 2: it was not running.
        if (!r.Ok && r.ExitCode != 2 && (await InfoAsync(domain, ct)).State is DomainState.Running or DomainState.Paused)
            throw CommandRunner.Failure("lxc-stop", ["-n", domain, .. args], r);
    }

    private void RemoveConfig(string domain)
    {
        var dir = ContainerDir(domain);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        lock (_samplesLock) _cpuSamples.Remove(domain);
    }

    private async Task RequireRunningAsync(string domain, string action, CancellationToken ct)
    {
        var state = (await InfoAsync(domain, ct)).State;
        if (state is not DomainState.Running)
            throw new HostDriverException($"lxc: cannot {action} {domain}: it is {Describe(state)}");
    }

    private static string Describe(DomainState state) => state is DomainState.Missing ? "missing" : state.ToString().ToLowerInvariant();

    private static HostDriverException Unsupported(string what, string domain) =>
        new($"lxc: {what} is not supported for containers ({domain})");

    private Task<string> LxcAsync(CancellationToken ct, string tool, string domain, params string[] args) =>
        _runner.CheckedAsync(tool, ["-n", domain, "-P", _options.LxcPath, .. args], ct, _options.CommandTimeout);

    private Task<IDisposable> LockAsync(string domain, CancellationToken ct) => _locks.AcquireAsync(domain, ct);
}
