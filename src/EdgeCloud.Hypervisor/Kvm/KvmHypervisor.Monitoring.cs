using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

// Monitoring: domain list with usage (virsh domstats) and the host's hypervisor facts.
public sealed partial class KvmHypervisor
{
    private readonly Dictionary<string, (long CpuNs, DateTimeOffset At)> _cpuSamples = [];
    private readonly Lock _cpuSamplesLock = new();

    public async Task<IReadOnlyList<DomainStatus>> ListAsync(CancellationToken ct)
    {
        var stats = await DomStatsAsync(ct, null, "--state", "--cpu-total", "--balloon", "--block", "--interface");
        var now = _time.GetUtcNow();
        var result = new List<DomainStatus>();
        lock (_cpuSamplesLock)
        {
            foreach (var s in stats.Where(s => s.Name.StartsWith("one-", StringComparison.Ordinal)))
            {
                var state = StateOf(s);
                var cpuNs = s.Long("cpu.time");
                double cpuPercent = 0;
                if (state is DomainState.Running or DomainState.Paused)
                {
                    if (_cpuSamples.TryGetValue(s.Name, out var prev) && cpuNs >= prev.CpuNs && now > prev.At)
                        cpuPercent = Math.Round((cpuNs - prev.CpuNs) / ((now - prev.At).TotalMilliseconds * 1e6) * 100, 2);
                    _cpuSamples[s.Name] = (cpuNs, now);
                }
                else
                {
                    _cpuSamples.Remove(s.Name);
                }
                var rss = s.Long("balloon.rss");
                result.Add(new DomainStatus
                {
                    Name = s.Name,
                    State = state,
                    CpuTimeNs = cpuNs,
                    CpuPercent = cpuPercent,
                    MemoryKb = rss > 0 ? rss : s.Long("balloon.current"),
                    DiskReadBytes = s.Sum("block.", ".rd.bytes"),
                    DiskWriteBytes = s.Sum("block.", ".wr.bytes"),
                    DiskReadOps = s.Sum("block.", ".rd.reqs"),
                    DiskWriteOps = s.Sum("block.", ".wr.reqs"),
                    NetRxBytes = s.Sum("net.", ".rx.bytes"),
                    NetTxBytes = s.Sum("net.", ".tx.bytes"),
                    Pid = state is DomainState.Running or DomainState.Paused ? PidOf(s.Name) : 0,
                });
            }
            foreach (var gone in _cpuSamples.Keys.Where(k => !stats.Any(s => s.Name == k)).ToList()) _cpuSamples.Remove(gone);
        }
        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> FactsAsync(CancellationToken ct)
    {
        var facts = new Dictionary<string, string>
        {
            ["HYPERVISOR"] = "kvm",
            ["KVM_DOMAIN_TYPE"] = Capability.DomainType,
            ["KVM_DOMAIN_TYPE_REASON"] = Capability.Reason,
        };
        if (File.Exists("/proc/cpuinfo"))
        {
            var cpuinfo = await File.ReadAllTextAsync("/proc/cpuinfo", ct);
            if (CpuInfoField(cpuinfo, "model name") is { } model) facts["MODELNAME"] = model;
            if (CpuInfoField(cpuinfo, "cpu MHz") is { } mhz && double.TryParse(mhz, CultureInfo.InvariantCulture, out var m))
                facts["CPUSPEED"] = ((long)m).ToString(CultureInfo.InvariantCulture);
        }
        foreach (var line in Lines(await VirshAsync(ct, "version")))
        {
            if (line.StartsWith("Using library: libvirt ", StringComparison.Ordinal)) facts["LIBVIRT_VERSION"] = line["Using library: libvirt ".Length..];
            if (line.StartsWith("Running hypervisor: QEMU ", StringComparison.Ordinal)) facts["QEMU_VERSION"] = line["Running hypervisor: QEMU ".Length..];
        }
        var caps = XElement.Parse(await VirshAsync(ct, "capabilities"));
        var machines = caps.Elements("guest")
            .Where(g => (string?)g.Element("arch")?.Attribute("name") == "x86_64")
            .SelectMany(g => g.Element("arch")!.Elements("machine"))
            .Select(m => m.Value).Distinct().OrderBy(m => m, StringComparer.Ordinal).ToList();
        if (machines.Count > 0) facts["KVM_MACHINES"] = string.Join(" ", machines);
        var domcaps = await VirshRawAsync(ct, null, "domcapabilities", "--virttype", Capability.DomainType, "--arch", "x86_64");
        if (domcaps.Ok)
        {
            var cpu = XElement.Parse(domcaps.Stdout).Element("cpu");
            var models = cpu?.Elements("mode").FirstOrDefault(m => (string?)m.Attribute("name") == "custom")?
                .Elements("model").Where(m => (string?)m.Attribute("usable") == "yes").Select(m => m.Value).ToList();
            if (models is { Count: > 0 }) facts["KVM_CPU_MODELS"] = string.Join(" ", models);
            var hostModel = cpu?.Elements("mode").FirstOrDefault(m => (string?)m.Attribute("name") == "host-model")?.Element("model")?.Value;
            if (!string.IsNullOrEmpty(hostModel)) facts["KVM_CPU_MODEL"] = hostModel;
        }
        return facts;
    }

    /// <summary>QEMU's pid from libvirt's pid file (local libvirt only), 0 when unknown.</summary>
    public int PidOf(string domain)
    {
        var file = Path.Combine(_options.RunDir, domain + ".pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static DomainState StateOf(DomStats s) => s.Long("state.state") switch
    {
        1 or 2 or 4 => DomainState.Running,           // running, blocked, in shutdown
        3 or 7 => DomainState.Paused,                 // paused, pmsuspended
        6 => DomainState.Crashed,
        5 when s.Long("state.reason") is 3 or 6 => DomainState.Crashed, // shut off: crashed, failed
        _ => DomainState.Shutoff,
    };

    private static string? CpuInfoField(string cpuinfo, string field)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == field) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private async Task<IReadOnlyList<DomStats>> DomStatsAsync(CancellationToken ct, string? domain, params string[] groups)
    {
        string[] args = domain is null ? ["domstats", .. groups] : ["domstats", .. groups, domain];
        var r = await VirshRawAsync(ct, null, args);
        if (!r.Ok)
        {
            if (domain is not null && IsNoDomain(r)) return [];
            throw CommandRunner.Failure("virsh", args, r);
        }
        return DomStats.Parse(r.Stdout);
    }
}

/// <summary>One domain's block of <c>virsh domstats</c>: Domain: 'name' then key=value lines.</summary>
internal sealed class DomStats(string name)
{
    public string Name { get; } = name;
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public long Long(string key) =>
        Values.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Sum of prefix.N.suffix over every N (block.0.rd.bytes + block.1.rd.bytes ...).</summary>
    public long Sum(string prefix, string suffix) =>
        Values.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key.EndsWith(suffix, StringComparison.Ordinal)
                           && int.TryParse(kv.Key.AsSpan(prefix.Length, kv.Key.Length - prefix.Length - suffix.Length), out _))
              .Sum(kv => long.TryParse(kv.Value, CultureInfo.InvariantCulture, out var n) ? n : 0);

    public static IReadOnlyList<DomStats> Parse(string text)
    {
        var result = new List<DomStats>();
        DomStats? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("Domain: ", StringComparison.Ordinal))
            {
                current = new DomStats(line["Domain: ".Length..].Trim('\''));
                result.Add(current);
            }
            else if (current is not null && line.IndexOf('=') is > 0 and var eq)
            {
                current.Values[line[..eq]] = line[(eq + 1)..];
            }
        }
        return result;
    }
}
