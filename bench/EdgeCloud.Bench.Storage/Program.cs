// Storage benchmark: bytes moved and time to prepare N VM disks of one image on M "hosts" (directories),
// with the tier-3 replica cache versus each VM disk fetched from the front-end directly.
//
//   dotnet run -c Release --project bench/EdgeCloud.Bench.Storage [VMS [HOSTS [IMAGE_MB]]]
//
// The "front-end" is an HTTP server over a folder (the image endpoint's stand-in: GET with Range), on
// loopback; every mode downloads through it with the same ImageImporter (SHA-256 checked, qemu-img checked).
//   direct        every VM disk is a full download of the image into the VM's directory (no cache)
//   cache/host    one ReplicaCache per host; each VM disk is a qcow2 overlay on the host's cached base
//   cache/cluster one ReplicaCache for the M hosts (the per-cluster tier 3); overlays on it
using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Frontend.Storage;
using EdgeCloud.Storage;

var vms = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 32;
var hosts = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
var imageMb = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
const int Parallel = 8;

if (!QemuImg.IsAvailable()) { Console.Error.WriteLine("qemu-img is required"); return 1; }
var qemu = new QemuImg();
var root = Directory.CreateTempSubdirectory("edgecloud-bench-storage-").FullName;
try
{
    var upstream = Path.Combine(root, "frontend");
    Directory.CreateDirectory(Path.Combine(upstream, "images"));
    var raw = Path.Combine(root, "src.raw");
    var data = new byte[imageMb << 20];
    new Random(42).NextBytes(data);
    await File.WriteAllBytesAsync(raw, data);
    var image = Path.Combine(upstream, "images", "base.qcow2");
    await qemu.ConvertAsync(raw, "raw", image, "qcow2");
    File.Delete(raw);
    var (sha, _) = await ImageImporter.DigestsAsync(image, CancellationToken.None);
    var length = new FileInfo(image).Length;
    await using var server = await MarketServer.StartAsync(upstream);
    var url = new Uri(server.Url, "images/base.qcow2").ToString();
    using var http = new HttpClient();
    var importer = new ImageImporter(qemu, http);
    var key = new ImageKey(7, sha);
    var source = new CacheSource { Location = url, Sha256 = sha, Size = length };

    Console.WriteLine($"image: {imageMb} MiB of data, qcow2 file {length} bytes; {vms} VMs on {hosts} hosts; {Parallel} disks prepared at a time; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    Console.WriteLine($"{"mode",-14} {"upstream bytes",16} {"local bytes",14} {"VM dir bytes",14} {"seconds",8} {"disks/s",8}");

    DiskSpec Disk(string dir, int vm) => new() { DiskId = 0, Path = Path.Combine(dir, $"vm{vm}", "disk.0"), Target = "vda", Source = url, ImageId = 7 };
    string HostDir(string mode, int h) => Path.Combine(root, mode, $"host{h}");

    async Task Run(string mode, Func<int, int, Task<long>> prepare, Func<(long Upstream, long Local)> counters)
    {
        var sw = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(Parallel);
        var tasks = Enumerable.Range(0, vms).Select(async vm =>
        {
            await gate.WaitAsync();
            try { return await prepare(vm % hosts, vm); }
            finally { gate.Release(); }
        }).ToList();
        var vmBytes = (await Task.WhenAll(tasks)).Sum();
        sw.Stop();
        var (up, local) = counters();
        Console.WriteLine($"{mode,-14} {up,16:N0} {local,14:N0} {vmBytes,14:N0} {sw.Elapsed.TotalSeconds,8:F2} {vms / sw.Elapsed.TotalSeconds,8:F1}");
        Directory.Delete(Path.Combine(root, mode), recursive: true);
    }

    // direct: every VM disk downloads the whole image.
    long directBytes = 0;
    await Run("direct", async (h, vm) =>
    {
        var r = await importer.ImportAsync(new ImportRequest { Source = url, Destination = Disk(HostDir("direct", h), vm).Path, Sha256 = sha });
        Interlocked.Add(ref directBytes, r.BytesTransferred);
        return r.FileSize;
    }, () => (directBytes, 0));

    // cache per host.
    var perHost = Enumerable.Range(0, hosts).Select(h => new ReplicaCache(Path.Combine(HostDir("cache-host", h), "cache"), 10L << 30, importer)).ToArray();
    DiskSourceResolver resolve = (d, ct) => Task.FromResult((key, source));
    var preparers = perHost.Select(c => new VmDiskPreparer(c, qemu, resolve)).ToArray();
    await Run("cache-host", async (h, vm) =>
    {
        var d = Disk(HostDir("cache-host", h), vm);
        await preparers[h].PrepareAsync(vm, d);
        return new FileInfo(d.Path).Length;
    }, () => (perHost.Sum(c => c.Stats.BytesFetched), perHost.Sum(c => c.Stats.BytesServedLocally)));

    // one cache for the cluster.
    var cluster = new ReplicaCache(Path.Combine(root, "cache-cluster", "cache"), 10L << 30, importer);
    var shared = new VmDiskPreparer(cluster, qemu, resolve);
    await Run("cache-cluster", async (h, vm) =>
    {
        var d = Disk(HostDir("cache-cluster", h), vm);
        await shared.PrepareAsync(vm, d);
        return new FileInfo(d.Path).Length;
    }, () => (cluster.Stats.BytesFetched, cluster.Stats.BytesServedLocally));
    return 0;
}
finally
{
    Directory.Delete(root, recursive: true);
}
