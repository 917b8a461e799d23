using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Store;

/// <summary>
/// What both backends share: the keys of the meta table, the indexed columns derived from an
/// object, and the net effect of a batch. Keeping them here keeps the two schemas' meaning equal.
/// </summary>
internal static class StoreRows
{
    /// <summary>meta key of the state version (the CommandBus's snapshot version after the last batch).</summary>
    public const string VersionKey = "version";

    /// <summary>meta key of the schema version (number of migration steps applied).</summary>
    public const string SchemaVersionKey = "schema_version";

    /// <summary>
    /// Owner and group for the uid/gid columns: they exist so that later SQL (reports, a
    /// "what does user 7 own" query) needs no JSON; objects without an owner get -1.
    /// </summary>
    public static (int Uid, int Gid) Owner(PoolObject value) =>
        value is OwnedObject owned ? (owned.Uid, owned.Gid) : (-1, -1);

    /// <summary>
    /// The highest value per sequence in the batch: sequences only move forward, so the batch's
    /// effect on each is its maximum (the SQL upsert keeps the maximum with the stored value too).
    /// </summary>
    public static Dictionary<ObjectType, int> MaxSequences(IReadOnlyList<ChangeSet> batch)
    {
        var result = new Dictionary<ObjectType, int>();
        foreach (var cs in batch)
            foreach (var (type, last) in cs.Sequences)
                result[type] = result.TryGetValue(type, out var seen) ? Math.Max(seen, last) : last;
        return result;
    }

    /// <summary>
    /// The net effect of the batch per (type, id): the last change of each object wins. Applying
    /// this is the same as applying every change in order (a write then a delete leaves nothing,
    /// a delete then a write leaves the write), and it lets a backend send each row once.
    /// </summary>
    public static Dictionary<(ObjectType Type, int Id), PoolObject?> NetChanges(IReadOnlyList<ChangeSet> batch)
    {
        var result = new Dictionary<(ObjectType, int), PoolObject?>();
        foreach (var cs in batch)
            foreach (var change in cs.Changes)
                result[(change.Type, change.Id)] = change.Value;
        return result;
    }

    /// <summary>Wraps a body that no longer deserializes with where it is, so the operator can find it.</summary>
    public static PoolObject Decode(ObjectType type, int id, ReadOnlySpan<byte> utf8)
    {
        try
        {
            return ObjectCodec.Deserialize(type, utf8);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"Stored {type} {id} does not deserialize: {ex.Message}", ex);
        }
    }

    /// <inheritdoc cref="Decode(ObjectType, int, ReadOnlySpan{byte})"/>
    public static PoolObject Decode(ObjectType type, int id, string json)
    {
        try
        {
            return ObjectCodec.Deserialize(type, json);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"Stored {type} {id} does not deserialize: {ex.Message}", ex);
        }
    }

    /// <summary>The exception for a database whose schema is newer than this build: never guess at a newer format.</summary>
    public static InvalidOperationException TooNew(string backend, string where, int found, int known) =>
        new($"The {backend} state database {where} has schema version {found}, but this build of EdgeCloud knows " +
            $"schema versions up to {known}. Upgrade EdgeCloud (or point it at a database written by this version); " +
            "the database was not changed.");
}
