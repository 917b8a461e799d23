using System.Diagnostics;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork;

/// <summary>
/// One command the network driver runs on a host: a program (<c>ip</c>, <c>bridge</c>, <c>nft</c>,
/// <c>sysctl</c>), its arguments, and optionally what it reads on stdin (<c>nft -f -</c>). Commands
/// are data, so a plan can be shown, tested, or run somewhere else (a guest's console) unchanged.
/// </summary>
public sealed record HostCommand(string Program, IReadOnlyList<string> Args, string? Input = null)
{
    public static HostCommand Ip(params string[] args) => new("ip", args);
    public static HostCommand Bridge(params string[] args) => new("bridge", args);

    /// <summary>The command as one POSIX shell line (stdin as a here-document).</summary>
    public string ToShell()
    {
        var line = string.Join(' ', new[] { Program }.Concat(Args).Select(Quote));
        return Input is null ? line : $"{line} <<'EDGECLOUD_EOF'\n{Input.TrimEnd('\n')}\nEDGECLOUD_EOF";
    }

    public override string ToString() => string.Join(' ', new[] { Program }.Concat(Args).Select(Quote));

    internal static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}

/// <summary>What a command printed and how it ended.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs host commands. The production one starts processes; tests may run them elsewhere.</summary>
public interface ICommandRunner
{
    /// <summary>Runs the command and returns its result whatever the exit code.</summary>
    Task<CommandResult> RunAsync(HostCommand command, CancellationToken ct);
}

public static class CommandRunnerExtensions
{
    /// <summary>Runs the command; a non-zero exit becomes a <see cref="HostDriverException"/> naming the command and its stderr.</summary>
    public static async Task<string> RunCheckedAsync(this ICommandRunner runner, HostCommand command, CancellationToken ct)
    {
        var r = await runner.RunAsync(command, ct);
        if (r.ExitCode != 0)
            throw new HostDriverException($"`{command}` failed (exit {r.ExitCode}): {FirstLines(r.Stderr.Length > 0 ? r.Stderr : r.Stdout)}");
        return r.Stdout;
    }

    internal static string FirstLines(string s)
    {
        var t = s.Trim();
        return t.Length <= 600 ? t : t[..600] + "...";
    }
}

/// <summary>
/// Starts the commands as processes, optionally inside a network namespace: <c>ip</c> and
/// <c>bridge</c> get <c>-n NS</c>, anything else runs under <c>ip netns exec NS</c>.
/// </summary>
public sealed class ProcessCommandRunner(string? netns = null) : ICommandRunner
{
    public string? Netns { get; } = netns;

    public async Task<CommandResult> RunAsync(HostCommand command, CancellationToken ct)
    {
        var (file, args) = Wrap(command);
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = command.Input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = new Process { StartInfo = psi };
        try
        {
            p.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new HostDriverException($"`{command}` could not start: {e.Message}", e);
        }
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        if (command.Input is not null)
        {
            await p.StandardInput.WriteAsync(command.Input.AsMemory(), ct);
            p.StandardInput.Close();
        }
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        return new CommandResult(p.ExitCode, await stdout, await stderr);
    }

    private (string File, IReadOnlyList<string> Args) Wrap(HostCommand c)
    {
        if (Netns is null) return (c.Program, c.Args);
        if (c.Program is "ip" or "bridge") return (c.Program, ["-n", Netns, .. c.Args]);
        return ("ip", ["netns", "exec", Netns, c.Program, .. c.Args]);
    }
}

/// <summary>Collects commands instead of running them (dry runs, tests); <see cref="Answers"/> may give a command a result (default: success, no output).</summary>
public sealed class RecordingCommandRunner : ICommandRunner
{
    private readonly List<HostCommand> _commands = [];
    public IReadOnlyList<HostCommand> Commands { get { lock (_commands) return [.. _commands]; } }
    public Func<HostCommand, CommandResult?> Answers { get; set; } = _ => null;

    public Task<CommandResult> RunAsync(HostCommand command, CancellationToken ct)
    {
        lock (_commands) _commands.Add(command);
        return Task.FromResult(Answers(command) ?? new CommandResult(0, "", ""));
    }
}
