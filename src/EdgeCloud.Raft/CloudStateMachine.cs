using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Raft;

/// <summary>What a local proposal learns once its entry is applied: accepted, or refused as decided on a stale state.</summary>
internal sealed class PendingEntry
{
    public TaskCompletionSource<bool> Applied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The replicated state machine of one front-end. Every committed entry is applied here, in log order, on
/// every server (the leader included): to the in-memory state (published to the <see cref="CommandBus"/>)
/// and to the node's own <see cref="IStateStore"/>. An entry applies only on the state version it was
/// decided on — a batch a deposed leader decided on a stale state is skipped identically everywhere — so
/// no change is applied twice or out of order. Every <c>snapshotEvery</c> entries the whole state is written
/// as a snapshot; the log before it is then compacted, and a follower that fell behind is sent the snapshot.
/// </summary>
#pragma warning disable DOTNEXT001 // SimpleStateMachine is marked experimental by its library
internal sealed class CloudStateMachine(DirectoryInfo location, IStateStore store, long storeVersion, long snapshotEvery, ILogger logger)
    : SimpleStateMachine(location)
#pragma warning restore DOTNEXT001
{
    private long _storeVersion = storeVersion;
    private long _sinceSnapshot;
    private volatile StateSnapshot _applied = StateSnapshot.Empty;
    private volatile ZoneSecrets? _secrets;

    /// <summary>The state after the last applied entry.</summary>
    public StateSnapshot Applied => _applied;

    /// <summary>oneadmin's password as the bootstrap entry replicated it (null before the cloud is bootstrapped).</summary>
    public string? Secret => _secrets?.Password;

    /// <summary>The zone's replicated secrets (oneadmin's password, the agents' CA), null before any was replicated.</summary>
    public ZoneSecrets? Secrets => _secrets;

    public bool HasSnapshot { get; private set; }

    private readonly Lock _busLock = new();
    private CommandBus? _bus;

    /// <summary>From now on applied states are published to <paramref name="bus"/>; it gets the state applied so far at once.</summary>
    public void AttachBus(CommandBus bus)
    {
        StateSnapshot applied;
        lock (_busLock)
        {
            _bus = bus;
            applied = _applied;
        }
        bus.PublishCommitted(applied, []);
    }

    /// <summary>Sets the applied state and returns the bus to publish it to (both under one lock, so attaching misses nothing).</summary>
    private CommandBus? SetApplied(StateSnapshot state)
    {
        lock (_busLock)
        {
            _applied = state;
            return _bus;
        }
    }

    /// <summary>Raised when the replicated secrets become known or change (bootstrap entry, secrets entry or snapshot).</summary>
    public event Action<ZoneSecrets>? SecretKnown;

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var (state, secret) = RaftCodec.ReadSnapshot(snapshotFile.FullName);
        HasSnapshot = true;
        if (_storeVersion < state.Version)
        {
            await store.ReplaceAllAsync(new StoredState([.. state.AllObjects()], state.Sequences(), state.Version), token).ConfigureAwait(false);
            _storeVersion = state.Version;
        }
        _sinceSnapshot = 0;
        SetApplied(state)?.PublishCommitted(state, []);
        logger.LogInformation("Raft snapshot {File} installed (state version {Version})", snapshotFile.Name, state.Version);
        if (secret is not null) SetSecret(secret);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        RaftCodec.WriteSnapshotAsync(_applied, _secrets?.Encode(), (m, ct) => writer.Invoke(m, ct), token);

    protected override async ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        var pending = entry.Context as PendingEntry;
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload))
        {
            pending?.Applied.TrySetResult(true);
            return Count();
        }
        ReplicatedBatch? batch;
        try
        {
            batch = RaftCodec.Decode(payload);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or System.Text.Json.JsonException)
        {
            // Every replica skips the same unreadable entry; it cannot be half applied.
            logger.LogError(ex, "Replicated entry {Index} is unreadable and was skipped", entry.Index);
            pending?.Applied.TrySetResult(false);
            return Count();
        }
        if (batch is null)
        {
            pending?.Applied.TrySetResult(true);
            return Count();
        }
        if (batch.ChangeSets.Count == 0)
        {
            // A secrets-only entry (the zone's agent CA): it changes no object, so it applies on any state version.
            if (batch.Secret is not null) SetSecret(batch.Secret);
            pending?.Applied.TrySetResult(true);
            return Count();
        }
        var current = _applied;
        if (batch.BaseVersion != current.Version)
        {
            logger.LogDebug("Entry {Index} was decided on state version {Base}, the state is at {Version}: skipped", entry.Index, batch.BaseVersion, current.Version);
            pending?.Applied.TrySetResult(false);
            return Count();
        }
        var next = current;
        foreach (var cs in batch.ChangeSets) next = next.Apply(cs);
        // The entry is durable in the Raft log (flushed on commit): the state is published and the proposer
        // answered before the store copy is written, so the store's write overlaps the next entry's replication.
        // A crash before the store write is repaired on restart: the log replays what the store lacks.
        SetApplied(next)?.PublishCommitted(next, batch.ChangeSets, notify: pending is null); // the proposing leader's bus notifies with the domain events
        if (batch.Secret is not null) SetSecret(batch.Secret);
        pending?.Applied.TrySetResult(true);
        if (_storeVersion < next.Version)
        {
            await store.CommitAsync(batch.ChangeSets, next.Version, token).ConfigureAwait(false);
            _storeVersion = next.Version;
        }
        return Count();
    }

    private bool Count()
    {
        if (++_sinceSnapshot < snapshotEvery) return false;
        _sinceSnapshot = 0;
        return true;
    }

    private void SetSecret(string encoded)
    {
        ZoneSecrets secrets;
        try { secrets = ZoneSecrets.Decode(encoded); }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException)
        {
            logger.LogError("The replicated zone secrets are unreadable and were ignored: {Reason}", ex.Message);
            return;
        }
        _secrets = secrets;
        try { SecretKnown?.Invoke(secrets); }
        catch (Exception ex) { logger.LogError(ex, "Could not write the replicated oneadmin credentials"); }
    }
}
