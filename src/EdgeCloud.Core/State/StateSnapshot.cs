using System.Collections.Immutable;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.State;

/// <summary>
/// An immutable, consistent view of every pool at one version. Readers (API, scheduler, monitor)
/// take the current snapshot and never lock; the single writer makes a new snapshot per applied
/// change set and publishes it atomically.
/// </summary>
public sealed class StateSnapshot
{
    private const int TypeSlots = 32;
    private readonly ImmutableSortedDictionary<int, PoolObject>[] _pools;
    private readonly int[] _sequences;

    public static readonly StateSnapshot Empty = new(
        Enumerable.Repeat(ImmutableSortedDictionary<int, PoolObject>.Empty, TypeSlots).ToArray(),
        Enumerable.Repeat(-1, TypeSlots).ToArray(), 0);

    private StateSnapshot(ImmutableSortedDictionary<int, PoolObject>[] pools, int[] sequences, long version)
    {
        _pools = pools;
        _sequences = sequences;
        Version = version;
    }

    /// <summary>Number of change sets applied since the empty state.</summary>
    public long Version { get; }

    public ImmutableSortedDictionary<int, PoolObject> Pool(ObjectType type) => _pools[(int)type];

    /// <summary>Objects of the type in id order.</summary>
    public IEnumerable<T> All<T>(ObjectType type) where T : PoolObject
    {
        foreach (var kv in _pools[(int)type]) yield return (T)kv.Value;
    }

    public int Count(ObjectType type) => _pools[(int)type].Count;

    public PoolObject? Get(ObjectType type, int id) => _pools[(int)type].TryGetValue(id, out var o) ? o : null;

    public T? Get<T>(ObjectType type, int id) where T : PoolObject => Get(type, id) as T;

    /// <summary>The highest id ever handed out for the type (-1 if none); ids are never reused.</summary>
    public int LastId(ObjectType type) => _sequences[(int)type];

    public StateSnapshot Apply(ChangeSet changeSet)
    {
        if (changeSet.IsEmpty) return this;
        var pools = (ImmutableSortedDictionary<int, PoolObject>[])_pools.Clone();
        var seqs = (int[])_sequences.Clone();
        foreach (var group in changeSet.Changes.GroupBy(c => c.Type))
        {
            var b = pools[(int)group.Key].ToBuilder();
            foreach (var c in group)
            {
                if (c.Value is null) b.Remove(c.Id);
                else b[c.Id] = c.Value;
            }
            pools[(int)group.Key] = b.ToImmutable();
        }
        foreach (var (type, last) in changeSet.Sequences)
            seqs[(int)type] = Math.Max(seqs[(int)type], last);
        return new StateSnapshot(pools, seqs, Version + 1);
    }

    /// <summary>Builds a snapshot from stored objects (start-up, snapshot install).</summary>
    public static StateSnapshot Load(IEnumerable<PoolObject> objects, IReadOnlyDictionary<ObjectType, int> sequences, long version)
    {
        var builders = Enumerable.Range(0, TypeSlots).Select(_ => ImmutableSortedDictionary.CreateBuilder<int, PoolObject>()).ToArray();
        foreach (var o in objects) builders[(int)o.Type][o.Id] = o;
        var seqs = Enumerable.Repeat(-1, TypeSlots).ToArray();
        foreach (var (t, v) in sequences) seqs[(int)t] = v;
        return new StateSnapshot(builders.Select(b => b.ToImmutable()).ToArray(), seqs, version);
    }

    public IEnumerable<PoolObject> AllObjects() => _pools.SelectMany(p => p.Values);

    public IReadOnlyDictionary<ObjectType, int> Sequences() =>
        Enum.GetValues<ObjectType>().Where(t => _sequences[(int)t] >= 0).ToDictionary(t => t, t => _sequences[(int)t]);
}
