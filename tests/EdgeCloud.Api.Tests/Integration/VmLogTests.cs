using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// DATA/vms/VMID.log, oned's per-VM log: one line per creation, state, LCM state, host and error, in oned's
/// format, written by the front-end as the VM goes through its life on the dummy drivers; a restart does not
/// log again, and the log of a DONE VM stays.
/// </summary>
public abstract partial class VmLogTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    [GeneratedRegex(@"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} \[Z0\]\[VM\]\[[IE]\]: \S.*$")]
    private static partial Regex LineFormat();

    private static string LogPath(FrontendHandle fe, int vm) => Path.Combine(fe.DataDir, "vms", vm.ToString(CultureInfo.InvariantCulture) + ".log");

    private static string[] Lines(FrontendHandle fe, int vm)
    {
        var path = LogPath(fe, vm);
        try { return File.Exists(path) ? File.ReadAllLines(path) : []; }
        catch (IOException) { return []; } // being appended
    }

    /// <summary>The messages of the log (the part after "]: "), once <paramref name="last"/> is among them.</summary>
    private static async Task<string[]> MessagesUntilAsync(FrontendHandle fe, int vm, string last) =>
        await Wait.ForAsync(() => Task.FromResult(Lines(fe, vm)), l => l.Any(x => x.EndsWith("]: " + last, StringComparison.Ordinal)),
            $"\"{last}\" in the log of VM {vm}").ContinueWith(t => t.Result.Select(Message).ToArray(), TaskScheduler.Default);

    private static string Message(string line) => line[(line.IndexOf("]: ", StringComparison.Ordinal) + 3)..];

    [BackendFact]
    public async Task VmLog_VmRunsOnADummyHost_CreationStatesAndHostInOrder()
    {
        var host = await SharedHostAsync("loghost");
        var hostName = (await Admin.InfoAsync("one.host.info", host)).Str("NAME");
        var vm = await RunningOnAsync(host);

        var messages = await MessagesUntilAsync(Fe, vm, "New LCM state is RUNNING");

        Assert.Equal(
        [
            "New state is PENDING",
            $"Deploying on host {hostName} ({host})",
            "New state is ACTIVE",
            "New LCM state is PROLOG",
            "New LCM state is BOOT",
            "New LCM state is RUNNING",
        ], messages);
        Assert.All(Lines(Fe, vm), l => Assert.Matches(LineFormat(), l));
    }

    [BackendFact]
    public async Task VmLog_DeployFails_ErrorLineWithTheReasonThenBootFailure()
    {
        var host = await SharedHostAsync("loghost");
        var vm = await PinnedVmAsync(host, "DUMMY_FAIL = \"deploy\"\n");
        await WaitVmAsync(vm, VmState.Active, Lcm.BootFailure);

        var messages = await MessagesUntilAsync(Fe, vm, "New LCM state is BOOT_FAILURE");

        var error = Array.FindIndex(messages, m => m.StartsWith("Error executing Deploy: ", StringComparison.OrdinalIgnoreCase));
        Assert.True(error >= 0, "an error line: " + string.Join(" | ", messages));
        Assert.Contains("DUMMY_FAIL", messages[error], StringComparison.Ordinal);
        Assert.Equal("New LCM state is BOOT_FAILURE", messages[error + 1]);
        Assert.Equal("New LCM state is BOOT_FAILURE", messages[^1]);
        var errorLine = Lines(Fe, vm)[error];
        Assert.Contains("[VM][E]: ", errorLine, StringComparison.Ordinal);
        Assert.Single(Lines(Fe, vm), l => l.Contains("[E]", StringComparison.Ordinal));
    }

    [BackendFact]
    public async Task VmLog_VmTerminated_EndsWithDoneAndStays()
    {
        var host = await SharedHostAsync("loghost");
        var vm = await RunningOnAsync(host);
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);

        var messages = await MessagesUntilAsync(Fe, vm, "New LCM state is LCM_INIT");

        Assert.Equal(["New LCM state is SHUTDOWN", "New LCM state is EPILOG", "New state is DONE", "New LCM state is LCM_INIT"], messages[^4..]);
        Assert.Equal("New state is PENDING", messages[0]);
        Assert.True(File.Exists(LogPath(Fe, vm)), "the log of the DONE VM stays");
    }

    [BackendTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task VmLog_VmMigrated_MigratingLineNamesBothHosts(bool live)
    {
        var a = await SharedHostAsync("loghost");
        var b = await SharedHostAsync("loghostb");
        var nameA = (await Admin.InfoAsync("one.host.info", a)).Str("NAME");
        var nameB = (await Admin.InfoAsync("one.host.info", b)).Str("NAME");
        var vm = await RunningOnAsync(a);
        await MessagesUntilAsync(Fe, vm, "New LCM state is RUNNING");

        await Admin.CallAsync("one.vm.migrate", vm, b, live, false, -1, 0);
        await Wait.ForAsync(async () => (await Admin.InfoAsync("one.vm.info", vm)) is var v && v.Int("LCM_STATE") == Lcm.Running
            && v.At("HISTORY_RECORDS").Elements("HISTORY").Count() == 2, $"VM {vm} running on host {b}");

        var messages = await Wait.ForAsync(() => Task.FromResult(Lines(Fe, vm).Select(Message).ToArray()),
            m => m.Count(x => x == "New LCM state is RUNNING") == 2, $"the VM's second RUNNING line");
        Assert.Single(messages, $"Migrating to host {nameB} ({b}) from host {nameA} ({a})");
        Assert.Single(messages, m => m.StartsWith("Deploying on host ", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("New LCM state is ", StringComparison.Ordinal) && m.Contains("MIGRATE", StringComparison.Ordinal));
    }

    [BackendFact]
    public async Task VmLog_FrontendRestarts_NothingLoggedTwice_LaterChangesAppended()
    {
        await using var fe = await FrontendHandle.StartAsync(Backend);
        var host = await fe.Admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", -1);
        await Wait.ForAsync(async () => (await fe.Admin.InfoAsync("one.host.info", host)).Int("STATE") == 2, "host MONITORED");
        var running = await fe.Admin.CallIntAsync("one.vm.allocate", VmTemplate(extra: $"SCHED_REQUIREMENTS = \"ID = {host}\"\n"), false);
        var done = await fe.Admin.CallIntAsync("one.vm.allocate", VmTemplate(extra: $"SCHED_REQUIREMENTS = \"ID = {host}\"\n"), false);
        await MessagesUntilAsync(fe, running, "New LCM state is RUNNING");
        await MessagesUntilAsync(fe, done, "New LCM state is RUNNING");
        await fe.Admin.CallAsync("one.vm.action", "terminate", done);
        await MessagesUntilAsync(fe, done, "New LCM state is LCM_INIT");
        var runningBefore = Lines(fe, running);
        var doneBefore = Lines(fe, done);

        await fe.RestartAsync();
        await fe.Admin.CallAsync("one.vm.action", "poweroff", running);
        var after = await MessagesUntilAsync(fe, running, "New LCM state is LCM_INIT");

        Assert.Equal(runningBefore, Lines(fe, running)[..runningBefore.Length]);
        Assert.Equal(["New LCM state is SHUTDOWN_POWEROFF", "New state is POWEROFF", "New LCM state is LCM_INIT"], after[runningBefore.Length..]);
        Assert.Equal(doneBefore, Lines(fe, done));
        Assert.Empty(fe.LoggedErrors);
    }
}

public sealed class VmLogTests_Sqlite(SqliteFrontend fixture) : VmLogTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class VmLogTests_Postgres(PostgresFrontend fixture) : VmLogTests(fixture), IClassFixture<PostgresFrontend>;

/// <summary>The VM log's time stamps, as oned's (ctime).</summary>
public sealed class VmLogFormatTests
{
    [Fact]
    public void Timestamp_AsCtimePrintsIt_DayPaddedWithASpace()
    {
        Assert.Equal("Tue Nov  3 09:05:01 2026", EdgeCloud.Frontend.Monitoring.VmLog.Timestamp(new DateTimeOffset(2026, 11, 3, 9, 5, 1, TimeSpan.Zero)));
        Assert.Equal("Tue Nov 24 12:00:06 2026", EdgeCloud.Frontend.Monitoring.VmLog.Timestamp(new DateTimeOffset(2026, 11, 24, 12, 0, 6, TimeSpan.Zero)));
    }
}
