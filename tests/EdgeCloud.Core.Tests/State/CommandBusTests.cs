using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Core.Tests.State;

/// <summary>
/// The contract of the single write path: a refused command changes nothing, a failed durable write
/// rolls back its whole batch, callers are answered only after the write, and after-commit work and
/// observers run only for what was made durable.
/// </summary>
public sealed class CommandBusTests : IAsyncDisposable
{
    private readonly RecordingLog _log = new();
    private readonly CommandBus _bus;

    public CommandBusTests() => _bus = new CommandBus(StateSnapshot.Empty, _log, TimeProvider.System, NullLogger<CommandBus>.Instance);

    public async ValueTask DisposeAsync() => await _bus.DisposeAsync();

    private static Cluster Cluster(int id, string name) => new() { Id = id, Name = name };

    [Fact]
    public async Task Execute_Command_ResultReturnedAfterTheWriteAndStatePublished()
    {
        var id = await _bus.ExecuteAsync(tx =>
        {
            var n = tx.NextId(ObjectType.Cluster);
            tx.Put(Cluster(n, "edge"));
            return n;
        });

        Assert.Equal(0, id);
        Assert.Equal("edge", _bus.Current.Get<Cluster>(ObjectType.Cluster, 0)!.Name);
        Assert.Equal(0, _bus.Current.LastId(ObjectType.Cluster));
        var written = Assert.Single(_log.Batches.SelectMany(b => b));
        Assert.Equal(ObjectType.Cluster, Assert.Single(written.Changes).Type);
    }

    [Fact]
    public async Task Execute_CommandThrows_NothingChangesAndTheErrorReachesTheCaller()
    {
        await _bus.ExecuteAsync(tx => tx.Put(Cluster(1, "before")));
        var version = _bus.Current.Version;

        var ex = await Assert.ThrowsAsync<CloudException>(() => _bus.ExecuteAsync<int>(tx =>
        {
            tx.Put(Cluster(1, "half-done"));
            tx.NextId(ObjectType.Cluster);
            throw CloudException.Action("refused");
        }));

        Assert.Equal(ErrorCode.Action, ex.Code);
        Assert.Equal("before", _bus.Current.Get<Cluster>(ObjectType.Cluster, 1)!.Name);
        Assert.Equal(version, _bus.Current.Version);
        Assert.Equal(-1, _bus.Current.LastId(ObjectType.Cluster)); // the id handed out inside the refused command is not taken
    }

    [Fact]
    public async Task Execute_DurableWriteFails_WholeBatchRolledBackAndEveryWriterFails()
    {
        await _bus.ExecuteAsync(tx => tx.Put(Cluster(1, "kept")));
        _log.FailNext = true;
        var afterCommit = 0;

        var write = _bus.ExecuteAsync(tx => { tx.Put(Cluster(1, "lost")); tx.AfterCommit(() => afterCommit++); });
        var ex = await Assert.ThrowsAsync<CloudException>(() => write);

        Assert.Equal(ErrorCode.Internal, ex.Code);
        Assert.Contains("disk full", ex.Message, StringComparison.Ordinal);
        Assert.Equal("kept", _bus.Current.Get<Cluster>(ObjectType.Cluster, 1)!.Name);
        Assert.Equal(0, afterCommit);
        // The bus keeps serving after the failure.
        await _bus.ExecuteAsync(tx => tx.Put(Cluster(1, "next")));
        Assert.Equal("next", _bus.Current.Get<Cluster>(ObjectType.Cluster, 1)!.Name);
    }

    [Fact]
    public async Task Execute_ReaderBatchedAfterAWriteThatFails_FailsToo_NoRolledBackValueIsAnswered()
    {
        // Hold a first batch inside the durable write, so the next two commands queue into one batch.
        var gate = new TaskCompletionSource();
        _log.Gate = gate; // the log takes (and clears) it on the next write
        var first = _bus.ExecuteAsync(tx => tx.Put(Cluster(5, "first")));
        await _log.Entered.Task;
        var writer = _bus.ExecuteAsync(tx => tx.Put(Cluster(6, "never stored")));
        var reader = _bus.ExecuteAsync(tx => tx.Get<Cluster>(ObjectType.Cluster, 6)?.Name ?? "none");
        _log.FailAfter = 1; // the first batch is written, the second fails
        gate.SetResult();

        await first;
        await Assert.ThrowsAsync<CloudException>(() => writer);
        await Assert.ThrowsAsync<CloudException>(() => reader); // it saw "never stored": it must not be answered
        Assert.Null(_bus.Current.Get<Cluster>(ObjectType.Cluster, 6));
        Assert.Equal("none", await _bus.ExecuteAsync(tx => tx.Get<Cluster>(ObjectType.Cluster, 6)?.Name ?? "none"));
    }

    [Fact]
    public async Task Execute_ManyConcurrentCommands_EachSeesTheOnesBeforeIt()
    {
        await _bus.ExecuteAsync(tx => tx.Put(Cluster(0, "0")));
        var increments = Enumerable.Range(0, 500).Select(_ => _bus.ExecuteAsync(tx =>
        {
            var c = tx.Get<Cluster>(ObjectType.Cluster, 0)!;
            var next = (int.Parse(c.Name, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            tx.Put(c with { Name = next });
            return next;
        })).ToList();

        var results = await Task.WhenAll(increments);

        Assert.Equal("500", _bus.Current.Get<Cluster>(ObjectType.Cluster, 0)!.Name);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), results.Order());
        Assert.True(_log.Batches.Count < 500, "concurrent commands share durable writes");
    }

    [Fact]
    public async Task Observers_SeeCommittedChangesAndEvents_AfterCommitWorkRunsAfterTheWrite()
    {
        var seen = new List<object>();
        _bus.Subscribe(new Observer(seen));
        var writtenBeforeAfterCommit = -1;

        await _bus.ExecuteAsync(tx =>
        {
            tx.Put(Cluster(7, "c"));
            tx.Raise("cluster-7-added");
            tx.AfterCommit(() => writtenBeforeAfterCommit = _log.Batches.Count);
        });
        await WaitAsync(() => writtenBeforeAfterCommit >= 0);

        Assert.Equal(1, writtenBeforeAfterCommit);
        Assert.Contains("cluster-7-added", seen);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition() && DateTime.UtcNow < until) await Task.Delay(5);
        Assert.True(condition());
    }

    private sealed class Observer(List<object> seen) : IStateObserver
    {
        public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
        {
            lock (seen) seen.AddRange(events);
        }
    }

    /// <summary>An in-memory change log that can fail (the fault a real disk will not produce on demand) or hold a write.</summary>
    private sealed class RecordingLog : IChangeLog
    {
        public List<IReadOnlyList<ChangeSet>> Batches { get; } = [];
        public volatile bool FailNext;

        /// <summary>When ≥ 0: that many more batches are written, then the next one fails.</summary>
        public int FailAfter = -1;
        public TaskCompletionSource? Gate;
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            if (Gate is { } gate)
            {
                Gate = null;
                await gate.Task.WaitAsync(cancellationToken);
            }
            if (FailAfter == 0) FailNext = true;
            if (FailAfter >= 0) FailAfter--;
            if (FailNext)
            {
                FailNext = false;
                FailAfter = -1;
                throw new IOException("disk full");
            }
            lock (Batches) Batches.Add(batch);
        }
    }
}
