using System.Buffers;
using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Raft;

/// <summary>One replicated log entry: the change sets of one command-bus batch, decided on a state of <see cref="BaseVersion"/>.</summary>
/// <param name="BaseVersion">State version the leader decided the batch on; replicas apply it only on that same version.</param>
/// <param name="Secret">oneadmin's password, carried once by the entry that bootstraps the cloud (each server writes its one_auth from it).</param>
/// <param name="ChangeSets">The batch, in commit order.</param>
internal sealed record ReplicatedBatch(long BaseVersion, string? Secret, IReadOnlyList<ChangeSet> ChangeSets)
{
    /// <summary>Entry kinds (first payload byte).</summary>
    public const byte KindBarrier = 0, KindBatch = 1;
}

/// <summary>
/// Binary forms of log entries and state snapshots. Objects inside are <see cref="ObjectCodec"/> JSON, the
/// store's format. Little-endian, length-prefixed; nothing here depends on the machine.
/// </summary>
internal static class RaftCodec
{
    private static readonly byte[] SnapshotMagic = "ECSNAP1\n"u8.ToArray();

    public static byte[] EncodeBarrier() => [ReplicatedBatch.KindBarrier];

    public static byte[] EncodeBatch(ReplicatedBatch batch)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        w.Write(ReplicatedBatch.KindBatch);
        w.Write(batch.BaseVersion);
        WriteString(w, batch.Secret);
        w.Write(batch.ChangeSets.Count);
        foreach (var cs in batch.ChangeSets)
        {
            w.Write(cs.Changes.Count);
            foreach (var c in cs.Changes)
            {
                w.Write((int)c.Type);
                w.Write(c.Id);
                if (c.Value is null) w.Write(-1);
                else WriteBytes(w, ObjectCodec.SerializeUtf8(c.Value));
            }
            w.Write(cs.Sequences.Count);
            foreach (var (t, last) in cs.Sequences)
            {
                w.Write((int)t);
                w.Write(last);
            }
        }
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Decodes an entry payload: null for a barrier (or an empty no-op entry).</summary>
    public static ReplicatedBatch? Decode(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty) return null;
        var bytes = payload.IsSingleSegment ? payload.First : payload.ToArray();
        if (bytes.Span[0] == ReplicatedBatch.KindBarrier) return null;
        if (bytes.Span[0] != ReplicatedBatch.KindBatch) throw new InvalidDataException($"Unknown replicated entry kind {bytes.Span[0]}");
        using var ms = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        r.ReadByte();
        var baseVersion = r.ReadInt64();
        var secret = ReadString(r);
        var n = r.ReadInt32();
        var sets = new List<ChangeSet>(n);
        for (var i = 0; i < n; i++)
        {
            var changes = new Change[r.ReadInt32()];
            for (var j = 0; j < changes.Length; j++)
            {
                var type = (ObjectType)r.ReadInt32();
                var id = r.ReadInt32();
                var len = r.ReadInt32();
                changes[j] = new Change(type, id, len < 0 ? null : ObjectCodec.Deserialize(type, r.ReadBytes(len)));
            }
            var seqs = new Dictionary<ObjectType, int>();
            var ns = r.ReadInt32();
            for (var j = 0; j < ns; j++) seqs[(ObjectType)r.ReadInt32()] = r.ReadInt32();
            sets.Add(new ChangeSet(changes, seqs));
        }
        return new ReplicatedBatch(baseVersion, secret, sets);
    }

    /// <summary>Writes a whole state (the Raft snapshot), in chunks handed to <paramref name="sink"/>.</summary>
    public static async ValueTask WriteSnapshotAsync(StateSnapshot state, string? secret, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken ct)
    {
        const int Chunk = 1 << 20;
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        w.Write(SnapshotMagic);
        w.Write(state.Version);
        WriteString(w, secret);
        var seqs = state.Sequences();
        w.Write(seqs.Count);
        foreach (var (t, last) in seqs) { w.Write((int)t); w.Write(last); }
        foreach (var o in state.AllObjects())
        {
            w.Write((int)o.Type);
            WriteBytes(w, ObjectCodec.SerializeUtf8(o));
            if (ms.Length >= Chunk)
            {
                w.Flush();
                await sink(ms.GetBuffer().AsMemory(0, (int)ms.Length), ct).ConfigureAwait(false);
                ms.SetLength(0);
            }
        }
        w.Write(-1); // end of objects
        w.Flush();
        await sink(ms.GetBuffer().AsMemory(0, (int)ms.Length), ct).ConfigureAwait(false);
    }

    public static (StateSnapshot State, string? Secret) ReadSnapshot(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        var magic = r.ReadBytes(SnapshotMagic.Length);
        if (!magic.AsSpan().SequenceEqual(SnapshotMagic)) throw new InvalidDataException($"{path} is not an EdgeCloud state snapshot");
        var version = r.ReadInt64();
        var secret = ReadString(r);
        var seqs = new Dictionary<ObjectType, int>();
        var ns = r.ReadInt32();
        for (var i = 0; i < ns; i++) seqs[(ObjectType)r.ReadInt32()] = r.ReadInt32();
        var objects = new List<PoolObject>();
        while (true)
        {
            var type = r.ReadInt32();
            if (type < 0) break;
            var len = r.ReadInt32();
            objects.Add(ObjectCodec.Deserialize((ObjectType)type, r.ReadBytes(len)));
        }
        return (StateSnapshot.Load(objects, seqs, version), secret);
    }

    private static void WriteBytes(BinaryWriter w, byte[] b)
    {
        w.Write(b.Length);
        w.Write(b);
    }

    private static void WriteString(BinaryWriter w, string? s)
    {
        if (s is null) w.Write(-1);
        else WriteBytes(w, Encoding.UTF8.GetBytes(s));
    }

    private static string? ReadString(BinaryReader r)
    {
        var len = r.ReadInt32();
        return len < 0 ? null : Encoding.UTF8.GetString(r.ReadBytes(len));
    }
}
