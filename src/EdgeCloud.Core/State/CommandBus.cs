using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Core.State;

/// <summary>
/// The single path every change of state takes. A command is a decide function that reads a
/// <see cref="StateTransaction"/> and writes into it; decide functions run one at a time on one
/// writer, so each sees every earlier command's result. The writer groups the change sets of the
/// commands waiting into one durable batch (<see cref="IChangeLog"/>), then publishes the new
/// snapshot, completes the callers, and runs after-commit work. A command that throws changes
/// nothing. A replicated log (Raft) plugs in as the <see cref="IChangeLog"/>.
/// </summary>
public sealed class CommandBus : IAsyncDisposable
{
    private readonly Channel<ICommandItem> _queue = Channel.CreateUnbounded<ICommandItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IChangeLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<IStateObserver> _observers = [];
    private readonly Task _writer;
    private readonly CancellationTokenSource _stop = new();
    private volatile StateSnapshot _published;
    private readonly Lock _publishLock = new();

    /// <summary>Upper bound of commands in one durable batch.</summary>
    public int MaxBatch { get; init; } = 512;

    public CommandBus(StateSnapshot initial, IChangeLog log, TimeProvider time, ILogger<CommandBus> logger)
    {
        _published = initial;
        _log = log;
        _time = time;
        _logger = logger;
        _writer = Task.Run(WriterLoopAsync);
    }

    /// <summary>The latest committed state. Lock-free; consistent across pools.</summary>
    public StateSnapshot Current => _published;

    public void Subscribe(IStateObserver observer)
    {
        lock (_observers) _observers.Add(observer);
    }

    /// <summary>Runs <paramref name="decide"/> on the writer and returns its result once its changes are durable.</summary>
    /// <exception cref="CloudException">The command was refused; nothing changed.</exception>
    public Task<T> ExecuteAsync<T>(Func<StateTransaction, T> decide, CancellationToken cancellationToken = default)
    {
        var item = new CommandItem<T>(decide);
        if (!_queue.Writer.TryWrite(item))
            return Task.FromException<T>(CloudException.Internal("The front-end is shutting down."));
        return cancellationToken.CanBeCanceled ? item.Completion.Task.WaitAsync(cancellationToken) : item.Completion.Task;
    }

    public Task ExecuteAsync(Action<StateTransaction> decide, CancellationToken cancellationToken = default) =>
        ExecuteAsync<bool>(tx => { decide(tx); return true; }, cancellationToken);

    private async Task WriterLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<(ICommandItem Item, StateTransaction? Tx, Exception? Error, object? Result)>();
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                batch.Clear();
                // A replicated log may first have to catch up (a new leader applies everything committed before it decides).
                await _log.WaitReadyAsync(_stop.Token).ConfigureAwait(false);
                var working = _published;
                var changeSets = new List<ChangeSet>();
                var now = _time.GetUtcNow().ToUnixTimeSeconds();
                var lingered = false;
                while (batch.Count < MaxBatch && (reader.TryRead(out var item) || (!lingered && Linger(reader, out item, ref lingered))))
                {
                    var tx = new StateTransaction(working, now);
                    try
                    {
                        var result = item.Decide(tx);
                        if (tx.HasWrites)
                        {
                            var cs = tx.ToChangeSet();
                            working = working.Apply(cs);
                            changeSets.Add(cs);
                        }
                        batch.Add((item, tx, null, result));
                    }
                    catch (Exception ex)
                    {
                        batch.Add((item, null, ex, null));
                    }
                }

                if (changeSets.Count > 0)
                {
                    try
                    {
                        await _log.AppendAsync(changeSets, working.Version, _stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        _logger.LogError(ex, "Commit of {Count} change sets failed; the batch is rolled back", changeSets.Count);
                        // Every command of the batch fails, read-only ones too: they may have seen an earlier
                        // command's result that is now rolled back.
                        var fault = ex as CloudException ?? CloudException.Internal("Could not store the change: " + ex.Message);
                        foreach (var b in batch) b.Item.Fail(b.Error ?? fault);
                        continue;
                    }
                    PublishIfNewer(working);
                }

                foreach (var b in batch)
                {
                    if (b.Error is not null) { b.Item.Fail(b.Error); continue; }
                    b.Item.Complete(b.Result);
                }
                Notify(changeSets, working, batch.Where(b => b.Tx is not null).SelectMany(b => b.Tx!.Events).ToList());
                foreach (var b in batch)
                {
                    if (b.Tx is null) continue;
                    foreach (var action in b.Tx.AfterCommitActions)
                    {
                        try { action(); }
                        catch (Exception ex) { _logger.LogError(ex, "After-commit action failed"); }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var left)) left.Fail(CloudException.Internal("The front-end is shutting down."));
    }

