using EdgeCloud.Core;
using System.Globalization;
using System.Collections.Concurrent;
using System.Xml.Linq;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// The kvm driver: libvirt driven through <c>virsh</c>, as OpenNebula's own kvm driver scripts do.
/// Domains are persistent while they exist (define + start), so a domain whose QEMU died stays
/// visible as shut off (crashed); every action that ends a domain (shutdown, destroy, save) also
/// undefines it, so nothing is left on the host but the VM's directory. Every action is idempotent.
/// </summary>
public sealed partial class KvmHypervisor : IHypervisor
{
    private readonly KvmOptions _options;
    private readonly CommandRunner _runner;
    private readonly TimeProvider _time;
    private readonly KeyedLocks<string> _locks = new(StringComparer.Ordinal);

    public KvmHypervisor(KvmOptions? options = null, CommandRunner? runner = null, TimeProvider? time = null)
    {
        _options = options ?? new KvmOptions();
        _runner = runner ?? new CommandRunner { DefaultTimeout = _options.CommandTimeout };
        _time = time ?? TimeProvider.System;
        Capability = _options.DomainType is { } forced ? KvmCapability.Decide("", false, forced) : KvmCapability.Probe();
    }

    public string Name => "kvm";

    /// <summary>The domain type this driver gives its domains ("kvm" or "qemu") and why.</summary>
    public KvmCapability Capability { get; }

    public KvmOptions Options => _options;

    /// <summary>The domain XML this driver deploys for <paramref name="spec"/>.</summary>
    public string DomainXmlFor(VmSpec spec) => DomainXml.Build(spec, Capability.DomainType);

    public async Task<string> DeployAsync(VmSpec spec, CancellationToken ct)
    {
        var name = spec.DomainName;
        using var _ = await LockAsync(name, ct);
        var state = await StateAsync(name, ct);
        if (state is DomainState.Running) return name;
        if (state is DomainState.Paused)
        {
            await VirshAsync(ct, "resume", name);
            return name;
        }
        CheckFiles(spec);
        var xml = DomainXmlFor(spec);
        if (state is not DomainState.Missing) await UndefineAsync(name, ct);

        Directory.CreateDirectory(spec.VmDir); // the console log goes there too
        await ContextIso.BuildAsync(spec, _runner, ct);
        var file = Path.Combine(spec.VmDir, "deployment.xml");
        await File.WriteAllTextAsync(file, xml, ct);
        await VirshAsync(ct, "define", file);
        try
        {
            await VirshAsync(ct, "start", name);
        }
        catch (HostDriverException e)
        {
            // Leave nothing behind: a failed start must not leave a defined, shut-off domain.
            try { await UndefineAsync(name, CancellationToken.None); } catch (HostDriverException) { }
            throw new HostDriverException($"deploy {name}: {e.Message}", e);
        }
        return name;
    }

    public async Task ShutdownAsync(string domain, TimeSpan timeout, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var state = await StateAsync(domain, ct);
        if (state is DomainState.Missing) return;
        if (state is DomainState.Paused && (await VirshRawAsync(ct, null, "resume", domain)).Ok) state = DomainState.Running; // a paused guest hears no ACPI
        if (state is DomainState.Running)
        {
            // A guest without ACPI makes libvirt refuse the request: then it is a hard power-off at once.
            var r = await VirshRawAsync(ct, null, "shutdown", "--mode", "acpi", domain);
            var deadline = _time.GetUtcNow() + timeout;
            while (r.Ok && _time.GetUtcNow() < deadline && await StateAsync(domain, ct) is DomainState.Running or DomainState.Paused)
                await Task.Delay(250, ct);
        }
        if (await StateAsync(domain, ct) is DomainState.Running or DomainState.Paused)
            await DestroyDomainAsync(domain, ct);
        await UndefineAsync(domain, ct);
    }

