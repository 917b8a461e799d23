using System.Diagnostics;
using System.Xml.Linq;
using EdgeCloud.Client;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The front-end and a host agent as separate processes, talking over the agent stream: joining with a
/// one-time token, VM actions down and results up, monitoring, and the failure cases (a dead front-end,
/// a dead agent, a command cut short). The agent runs the dummy hypervisor here so these tests are about
/// the protocol; the real kvm driver is driven end to end in KvmAgentTests.
/// </summary>
public sealed class AgentProtocolTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-agent-" + Guid.NewGuid().ToString("N")[..10]);

    public AgentProtocolTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    internal static async Task<(int HostId, string Token)> AddHostAsync(OneClient c, string name, string mad = "kvm")
    {
        var id = await c.CallIntAsync("one.host.allocate", name, mad, mad, -1);
        var token = await c.CallStringAsync("one.host.jointoken", id, 600);
        return (id, token);
    }

    internal static async Task<XElement> VmAsync(OneClient c, int id) => XElement.Parse(await c.CallStringAsync("one.vm.info", id));

    internal static async Task<XElement> WaitVmAsync(OneClient c, int id, int state, int lcm, TimeSpan timeout, Func<string>? context = null)
    {
        var sw = Stopwatch.StartNew();
        XElement vm;
        do
        {
            vm = await VmAsync(c, id);
            if ((int)vm.Element("STATE")! == state && (lcm < 0 || (int)vm.Element("LCM_STATE")! == lcm)) return vm;
            await Task.Delay(200);
        }
        while (sw.Elapsed < timeout);
        throw new TimeoutException($"VM {id} did not reach {state}/{lcm} in {timeout.TotalSeconds:0} s: STATE={vm.Element("STATE")?.Value} LCM={vm.Element("LCM_STATE")?.Value} ERROR={vm.Element("USER_TEMPLATE")?.Element("ERROR")?.Value}\n{context?.Invoke()}");
    }

    internal static async Task WaitHostMonitoredAsync(OneClient c, int hostId, TimeSpan timeout, Func<string>? context = null)
    {
        var sw = Stopwatch.StartNew();
        XElement h;
        do
        {
            h = XElement.Parse(await c.CallStringAsync("one.host.info", hostId));
            if ((int)h.Element("STATE")! == 2) return;
            await Task.Delay(200);
        }
        while (sw.Elapsed < timeout);
        throw new TimeoutException($"Host {hostId} not MONITORED: STATE={h.Element("STATE")?.Value} ERROR={h.Element("TEMPLATE")?.Element("ERROR")?.Value}\n{context?.Invoke()}");
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"Timed out waiting for: {what}");
            await Task.Delay(100);
        }
    }

    private const int Active = 3, Running = 3, Poweroff = 8, Done = 6;

    [Fact]
    public async Task Agent_JoinsWithToken_HostIsMonitored_AndVmActionsRunThroughIt()
    {
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        var (hostId, token) = await AddHostAsync(c, "edge-1");
        await using var agent = AgentProcess.Start(Path.Combine(_dir, "agent"), fe.AgentUrl, token, "dummy");
        await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(30), () => agent.Output);

        // The host's capacity comes from the agent's real /proc readings.
        var host = XElement.Parse(await c.CallStringAsync("one.host.info", hostId));
        Assert.Equal(Environment.ProcessorCount * 100, (long)host.Element("HOST_SHARE")!.Element("TOTAL_CPU")!);
        Assert.True((long)host.Element("HOST_SHARE")!.Element("TOTAL_MEM")! > 0);
        Assert.Equal("dummy", host.Element("TEMPLATE")!.Element("HYPERVISOR")!.Value);

        var vmId = await c.CallIntAsync("one.vm.allocate", "NAME=a1\nCPU=0.1\nMEMORY=64", false);
        await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(30), () => agent.Output);
        Assert.True(File.Exists(Path.Combine(agent.DataDir, "vms", $"{vmId}.json")), "the agent keeps the VM's spec and desired state on its disk");

        await c.CallIntAsync("one.vm.action", "poweroff", vmId);
        await WaitVmAsync(c, vmId, Poweroff, -1, TimeSpan.FromSeconds(30));
        await c.CallIntAsync("one.vm.action", "resume", vmId);
        await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(30));
        await c.CallIntAsync("one.vm.action", "terminate-hard", vmId);
        await WaitVmAsync(c, vmId, Done, -1, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => !File.Exists(Path.Combine(agent.DataDir, "vms", $"{vmId}.json")), TimeSpan.FromSeconds(10), "the agent forgets a terminated VM");
    }

    [Fact]
    public async Task JoinToken_WorksOnce_AndBadTokensFailWithOneLine()
    {
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        var (hostId, token) = await AddHostAsync(c, "edge-1");
        await using (var first = AgentProcess.Start(Path.Combine(_dir, "a1"), fe.AgentUrl, token, "dummy"))
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(30), () => first.Output);

        // The same token again: refused, one readable line, non-zero exit, nothing written.
        await using (var again = AgentProcess.Start(Path.Combine(_dir, "a2"), fe.AgentUrl, token, "dummy"))
        {
            Assert.Equal(1, await again.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("no pending join token", again.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "a2", "identity", "agent.json")));
        }

        await using (var malformed = AgentProcess.Start(Path.Combine(_dir, "a3"), fe.AgentUrl, "not-a-token", "dummy"))
        {
            Assert.Equal(1, await malformed.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("Malformed join token", malformed.Output, StringComparison.Ordinal);
        }

        // A token whose CA hash is not this front-end's (another cloud, or someone in between): the agent does not send its secret.
        var (_, other) = await AddHostAsync(c, "edge-2");
        var forged = string.Join('.', other.Split('.')[..3]) + "." + new string('a', 64);
        await using (var wrongCa = AgentProcess.Start(Path.Combine(_dir, "a4"), fe.AgentUrl, forged, "dummy"))
        {
            Assert.Equal(1, await wrongCa.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("does not match the join token", wrongCa.Output, StringComparison.Ordinal);
        }

        // No token and no identity: told what to give.
        await using (var none = AgentProcess.Start(Path.Combine(_dir, "a5"), null, null, "dummy"))
        {
            Assert.Equal(1, await none.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("--join-token", none.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FrontendKilledDuringAnAction_ResultIsKept_AndTheActionIsNotExecutedTwice()
    {
        var feDir = Path.Combine(_dir, "fe");
        var port = FrontendProcess.FreePort();
        var agentPort = FrontendProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var fe = await FrontendProcess.StartAsync(feDir, port, "--agent-port", agentPort);
        int vmId;
        Environment.SetEnvironmentVariable("EDGECLOUD_DUMMY_DELAY_MS", "3000");
        AgentProcess agent;
        try
        {
            using var c = fe.Client();
            var (hostId, token) = await AddHostAsync(c, "edge-1");
            agent = AgentProcess.Start(Path.Combine(_dir, "agent"), fe.AgentUrl, token, "dummy");
        }
        finally
        {
            Environment.SetEnvironmentVariable("EDGECLOUD_DUMMY_DELAY_MS", null);
        }
        await using (agent)
        {
            using (var c = fe.Client())
            {
                vmId = await c.CallIntAsync("one.vm.allocate", "NAME=a1\nCPU=0.1\nMEMORY=64", false);
                await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(30), () => agent.Output);
                // The shutdown takes 3 s on the host; the front-end dies one second into it.
                await c.CallIntAsync("one.vm.action", "poweroff", vmId);
                await WaitUntilAsync(() => agent.Output.Contains("Connected", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "agent connected");
            }
            await Task.Delay(1000);
            fe.Kill9();
            await fe.DisposeAsync();
            await WaitUntilAsync(() => agent.Output.Contains($"VM {vmId}: Shutdown done", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the shutdown finishes while the front-end is down");

            // The front-end comes back on the same ports; the VM is still in SHUTDOWN_POWEROFF, so the
            // front-end sends the same command again: the agent answers from its journal.
            fe = await FrontendProcess.StartAsync(feDir, port, "--agent-port", agentPort);
            await using (fe)
            {
                using var c = fe.Client();
                await WaitVmAsync(c, vmId, Poweroff, -1, TimeSpan.FromSeconds(60), () => agent.Output);
                var executions = agent.Output.Split('\n').Count(l => l.Contains($"VM {vmId}: Shutdown done", StringComparison.Ordinal));
                Assert.Equal(1, executions);
            }
        }
    }

    [Fact]
    public async Task VmThatDisappearsFromTheHost_IsReportedPoweroffWithTheReason()
    {
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort());
        using var c = fe.Client();
        var (hostId, token) = await AddHostAsync(c, "edge-1");
        var agentDir = Path.Combine(_dir, "agent");
        var agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "dummy");
        int vmId;
        await using (agent)
        {
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(30), () => agent.Output);
            vmId = await c.CallIntAsync("one.vm.allocate", "NAME=a1\nCPU=0.1\nMEMORY=64", false);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(30), () => agent.Output);
            agent.Kill9();
        }
        // The dummy hypervisor's domains live in the agent's memory: after this restart the VM is gone
        // from the host, as after a host crash. The restarted agent (no token: it has its identity)
        // reports it, and the front-end moves it to POWEROFF with the reason in its log.
        await using var restarted = AgentProcess.Start(agentDir, null, null, "dummy");
        var vm = await WaitVmAsync(c, vmId, Poweroff, -1, TimeSpan.FromSeconds(40), () => restarted.Output);
        Assert.Contains("disappeared", vm.Element("USER_TEMPLATE")!.Element("ERROR")!.Value, StringComparison.Ordinal);
    }
}
