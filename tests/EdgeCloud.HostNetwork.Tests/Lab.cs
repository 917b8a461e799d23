using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>Runs a program and returns its exit code and output (tests only).</summary>
public static class Sh
{
    public static async Task<CommandResult> RunAsync(string file, params string[] args)
    {
        var r = await new ProcessCommandRunner().RunAsync(new HostCommand(file, args), CancellationToken.None);
        return r;
    }

    public static async Task<string> CheckAsync(string file, params string[] args)
    {
        var r = await RunAsync(file, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {r.ExitCode}: {r.Stderr}{r.Stdout}");
        return r.Stdout;
    }
}

/// <summary>
/// A throw-away lab: hosts as network namespaces (<c>ecnXXXX-hN</c>, underlay eth0 10.250.0.(10+N)/24,
/// wired to one switch namespace), and "VM NICs" as endpoints: a namespace whose eth0 is one end of
/// a veth pair, the other end named like the VM's tap (one-VM-NIC) in the host namespace. Nothing
/// is created in the root namespace; disposing removes every namespace (with what is inside) and
/// every process the lab started, also after a failure.
/// </summary>
public sealed class Lab : IAsyncDisposable
{
    public const string Underlay = "10.250.0";
    private static int _counter;
    private readonly List<Process> _processes = [];
    private readonly List<string> _namespaces = [];

    public string Prefix { get; }
    public int Hosts { get; private set; }

    private Lab(string prefix) => Prefix = prefix;

    public string HostNs(int i) => $"{Prefix}-h{i}";
    public string SwitchNs => $"{Prefix}-sw";
    public static string HostIp(int i) => $"{Underlay}.{10 + i}";
    public string EndpointNs(string target) => $"{Prefix}-{target}";

    /// <summary>A driver acting as host <paramref name="i"/>.</summary>
    public LinuxHostNetwork Driver(int i) => new(HostNs(i));

