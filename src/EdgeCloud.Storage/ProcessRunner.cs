using System.Diagnostics;
using System.Text;

namespace EdgeCloud.Storage;

/// <summary>The outcome of one finished process.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr);

/// <summary>Runs a program with an argument list (no shell), a timeout and cancellation; the process is killed when either fires.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = new Process { StartInfo = psi };
        try
        {
            p.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new StorageException($"Cannot run {CommandLine(fileName, args)}: {ex.Message}", ex);
        }
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new StorageException($"{CommandLine(fileName, args)} did not finish within {timeout.TotalSeconds:0.#} s and was killed.");
        }
        return new ProcessResult(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>The command as one line for messages (arguments with spaces quoted).</summary>
    public static string CommandLine(string fileName, IReadOnlyList<string> args)
    {
        var sb = new StringBuilder(fileName);
        foreach (var a in args) sb.Append(' ').Append(a.Contains(' ', StringComparison.Ordinal) || a.Length == 0 ? "\"" + a + "\"" : a);
        return sb.ToString();
    }
}
