using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Client;

// A load driver for any OpenNebula-compatible endpoint, with concurrent .NET clients (so the client
// is not the bottleneck when the server is fast). Prints one RESULT line per measurement.
//   dotnet run -c Release --project bench/EdgeCloud.Bench.Api -- --endpoint URL --auth FILE
//       [--hosts 100] [--vms 1000] [--clients 8] [--list-calls 20] [--pid PID] [--prefix x] [--hold]
// --hold allocates the VMs on hold (the API alone, as oned's --hold run), then releases them.
var opts = Args.Parse(args);
var session = File.ReadAllText(opts.Auth).Trim();
using var admin = new OneClient(new Uri(opts.Endpoint), session);
var clients = Enumerable.Range(0, opts.Clients).Select(_ => new OneClient(new Uri(opts.Endpoint), session)).ToArray();
var prefix = opts.Prefix;

// Hosts: register, then wait until every one is MONITORED.
var sw = Stopwatch.StartNew();
var hostIds = await Parallel(opts.Hosts, opts.Clients, (c, i) => clients[c].CallIntAsync("one.host.allocate", $"{prefix}host-{i:D5}", "dummy", "dummy", -1));
var registered = sw.Elapsed.TotalSeconds;
var monitored = await WaitAsync(async () =>
{
    var xml = await admin.CallStringAsync("one.hostpool.info").ConfigureAwait(false);
    var set = hostIds.Select(h => h.Value).ToHashSet();
    var n = Regex.Matches(xml, @"<HOST><ID>(\d+)</ID><NAME>[^<]*</NAME><STATE>(\d+)</STATE>")
        .Count(m => set.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) && m.Groups[2].Value == "2");
    return n == hostIds.Count;
}, TimeSpan.FromMinutes(10));
Report("hosts", ("n", opts.Hosts), ("register_s", registered), ("all_monitored_s", sw.Elapsed.TotalSeconds), ("ok", monitored));

// Allocation rate: one.vm.allocate from C concurrent clients.
sw.Restart();
var vmIds = await Parallel(opts.Vms, opts.Clients, (c, i) =>
    clients[c].CallIntAsync("one.vm.allocate", $"NAME=\"{prefix}vm-{i:D6}\"\nCPU=\"0.1\"\nVCPU=\"1\"\nMEMORY=\"64\"\n", opts.Hold));
var allocSeconds = sw.Elapsed.TotalSeconds;
var lat = vmIds.Select(v => v.Latency).Order().ToArray();
Report("vm_allocate", ("n", opts.Vms), ("clients", opts.Clients), ("total_s", allocSeconds), ("calls_per_s", opts.Vms / allocSeconds),
    ("median_ms", Pct(lat, 50)), ("p95_ms", Pct(lat, 95)));

// Deploy: time from the first allocate until every VM is RUNNING (scheduler + dummy driver).
var ids = vmIds.Select(v => v.Value).ToHashSet();
if (opts.Hold)
{
    // Held VMs measure the API alone; release them and time until all are RUNNING.
    sw.Restart();
    await Parallel(ids.Count, opts.Clients, (c, i) => clients[c].CallIntAsync("one.vm.action", "release", vmIds[i].Value));
}
var running = await WaitAsync(async () =>
{
    var xml = await admin.CallStringAsync("one.vmpool.info", -2, -1, -1, -1).ConfigureAwait(false);
    var n = Regex.Matches(xml, @"<VM><ID>(\d+)</ID>.*?<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")
        .Count(m => ids.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) && m.Groups[2].Value == "3" && m.Groups[3].Value == "3");
    return n == ids.Count;
}, TimeSpan.FromMinutes(30));
Report("vm_deploy", ("n", opts.Vms), ("seconds_to_all_running", sw.Elapsed.TotalSeconds), ("ok", running));

