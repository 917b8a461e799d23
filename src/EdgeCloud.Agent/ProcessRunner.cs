using System.Diagnostics;
using System.Text;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Agent;

/// <summary>Runs a host tool with a timeout; a non-zero exit is a <see cref="HostDriverException"/> naming the command and its stderr.</summary>
public static class ProcessRunner
{
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var line = file + " " + string.Join(' ', psi.ArgumentList);
        using var p = new Process { StartInfo = psi };
        try { p.Start(); }
        catch (System.ComponentModel.Win32Exception ex) { throw new HostDriverException($"{file} is not installed on this host ({ex.Message})."); }
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try { await p.WaitForExitAsync(timer.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            throw new HostDriverException($"`{line}` did not finish within {timeout.TotalSeconds:0} s.");
        }
        var err = (await stderr.ConfigureAwait(false)).Trim();
        var output = await stdout.ConfigureAwait(false);
        if (p.ExitCode != 0)
            throw new HostDriverException($"`{line}` failed (exit {p.ExitCode}): {(err.Length > 0 ? err : output.Trim())}");
        return output;
    }
}
