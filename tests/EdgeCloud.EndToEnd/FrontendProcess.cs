using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeCloud.Client;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The <c>edgecloud frontend</c> binary as a child process on a data directory, as an operator runs it.
/// Output is kept for failure messages.
/// </summary>
public sealed class FrontendProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private FrontendProcess(Process process, string dataDir, int port, int agentPort)
    {
        _process = process;
        DataDir = dataDir;
        Port = port;
        AgentPort = agentPort;
        Endpoint = new Uri($"http://127.0.0.1:{port}/RPC2");
    }

    /// <summary>Port of the host agents' endpoint (https).</summary>
    public int AgentPort { get; }

    public string AgentUrl => $"https://127.0.0.1:{AgentPort}";

    public string DataDir { get; }
    public int Port { get; }
    public Uri Endpoint { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public string Session => File.ReadAllText(Path.Combine(DataDir, "one_auth")).Trim();

    public OneClient Client() => new(Endpoint, Session);

    /// <summary>
    /// A port for a server a test starts later: free now, below the kernel's ephemeral range (32768 and up
    /// here), so no outgoing connection or ":0" listener of a test running in parallel can take it before
    /// the server binds it, and never handed out twice in this test run.
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            var port = Random.Shared.Next(20000, 32768);
            lock (HandedOut)
                if (!HandedOut.Add(port)) continue;
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException) { } // in use: try another
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>Starts the binary without waiting for it to answer (a Raft server answers only once the cluster has a leader).</summary>
    public static FrontendProcess Launch(string dataDir, int port, params string[] extra)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Each front-end gets its own agent port too (several run at once; the default 2634 would clash).
        if (!extra.Contains("--agent-port")) extra = [.. extra, "--agent-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var agentPort = int.Parse(extra[Array.IndexOf(extra, "--agent-port") + 1], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var a in new[] { dll, "frontend", "--data", dataDir, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(extra))
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start edgecloud");
        var fp = new FrontendProcess(p, dataDir, port, agentPort);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (fp._output) fp._output.Add(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (fp._output) fp._output.Add(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return fp;
    }

    /// <summary>Starts the binary and waits until it answers one.system.version.</summary>
    public static async Task<FrontendProcess> StartAsync(string dataDir, int port, params string[] extra)
    {
        var fp = Launch(dataDir, port, extra);
        var p = fp._process;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (p.HasExited) throw new InvalidOperationException($"edgecloud exited with {p.ExitCode}:\n{fp.Output}");
            if (File.Exists(Path.Combine(dataDir, "one_auth")))
            {
                try
                {
                    // A short timeout: something else may hold the port and never answer.
                    using var c = new OneClient(fp.Endpoint, fp.Session, options: new OneClientOptions { Timeout = TimeSpan.FromSeconds(2) });
                    await c.CallStringAsync("one.system.version").ConfigureAwait(false);
                    return fp;
                }
                catch (OneException) { }
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        await fp.DisposeAsync().ConfigureAwait(false);
        throw new TimeoutException($"edgecloud did not answer within 60 s:\n{fp.Output}");
    }

    /// <summary>Freezes the process (SIGSTOP): it holds its sockets but answers nothing, as a partitioned server.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Thaws a <see cref="Pause"/>d process (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + name, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{name} {Pid} failed with {kill.ExitCode}");
    }

    /// <summary>SIGKILL: no chance to flush or stop cleanly.</summary>
    public void Kill9()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM and wait for the process to exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill!.WaitForExitAsync().ConfigureAwait(false);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