    public async Task DestroyAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var state = await StateAsync(domain, ct);
        if (state is DomainState.Missing) return;
        if (state is DomainState.Running or DomainState.Paused) await DestroyDomainAsync(domain, ct);
        await UndefineAsync(domain, ct);
    }

    public async Task RebootAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        await VirshAsync(ct, "reboot", "--mode", "acpi", domain);
    }

    public async Task ResetAsync(string domain, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        await VirshAsync(ct, "reset", domain);
    }

    public async Task SaveAsync(string domain, string checkpointPath, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var state = await StateAsync(domain, ct);
        if (state is DomainState.Missing && File.Exists(checkpointPath)) return;
        if (state is not (DomainState.Running or DomainState.Paused))
            throw new HostDriverException($"save {domain}: the domain is {(state is DomainState.Missing ? "missing" : "not running")}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!);
        var tmp = checkpointPath + ".tmp";
        await VirshLongAsync(ct, "save", domain, tmp);
        File.Move(tmp, checkpointPath, overwrite: true);
        await UndefineAsync(domain, ct);
    }

    public async Task RestoreAsync(VmSpec spec, string checkpointPath, CancellationToken ct)
    {
        var name = spec.DomainName;
        using var _ = await LockAsync(name, ct);
        var state = await StateAsync(name, ct);
        if (state is DomainState.Running or DomainState.Paused) return;
        if (!File.Exists(checkpointPath)) throw new HostDriverException($"restore {name}: no checkpoint file {checkpointPath}");
        CheckFiles(spec);
        if (state is not DomainState.Missing) await UndefineAsync(name, ct);
        if (spec.Context is not null && !File.Exists(ContextIso.PathFor(spec))) await ContextIso.BuildAsync(spec, _runner, ct);
        // The checkpoint carries the domain exactly as it was saved (its memory, devices...), with the
        // paths of the host that saved it; after a migration the VM's files live elsewhere. Restore with
        // the saved definition, its file paths moved to this host's (the rest must match what was saved).
        var xml = XElement.Parse(await VirshAsync(ct, "save-image-dumpxml", "--security-info", checkpointPath));
        RelocateFiles(xml, spec);
        var file = Path.Combine(spec.VmDir, "deployment.xml");
        await File.WriteAllTextAsync(file, xml.ToString(), ct);
        await VirshLongAsync(ct, "restore", checkpointPath, "--xml", file);
        // The restored domain is transient: give it back its persistent definition.
        await VirshAsync(ct, "define", file);
    }

    /// <summary>Points the disks (by target), the context CD and the console log of a saved domain at this host's files.</summary>
    internal static void RelocateFiles(XElement domain, VmSpec spec)
    {
        var devices = domain.Element("devices");
        if (devices is null) return;
        foreach (var disk in devices.Elements("disk"))
        {
            var target = disk.Element("target")?.Attribute("dev")?.Value;
            var source = disk.Element("source");
            if (target is null || source?.Attribute("file") is not { } fileAttr) continue;
            if (spec.Disks.FirstOrDefault(d => d.Target == target) is { } d) fileAttr.Value = d.Path;
            else if (Path.GetFileName(fileAttr.Value) == Path.GetFileName(ContextIso.PathFor(spec))) fileAttr.Value = ContextIso.PathFor(spec);
        }
        foreach (var log in devices.Elements("serial").Concat(devices.Elements("console")).SelectMany(e => e.Elements("log")))
            log.SetAttributeValue("file", spec.ConsoleLog);
        foreach (var source in devices.Elements("serial").Concat(devices.Elements("console")).Select(e => e.Element("source")).OfType<XElement>())
            if (source.Attribute("path") is { } p && Path.GetFileName(p.Value) == Path.GetFileName(spec.ConsoleLog)) p.Value = spec.ConsoleLog;
    }

    public async Task SnapshotCreateAsync(string domain, string snapshot, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if ((await SnapshotsAsync(domain, ct)).Contains(snapshot)) return;
        await VirshLongAsync(ct, "snapshot-create-as", domain, "--name", snapshot, "--atomic");
    }

    public async Task SnapshotRevertAsync(string domain, string snapshot, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if (!(await SnapshotsAsync(domain, ct)).Contains(snapshot))
            throw new HostDriverException($"snapshot-revert {domain}: no snapshot {snapshot}");
        await VirshLongAsync(ct, "snapshot-revert", domain, snapshot);
    }

    public async Task SnapshotDeleteAsync(string domain, string snapshot, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if (!(await SnapshotsAsync(domain, ct)).Contains(snapshot)) return;
        await VirshLongAsync(ct, "snapshot-delete", domain, snapshot);
    }

    /// <summary>The domain's snapshot names.</summary>
    public async Task<IReadOnlyList<string>> SnapshotsAsync(string domain, CancellationToken ct) =>
        Lines(await VirshAsync(ct, "snapshot-list", domain, "--name"));

    /// <summary>
    /// Running: <c>setvcpus</c>/<c>setmem --live</c> within the domain's maximum (VCPU_MAX, MEMORY_MAX);
    /// beyond it the call fails. Defined but not running (shut off, crashed): the definition is changed
    /// (<c>--config</c>, maximum included), for its next start.
    /// </summary>
    public async Task ResizeAsync(string domain, int vcpu, long memoryMb, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var state = await StateAsync(domain, ct);
        if (state is DomainState.Missing) throw new HostDriverException($"resize {domain}: no such domain");
        if (state is DomainState.Shutoff or DomainState.Crashed)
        {
            if (vcpu > 0)
            {
                await VirshAsync(ct, "setvcpus", domain, vcpu.ToString(CultureInfo.InvariantCulture), "--config", "--maximum");
                await VirshAsync(ct, "setvcpus", domain, vcpu.ToString(CultureInfo.InvariantCulture), "--config");
            }
            if (memoryMb > 0)
            {
                await VirshAsync(ct, "setmaxmem", domain, $"{memoryMb * 1024}KiB", "--config");
                await VirshAsync(ct, "setmem", domain, $"{memoryMb * 1024}KiB", "--config");
            }
            return;
        }
        var stats = (await DomStatsAsync(ct, domain, "--vcpu", "--balloon")).SingleOrDefault()
            ?? throw new HostDriverException($"resize {domain}: no such domain");
        var problems = new List<string>();
        if (vcpu > 0 && vcpu > stats.Long("vcpu.maximum"))
            problems.Add($"{vcpu} vCPUs exceed its maximum of {stats.Long("vcpu.maximum")} (VCPU_MAX)");
        if (memoryMb > 0 && memoryMb * 1024 > stats.Long("balloon.maximum"))
            problems.Add($"{memoryMb} MiB exceed its maximum of {stats.Long("balloon.maximum") / 1024} MiB (MEMORY_MAX)");
        if (problems.Count > 0)
            throw new HostDriverException($"resize {domain} live: {string.Join("; ", problems)}; resize it powered off instead");
        if (vcpu > 0 && vcpu != stats.Long("vcpu.current")) await VirshAsync(ct, "setvcpus", domain, vcpu.ToString(CultureInfo.InvariantCulture), "--live");
        if (memoryMb > 0) await VirshAsync(ct, "setmem", domain, $"{memoryMb * 1024}KiB", "--live");
    }

    public async Task MigrateAsync(string domain, string destinationUri, bool live, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if (await StateAsync(domain, ct) is DomainState.Missing)
        {
            // Repeated after a migration that went through: the domain runs at the destination.
            var there = await _runner.RunAsync("virsh", ["-c", destinationUri, "domstate", domain], ct, _options.CommandTimeout);
            if (there.Ok && there.Stdout.Trim() == "running") return;
            throw new HostDriverException($"migrate {domain}: no such domain here");
        }
        var args = new List<string> { "migrate" };
        if (live) args.Add("--live");
        args.AddRange(["--unsafe", "--persistent", "--undefinesource", domain, destinationUri]);
        if (MigrateUri(destinationUri) is { } m) args.AddRange(["--migrateuri", m]);
        await VirshLongAsync(ct, [.. args]);
    }

    /// <summary>tcp://HOST for a remote qemu+tcp/ssh URI, so QEMU's stream goes to the address the URI names.</summary>
    internal static string? MigrateUri(string destinationUri)
    {
        if (!System.Uri.TryCreate(destinationUri, UriKind.Absolute, out var u) || u.Host.Length == 0) return null;
        return $"tcp://{u.Host}";
    }

    public async Task AttachDiskAsync(string domain, DiskSpec disk, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if ((await BlockDevicesAsync(domain, ct)).ContainsKey(disk.Target)) return;
        if (!File.Exists(disk.Path)) throw new HostDriverException($"attach disk {disk.DiskId} to {domain}: {disk.Path} does not exist");
        await AttachDeviceAsync(domain, DomainXml.Disk(disk), ct);
    }

    public async Task DetachDiskAsync(string domain, DiskSpec disk, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var disks = await BlockDevicesAsync(domain, ct);
        if (!disks.TryGetValue(disk.Target, out var source)) return;
        // Detach what is attached (its source may differ from the spec's path).
        var element = DomainXml.Disk(disk with { Path = source.Length > 0 && source != "-" ? source : disk.Path });
        await DetachDeviceAsync(domain, element, ct);
        await WaitGoneAsync(domain, $"disk {disk.Target}", async () => (await BlockDevicesAsync(domain, ct)).ContainsKey(disk.Target), ct);
    }

    public async Task AttachNicAsync(string domain, NicSpec nic, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        if ((await InterfacesAsync(domain, ct)).Any(i => string.Equals(i.Mac, nic.Mac, StringComparison.OrdinalIgnoreCase))) return;
        await AttachDeviceAsync(domain, DomainXml.Interface(nic), ct);
    }

    public async Task DetachNicAsync(string domain, NicSpec nic, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var mac = nic.Mac.ToLowerInvariant();
        if (!(await InterfacesAsync(domain, ct)).Any(i => i.Mac == mac)) return;
        await DetachDeviceAsync(domain, DomainXml.Interface(nic), ct);
        await WaitGoneAsync(domain, $"NIC {mac}", async () => (await InterfacesAsync(domain, ct)).Any(i => i.Mac == mac), ct);
    }

    /// <summary>The domain's block devices: target → source (virsh domblklist).</summary>
    public async Task<IReadOnlyDictionary<string, string>> BlockDevicesAsync(string domain, CancellationToken ct)
    {
        var result = new Dictionary<string, string>();
        foreach (var row in Table(await VirshAsync(ct, "domblklist", domain)))
            if (row.Length >= 1) result[row[0]] = row.Length >= 2 ? row[1] : "";
        return result;
    }

    /// <summary>One row of virsh domiflist.</summary>
    public sealed record DomainInterface(string Interface, string Type, string Source, string Model, string Mac);

    public async Task<IReadOnlyList<DomainInterface>> InterfacesAsync(string domain, CancellationToken ct) =>
        Table(await VirshAsync(ct, "domiflist", domain))
            .Where(r => r.Length >= 5)
            .Select(r => new DomainInterface(r[0], r[1], r[2], r[3], r[4].ToLowerInvariant()))
            .ToList();

    /// <summary>The domain's state; <see cref="DomainState.Missing"/> when libvirt does not know it.</summary>
    public async Task<DomainState> StateAsync(string domain, CancellationToken ct)
    {
        var r = await VirshRawAsync(ct, null, "domstate", "--reason", domain);
        if (!r.Ok)
        {
            if (IsNoDomain(r)) return DomainState.Missing;
            throw CommandRunner.Failure("virsh", ["domstate", domain], r);
        }
        return ParseState(r.Stdout.Trim());
    }

    internal static DomainState ParseState(string domstate) => domstate switch
    {
        var s when s.StartsWith("running", StringComparison.Ordinal) => DomainState.Running,
        var s when s.StartsWith("idle", StringComparison.Ordinal) || s.StartsWith("blocked", StringComparison.Ordinal) => DomainState.Running,
        var s when s.StartsWith("paused", StringComparison.Ordinal) || s.StartsWith("pmsuspended", StringComparison.Ordinal) => DomainState.Paused,
        var s when s.StartsWith("in shutdown", StringComparison.Ordinal) => DomainState.Running,
        var s when s.StartsWith("crashed", StringComparison.Ordinal) => DomainState.Crashed,
        var s when s.StartsWith("shut off (crashed", StringComparison.Ordinal) => DomainState.Crashed,
        var s when s.StartsWith("shut off (failed", StringComparison.Ordinal) => DomainState.Crashed,
        var s when s.StartsWith("shut off", StringComparison.Ordinal) => DomainState.Shutoff,
        _ => DomainState.Shutoff,
    };

    // ------------------------------------------------------------------ helpers

    private void CheckFiles(VmSpec spec)
    {
        var problems = new List<string>();
        foreach (var d in spec.Disks)
        {
            if (!File.Exists(d.Path)) problems.Add($"disk {d.DiskId} ({d.Target}): {d.Path} does not exist");
        }
        if (spec.Os.Kernel.Length > 0 && !File.Exists(spec.Os.Kernel)) problems.Add($"kernel {spec.Os.Kernel} does not exist");
        if (spec.Os.Initrd.Length > 0 && !File.Exists(spec.Os.Initrd)) problems.Add($"initrd {spec.Os.Initrd} does not exist");
        if (problems.Count > 0) throw new HostDriverException($"deploy {spec.DomainName}: {string.Join("; ", problems)}");
    }

    private async Task AttachDeviceAsync(string domain, XElement device, CancellationToken ct)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edgecloud-{domain}-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(file, device.ToString(), ct);
        try { await VirshAsync(ct, "attach-device", domain, file, "--live"); }
        finally { File.Delete(file); }
    }

    private async Task DetachDeviceAsync(string domain, XElement device, CancellationToken ct)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edgecloud-{domain}-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(file, device.ToString(), ct);
        try { await VirshAsync(ct, "detach-device", domain, file, "--live"); }
        finally { File.Delete(file); }
    }

    private async Task WaitGoneAsync(string domain, string what, Func<Task<bool>> stillThere, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + _options.DetachTimeout;
        while (await stillThere())
        {
            if (_time.GetUtcNow() > deadline)
                throw new HostDriverException($"detach {what} from {domain}: the guest did not release it within {_options.DetachTimeout.TotalSeconds:0} s");
            await Task.Delay(200, ct);
        }
    }

    private async Task DestroyDomainAsync(string domain, CancellationToken ct)
    {
        var r = await VirshRawAsync(ct, null, "destroy", domain);
        if (!r.Ok && await StateAsync(domain, ct) is DomainState.Running or DomainState.Paused)
            throw CommandRunner.Failure("virsh", ["destroy", domain], r);
    }

    private async Task UndefineAsync(string domain, CancellationToken ct)
    {
        var r = await VirshRawAsync(ct, null, "undefine", "--snapshots-metadata", "--checkpoints-metadata", "--nvram", domain);
        if (!r.Ok && !IsNoDomain(r) && await StateAsync(domain, ct) is not DomainState.Missing)
            throw CommandRunner.Failure("virsh", ["undefine", domain], r);
    }

    private static bool IsNoDomain(CommandResult r) =>
        r.Stderr.Contains("failed to get domain", StringComparison.Ordinal)
        || r.Stderr.Contains("Domain not found", StringComparison.Ordinal);

    private Task<string> VirshAsync(CancellationToken ct, params string[] args) => VirshCheckedAsync(_options.CommandTimeout, ct, args);

    private Task<string> VirshLongAsync(CancellationToken ct, params string[] args) => VirshCheckedAsync(_options.LongCommandTimeout, ct, args);

    private async Task<string> VirshCheckedAsync(TimeSpan timeout, CancellationToken ct, string[] args)
    {
        var r = await VirshRawAsync(ct, timeout, args);
        if (!r.Ok) throw CommandRunner.Failure("virsh", args, r);
        return r.Stdout;
    }

    private Task<CommandResult> VirshRawAsync(CancellationToken ct, TimeSpan? timeout, params string[] args) =>
        _runner.RunAsync("virsh", ["-c", _options.Uri, .. args], ct, timeout ?? _options.CommandTimeout);

    private Task<IDisposable> LockAsync(string domain, CancellationToken ct) => _locks.AcquireAsync(domain, ct);

    internal static IReadOnlyList<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The rows of a virsh table (header and dashes skipped), split on blanks.</summary>
    internal static IEnumerable<string[]> Table(string text) =>
        text.Split('\n').Skip(2)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(r => r.Length > 0);
}
