using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.State;

/// <summary>
/// What a command's decide function sees and writes: reads go through its own pending writes to the
/// snapshot it started from; writes are collected into one <see cref="ChangeSet"/>. Nothing is
/// applied until the decide function returns without throwing.
/// </summary>
public sealed class StateTransaction(StateSnapshot snapshot, long now)
{
    private readonly Dictionary<(ObjectType, int), PoolObject?> _writes = [];
    private readonly List<Change> _changes = [];
    private readonly Dictionary<ObjectType, int> _sequences = [];
    private readonly List<Action> _afterCommit = [];
    private readonly List<object> _events = [];

    public StateSnapshot Snapshot { get; } = snapshot;

    /// <summary>The command's clock (epoch seconds), fixed for the whole command.</summary>
    public long Now { get; } = now;

    public PoolObject? Get(ObjectType type, int id) =>
        _writes.TryGetValue((type, id), out var w) ? w : Snapshot.Get(type, id);

    public T? Get<T>(ObjectType type, int id) where T : PoolObject => Get(type, id) as T;

    /// <summary>All objects of a type as this transaction sees them, in id order.</summary>
    public IEnumerable<T> All<T>(ObjectType type) where T : PoolObject
    {
        var mine = _writes.Where(kv => kv.Key.Item1 == type).ToDictionary(kv => kv.Key.Item2, kv => kv.Value);
        if (mine.Count == 0)
        {
            foreach (var o in Snapshot.All<T>(type)) yield return o;
            yield break;
        }
        var ids = Snapshot.Pool(type).Keys.Concat(mine.Keys).Distinct().Order();
        foreach (var id in ids)
        {
            var o = mine.TryGetValue(id, out var w) ? w : Snapshot.Get(type, id);
            if (o is not null) yield return (T)o;
        }
    }

    public void Put(PoolObject value)
    {
        _writes[(value.Type, value.Id)] = value;
        _changes.Add(new Change(value.Type, value.Id, value));
    }

    public void Delete(ObjectType type, int id)
    {
        _writes[(type, id)] = null;
        _changes.Add(new Change(type, id, null));
    }

    /// <summary>Hands out the next id of the type; ids are never reused, even after a delete.</summary>
    public int NextId(ObjectType type, int minimum = 0)
    {
        var last = _sequences.TryGetValue(type, out var s) ? s : Snapshot.LastId(type);
        var next = Math.Max(last + 1, minimum);
        _sequences[type] = next;
        return next;
    }

    /// <summary>Work to do once the change is durable (driver calls); runs only where the command was decided.</summary>
    public void AfterCommit(Action action) => _afterCommit.Add(action);

    /// <summary>A domain event delivered to observers after the commit.</summary>
    public void Raise(object domainEvent) => _events.Add(domainEvent);

    public bool HasWrites => _changes.Count > 0 || _sequences.Count > 0;

    public ChangeSet ToChangeSet()
    {
        // Collapse repeated writes of the same object to the last one, keeping first-write order.
        var last = new Dictionary<(ObjectType, int), int>();
        for (var i = 0; i < _changes.Count; i++) last[(_changes[i].Type, _changes[i].Id)] = i;
        var changes = _changes.Where((c, i) => last[(c.Type, c.Id)] == i).ToList();
        return new ChangeSet(changes, new Dictionary<ObjectType, int>(_sequences));
    }

    internal IReadOnlyList<Action> AfterCommitActions => _afterCommit;

    internal IReadOnlyList<object> Events => _events;
}
