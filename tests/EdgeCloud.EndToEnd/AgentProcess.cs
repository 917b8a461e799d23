using System.Diagnostics;

// These tests drive Linux hosts (processes, libvirt, signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace EdgeCloud.EndToEnd;

/// <summary>The <c>edgecloud agent</c> binary as a child process, as it runs on a host.</summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private AgentProcess(Process process, string dataDir)
    {
        _process = process;
        DataDir = dataDir;
    }

    public string DataDir { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public int Pid => _process.Id;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    /// <summary>Starts an agent; with a token and URL on the first start, with neither on later ones.</summary>
    public static AgentProcess Start(string dataDir, string? frontendUrl, string? joinToken, string hypervisor, params string[] extra)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var args = new List<string> { dll, "agent", "--data", dataDir, "--hypervisor", hypervisor, "--log-format", "text" };
        if (frontendUrl is not null) args.AddRange(["--frontend", frontendUrl]);
        if (joinToken is not null) args.AddRange(["--join-token", joinToken]);
        // Agents of parallel tests must not share the default peer port.
        if (!extra.Contains("--listen")) args.AddRange(["--listen", "127.0.0.1:0", "--advertise", "127.0.0.1"]);
        args.AddRange(extra);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start edgecloud agent");
        var ap = new AgentProcess(p, dataDir);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (ap._output) ap._output.Add(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (ap._output) ap._output.Add(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return ap;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the agent dies without a word (its VMs must not care).</summary>
    public void Kill9()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