// Pool listing latency with the VMs present: the whole HTTP answer received (server time plus
// transfer), and the same call decoded into a string by the client (what a client sees end to end).
using (var http = new HttpClient())
{
    foreach (var method in new[] { "one.vmpool.info", "one.vmpool.infoextended" })
    {
        var body = OneXmlRpc.FormatCall(method, [session, -2, -1, -1, -1]);
        var times = new List<double>();
        long bytes = 0;
        for (var i = 0; i < opts.ListCalls; i++)
        {
            var t = Stopwatch.StartNew();
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "text/xml");
            using var response = await http.PostAsync(new Uri(opts.Endpoint), content).ConfigureAwait(false);
            var raw = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            times.Add(t.Elapsed.TotalMilliseconds);
            bytes = raw.Length;
        }
        var sorted = times.Order().ToArray();
        Report("http_" + method.Split('.')[^1], ("calls", opts.ListCalls), ("bytes", bytes), ("median_ms", Pct(sorted, 50)), ("p95_ms", Pct(sorted, 95)));
    }
}
foreach (var method in new[] { "one.vmpool.info", "one.vmpool.infoextended" })
{
    var times = new List<double>();
    var bytes = 0;
    for (var i = 0; i < opts.ListCalls; i++)
    {
        var t = Stopwatch.StartNew();
        var xml = await admin.CallStringAsync(method, -2, -1, -1, -1).ConfigureAwait(false);
        times.Add(t.Elapsed.TotalMilliseconds);
        bytes = xml.Length;
    }
    var sorted = times.Order().ToArray();
    Report("list_" + method.Split('.')[^1], ("calls", opts.ListCalls), ("chars", bytes), ("median_ms", Pct(sorted, 50)), ("p95_ms", Pct(sorted, 95)));
}

if (opts.Pid > 0)
{
    var status = File.ReadAllLines($"/proc/{opts.Pid}/status");
    string Field(string name) => status.First(l => l.StartsWith(name, StringComparison.Ordinal)).Split(':')[1].Trim();
    Report("rss", ("pid", opts.Pid), ("VmRSS", Field("VmRSS")), ("VmHWM", Field("VmHWM")));
}
foreach (var c in clients) c.Dispose();
return 0;

static async Task<List<(int Value, double Latency)>> Parallel(int n, int workers, Func<int, int, Task<int>> call)
{
    var results = new (int, double)[n];
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, workers).Select(async w =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < n)
        {
            var t = Stopwatch.StartNew();
            var v = await call(w, i).ConfigureAwait(false);
            results[i] = (v, t.Elapsed.TotalMilliseconds);
        }
    })).ConfigureAwait(false);
    return [.. results];
}

static async Task<bool> WaitAsync(Func<Task<bool>> done, TimeSpan timeout)
{
    var until = Stopwatch.StartNew();
    while (until.Elapsed < timeout)
    {
        if (await done().ConfigureAwait(false)) return true;
        await Task.Delay(100).ConfigureAwait(false);
    }
    return false;
}

static double Pct(double[] sorted, int p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1)];

static void Report(string name, params (string Key, object Value)[] fields) =>
    Console.WriteLine("RESULT " + name + " " + string.Join(" ", fields.Select(f => f.Key + "=" + (f.Value is double d ? d.ToString("0.###", CultureInfo.InvariantCulture) : f.Value))));

internal sealed record Args(string Endpoint, string Auth, int Hosts, int Vms, int Clients, int ListCalls, int Pid, string Prefix, bool Hold)
{
    public static Args Parse(string[] a)
    {
        string Get(string name, string def) { var i = Array.IndexOf(a, name); return i >= 0 && i + 1 < a.Length ? a[i + 1] : def; }
        int Int(string name, int def) => int.Parse(Get(name, def.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        return new(Get("--endpoint", "http://127.0.0.1:2633/RPC2"), Get("--auth", Environment.GetEnvironmentVariable("ONE_AUTH") ?? "one_auth"),
            Int("--hosts", 100), Int("--vms", 1000), Int("--clients", 8), Int("--list-calls", 20), Int("--pid", 0), Get("--prefix", "b"), a.Contains("--hold"));
    }
}
