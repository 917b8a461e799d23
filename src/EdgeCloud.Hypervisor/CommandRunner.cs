using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>What one host command printed and how it ended.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;

    /// <summary>The first non-empty of stderr and stdout, trimmed: what a failure message quotes.</summary>
    public string Output => (Stderr.Trim().Length > 0 ? Stderr : Stdout).Trim();
}

/// <summary>
/// Runs host tools (virsh, lxc-*, genisoimage, ip) as child processes: arguments passed as a list
/// (never through a shell), stdout and stderr captured, a time limit after which the process tree is
/// killed. <see cref="CheckedAsync"/> turns a failure into a <see cref="HostDriverException"/> whose
/// message names the command and quotes its stderr, as the drivers report it to the VM's log.
/// </summary>
public sealed class CommandRunner
{
    /// <summary>The limit when a call gives none.</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="file"/> and returns how it ended, whatever the exit code.</summary>
    /// <exception cref="HostDriverException">The tool cannot be started, or it ran past its time limit.</exception>
    public async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, CancellationToken ct,
        TimeSpan? timeout = null, string? stdin = null)
    {
        var argList = args.ToList();
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in argList) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new HostDriverException($"{file}: cannot run it ({e.Message}); is it installed?", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (stdin is not null) await process.StandardInput.WriteAsync(stdin.AsMemory(), ct);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading its input; its exit code tells what happened.
        }

        var limit = timeout ?? DefaultTimeout;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            throw new HostDriverException($"{Describe(file, argList)}: timed out after {limit.TotalSeconds:0.#} s");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the command and returns its stdout; a non-zero exit is a <see cref="HostDriverException"/>.</summary>
    public async Task<string> CheckedAsync(string file, IEnumerable<string> args, CancellationToken ct,
        TimeSpan? timeout = null, string? stdin = null)
    {
        var argList = args.ToList();
        var r = await RunAsync(file, argList, ct, timeout, stdin);
        if (!r.Ok) throw Failure(file, argList, r);
        return r.Stdout;
    }

    public static HostDriverException Failure(string file, IReadOnlyList<string> args, CommandResult r) =>
        new($"{Describe(file, args)} failed (exit {r.ExitCode}): {(r.Output.Length > 0 ? OneLine(r.Output) : "no output")}");

    /// <summary>Multi-line tool output as one line (the VM log takes one line per message).</summary>
    public static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The command as one short line for messages: the tool and its arguments, long ones cut.</summary>
    public static string Describe(string file, IReadOnlyList<string> args)
    {
        var sb = new StringBuilder(Path.GetFileName(file));
        foreach (var a in args)
        {
            sb.Append(' ');
            sb.Append(a.Length > 80 ? a[..77] + "..." : a);
        }
        return sb.ToString();
    }

    /// <summary>True when <paramref name="tool"/> is an executable on PATH (or an existing path).</summary>
    public static bool IsInstalled(string tool) => Which(tool) is not null;

    public static string? Which(string tool)
    {
        if (tool.Contains('/')) return File.Exists(tool) ? tool : null;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        foreach (var dir in dirs)
        {
            var p = Path.Combine(dir, tool);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
