using System.Diagnostics;
using System.Text.RegularExpressions;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// The <c>edgecloud</c> command line as a user runs it against a front-end: a process with
/// <c>ONE_XMLRPC</c> and <c>ONE_AUTH</c> pointing at it; its exit code, stdout and stderr.
/// </summary>
public static partial class CliProcess
{
    public sealed record Result(int Code, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;

        /// <summary>The id printed on a line "LABEL: N" (e.g. "VM ID: 7").</summary>
        public int Id(string label = "ID") => Match($@"(?m)^\s*{Regex.Escape(label)}:\s*(\d+)\s*$", $"{label}: N");

        /// <summary>The id printed as "    ID: N" under a line HEADING, as `marketapp export` prints its IMAGE and VMTEMPLATE.</summary>
        public int IdUnder(string heading) => Match($@"(?m)^{Regex.Escape(heading)}\s*\n\s*ID:\s*(\d+)", $"{heading} / ID: N");

        private int Match(string pattern, string what)
        {
            var m = Regex.Match(Stdout.Replace("\r", "", StringComparison.Ordinal), pattern);
            if (!m.Success) throw new InvalidOperationException($"no \"{what}\" in the output of the command (exit code {Code}):\n{Output}");
            return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Runs <c>edgecloud ARGS</c> against <paramref name="fe"/> and waits for it (at most 5 minutes).</summary>
    public static async Task<Result> RunAsync(FrontendProcess fe, params string[] args)
    {
        var psi = Start(fe, "dotnet", [Dll, .. args]);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start edgecloud");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
            await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>edgecloud ARGS</c> on a pseudo-terminal (util-linux <c>script</c>), as in an interactive shell: what it draws for a terminal is in stdout.</summary>
    public static async Task<Result> RunOnTerminalAsync(FrontendProcess fe, params string[] args)
    {
        var command = string.Join(' ', new[] { "dotnet", Dll }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var psi = Start(fe, "script", ["-q", "-e", "-f", "-c", command, "/dev/null"]);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start script (util-linux)");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
            await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");

    private static ProcessStartInfo Start(FrontendProcess fe, string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ONE_XMLRPC"] = fe.Endpoint.ToString();
        psi.Environment["ONE_AUTH"] = Path.Combine(fe.DataDir, "one_auth");
        return psi;
    }
}
