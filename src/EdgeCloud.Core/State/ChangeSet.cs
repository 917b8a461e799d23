using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.State;

/// <summary>One object written (Value) or deleted (Value null).</summary>
public sealed record Change(ObjectType Type, int Id, PoolObject? Value);

/// <summary>
/// The result of one command, decided before it is applied: the objects it writes or deletes and
/// the id sequences it advanced. Applying a change set is deterministic, so the same list of
/// change sets applied in the same order gives the same state anywhere (the store on restart,
/// a replica fed by a replicated log).
/// </summary>
public sealed record ChangeSet(IReadOnlyList<Change> Changes, IReadOnlyDictionary<ObjectType, int> Sequences)
{
    public static readonly ChangeSet Empty = new([], new Dictionary<ObjectType, int>());

    public bool IsEmpty => Changes.Count == 0 && Sequences.Count == 0;
}
