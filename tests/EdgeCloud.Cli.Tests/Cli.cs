using System.Diagnostics;
using System.Text;

namespace EdgeCloud.Cli.Tests;

/// <summary>What one run of the binary printed and returned.</summary>
public sealed record CliResult(string[] Args, int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Asserts success (exit 0, nothing on stderr) and returns stdout.</summary>
    public string Ok()
    {
        Assert.True(ExitCode == 0 && Stderr.Length == 0, $"expected success:\n{this}");
        return Stdout;
    }

    /// <summary>Asserts a user error: the exit code, nothing on stdout, exactly one line on stderr (no stack trace); returns it.</summary>
    public string Fails(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"expected exit {exitCode}:\n{this}");
        Assert.True(StderrLines.Length == 1, $"expected exactly one line on stderr:\n{this}");
        Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", Stderr, StringComparison.Ordinal);
        return StderrLines[0];
    }

    public override string ToString() =>
        $"$ edgecloud {string.Join(' ', Args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a))}\n[exit {ExitCode}]\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>Runs the built <c>edgecloud</c> binary (<c>dotnet edgecloud.dll ...</c>) the way a user does.</summary>
public static class Cli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "edgecloud.dll");

    /// <summary>
    /// Runs the binary with exactly <paramref name="env"/> as its OpenNebula settings (ONE_XMLRPC, ONE_AUTH, HOME...);
    /// variables given as null are removed.
    /// </summary>
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> env, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "ONE_XMLRPC", "ONE_AUTH", "ONE_XMLRPC_TIMEOUT", "COLUMNS" }) psi.Environment.Remove(name);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in env)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgecloud {string.Join(' ', args)} did not finish within 90 s");
        }
        return new CliResult(args, p.ExitCode, (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal), (await stderr).Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
