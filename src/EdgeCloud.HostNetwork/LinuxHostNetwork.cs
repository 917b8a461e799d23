using System.Text.Json;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork;

/// <summary>Options of <see cref="LinuxHostNetwork"/>.</summary>
public sealed record LinuxHostNetworkOptions
{
    /// <summary>Run every command inside this network namespace (a lab "host" in tests); null = the host itself.</summary>
    public string? Netns { get; init; }

    /// <summary>The runner to use instead of starting processes (a guest console, a recorder); overrides <see cref="Netns"/>.</summary>
    public ICommandRunner? Runner { get; init; }

    /// <summary>Set net.bridge.bridge-nf-call-iptables/ip6tables to 1 before the first security group if they are not.</summary>
    public bool EnsureBridgeNetfilter { get; init; } = true;
}

/// <summary>
/// The Linux host side of virtual networks (VN_MAD bridge, 802.1Q, vxlan, fw, dummy) and security
/// groups, with iproute2 (<c>ip</c>, <c>bridge</c>) and nftables (<c>nft</c>). Every step reads the
/// host's links once, plans the missing commands (<see cref="NetworkPlan"/>) and runs them, so each
/// call is idempotent. Devices it creates carry the ifalias <c>edgecloud:&lt;kind&gt;</c>; clean-up
/// only ever deletes marked devices. Calls on one instance are serialized.
/// </summary>
public sealed class LinuxHostNetwork : IHostNetwork
{
    /// <summary>The ifalias prefix of every device this driver creates.</summary>
    public const string AliasPrefix = "edgecloud:";

    /// <summary>The all-zeros MAC of VXLAN flood (BUM) entries.</summary>
    public const string FloodMac = "00:00:00:00:00:00";

    private readonly ICommandRunner _runner;
    private readonly LinuxHostNetworkOptions _options;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _brNetfilterChecked;

    public LinuxHostNetwork(LinuxHostNetworkOptions? options = null)
    {
        _options = options ?? new LinuxHostNetworkOptions();
        _runner = _options.Runner ?? new ProcessCommandRunner(_options.Netns);
    }

    /// <summary>Shorthand: the driver acting inside network namespace <paramref name="netns"/> (null = the host).</summary>
    public LinuxHostNetwork(string? netns) : this(new LinuxHostNetworkOptions { Netns = netns }) { }

    public ICommandRunner Runner => _runner;

