using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// A front-end and a host agent as separate processes, the agent running the real lxc driver: an image
/// holding a busybox root filesystem, registered in the front-end's datastore, runs as a system container
/// on the host through the whole path a VM takes (replica cache, disk made for the driver, network,
/// context), and obeys the container's life-cycle actions.
/// </summary>
[Collection("real guests")]
public sealed class LxcAgentTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Lxc | HostNeeds.Qemu | HostNeeds.Network;
    private const int Active = 3, Running = 3, Poweroff = 8, Done = 6;

    private readonly ITestOutputHelper _out;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-lxc-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _bridge = "eclb" + Guid.NewGuid().ToString("N")[..6];
    private readonly List<string> _containers = [];

    public LxcAgentTests(ITestOutputHelper output)
    {
        _out = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        foreach (var name in _containers)
        {
            Run("lxc-stop", "-n", name, "-P", "/var/lib/lxc", "--kill");
            if (File.Exists(Path.Combine("/var/lib/lxc", name, "config"))) Directory.Delete(Path.Combine("/var/lib/lxc", name), recursive: true);
        }
        Run("ip", "link", "del", _bridge);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [HostFact(Needs)]
    public async Task Container_FromAnImage_RunsOnTheAgentHost_AndObeysItsActions()
    {
        HostPrerequisites.Require(Needs);
        var rootfsImage = await TestContainerImage.RawImageAsync(Path.Combine(_dir, "build"));
        var agentDir = Path.Combine(_dir, "agent");
        var fe = await FrontendProcess.StartAsync(Path.Combine(_dir, "fe"), FrontendProcess.FreePort(), "--agent-port", FrontendProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        AgentProcess? agent = null;
        try
        {
            using var c = fe.Client();
            var (hostId, token) = await AddHostAsync(c, "lxc-host", "lxc");
            agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "lxc");
            var a = agent;
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(60), () => a.Output);
            Assert.Equal("lxc", XElement.Parse(await c.CallStringAsync("one.host.info", hostId)).Element("TEMPLATE")!.Element("HYPERVISOR")!.Value);

            // The root filesystem as an OS image in the default image datastore (1); the import may store it as qcow2.
            var img = await c.CallIntAsync("one.image.allocate", $"NAME=busybox\nPATH=\"{rootfsImage}\"\nTYPE=OS", 1, false);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", img)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));
            var netId = await c.CallIntAsync("one.vn.allocate",
                $"NAME=ct-net\nVN_MAD=bridge\nBRIDGE={_bridge}\nAR=[TYPE=IP4,IP=172.31.241.10,SIZE=10]\nNETWORK_MASK=255.255.255.0\nGATEWAY=172.31.241.1", -1);

            var vmId = await c.CallIntAsync("one.vm.allocate",
                $"NAME=ct\nCPU=0.2\nMEMORY=64\nDISK=[IMAGE_ID={img}]\nNIC=[NETWORK_ID={netId}]\nCONTEXT=[NETWORK=YES,SET_HOSTNAME=\"ct-$VMID\"]", false);
            var name = $"one-{vmId}";
            _containers.Add(name);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            var vmDir = Path.Combine(agentDir, "datastores", "0", vmId.ToString(CultureInfo.InvariantCulture));
            var console = Path.Combine(vmDir, "console.log");
            // The container ran its init from the image and read its context (hostname expanded by the front-end).
            await ForConsoleAsync(console, $"{TestContainerImage.ContextMarker} ct-{vmId}", 1);
            Assert.Contains("RUNNING", Run("lxc-info", "-n", name, "-P", "/var/lib/lxc", "-s"), StringComparison.Ordinal);
            Assert.Equal(name, (await VmAsync(c, vmId)).Element("DEPLOY_ID")!.Value);
            // Its disk is a full raw copy made for the lxc driver (a qcow2 overlay cannot be loop-mounted).
            var info = Run("qemu-img", "info", "--output=json", Path.Combine(vmDir, "disk.0"));
            Assert.Contains("\"format\": \"raw\"", info, StringComparison.Ordinal);
            Assert.DoesNotContain("backing-filename", info, StringComparison.Ordinal);
            // Its NIC is on the network's bridge on the host.
            Assert.Contains($"master {_bridge}", Run("ip", "-o", "link", "show", $"{name}-0"), StringComparison.Ordinal);

            // ---- poweroff / resume: the container stops (its shutdown marker) and boots again from the same disk
            await c.CallIntAsync("one.vm.action", "poweroff", vmId);
            await WaitVmAsync(c, vmId, Poweroff, -1, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.DoesNotContain("RUNNING", Run("lxc-info", "-n", name, "-P", "/var/lib/lxc", "-s"), StringComparison.Ordinal);
            await c.CallIntAsync("one.vm.action", "resume", vmId);
            await WaitVmAsync(c, vmId, Active, Running, TimeSpan.FromSeconds(120), () => a.Output);
            await ForConsoleAsync(console, TestContainerImage.UpMarker, 2);
            Assert.Contains("RUNNING", Run("lxc-info", "-n", name, "-P", "/var/lib/lxc", "-s"), StringComparison.Ordinal);

            // ---- terminate: the container, its disk, its directory and its host NIC are gone
            await c.CallIntAsync("one.vm.action", "terminate-hard", vmId);
            await WaitVmAsync(c, vmId, Done, -1, TimeSpan.FromSeconds(120), () => a.Output);
            Assert.False(Directory.Exists(Path.Combine("/var/lib/lxc", name)), "the container's config is removed");
            Assert.False(Directory.Exists(vmDir), "the VM directory is removed");
            Assert.DoesNotContain(Path.Combine(vmDir, "disk.0"), await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
            Assert.Equal("", Run("ip", "-o", "link", "show", $"{name}-0").Trim());
        }
        finally
        {
            if (agent is not null) await agent.DisposeAsync();
            await fe.DisposeAsync();
        }
    }

    private static Task ForConsoleAsync(string log, string pattern, int times) =>
        Wait.ForAsync(() => Task.FromResult(File.Exists(log) && Regex.Count(File.ReadAllText(log), Regex.Escape(pattern)) >= times),
            $"'{pattern}' x{times} on the console {log}", TimeSpan.FromSeconds(60));

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var x in args) psi.ArgumentList.Add(x);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return output;
    }
}
