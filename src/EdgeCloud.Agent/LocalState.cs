using System.Collections.Concurrent;
using System.Text.Json;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Agent;

/// <summary>What the front-end last asked of a VM on this host.</summary>
public enum DesiredState { Running, Stopped }

/// <summary>A VM the agent is responsible for: its spec (paths resolved on this host) and desired state.</summary>
public sealed record LocalVm(VmSpec Spec, DesiredState Desired, long ChangedAt);

/// <summary>
/// The agent's own durable state, so a restart loses nothing and the host can act alone while the
/// front-end is away: DATA/vms/&lt;id&gt;.json (spec and desired state per VM) and DATA/journal (the result
/// of every command by id: a repeated command is answered from here; unacknowledged results are sent
/// again after a reconnect). Files are written to a temporary name and renamed (atomic on POSIX).
/// </summary>
public sealed class LocalState
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int JournalKeep = 2000;

    private readonly string _vms;
    private readonly string _journal;
    private readonly ConcurrentDictionary<int, LocalVm> _byId = new();
    private readonly ConcurrentDictionary<string, JournalEntry> _results = new(StringComparer.Ordinal);

    public sealed record JournalEntry(CommandResultData Result, bool Acked, long At);

    /// <summary>A command's result as stored (the protobuf message is not JSON-friendly).</summary>
    public sealed record CommandResultData(string CommandId, bool Success, string Message, string DeployId, string Data = "")
    {
        public CommandResult ToMessage() => new() { CommandId = CommandId, Success = Success, Message = Message, DeployId = DeployId, DataJson = Data ?? "" };
    }

    public LocalState(string dataDir)
    {
        DataDir = Path.GetFullPath(dataDir);
        _vms = Path.Combine(DataDir, "vms");
        _journal = Path.Combine(DataDir, "journal");
        Directory.CreateDirectory(_vms);
        Directory.CreateDirectory(_journal);
        foreach (var f in Directory.EnumerateFiles(_vms, "*.json"))
            if (Read<LocalVm>(f) is { } vm) _byId[vm.Spec.VmId] = vm;
        foreach (var f in Directory.EnumerateFiles(_journal, "*.json"))
            if (Read<JournalEntry>(f) is { } e) _results[e.Result.CommandId] = e;
    }

    public string DataDir { get; }

    public IReadOnlyCollection<LocalVm> Vms => _byId.Values.ToList();

    public LocalVm? Vm(int id) => _byId.TryGetValue(id, out var v) ? v : null;

    public void PutVm(LocalVm vm)
    {
        Write(Path.Combine(_vms, $"{vm.Spec.VmId}.json"), vm);
        _byId[vm.Spec.VmId] = vm;
    }

    public void RemoveVm(int id)
    {
        File.Delete(Path.Combine(_vms, $"{id}.json"));
        _byId.TryRemove(id, out _);
    }

    public JournalEntry? Result(string commandId) => _results.TryGetValue(commandId, out var e) ? e : null;

    /// <summary>Results the front-end has not acknowledged yet (sent again on every connect).</summary>
    public IReadOnlyList<CommandResultData> Unacked => _results.Values.Where(e => !e.Acked).OrderBy(e => e.At).Select(e => e.Result).ToList();

    public void Record(CommandResultData result)
    {
        var e = new JournalEntry(result, false, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Write(JournalPath(result.CommandId), e);
        _results[result.CommandId] = e;
        Prune();
    }

    public void Ack(string commandId)
    {
        if (!_results.TryGetValue(commandId, out var e) || e.Acked) return;
        var acked = e with { Acked = true };
        Write(JournalPath(commandId), acked);
        _results[commandId] = acked;
    }

    private void Prune()
    {
        if (_results.Count <= JournalKeep) return;
        foreach (var e in _results.Values.Where(e => e.Acked).OrderBy(e => e.At).Take(_results.Count - JournalKeep).ToList())
        {
            File.Delete(JournalPath(e.Result.CommandId));
            _results.TryRemove(e.Result.CommandId, out _);
        }
    }

    private string JournalPath(string commandId) =>
        Path.Combine(_journal, string.Concat(commandId.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')) + ".json");

    private static T? Read<T>(string path)
    {
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json); }
        catch (JsonException) { return default; } // a torn file from a crash mid-write of the temp name never lands here; be safe anyway
    }

    private static void Write<T>(string path, T value)
    {
        var tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(f, value, Json);
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