    /// <summary>Creates the NIC's bridge and VLAN/VXLAN device, and syncs unicast VXLAN flood entries with <see cref="NicSpec.VxlanPeers"/>.</summary>
    public async Task PreAsync(NicSpec nic, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            var plan = await PlanPreAsync(nic, ct);
            await RunAllAsync(plan, ct);
        }
        finally { _lock.Release(); }
    }

    /// <summary>The commands <see cref="PreAsync"/> would run now (reads the host's state, changes nothing).</summary>
    public async Task<IReadOnlyList<HostCommand>> PlanPreAsync(NicSpec nic, CancellationToken ct)
    {
        var links = await HostLinks.ReadAsync(_runner, ct);
        var dev = NetworkPlan.DeviceName(nic);
        IReadOnlyList<string>? flood = null;
        string? local = null;
        if (NetworkPlan.Mad(nic) == "vxlan")
        {
            if (string.Equals(nic.VxlanTep, "local_ip", StringComparison.OrdinalIgnoreCase))
                local = await FirstAddressAsync(nic.PhyDev, ct);
            if (dev is not null && links.Has(dev) && NetworkPlan.IsUnicast(nic))
                flood = HostLinks.ParseFloodDestinations(await _runner.RunCheckedAsync(HostCommand.Bridge("-j", "fdb", "show", "dev", dev), ct));
        }
        return NetworkPlan.Pre(nic, links, flood, local);
    }

    /// <summary>Applies the NIC's security group rules (or removes stale ones when it has none).</summary>
    public Task PostAsync(int vmId, NicSpec nic, CancellationToken ct) => UpdateSecurityAsync(vmId, nic, ct);

    /// <summary>Removes the filters of <paramref name="removed"/> NICs and the bridges/devices no NIC in <paramref name="stillInUse"/> needs.</summary>
    public async Task CleanAsync(int vmId, IReadOnlyList<NicSpec> removed, IReadOnlyList<NicSpec> stillInUse, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            var chains = await NicChainsAsync(ct);
            var targets = removed.Select(n => NetworkPlan.TargetName(vmId, n)).Where(chains.Contains).ToHashSet();
            if (targets.Count > 0)
            {
                var left = chains.Except(targets).Count();
                var script = left == 0
                    ? SecurityRules.Remove("", dropTables: true)
                    : string.Concat(targets.Select(t => SecurityRules.Remove(t, dropTables: false)));
                await NftAsync(script, ct);
            }
            var links = await HostLinks.ReadAsync(_runner, ct);
            await RunAllAsync(NetworkPlan.Clean(removed, stillInUse, links), ct);
        }
        finally { _lock.Release(); }
    }

    /// <summary>Replaces the NIC's rules in one nft transaction; with no security group it removes the NIC's chains.</summary>
    public async Task UpdateSecurityAsync(int vmId, NicSpec nic, CancellationToken ct)
    {
        var target = NetworkPlan.TargetName(vmId, nic);
        var filtered = Filtered(nic);
        var script = filtered ? SecurityRules.Apply(target, nic.SecurityRules) : null;
        await _lock.WaitAsync(ct);
        try
        {
            if (script is not null)
            {
                await EnsureBridgeNetfilterAsync(ct);
                await NftAsync(script, ct);
                return;
            }
            var chains = await NicChainsAsync(ct);
            if (!chains.Contains(target)) return;
            await NftAsync(chains.Count == 1 ? SecurityRules.Remove("", dropTables: true) : SecurityRules.Remove(target, dropTables: false), ct);
        }
        finally { _lock.Release(); }
    }

    /// <summary>
    /// Rewrites the rules of many NICs in one nft transaction (a group changed and every VM using it
    /// on this host must follow): all or nothing. NICs without any group are skipped here; use
    /// <see cref="UpdateSecurityAsync(int, NicSpec, CancellationToken)"/> to remove a NIC's filter.
    /// </summary>
    public async Task UpdateSecurityAsync(IReadOnlyList<(int VmId, NicSpec Nic)> nics, CancellationToken ct)
    {
        var parts = nics.Where(n => Filtered(n.Nic))
            .Select(n => SecurityRules.NicPart(NetworkPlan.TargetName(n.VmId, n.Nic), n.Nic.SecurityRules)).ToList();
        if (parts.Count == 0) return;
        var script = SecurityRules.Skeleton() + string.Concat(parts);
        await _lock.WaitAsync(ct);
        try
        {
            await EnsureBridgeNetfilterAsync(ct);
            await NftAsync(script, ct);
        }
        finally { _lock.Release(); }
    }

    /// <summary>A NIC is filtered when it has security groups, except on VN_MAD dummy (which, as OpenNebula's, ignores them).</summary>
    public static bool Filtered(NicSpec nic) =>
        (nic.SecurityRules.Count > 0 || nic.SecurityGroups.Count > 0) && NetworkPlan.Mad(nic) != "dummy";

    /// <summary>The taps that have security group chains now.</summary>
    public async Task<HashSet<string>> NicChainsAsync(CancellationToken ct)
    {
        var r = await _runner.RunAsync(new HostCommand("nft", ["-j", "list", "chains", "bridge"]), ct);
        // No nftables on the host: then there are no chains of ours either (plain networks need none).
        if (r.ExitCode != 0 && (r.ExitCode == 127 || r.Stderr.Contains("No such file or directory", StringComparison.Ordinal)))
            return [];
        if (r.ExitCode != 0)
            throw new HostDriverException($"`nft -j list chains bridge` failed (exit {r.ExitCode}): {CommandRunnerExtensions.FirstLines(r.Stderr)}");
        var set = new HashSet<string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(r.Stdout.Trim().Length == 0 ? "{}" : r.Stdout);
        if (!doc.RootElement.TryGetProperty("nftables", out var items)) return set;
        foreach (var item in items.EnumerateArray())
        {
            if (!item.TryGetProperty("chain", out var c)) continue;
            if (c.GetProperty("table").GetString() != SecurityRules.Table) continue;
            var name = c.GetProperty("name").GetString() ?? "";
            if (name.EndsWith("-i", StringComparison.Ordinal)) set.Add(name[..^2]);
        }
        return set;
    }

    private async Task NftAsync(string script, CancellationToken ct) =>
        await _runner.RunCheckedAsync(new HostCommand("nft", ["-f", "-"], script), ct);

    private async Task RunAllAsync(IEnumerable<HostCommand> plan, CancellationToken ct)
    {
        foreach (var c in plan)
        {
            var r = await _runner.RunAsync(c, ct);
            if (r.ExitCode == 0) continue;
            var err = CommandRunnerExtensions.FirstLines(r.Stderr.Length > 0 ? r.Stderr : r.Stdout);
            if (c.Program == "ip" && c.Args.Contains("vlan") && (err.Contains("Unknown device type") || err.Contains("not supported", StringComparison.OrdinalIgnoreCase)))
                throw new HostDriverException($"the kernel has no 802.1Q support (module 8021q): `{c}` failed: {err}");
            if (c.Program == "ip" && c.Args.Contains("vxlan") && err.Contains("Unknown device type"))
                throw new HostDriverException($"the kernel has no VXLAN support (module vxlan): `{c}` failed: {err}");
            throw new HostDriverException($"`{c}` failed (exit {r.ExitCode}): {err}");
        }
    }

    private async Task<string> FirstAddressAsync(string dev, CancellationToken ct)
    {
        var json = await _runner.RunCheckedAsync(HostCommand.Ip("-j", "-4", "addr", "show", "dev", dev), ct);
        using var doc = JsonDocument.Parse(json.Trim().Length == 0 ? "[]" : json);
        foreach (var l in doc.RootElement.EnumerateArray())
            if (l.TryGetProperty("addr_info", out var ai))
                foreach (var a in ai.EnumerateArray())
                    if (a.TryGetProperty("local", out var local) && local.GetString() is { Length: > 0 } s) return s;
        throw new HostDriverException($"VXLAN_TEP=local_ip but PHYDEV \"{dev}\" has no IPv4 address");
    }

    private async Task EnsureBridgeNetfilterAsync(CancellationToken ct)
    {
        if (_brNetfilterChecked || !_options.EnsureBridgeNetfilter) return;
        const string v4 = "net.bridge.bridge-nf-call-iptables", v6 = "net.bridge.bridge-nf-call-ip6tables";
        var r = await _runner.RunAsync(new HostCommand("sysctl", ["-n", v4, v6]), ct);
        if (r.ExitCode != 0)
            throw new HostDriverException($"stateful security groups need br_netfilter (module br_netfilter, sysctl {v4}): `sysctl -n {v4} {v6}` failed: {CommandRunnerExtensions.FirstLines(r.Stderr)}");
        if (r.Stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is not ["1", "1"])
            await _runner.RunCheckedAsync(new HostCommand("sysctl", ["-q", "-w", $"{v4}=1", $"{v6}=1"]), ct);
        _brNetfilterChecked = true;
    }
}
