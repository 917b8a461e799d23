using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.State;

/// <summary>What a store holds at start-up: every object and the id sequences.</summary>
public sealed record StoredState(IReadOnlyList<PoolObject> Objects, IReadOnlyDictionary<ObjectType, int> Sequences, long Version);

/// <summary>
/// Durable storage of the state (SQLite by default, PostgreSQL for large clouds). The store is a
/// state machine's persistence: it only ever applies change sets, in order, each batch in one
/// transaction, and says the batch is durable when <see cref="CommitAsync"/> returns.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<StoredState> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Applies the change sets in order in one transaction; durable on return.</summary>
    /// <param name="batch">Change sets in commit order.</param>
    /// <param name="version">The state version after the batch (monotonic).</param>
    /// <param name="cancellationToken">Cancels before the transaction commits.</param>
    Task CommitAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken);

    /// <summary>Replaces everything with the given state (installing a replicated snapshot).</summary>
    Task ReplaceAllAsync(StoredState state, CancellationToken cancellationToken);

    /// <summary>Human name of the backend for logs and one.system.config ("sqlite", "postgresql").</summary>
    string Backend { get; }
}
