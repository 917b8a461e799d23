using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Core.Drivers;
using EdgeCloud.HostNetwork;

// Host network driver timings on lab hosts (network namespaces ecnb<pid>-h1/h2 on one switch).
//  1. A security group applied to 100 NICs of one host (PostAsync per NIC = one nft transaction),
//     then changed for all of them (UpdateSecurityAsync), then removed (CleanAsync).
//  2. One VM's network on a host: PreAsync + PostAsync for a NIC on a unicast VXLAN network, cold
//     (bridge, VXLAN device and flood entry created) and warm (the network already there).
// Needs root, iproute2 and nftables. Usage: dotnet run -c Release --project bench/EdgeCloud.Bench.Network [runs]
var runs = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var r) ? r : 5;
var prefix = $"ecnb{Environment.ProcessId % 10000}";
var sh = new ProcessCommandRunner();
var created = new List<string>();

async Task Ip(params string[] a) => await sh.RunCheckedAsync(new HostCommand("ip", a), default);
string Host(int i) => $"{prefix}-h{i}";

SecurityRuleSpec[] group =
[
    new() { SecurityGroupId = 100, Protocol = "TCP", RuleType = "INBOUND", Range = "22" },
    new() { SecurityGroupId = 100, Protocol = "TCP", RuleType = "INBOUND", Range = "80,443,8000:8100", Networks = ["10.0.0.0/8", "172.16.0.10+20"] },
    new() { SecurityGroupId = 100, Protocol = "ICMP", RuleType = "INBOUND" },
    new() { SecurityGroupId = 100, Protocol = "UDP", RuleType = "OUTBOUND", Range = "53" },
    new() { SecurityGroupId = 100, Protocol = "ALL", RuleType = "OUTBOUND", Networks = ["10.0.0.0/8"] },
];

NicSpec Nic(int vm, string bridge, IReadOnlyList<SecurityRuleSpec> rules) => new()
{
    NicId = 0, Mac = "02:00:00:00:00:01", Bridge = bridge, VnMad = "bridge", Target = $"one-{vm}-0",
    SecurityRules = rules, SecurityGroups = [100],
};

static double Ms(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;
static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

try
{
    await Ip("netns", "add", $"{prefix}-sw"); created.Add($"{prefix}-sw");
    await Ip("-n", $"{prefix}-sw", "link", "add", "sw0", "type", "bridge");
    await Ip("-n", $"{prefix}-sw", "link", "set", "sw0", "up");
    for (var i = 1; i <= 2; i++)
    {
        await Ip("netns", "add", Host(i)); created.Add(Host(i));
        await Ip("link", "add", "name", "eth0", "netns", Host(i), "type", "veth", "peer", "name", $"h{i}", "netns", $"{prefix}-sw");
        await Ip("-n", $"{prefix}-sw", "link", "set", $"h{i}", "master", "sw0", "up");
        await Ip("-n", Host(i), "addr", "add", $"10.250.0.{10 + i}/24", "dev", "eth0");
        await Ip("-n", Host(i), "link", "set", "eth0", "up");
    }
    var h1 = new LinuxHostNetwork(Host(1));
    Console.WriteLine($"Host network driver, median of {runs} runs ({Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start)");

    // 1. Security groups on 100 NICs.
    List<double> apply = [], update = [], batch = [], remove = [];
    var changed = group.Append(new SecurityRuleSpec { SecurityGroupId = 100, Protocol = "TCP", RuleType = "INBOUND", Range = "3306" }).ToArray();
    for (var run = 0; run < runs; run++)
    {
        var t = Stopwatch.GetTimestamp();
        for (var vm = 0; vm < 100; vm++) await h1.PostAsync(vm, Nic(vm, "br0", group), default);
        apply.Add(Ms(t));
        t = Stopwatch.GetTimestamp();
        for (var vm = 0; vm < 100; vm++) await h1.UpdateSecurityAsync(vm, Nic(vm, "br0", changed), default);
        update.Add(Ms(t));
        t = Stopwatch.GetTimestamp();
        await h1.UpdateSecurityAsync([.. Enumerable.Range(0, 100).Select(vm => (vm, Nic(vm, "br0", group)))], default);
        batch.Add(Ms(t));
        t = Stopwatch.GetTimestamp();
        for (var vm = 0; vm < 100; vm++) await h1.CleanAsync(vm, [Nic(vm, "br0", changed)], [], default);
        remove.Add(Ms(t));
    }
    Console.WriteLine($"security group (5 rules) applied to 100 NICs: {Median(apply):F0} ms ({Median(apply) / 100:F1} ms per NIC)");
    Console.WriteLine($"group changed on 100 running NICs:           {Median(update):F0} ms ({Median(update) / 100:F1} ms per NIC)");
    Console.WriteLine($"group changed on 100 NICs in one transaction: {Median(batch):F0} ms");
    Console.WriteLine($"100 NICs cleaned (chains, then tables):       {Median(remove):F0} ms ({Median(remove) / 100:F1} ms per NIC)");

    // 2. One VM's network on a host: Pre + Post on a unicast VXLAN network.
    List<double> cold = [], warm = [], clean = [];
    var vx = new NicSpec
    {
        NicId = 0, Mac = "02:00:00:00:01:01", Bridge = "onebr.500", VnMad = "vxlan", PhyDev = "eth0", VlanId = "500",
        VxlanMode = "unicast", VxlanPeers = ["10.250.0.12"], Mtu = 1450, Target = "one-900-0", SecurityRules = group, SecurityGroups = [100],
    };
    for (var run = 0; run < runs; run++)
    {
        var t = Stopwatch.GetTimestamp();
        await h1.PreAsync(vx, default);
        await h1.PostAsync(900, vx, default);
        cold.Add(Ms(t));
        var second = vx with { Target = "one-901-0" };
        t = Stopwatch.GetTimestamp();
        await h1.PreAsync(second, default);
        await h1.PostAsync(901, second, default);
        warm.Add(Ms(t));
        t = Stopwatch.GetTimestamp();
        await h1.CleanAsync(900, [vx], [second], default);
        await h1.CleanAsync(901, [second], [], default);
        clean.Add(Ms(t));
    }
    Console.WriteLine($"VM network up, VXLAN unicast, cold (bridge + vxlan + FDB + SG): {Median(cold):F0} ms");
    Console.WriteLine($"VM network up, network already on the host (Pre + Post):      {Median(warm):F0} ms");
    Console.WriteLine($"both VMs' networks cleaned (chains, device, bridge):           {Median(clean):F0} ms");
}
finally
{
    created.Reverse();
    foreach (var ns in created) await sh.RunAsync(new HostCommand("ip", ["netns", "del", ns]), default);
}
