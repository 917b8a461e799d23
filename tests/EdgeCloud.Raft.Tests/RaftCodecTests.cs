using System.Buffers;
using System.Net;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Raft.Tests;

public sealed class RaftCodecTests
{
    private static ChangeSet Put(int id, string name) =>
        new([new Change(ObjectType.Cluster, id, new Cluster { Id = id, Name = name })], new Dictionary<ObjectType, int> { [ObjectType.Cluster] = id });

    [Fact]
    public void Batch_RoundTrips_WithDeletesSequencesAndSecret()
    {
        var batch = new ReplicatedBatch(41, "pw", [Put(100, "a"), new ChangeSet([new Change(ObjectType.Cluster, 100, null)], new Dictionary<ObjectType, int>())]);
        var decoded = RaftCodec.Decode(new ReadOnlySequence<byte>(RaftCodec.EncodeBatch(batch)));
        Assert.NotNull(decoded);
        Assert.Equal(41, decoded.BaseVersion);
        Assert.Equal("pw", decoded.Secret);
        Assert.Equal(2, decoded.ChangeSets.Count);
        Assert.Equal("a", decoded.ChangeSets[0].Changes[0].Value!.Name);
        Assert.Equal(100, decoded.ChangeSets[0].Sequences[ObjectType.Cluster]);
        Assert.Null(decoded.ChangeSets[1].Changes[0].Value);
    }

    [Fact]
    public void ZoneSecrets_RoundTrip_AndAPlainSecretIsOneadminsPasswordAlone()
    {
        var secrets = new ZoneSecrets("pw", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n");
        Assert.Equal(secrets, ZoneSecrets.Decode(secrets.Encode()));
        Assert.True(secrets.HasAgentCa);
        // Entries and snapshots written before the agents' CA was replicated carry the password as is.
        var old = ZoneSecrets.Decode("pw");
        Assert.Equal("pw", old.Password);
        Assert.False(old.HasAgentCa);
        // A secrets-only entry has no change set: it decodes as such (the state machine applies it on any version).
        var entry = RaftCodec.Decode(new ReadOnlySequence<byte>(RaftCodec.EncodeBatch(new ReplicatedBatch(7, secrets.Encode(), []))));
        Assert.Empty(entry!.ChangeSets);
        Assert.Equal(secrets, ZoneSecrets.Decode(entry.Secret!));
    }

    [Fact]
    public void BarrierAndEmptyEntries_DecodeToNothing()
    {
        Assert.Null(RaftCodec.Decode(new ReadOnlySequence<byte>(RaftCodec.EncodeBarrier())));
        Assert.Null(RaftCodec.Decode(ReadOnlySequence<byte>.Empty));
        Assert.Throws<InvalidDataException>(() => RaftCodec.Decode(new ReadOnlySequence<byte>([9, 1, 2])));
    }

    [Fact]
    public async Task Snapshot_RoundTrips_StateVersionAndSecret()
    {
        var state = StateSnapshot.Empty.Apply(Put(100, "a")).Apply(Put(101, "b"));
        var path = Path.GetTempFileName();
        try
        {
            await using (var fs = File.Create(path))
                await RaftCodec.WriteSnapshotAsync(state, "secret", (m, ct) => fs.WriteAsync(m, ct), CancellationToken.None);
            var (read, secret) = RaftCodec.ReadSnapshot(path);
            Assert.Equal("secret", secret);
            Assert.Equal(state.Version, read.Version);
            Assert.Equal(101, read.LastId(ObjectType.Cluster));
            Assert.Equal(["a", "b"], read.All<Cluster>(ObjectType.Cluster).Select(c => c.Name));
            await File.WriteAllTextAsync(path, "not a snapshot");
            Assert.Throws<InvalidDataException>(() => RaftCodec.ReadSnapshot(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("nohost")]
    [InlineData("1.2.3.4:")]
    [InlineData("1.2.3.4:0")]
    [InlineData("1.2.3.4:70000")]
    [InlineData(":80")]
    public void BadAddresses_AreClearErrors(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => RaftSettings.ParseEndPoint(text));
        Assert.Contains(text, ex.Message);
    }

    [Fact]
    public void Settings_SelfMustBeAPeer_AndPeersDistinct()
    {
        var a = new IPEndPoint(IPAddress.Loopback, 1);
        var b = new IPEndPoint(IPAddress.Loopback, 2);
        var ok = new RaftSettings { Self = b, Peers = [a, b], Directory = "x", XmlRpcEndpoint = "http://h/RPC2" };
        ok.Validate();
        Assert.Equal(1, ok.SelfId);
        Assert.Contains("not one of --peers", Assert.Throws<ArgumentException>(() => (ok with { Self = new IPEndPoint(IPAddress.Loopback, 3) }).Validate()).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => (ok with { Peers = [a, b, b] }).Validate()).Message);
    }

    [Fact]
    public async Task Bus_PublishCommitted_OnlyMovesForward_AndNotifiesObservers_OfSnapshotsToo()
    {
        await using var bus = new CommandBus(StateSnapshot.Empty, new NullLog(), TimeProvider.System, NullLogger<CommandBus>.Instance);
        var seen = new List<long>();
        bus.Subscribe(new Observer(seen));
        var v1 = StateSnapshot.Empty.Apply(Put(100, "a"));
        var v2 = v1.Apply(Put(101, "b"));
        bus.PublishCommitted(v2, [Put(101, "b")]);
        bus.PublishCommitted(v1, [Put(100, "a")]); // older: ignored
        Assert.Same(v2, bus.Current);
        Assert.Equal([2L], seen);
        // A whole snapshot of the same version replaces (installing a snapshot); observers are told (no change sets) to re-read it.
        var again = StateSnapshot.Load(v2.AllObjects(), v2.Sequences(), v2.Version);
        bus.PublishCommitted(again, []);
        Assert.Same(again, bus.Current);
        Assert.Equal([2L, 2L], seen);
    }

    private sealed class NullLog : IChangeLog
    {
        public Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class Observer(List<long> seen) : IStateObserver
    {
        public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot) => seen.Add(snapshot.Version);
    }
}