    /// <summary>
    /// Group commit: before paying for a durable write, wait a few tens of microseconds for commands that
    /// are already on their way (clients whose previous call was answered a moment ago), so they share
    /// the write instead of queuing behind it. Spins instead of sleeping: timers are far coarser than
    /// this, and the wait is much shorter than the write it saves.
    /// </summary>
    private bool Linger(ChannelReader<ICommandItem> reader, out ICommandItem item, ref bool lingered)
    {
        lingered = true;
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(start) < LingerTime)
        {
            if (reader.TryRead(out item!))
            {
                lingered = false; // keep gathering while commands keep coming
                return true;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        item = null!;
        return false;
    }

    /// <summary>
    /// Publishes a state decided elsewhere: the change sets a replicated log committed (on a follower, or
    /// entries of an earlier leader), or a whole installed snapshot (<paramref name="changeSets"/> empty).
    /// Observers are told of the change sets (without domain events: those stay where the command ran), or
    /// of the whole snapshot (no change sets) so they can re-read what they remember.
    /// The published state only moves forward: an older state is ignored (a whole snapshot of the same version replaces).
    /// </summary>
    public void PublishCommitted(StateSnapshot snapshot, IReadOnlyList<ChangeSet> changeSets, bool notify = true)
    {
        if (!PublishIfNewer(snapshot, replace: changeSets.Count == 0)) return;
        if (notify) Notify(changeSets as List<ChangeSet> ?? [.. changeSets], snapshot, [], wholeSnapshot: changeSets.Count == 0);
    }

    private bool PublishIfNewer(StateSnapshot snapshot, bool replace = false)
    {
        lock (_publishLock)
        {
            if (replace ? snapshot.Version < _published.Version : snapshot.Version <= _published.Version) return false;
            _published = snapshot;
            return true;
        }
    }

    /// <summary>How long the writer waits for more commands before a durable write (0 turns group commit off).</summary>
    public TimeSpan LingerTime { get; init; } = TimeSpan.FromMicroseconds(100);

    private void Notify(List<ChangeSet> changeSets, StateSnapshot snapshot, List<object> events, bool wholeSnapshot = false)
    {
        if (changeSets.Count == 0 && events.Count == 0 && !wholeSnapshot) return;
        IStateObserver[] observers;
        lock (_observers) observers = [.. _observers];
        foreach (var o in observers)
        {
            try { o.OnCommitted(changeSets, events, snapshot); }
            catch (Exception ex) { _logger.LogError(ex, "State observer {Observer} failed", o.GetType().Name); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _writer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    private interface ICommandItem
    {
        object? Decide(StateTransaction tx);
        void Complete(object? result);
        void Fail(Exception error);
    }

    private sealed class CommandItem<T>(Func<StateTransaction, T> decide) : ICommandItem
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public object? Decide(StateTransaction tx) => decide(tx);
        public void Complete(object? result) => Completion.TrySetResult((T)result!);
        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}

/// <summary>Where committed change sets go before they count: the store, or a replicated log in front of it.</summary>
public interface IChangeLog
{
    /// <summary>Makes the batch durable (and, replicated, agreed) before returning.</summary>
    Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken);

    /// <summary>
    /// Called by the writer before it decides the next batch: a replicated log makes a new leader wait
    /// here until it has applied every committed entry. The store is always ready.
    /// </summary>
    ValueTask WaitReadyAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// Told after each committed batch, on the writer: keep it short (queue work elsewhere). Also told, with no
/// change sets and no events, when a whole state was installed (a Raft snapshot, or the state a Raft server
/// applied before its bus was attached): an observer that remembers objects re-reads them from the snapshot.
/// </summary>
public interface IStateObserver
{
    void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot);
}

/// <summary>The single-front-end change log: the store itself.</summary>
public sealed class StoreChangeLog(IStateStore store) : IChangeLog
{
    public Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken) =>
        store.CommitAsync(batch, version, cancellationToken);
}
