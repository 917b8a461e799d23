using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Testing;
using Xunit.Abstractions;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The quick start as a new user runs it: <c>edgecloud up</c> brings a cloud up, the three commands it
/// prints work exactly as printed (run through a shell, with <c>edgecloud</c> being the built binary),
/// Ctrl-C stops it, and running it again continues from the same state.
/// </summary>
[Collection("real guests")]
public sealed partial class UpTests : IDisposable
{
    private readonly ITestOutputHelper _out;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-up-" + Guid.NewGuid().ToString("N")[..8]);

    public UpTests(ITestOutputHelper output)
    {
        _out = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        // A VM left by a failed run: its domain is named after the VM id in this test's own state.
        foreach (var vmDir in Directory.Exists(Path.Combine(_dir, "data", "agent", "datastores", "0")) ? Directory.GetDirectories(Path.Combine(_dir, "data", "agent", "datastores", "0")) : [])
        {
            var name = "one-" + Path.GetFileName(vmDir);
            Shell($"virsh -c qemu:///system destroy {name}; virsh -c qemu:///system undefine {name}");
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [HostFact(HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools | HostNeeds.Network)]
    public async Task Up_PrintsThreeCommandsThatWork_TheVmBoots_CtrlCStops_AndARerunContinues()
    {
        HostPrerequisites.Require(HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools | HostNeeds.Network);
        var data = Path.Combine(_dir, "data");
        var port = FrontendProcess.FreePort();
        var agentPort = FrontendProcess.FreePort();
        var sw = Stopwatch.StartNew();
        var up = Up(data, port, agentPort);
        try
        {
            await WaitForOutputAsync(up, "Ctrl-C stops the cloud", TimeSpan.FromMinutes(4));
            _out.WriteLine($"edgecloud up → ready: {sw.Elapsed.TotalSeconds:0.0} s ({FirstLine(up.Output, "EdgeCloud is up")})");
            Assert.Contains("kvm through libvirt", up.Output, StringComparison.Ordinal);
            var commands = TryBlock(up.Output);
            Assert.Equal(4, commands.Count); // the export line (non-default state directory and port) and the three commands
            Assert.StartsWith("export ONE_XMLRPC=", commands[0], StringComparison.Ordinal);

            // As printed, one shell session: `edgecloud` is the built binary.
            var script = string.Join('\n', commands);
            sw.Restart();
            var (code, output) = Shell(script);
            _out.WriteLine(output);
            Assert.Equal(0, code);
            _out.WriteLine($"first VM RUNNING after {sw.Elapsed.TotalSeconds:0.0} s");
            Assert.Contains("VM 0: RUNNING", output, StringComparison.Ordinal);
            Assert.Matches(@"0 oneadmin oneadmin first\s+runn", output);
            Assert.Contains("LCM_STATE           : RUNNING", output, StringComparison.Ordinal);

            // It boots: the guest's marker on its console, its address from the context.
            var console = Path.Combine(data, "agent", "datastores", "0", "0", "console.log");
            await Wait.ForAsync(() => Task.FromResult(File.Exists(console) && File.ReadAllText(console).Contains("TESTGUEST-NET eth0 10.42.0.100/24", StringComparison.Ordinal)),
                "the VM boots and configures its address from the context", TimeSpan.FromSeconds(120));

            // Ctrl-C: a clean stop, exit 0; the VM keeps running (edge autonomy).
            up.Interrupt();
            Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("one-0", Shell("virsh -c qemu:///system list --name").Output, StringComparison.Ordinal);
        }
        finally
        {
            await up.DisposeAsync();
        }

        // Again: the same state (no second network or image), the VM still RUNNING, picked up by the agent.
        var again = Up(data, port, agentPort);
        try
        {
            await WaitForOutputAsync(again, "Ctrl-C stops the cloud", TimeSpan.FromMinutes(2));
            Assert.DoesNotContain("Building the tiny test image", again.Output, StringComparison.Ordinal);
            var env = TryBlock(again.Output)[0];
            var (_, lists) = Shell($"{env}\nedgecloud vm list\nedgecloud image list --json\nedgecloud vnet list --json\nedgecloud vm terminate first --hard --wait DONE");
            _out.WriteLine(lists);
            Assert.Matches(@"0 oneadmin oneadmin first\s+runn", lists);
            Assert.Equal(1, Regex.Count(lists, "\"NAME\": \"tiny\""));
            Assert.Equal(1, Regex.Count(lists, "\"NAME\": \"private\""));
            Assert.Contains("VM 0: DONE", lists, StringComparison.Ordinal);
            again.Interrupt();
            Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            await again.DisposeAsync();
        }
    }

    [Fact]
    public async Task Up_WithSimulatedHosts_ServesTheSameCommands()
    {
        var data = Path.Combine(_dir, "data");
        var up = Up(data, FrontendProcess.FreePort(), FrontendProcess.FreePort(), "--hypervisor", "dummy", "--dummy-hosts", "3", "--no-image");
        await using (up)
        {
            await WaitForOutputAsync(up, "Ctrl-C stops the cloud", TimeSpan.FromMinutes(1));
            Assert.Contains("dummy hosts  3", up.Output, StringComparison.Ordinal);
            var commands = TryBlock(up.Output);
            var (code, output) = Shell(string.Join('\n', commands) + "\nedgecloud host list");
            _out.WriteLine(output);
            Assert.Equal(0, code);
            Assert.Contains("VM 0: RUNNING", output, StringComparison.Ordinal);
            Assert.Equal(4, Regex.Count(output, @"^\s*\d+ (localhost|dummy-\d)\s", RegexOptions.Multiline));
            up.Interrupt();
            Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
    }

    [Fact]
    public async Task Up_FromAYamlConfig_TakesPortsStateDirectoryAndSettings_AndABadSettingIsOneLine()
    {
        var data = Path.Combine(_dir, "from-yaml");
        var port = FrontendProcess.FreePort();
        var config = Path.Combine(_dir, "cloud.yaml");
        await File.WriteAllTextAsync(config,
            $"data-dir: {data}\nport: {port}\nagent_port: {FrontendProcess.FreePort()}\nSchedulerInterval: 1\nmonitor-interval: 3\n");
        var dll = Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");
        await using (var up = ProcessHandle.Start("dotnet", [dll, "up", "--config", config, "--hypervisor", "dummy", "--no-image"]))
        {
            await WaitForOutputAsync(up, "Ctrl-C stops the cloud", TimeSpan.FromMinutes(1));
            Assert.Equal($"http://127.0.0.1:{port}/RPC2", FirstLine(up.Output, "  endpoint").Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            Assert.True(File.Exists(Path.Combine(data, "one_auth")), "oneadmin's credentials are in the configured state directory");
            Assert.True(File.Exists(Path.Combine(data, "edgecloud.db")), "the SQLite state is in the configured state directory");
            up.Interrupt();
            Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        await File.WriteAllTextAsync(config, $"data-dir: {data}\nporrt: 80\nmonitor-interval: often\n");
        await using var bad = ProcessHandle.Start("dotnet", [dll, "up", "--config", config, "--hypervisor", "dummy", "--no-image"]);
        Assert.Equal(2, await bad.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"edgecloud up: {config}: unknown setting \"porrt\"; setting \"monitor-interval\": \"often\" is not a valid Double", bad.Output.Trim());
    }

    [Fact]
    public async Task Up_OnAPortInUse_FailsWithOneLine()
    {
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        await using var up = Up(Path.Combine(_dir, "data"), port, FrontendProcess.FreePort(), "--hypervisor", "dummy", "--no-image");
        Assert.Equal(1, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = up.Output.Split('\n').Where(l => l.StartsWith("edgecloud up:", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains("could not start", errors[0], StringComparison.Ordinal);
    }

    private static string FirstLine(string output, string prefix) => output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? "";

    /// <summary>The lines under "Try:" up to the blank line.</summary>
    private static List<string> TryBlock(string output) =>
        output.Split('\n').SkipWhile(l => l.Trim() != "Try:").Skip(1).TakeWhile(l => l.Trim().Length > 0).Select(l => l.Trim()).ToList();

    private static ProcessHandle Up(string data, int port, int agentPort, params string[] extra)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");
        return ProcessHandle.Start("dotnet", [dll, "up", "--data", data, "--port", port.ToString(CultureInfo.InvariantCulture), "--agent-port", agentPort.ToString(CultureInfo.InvariantCulture), .. extra]);
    }

    private static async Task WaitForOutputAsync(ProcessHandle p, string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!p.Output.Contains(text, StringComparison.Ordinal))
        {
            if (p.HasExited) throw new InvalidOperationException($"edgecloud up exited with {p.ExitCode}:\n{p.Output}");
            if (sw.Elapsed > timeout) throw new TimeoutException($"no \"{text}\" within {timeout.TotalSeconds:0} s:\n{p.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>Runs a script in bash where `edgecloud` is the built binary.</summary>
    private static (int Code, string Output) Shell(string script)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.Environment.Remove("ONE_XMLRPC");
        psi.Environment.Remove("ONE_AUTH");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write($"set -e\nedgecloud() {{ dotnet '{dll}' \"$@\"; }}\n{script}\n");
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}

/// <summary>A child process with its output kept, that can be sent SIGINT (Ctrl-C).</summary>
public sealed class ProcessHandle : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ProcessHandle(Process p) => _process = p;

    public string Output { get { lock (_output) return string.Join('\n', _output); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static ProcessHandle Start(string file, IEnumerable<string> args)
    {
        // Through `env --default-signal=INT`: a test run started in the background by a shell without job
        // control (as CI runners do) inherits SIGINT ignored, and an ignored signal stays ignored across exec,
        // so the child would never see the Ctrl-C this handle sends. A terminal's Ctrl-C has no such problem.
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var h = new ProcessHandle(Process.Start(psi)!);
        h._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (h._output) h._output.Add(e.Data); };
        h._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (h._output) h._output.Add(e.Data); };
        h._process.BeginOutputReadLine();
        h._process.BeginErrorReadLine();
        return h;
    }

    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill!.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
