using System.Diagnostics;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Frontend.Networking;

/// <summary>
/// Runs an operator-provided network driver executable (an external IPAM action, an elastic-IP hook): its
/// input on stdin, output and errors read in full, killed with its children past the time limit.
/// Failures to start or to finish are <see cref="IpamException"/>s naming <c>what</c>.
/// </summary>
internal static class DriverExecutable
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo psi, string? stdin, TimeSpan timeout, string what, CancellationToken ct)
    {
        psi.RedirectStandardInput = stdin is not null;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = new Process { StartInfo = psi };
        try { p.Start(); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new IpamException($"{what} could not be started: {e.Message}");
        }
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        if (stdin is not null)
        {
            try
            {
                await p.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
                p.StandardInput.Close();
            }
            catch (IOException) { } // the executable did not read its input; its exit status tells
        }
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try { await p.WaitForExitAsync(limit.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new IpamException($"{what} did not finish within {timeout.TotalSeconds:0} s");
        }
        return (p.ExitCode, await stdout.ConfigureAwait(false), (await stderr.ConfigureAwait(false)).Trim());
    }

    /// <summary>At most 500 characters of a driver's message.</summary>
    public static string Short(string s) => s.Length > 500 ? s[..500] + "…" : s;
}