    public static async Task<Lab> StartAsync(int hosts, int mtu = 1500)
    {
        HostPrerequisites.Require();
        var prefix = $"ecn{Environment.ProcessId % 1000:000}{Interlocked.Increment(ref _counter)}";
        var lab = new Lab(prefix);
        try
        {
            await lab.AddNsAsync(lab.SwitchNs);
            await Sh.CheckAsync("ip", "-n", lab.SwitchNs, "link", "add", "sw0", "mtu", mtu.ToString(CultureInfo.InvariantCulture), "type", "bridge", "stp_state", "0", "mcast_snooping", "0");
            await Sh.CheckAsync("ip", "-n", lab.SwitchNs, "link", "set", "sw0", "up");
            for (var i = 1; i <= hosts; i++) await lab.AddHostAsync(i, mtu);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private async Task AddNsAsync(string ns)
    {
        await Sh.CheckAsync("ip", "netns", "add", ns);
        lock (_namespaces) _namespaces.Add(ns);
        await Sh.CheckAsync("ip", "-n", ns, "link", "set", "lo", "up");
    }

    private async Task AddHostAsync(int i, int mtu)
    {
        var ns = HostNs(i);
        await AddNsAsync(ns);
        var m = mtu.ToString(CultureInfo.InvariantCulture);
        await Sh.CheckAsync("ip", "link", "add", "name", "eth0", "mtu", m, "netns", ns, "type", "veth", "peer", "name", $"h{i}", "mtu", m, "netns", SwitchNs);
        await Sh.CheckAsync("ip", "-n", SwitchNs, "link", "set", $"h{i}", "master", "sw0", "up");
        await Sh.CheckAsync("ip", "-n", ns, "addr", "add", $"{HostIp(i)}/24", "dev", "eth0");
        await Sh.CheckAsync("ip", "-n", ns, "link", "set", "eth0", "up");
        Hosts = Math.Max(Hosts, i);
    }

    /// <summary>
    /// A stand-in for a VM's NIC on host <paramref name="host"/>: the tap <paramref name="target"/>
    /// (a veth end) in the host, eth0 with <paramref name="cidr"/> in the endpoint's namespace.
    /// Not yet in a bridge: <see cref="PlugAsync"/> does what libvirt does.
    /// </summary>
    public async Task<string> AddEndpointAsync(int host, string target, string cidr, int mtu = 1500)
    {
        var ns = EndpointNs(target);
        await AddNsAsync(ns);
        var m = mtu.ToString(CultureInfo.InvariantCulture);
        await Sh.CheckAsync("ip", "link", "add", "name", "eth0", "mtu", m, "netns", ns, "type", "veth", "peer", "name", target, "mtu", m, "netns", HostNs(host));
        await Sh.CheckAsync("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0");
        await Sh.CheckAsync("ip", "-n", ns, "link", "set", "eth0", "up");
        return ns;
    }

    /// <summary>Enslaves the tap to the bridge and brings it up, as the hypervisor does when the VM starts.</summary>
    public async Task PlugAsync(int host, string target, string bridge)
    {
        await Sh.CheckAsync("ip", "-n", HostNs(host), "link", "set", target, "master", bridge);
        await Sh.CheckAsync("ip", "-n", HostNs(host), "link", "set", target, "up");
    }

    /// <summary>Removes a VM's tap (the hypervisor does it when the VM is gone).</summary>
    public async Task UnplugAsync(int host, string target) =>
        await Sh.CheckAsync("ip", "-n", HostNs(host), "link", "del", target);

    /// <summary>One ping from the endpoint (1 s timeout).</summary>
    public async Task<bool> PingOnceAsync(string fromNs, string ip) =>
        (await Sh.RunAsync("ip", "netns", "exec", fromNs, "busybox", "ping", "-c", "1", "-W", "1", ip)).ExitCode == 0;

    /// <summary>Polls until a ping gets through (true) or <paramref name="timeout"/> passes (false).</summary>
    public async Task<bool> PingsAsync(string fromNs, string ip, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        do
        {
            if (await PingOnceAsync(fromNs, ip)) return true;
        } while (DateTime.UtcNow < until);
        return false;
    }

    /// <summary>True when three pings in a row (1 s timeout each) all fail: the path is closed.</summary>
    public async Task<bool> BlockedAsync(string fromNs, string ip) =>
        (await Sh.RunAsync("ip", "netns", "exec", fromNs, "busybox", "ping", "-c", "3", "-i", "0.2", "-W", "1", ip)).ExitCode != 0;

    /// <summary>A TCP server in the endpoint that answers "<c>ok&lt;port&gt;</c>" to every connection.</summary>
    public async Task ListenAsync(string ns, int port)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", ns, "busybox", "nc", "-ll", "-p", port.ToString(CultureInfo.InvariantCulture), "-e", "echo", $"ok{port}" })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        lock (_processes) _processes.Add(p);
        // Ready when a local connection gets the answer.
        for (var i = 0; i < 50; i++)
        {
            if (await ConnectsAsync(ns, "127.0.0.1", port)) return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"nc listener on {ns}:{port} did not come up");
    }

    /// <summary>Connects with a 2 s timeout; true when the server's answer came back.</summary>
    public async Task<bool> ConnectsAsync(string fromNs, string ip, int port)
    {
        var r = await Sh.RunAsync("ip", "netns", "exec", fromNs, "busybox", "nc", "-w", "2", ip, port.ToString(CultureInfo.InvariantCulture));
        return r.ExitCode == 0 && r.Stdout.Contains($"ok{port}", StringComparison.Ordinal);
    }

    /// <summary>The host's links as the driver sees them.</summary>
    public async Task<HostLinks> LinksAsync(int host) =>
        HostLinks.Parse(await Sh.CheckAsync("ip", "-n", HostNs(host), "-j", "-d", "link", "show"));

    /// <summary>The host's whole nftables ruleset (text).</summary>
    public async Task<string> RulesetAsync(int host) =>
        await Sh.CheckAsync("ip", "netns", "exec", HostNs(host), "nft", "list", "ruleset");

    public async ValueTask DisposeAsync()
    {
        List<Process> procs;
        lock (_processes) procs = [.. _processes];
        foreach (var p in procs)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            try { await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
            p.Dispose();
        }
        List<string> names;
        lock (_namespaces) names = [.. _namespaces];
        names.Reverse();
        foreach (var ns in names)
        {
            // Anything still running inside (started by a failed test) goes first.
            var pids = await Sh.RunAsync("ip", "netns", "pids", ns);
            foreach (var pid in pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(pid, out var id)) { try { Process.GetProcessById(id).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { } }
            await Sh.RunAsync("ip", "netns", "del", ns);
        }
    }
}

/// <summary>NIC specs for the tests.</summary>
public static class Nics
{
    public static NicSpec Vxlan(int vm, int vni, string mode, IReadOnlyList<string>? peers = null, int nicId = 0) => new()
    {
        NicId = nicId,
        Mac = $"02:00:0a:{vm:x2}:00:{nicId:x2}",
        Bridge = $"onebr.{vni}",
        VnMad = "vxlan",
        PhyDev = "eth0",
        VlanId = vni.ToString(CultureInfo.InvariantCulture),
        VxlanMode = mode,
        VxlanPeers = peers ?? [],
        Mtu = 1450,
        Target = $"one-{vm}-{nicId}",
    };

    public static NicSpec Bridged(int vm, string bridge, IReadOnlyList<SecurityRuleSpec>? rules = null, int nicId = 0) => new()
    {
        NicId = nicId,
        Mac = $"02:00:0b:{vm:x2}:00:{nicId:x2}",
        Bridge = bridge,
        VnMad = "bridge",
        Target = $"one-{vm}-{nicId}",
        SecurityRules = rules ?? [],
        SecurityGroups = rules is { Count: > 0 } ? [100] : [],
    };
}
