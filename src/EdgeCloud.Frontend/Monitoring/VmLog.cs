using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests.Auth;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Monitoring;

/// <summary>
/// One log per VM, <c>DATA/vms/VMID.log</c>, as oned's <c>/var/log/one/VMID.log</c>: a line for the VM's creation,
/// each new state and LCM state (OpenNebula's names), each host it is deployed on or migrated to, and each new
/// USER_TEMPLATE/ERROR (level E), in oned's format:
/// <code>Tue Nov 24 12:00:06 2026 [Z0][VM][E]: Error executing Deploy: ...</code>
/// The lines come from the committed change sets (so every server of a Raft cluster writes its own copy),
/// compared with the last state seen of each VM; the files are appended by a background writer, never on the
/// command bus's writer. At start-up and after a whole snapshot is installed the remembered states are seeded
/// from the state without writing, so a restart does not log again. A DONE VM's log stays.
/// </summary>
public sealed partial class VmLog : IStateObserver, IAsyncDisposable
{
    /// <summary>What the log compares: the last state of one VM it has seen.</summary>
    private sealed record Seen(VmState State, LcmState Lcm, string Error, int HistorySeq, int HostId, string HostName);

    private readonly string _dir;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Seen> _seen = [];
    private readonly Channel<(int VmId, string Line)> _lines = Channel.CreateUnbounded<(int, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private long _version = -1;

    /// <param name="directory">Where the VMID.log files go (DATA/vms); created on the first line.</param>
    public VmLog(string directory, TimeProvider time, ILogger<VmLog> logger)
    {
        _dir = directory;
        _time = time;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The file of a VM's log.</summary>
    public string PathOf(int vmId) => Path.Combine(_dir, vmId.ToString(CultureInfo.InvariantCulture) + ".log");

    /// <summary>
    /// Subscribes to <paramref name="bus"/> and remembers the state of its current snapshot without writing
    /// (a restart does not log again what the previous run logged).
    /// </summary>
    public void Attach(CommandBus bus)
    {
        lock (_lock)
        {
            // Subscribed first, then seeded, both under the lock: a batch committed in between waits for the
            // seed and is then skipped as already seen (its version is not newer).
            bus.Subscribe(this);
            Seed(bus.Current);
        }
    }

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        lock (_lock)
        {
            if (changeSets.Count == 0)
            {
                // A whole snapshot installed (Raft): what happened in between is not known line by line.
                if (events.Count == 0) Seed(snapshot);
                return;
            }
            if (snapshot.Version <= _version) return;
            _version = snapshot.Version;
            string? now = null;
            foreach (var cs in changeSets)
            {
                foreach (var change in cs.Changes)
                {
                    if (change.Type != ObjectType.Vm) continue;
                    if (change.Value is not Vm vm)
                    {
                        _seen.Remove(change.Id); // deleted from the pool: its log stays
                        continue;
                    }
                    now ??= Timestamp();
                    Compare(vm, now);
                }
            }
        }
    }

    private void Seed(StateSnapshot snapshot)
    {
        _seen.Clear();
        foreach (var vm in snapshot.All<Vm>(ObjectType.Vm))
            if (vm.State != VmState.DONE) _seen[vm.Id] = SeenOf(vm);
        _version = snapshot.Version;
    }

    private static Seen SeenOf(Vm vm) => new(vm.State, vm.LcmState, vm.UserTemplate.Get("ERROR") ?? "",
        vm.LastHistory?.Seq ?? -1, vm.LastHistory?.Hid ?? -1, vm.LastHistory?.Hostname ?? "");

    private void Compare(Vm vm, string now)
    {
        var next = SeenOf(vm);
        if (!_seen.TryGetValue(vm.Id, out var last))
        {
            // Not seen before: a new VM — or a DONE one forgotten at start-up, which has nothing more to say.
            if (vm.State == VmState.DONE) return;
            last = new Seen(VmState.INIT, LcmState.LCM_INIT, "", -1, -1, "");
        }
        if (next.Error.Length > 0 && next.Error != last.Error) Write(vm.Id, now, 'E', ErrorText(next.Error));
        if (next.HistorySeq != last.HistorySeq && next.HistorySeq >= 0)
        {
            // A new record of a migration (live or cold); else a deployment (first, after undeploy or stop, resched...).
            var migrating = last.HostId >= 0 && next.Lcm.ToString().Contains("MIGRATE", StringComparison.Ordinal);
            Write(vm.Id, now, 'I', migrating
                ? $"Migrating to host {next.HostName} ({next.HostId}) from host {last.HostName} ({last.HostId})"
                : $"Deploying on host {next.HostName} ({next.HostId})");
        }
        if (next.State != last.State) Write(vm.Id, now, 'I', $"New state is {next.State}");
        if (next.Lcm != last.Lcm) Write(vm.Id, now, 'I', $"New LCM state is {next.Lcm}");
        if (vm.State == VmState.DONE) _seen.Remove(vm.Id); // DONE is final: nothing more to compare
        else _seen[vm.Id] = next;
    }

    private void Write(int vmId, string now, char level, string message) =>
        _lines.Writer.TryWrite((vmId, $"{now} [Z{Authorizer.ZoneId.ToString(CultureInfo.InvariantCulture)}][VM][{level}]: {message}"));

    private string Timestamp() => Timestamp(_time.GetLocalNow());

    /// <summary>A time as oned writes it (ctime: the day of the month padded with a space, "Tue Nov  3 09:05:01 2026").</summary>
    public static string Timestamp(DateTimeOffset time) =>
        string.Create(CultureInfo.InvariantCulture, $"{time:ddd MMM} {time.Day,2} {time:HH:mm:ss yyyy}");

    /// <summary>USER_TEMPLATE/ERROR without the time it starts with (the line has its own), on one line.</summary>
    internal static string ErrorText(string error)
    {
        var text = ErrorTime().Replace(error, "", 1);
        return LineBreaks().Replace(text.Trim(), " ");
    }

    [GeneratedRegex(@"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}: ")]
    private static partial Regex ErrorTime();

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex LineBreaks();

    private async Task WriteLoopAsync()
    {
        var reader = _lines.Reader;
        var batch = new List<(int VmId, string Line)>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 10_000 && reader.TryRead(out var line)) batch.Add(line);
            foreach (var vm in batch.GroupBy(l => l.VmId))
            {
                try
                {
                    Directory.CreateDirectory(_dir);
                    await File.AppendAllLinesAsync(PathOf(vm.Key), vm.Select(l => l.Line)).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    _logger.LogWarning("VM {VmId}: {Count} lines could not be written to its log {File}: {Reason}", vm.Key, vm.Count(), PathOf(vm.Key), ex.Message);
                }
            }
        }
    }

    /// <summary>Writes the lines still queued and stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        try { await _writer.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); }
        catch (TimeoutException) { _logger.LogWarning("The VM log writer did not finish in 10 s; lines may be missing"); }
    }
}
