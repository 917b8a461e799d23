using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Store.Tests;

/// <summary>
/// The test assembly's own entry point (the test runner never calls it). It gives the tests a
/// child process to kill, and gives people a throughput benchmark that is not a test:
/// <code>
/// dotnet tests/EdgeCloud.Store.Tests/bin/Debug/net10.0/EdgeCloud.Store.Tests.dll bench /tmp/bench.db [objects-per-batch] [seconds]
/// dotnet .../EdgeCloud.Store.Tests.dll bench 'Host=127.0.0.1;Port=55432;...;Database=...' 100 5
/// </code>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["kill-writer", var location]:
                return await KillWriter.RunAsync(location);
            case ["bench", var location, .. var rest]:
                var perBatch = rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 100;
                var seconds = rest.Length > 1 ? double.Parse(rest[1], CultureInfo.InvariantCulture) : 5;
                await Bench.RunAsync(location, perBatch, TimeSpan.FromSeconds(seconds));
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: EdgeCloud.Store.Tests.dll (kill-writer LOCATION | bench LOCATION [OBJECTS_PER_BATCH] [SECONDS])");
                return 2;
        }
    }
}

/// <summary>
/// The child of the kill -9 test: commits batch N (Vm N, Image N, Vm sequence N, version N) and
/// prints "ack N" once CommitAsync has returned, until killed (or, bounded, after two minutes).
/// </summary>
public static class KillWriter
{
    public static async Task<int> RunAsync(string location)
    {
        await using var store = StateStoreFactory.Create(location);
        await store.InitializeAsync(CancellationToken.None);
        var deadline = Stopwatch.StartNew();
        for (var n = 1; deadline.Elapsed < TimeSpan.FromMinutes(2); n++)
        {
            await store.CommitAsync([Batch(n)], n, CancellationToken.None);
            Console.Out.WriteLine($"ack {n}");
            Console.Out.Flush();
        }
        return 0;
    }

    private static ChangeSet Batch(int n) => new(
        [new Change(ObjectType.Vm, n, Samples.Vm(n)), new Change(ObjectType.Image, n, Samples.Image(n))],
        new Dictionary<ObjectType, int> { [ObjectType.Vm] = n });

    /// <summary>The objects after batches 1..version.</summary>
    public static IEnumerable<PoolObject> Expected(long version)
    {
        for (var n = 1; n <= version; n++)
        {
            yield return Samples.Vm(n);
            yield return Samples.Image(n);
        }
    }
}

/// <summary>A manual measurement of commit throughput (objects written per second), never run as a test.</summary>
public static class Bench
{
    public static async Task RunAsync(string location, int perBatch, TimeSpan duration)
    {
        await using var store = StateStoreFactory.Create(location);
        await store.InitializeAsync(CancellationToken.None);
        var start = (await store.LoadAsync(CancellationToken.None)).Version;
        var bodyBytes = ObjectCodec.SerializeUtf8(Samples.Vm(0)).Length;
        Console.WriteLine($"backend {store.Backend}, VM body {bodyBytes} bytes, {perBatch} objects per batch, {duration.TotalSeconds}s per run");

        var version = start;
        var sample = Samples.Vm(0); // the store's cost only: objects are made by `with`, as the front-end makes them

        // The codec alone, to tell its share from the database's; the first round only warms the JIT up.
        for (var round = 0; round < 2; round++)
        {
            var codec = Stopwatch.StartNew();
            var serialized = 0;
            while (codec.Elapsed < TimeSpan.FromSeconds(2))
            {
                ObjectCodec.SerializeUtf8(sample with { Id = serialized++ });
            }
            if (round == 1) Console.WriteLine($"ObjectCodec alone: {serialized / codec.Elapsed.TotalSeconds,10:F0} objects/s");
        }
        foreach (var (size, report) in new[] { (perBatch, false), (perBatch, true), (1, true) })
        {
            var id = (int)(version * 1000 % 1_000_000_000);
            var sw = Stopwatch.StartNew();
            long objects = 0, commits = 0;
            while (sw.Elapsed < duration)
            {
                var changes = new List<ChangeSet>(size);
                for (var i = 0; i < size; i++)
                {
                    var vm = sample with { Id = id++ };
                    changes.Add(new ChangeSet([new Change(ObjectType.Vm, vm.Id, vm)], new Dictionary<ObjectType, int> { [ObjectType.Vm] = vm.Id }));
                }
                await store.CommitAsync(changes, ++version, CancellationToken.None);
                objects += size;
                commits++;
            }
            if (!report) continue; // warm-up round
            var s = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"batches of {size,4}: {objects / s,10:F0} objects/s, {commits / s,8:F1} commits/s, {s * 1000 / commits,7:F2} ms/commit");
        }
    }
}
