using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// <c>--wait STATE</c>: polls <c>one.vm.info</c> until each VM reaches the state (a VM state such as POWEROFF or DONE,
/// an LCM state such as RUNNING, or their short forms such as runn), a failure state, or the timeout.
/// </summary>
public sealed class VmWait
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public Option<string?> Wait { get; } = new("--wait")
    {
        Description = "Wait until the VM reaches STATE (RUNNING, POWEROFF, DONE, HOLD, ...) and print it",
        HelpName = "STATE",
    };

    public Option<int> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds --wait waits at most",
        DefaultValueFactory = _ => 300,
        HelpName = "SECONDS",
    };

    public VmWait()
    {
        Wait.CompletionSources.Add(["RUNNING", "POWEROFF", "DONE", "HOLD", "PENDING", "SUSPENDED", "STOPPED", "UNDEPLOYED", "ACTIVE"]);
    }

    public IEnumerable<Symbol> Symbols => [Wait, Timeout];

    /// <summary>Checks --wait before anything is done, so a typo does not leave an action half-waited.</summary>
    public void Check(CliContext c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Get(Wait) is { } target && !IsKnown(target))
            throw new CliException($"unknown VM state \"{target}\" for --wait (e.g. RUNNING, POWEROFF, DONE, HOLD)");
    }

    /// <summary>Waits for every VM when --wait was given.</summary>
    public async Task RunAsync(CliContext c, IReadOnlyList<int> ids)
    {
        Check(c);
        if (c.Get(Wait) is not { } target) return;
        var limit = TimeSpan.FromSeconds(Math.Max(1, c.Get(Timeout)));
        foreach (var id in ids) await WaitOneAsync(c, id, target, limit).ConfigureAwait(false);
    }

    public Task RunAsync(CliContext c, int id) => RunAsync(c, [id]);

    private static async Task WaitOneAsync(CliContext c, int id, string target, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var vm = await c.CallXmlAsync("one.vm.info", id, false).ConfigureAwait(false);
            var state = (VmState)(int)Fmt.L(vm, "STATE");
            var lcm = (LcmState)(int)Fmt.L(vm, "LCM_STATE");
            var name = Name(state, lcm);
            if (Matches(state, lcm, target))
            {
                CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"VM {id}: {name}"));
                return;
            }
            if (IsFailure(state, lcm, target))
                throw new CliException($"VM {id} is {name}; it will not reach {target.ToUpperInvariant()} (see: edgecloud vm show {id})", CliExit.Server);
            if (clock.Elapsed > limit)
                throw new CliException(string.Create(CultureInfo.InvariantCulture,
                    $"timed out after {limit.TotalSeconds:0} s waiting for VM {id} to reach {target.ToUpperInvariant()}; it is {name}"));
            await Task.Delay(Poll, c.Ct).ConfigureAwait(false);
        }
    }

    /// <summary>The state <c>show</c> would name: the LCM state while ACTIVE, else the VM state.</summary>
    public static string Name(VmState state, LcmState lcm) => state == VmState.ACTIVE ? lcm.ToString() : state.ToString();

    public static bool IsKnown(string target)
    {
        var t = target.Trim();
        return Enum.GetNames<VmState>().Contains(t.ToUpperInvariant()) || Enum.GetNames<LcmState>().Contains(t.ToUpperInvariant())
            || ShortForms.Contains(t.ToLowerInvariant());
    }

    private static readonly HashSet<string> ShortForms = new(StringComparer.Ordinal)
    {
        "init", "pend", "hold", "actv", "stop", "susp", "done", "poff", "unde", "clon", "fail", "runn", "prol", "boot",
        "migr", "save", "epil", "shut", "clea", "unkn", "hotp", "snap", "drsz", "back", "rest",
    };

    public static bool Matches(VmState state, LcmState lcm, string target)
    {
        var t = target.Trim();
        var upper = t.ToUpperInvariant();
        if (upper == "ACTIVE") return state == VmState.ACTIVE;
        if (Enum.TryParse<VmState>(upper, out var vs) && Enum.IsDefined(vs) && upper != "INIT") return state == vs;
        if (Enum.TryParse<LcmState>(upper, out var ls) && Enum.IsDefined(ls)) return state == VmState.ACTIVE && lcm == ls;
        if (upper == "INIT") return state == VmState.INIT;
        return StateNames.Short(state, lcm).Equals(t, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsFailure(VmState state, LcmState lcm, string target)
    {
        if (Matches(state, lcm, target)) return false;
        if (state == VmState.DONE || state == VmState.CLONING_FAILURE) return true;
        return state == VmState.ACTIVE && (lcm.ToString().EndsWith("_FAILURE", StringComparison.Ordinal) || lcm == LcmState.UNKNOWN);
    }
}
