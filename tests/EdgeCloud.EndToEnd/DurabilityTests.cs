using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using EdgeCloud.Client;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The front-end as an operator runs it: a restart, a clean SIGTERM, and a SIGKILL in the middle of a
/// write load lose no acknowledged write.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-e2e-" + Guid.NewGuid().ToString("N"));

    public DurabilityTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Kill9_UnderWriteLoad_EveryAcknowledgedWriteSurvivesRestart()
    {
        var port = FrontendProcess.FreePort();
        var acknowledged = new ConcurrentBag<(int Id, string Name)>();
        await using (var fe = await FrontendProcess.StartAsync(_dir, port))
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                using var c = fe.Client();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var name = $"w{w}-{i}";
                    try
                    {
                        var id = await c.CallIntAsync("one.template.allocate", $"NAME=\"{name}\"\nCPU=1\nMEMORY=64\nNOTE=\"{new string('x', 200)}\"");
                        acknowledged.Add((id, name));
                    }
                    catch (OneException)
                    {
                        return; // the server died under us: this write was not acknowledged
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                }
            })).ToArray();
            // Let the load run, then kill the server mid-flight.
            while (acknowledged.Count < 1500) await Task.Delay(20);
            fe.Kill9();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        Assert.True(acknowledged.Count >= 1500);

        await using var again = await FrontendProcess.StartAsync(_dir, port);
        using var client = again.Client();
        var pool = await client.CallStringAsync("one.templatepool.info", -2, -1, -1);
        var stored = Regex.Matches(pool, @"<VMTEMPLATE><ID>(\d+)</ID>.*?<NAME>([^<]*)</NAME>").ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);
        var missing = acknowledged.Where(a => !stored.TryGetValue(a.Id, out var n) || n != a.Name).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged templates lost, e.g. {string.Join(", ", missing.Take(5))}");
        // Ids are never reused after the crash: a new object gets a fresh id.
        var next = await client.CallIntAsync("one.template.allocate", "NAME=\"after-crash\"\nCPU=1\nMEMORY=64");
        Assert.True(next > stored.Keys.Max());
    }

    [Fact]
    public async Task Sigterm_StopsCleanly_AndRestartKeepsStateAndCredentials()
    {
        var port = FrontendProcess.FreePort();
        string before;
        string session;
        await using (var fe = await FrontendProcess.StartAsync(_dir, port))
        {
            using var c = fe.Client();
            session = fe.Session;
            await c.CallIntAsync("one.host.allocate", "h1", "dummy", "dummy", -1);
            var tid = await c.CallIntAsync("one.template.allocate", "NAME=\"t\"\nCPU=0.5\nMEMORY=128");
            await c.CallIntAsync("one.template.instantiate", tid, "vm1", false, "", false);
            await WaitAsync(async () => (await c.CallStringAsync("one.vm.info", 0, false)).Contains("<STATE>3</STATE><LCM_STATE>3</LCM_STATE>", StringComparison.Ordinal));
            before = await c.CallStringAsync("one.templatepool.info", -2, -1, -1) + await c.CallStringAsync("one.userpool.info");
            var code = await fe.TerminateAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, code);
            Assert.Contains("stopping", fe.Output, StringComparison.Ordinal);
        }
        await using var again = await FrontendProcess.StartAsync(_dir, port);
        Assert.Equal(session, again.Session);
        using var c2 = again.Client();
        var after = await c2.CallStringAsync("one.templatepool.info", -2, -1, -1) + await c2.CallStringAsync("one.userpool.info");
        Assert.Equal(before, after);
        var vm = await c2.CallStringAsync("one.vm.info", 0, false);
        Assert.Contains("<STATE>3</STATE><LCM_STATE>3</LCM_STATE>", vm, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PortInUse_FailsWithOneReadableLine()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => FrontendProcess.StartAsync(_dir, port));
        Assert.Contains("could not start", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", ex.Message, StringComparison.Ordinal);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail("condition not met within 20 s");
    }
}
