using System.Net;
using DotNext.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Raft;

/// <summary>
/// This front-end's Raft member (DotNext's TCP transport, its write-ahead log with snapshots, pre-vote).
/// It is the <see cref="IChangeLog"/> of the command bus — on the leader a batch is appended to the log
/// and the call returns once the entry is committed by a majority and applied here — and the
/// <see cref="ILeadership"/> that gates the leader-only services. A newly elected leader first commits
/// a barrier entry of its own term and applies everything before it, and only then counts as leader.
/// </summary>
public sealed class RaftNode : IChangeLog, ILeadership, IAsyncDisposable
{
    private const string XmlRpcKey = "xmlrpc";
    private const string AgentKey = "agent";
    private readonly RaftSettings _settings;
    private readonly RaftCluster _cluster;
    private readonly WriteAheadLog _wal;
    private readonly CloudStateMachine _machine;
    private readonly MemberStorage _members;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private bool _isLeader;
    private CancellationToken _leaderToken = new(true);
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _pendingSecret;
    private int _disposed;

    private RaftNode(RaftSettings settings, RaftCluster cluster, WriteAheadLog wal, CloudStateMachine machine, MemberStorage members, ILogger logger)
    {
        _settings = settings;
        _cluster = cluster;
        _wal = wal;
        _machine = machine;
        _members = members;
        _logger = logger;
        _cluster.LeaderChanged += (_, leader) => OnLeaderChanged(leader);
        _members.ConfigurationChanged += OnMembershipChangedAsync;
        _machine.SecretKnown += OnSecretsKnown;
    }

    /// <summary>The state restored from the last snapshot (the command bus starts from it; the log replays the rest).</summary>
    public StateSnapshot InitialState => _machine.Applied;

    /// <summary>oneadmin's password from the replicated state, once known.</summary>
    public string? Secret => _machine.Secret;

    /// <summary>Raised when the replicated oneadmin password becomes known on this server.</summary>
    public event Action<string>? SecretKnown;

    /// <summary>The zone's replicated secrets (oneadmin's password, the host agents' CA), once known.</summary>
    public ZoneSecrets? Secrets => _machine.Secrets;

    /// <summary>Raised when the replicated secrets become known or change on this server.</summary>
    public event Action<ZoneSecrets>? SecretsKnown;

    private void OnSecretsKnown(ZoneSecrets secrets)
    {
        if (secrets.Password is { } p) SecretKnown?.Invoke(p);
        SecretsKnown?.Invoke(secrets);
    }

    public event Action<bool>? Changed;

    public bool IsLeader
    {
        get { lock (_gate) return _isLeader; }
    }

    /// <summary>This server's id in the zone (SERVER_POOL), or -1 while a joining server is not added yet.</summary>
    public int ServerId => IdOf(_settings.Self);

    /// <summary>This server won the last election (it may still be catching up before <see cref="IsLeader"/>).</summary>
    public bool LeaderIsLocal => !_cluster.LeadershipToken.IsCancellationRequested;

    public RaftSettings Settings => _settings;

    /// <summary>Opens the log and snapshots under <see cref="RaftSettings.Directory"/>; the node joins the cluster in <see cref="StartAsync"/>.</summary>
    public static async Task<RaftNode> CreateAsync(RaftSettings settings, IStateStore store, long storeVersion, ILoggerFactory loggers, CancellationToken ct)
    {
        settings.Validate();
        var logger = loggers.CreateLogger<RaftNode>();
        var snapshots = new DirectoryInfo(Path.Combine(settings.Directory, "snapshots"));
        var machine = new CloudStateMachine(snapshots, store, storeVersion, settings.SnapshotEvery, loggers.CreateLogger<CloudStateMachine>());
        await machine.RestoreAsync(ct).ConfigureAwait(false);
        var wal = new WriteAheadLog(new WriteAheadLog.Options
        {
            Location = Path.Combine(settings.Directory, "log"),
        }, machine);
        if (!machine.HasSnapshot && wal.LastEntryIndex == 0 && storeVersion > 0)
        {
            await wal.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                "The data directory holds a stand-alone front-end's database but no Raft log: a Raft server starts on an empty data directory (or on its own earlier Raft data).");
        }

        // The membership, persisted in DATA/raft/members: seeded from --peers on the very first start, changed by
        // configuration entries of the log (one.zone.addserver / delserver) from then on.
        var members = new MemberStorage(Path.Combine(settings.Directory, "members"));
        var current = await members.LoadOrSeedAsync(settings.Join ? [] : settings.Peers, ct).ConfigureAwait(false);
        var isMember = current.Contains(settings.Self);
        var config = new RaftCluster.TcpConfiguration(settings.Self)
        {
            LowerElectionTimeout = settings.ElectionTimeoutMinMs,
            UpperElectionTimeout = settings.ElectionTimeoutMaxMs,
            // A dead peer must not hold a replication round (and so a new leader's first commit) for long.
            RequestTimeout = TimeSpan.FromMilliseconds(settings.ElectionTimeoutMaxMs * 2),
            ConnectTimeout = TimeSpan.FromMilliseconds(Math.Max(50, settings.ElectionTimeoutMinMs / 3)),
            TransmissionBlockSize = 64 * 1024,
            ColdStart = false,
            // A server outside the membership (joining, or removed) neither votes nor stands for election.
            Standby = !isMember,
            LoggerFactory = loggers,
            ConfigurationStorage = members,
        };
        config.Metadata[XmlRpcKey] = settings.XmlRpcEndpoint;
        if (settings.AgentEndpoint is { Length: > 0 } agent) config.Metadata[AgentKey] = agent;
        var cluster = new RaftCluster(config) { AuditTrail = wal };
        logger.LogInformation("Raft membership: {Members}{Standby}", string.Join(",", current), isMember ? "" : " (this server is not a member: standby until the leader adds it)");
        return new RaftNode(settings, cluster, wal, machine, members, logger);
    }

    /// <summary>Publishes applied entries to <paramref name="bus"/>, replays the committed log and joins the cluster.</summary>
    public async Task StartAsync(CommandBus bus, CancellationToken ct)
    {
        // The log may already have applied committed entries while it opened: the bus starts from what is applied.
        _machine.AttachBus(bus);
        await _cluster.StartAsync(ct).ConfigureAwait(false);
        _logger.LogInformation("Raft server {Id} at {Address} started ({Peers} servers, log index {Index}, commit {Commit})",
            ServerId, _settings.Self, _cluster.Members.Count, _wal.LastEntryIndex, _wal.LastCommittedEntryIndex);
    }

    /// <summary>Set before the bootstrap command runs on the leader: the entry that creates oneadmin carries the password.</summary>
    public void ReplicateSecretWithBootstrap(string? password) => _pendingSecret = password;

    /// <summary>
    /// Replicates the zone's secrets (leader only) in an entry of their own, which changes no object; returns once it is
    /// applied here. Used to add the host agents' CA to a zone (new, or bootstrapped before the CA was replicated).
    /// </summary>
    public async Task ReplicateSecretsAsync(ZoneSecrets secrets, CancellationToken ct)
    {
        CancellationToken leadership;
        lock (_gate)
        {
            if (!_isLeader) throw NotLeader();
            leadership = _leaderToken;
        }
        var payload = RaftCodec.EncodeBatch(new ReplicatedBatch(_machine.Applied.Version, secrets.Encode(), []));
        var pending = new PendingEntry();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, leadership);
        cts.CancelAfter(_settings.CommitTimeout);
        try
        {
            await _cluster.ReplicateAsync(payload, pending, cts.Token).ConfigureAwait(false);
            await pending.Applied.Task.WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CloudException(ErrorCode.Replication, "Cannot replicate the zone's secrets: not committed in time, or this server lost the leadership.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not CloudException)
        {
            throw new CloudException(ErrorCode.Replication, "Cannot replicate the zone's secrets: " + ex.Message);
        }
    }

    public async ValueTask WaitReadyAsync(CancellationToken cancellationToken)
    {
        Task ready;
        lock (_gate)
        {
            if (_isLeader || _cluster.LeadershipToken.IsCancellationRequested) return;
            ready = _ready.Task;
        }
        // Elected but still applying what earlier leaders committed: wait (bounded) so the first commands see it all.
        try { await ready.WaitAsync(_settings.CommitTimeout, cancellationToken).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    public async Task AppendAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken)
    {
        CancellationToken leadership;
        lock (_gate)
        {
            if (!_isLeader) throw NotLeader();
            leadership = _leaderToken;
        }
        // The entry that creates oneadmin with the pending password carries it (and no other entry does).
        string? secret = null;
        if (_pendingSecret is { } s)
        {
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
            if (batch.Any(cs => cs.Changes.Any(c => c is { Type: ObjectType.User, Id: 0, Value: User { Password: var p } } && p == hash)))
                secret = s;
        }
        var payload = RaftCodec.EncodeBatch(new ReplicatedBatch(version - batch.Count, secret, batch));
        var pending = new PendingEntry();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership);
        cts.CancelAfter(_settings.CommitTimeout);
        try
        {
            await _cluster.ReplicateAsync(payload, pending, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CloudException(ErrorCode.Replication, leadership.IsCancellationRequested
                ? "Cannot replicate the change: this server lost the leadership before it was committed."
                : $"Cannot replicate the change: no majority of the servers acknowledged it within {_settings.CommitTimeout.TotalSeconds:F0} s.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not the leader any more (NotLeaderException, InvalidOperationException), the term moved on, or the node stops.
            throw new CloudException(ErrorCode.Replication, "Cannot replicate the change: " + ex.Message);
        }
        bool applied;
        try
        {
            applied = await pending.Applied.Task.WaitAsync(_settings.CommitTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new CloudException(ErrorCode.Replication, "The change was committed but not applied in time.");
        }
        if (!applied)
            throw new CloudException(ErrorCode.Replication, "The change was decided on a state that another leader had already changed; retry it.");
    }

    private static CloudException NotLeader() =>
        new(ErrorCode.Replication, "Cannot process request: this server is not the leader of the zone's Raft cluster.");

    private void OnLeaderChanged(RaftClusterMember? leader)
    {
        if (leader is { IsRemote: false }) _ = BecomeReadyAsync();
        else SetLeader(false, default);
        _logger.LogInformation("Raft leader is now {Leader} (term {Term})", leader is null ? "unknown" : IdOf(leader.EndPoint).ToString(System.Globalization.CultureInfo.InvariantCulture), _cluster.Term);
    }

    private async Task BecomeReadyAsync()
    {
        // The leader-changed event comes before the new leader state starts leading: wait (briefly) for it.
        var token = _cluster.LeadershipToken;
        for (var i = 0; token.IsCancellationRequested && i < 100; i++)
        {
            await Task.Delay(10).ConfigureAwait(false);
            if (_cluster.Leader is not { IsRemote: false }) return;
            token = _cluster.LeadershipToken;
        }
        if (token.IsCancellationRequested) { _logger.LogWarning("Elected, but the leader state never started (term {Term})", _cluster.Term); return; }
        token.Register(() => SetLeader(false, default));
        try
        {
            var pending = new PendingEntry();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
            cts.CancelAfter(_settings.CommitTimeout);
            await _cluster.ReplicateAsync(RaftCodec.EncodeBarrier(), pending, cts.Token).ConfigureAwait(false);
            await pending.Applied.Task.WaitAsync(cts.Token).ConfigureAwait(false);
            if (!token.IsCancellationRequested) SetLeader(true, token);
        }
        catch (Exception ex)
        {
            _logger.LogInformation("Leadership of term {Term} ended before this server caught up: {Reason}", _cluster.Term, ex.Message);
        }
    }

    private void SetLeader(bool leader, CancellationToken token)
    {
        lock (_gate)
        {
            if (_isLeader == leader) return;
            _isLeader = leader;
            _leaderToken = leader ? token : new CancellationToken(true);
            if (leader) _ready.TrySetResult();
            else if (_ready.Task.IsCompleted) _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (leader) _logger.LogInformation("This server leads the zone (term {Term})", _cluster.Term);
        else _logger.LogInformation("This server no longer leads the zone (term {Term})", _cluster.Term);
        try { Changed?.Invoke(leader); }
        catch (Exception ex) { _logger.LogError(ex, "A leadership observer failed"); }
    }

    /// <summary>
    /// The zone's servers as the replicated state records them (zone 0's SERVER_POOL, with each one's Raft address);
    /// before the first leader recorded them, the --peers list with ids by position.
    /// </summary>
    public IReadOnlyList<ZoneServer> Servers()
    {
        var recorded = _machine.Applied.Get<Zone>(ObjectType.Zone, 0)?.Servers;
        if (recorded is { Count: > 0 } && recorded.All(s => s.Raft.Length > 0)) return recorded;
        return [.. _settings.Peers.Select((p, i) => new ZoneServer(i, $"server-{i}", "") { Raft = p.ToString() })];
    }

    /// <summary>The server id of a Raft address (-1 when no recorded server has it).</summary>
    public int IdOf(EndPoint ep)
    {
        if (ep is not IPEndPoint ip) return -1;
        foreach (var s in Servers())
            if (TryParse(s.Raft) is { } a && a.Equals(ip)) return s.Id;
        return -1;
    }

    private static IPEndPoint? TryParse(string raft)
    {
        try { return raft.Length == 0 ? null : RaftSettings.ParseEndPoint(raft); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>The Raft addresses of the current membership (as this server knows it).</summary>
    public IReadOnlyList<EndPoint> Members => [.. _cluster.Members.Select(m => m.EndPoint)];

    /// <summary>
    /// Adds a server to the membership (leader only): the library first brings its log up to date (by snapshot when the
    /// log it misses was compacted), then commits the new configuration; from then on it votes and counts in the quorum.
    /// </summary>
    public async Task<bool> AddMemberAsync(IPEndPoint address, CancellationToken ct)
    {
        lock (_gate) if (!_isLeader) throw NotLeader();
        return await _cluster.AddMemberAsync(address, ct).ConfigureAwait(false);
    }

    /// <summary>Removes a server from the membership (leader only). The removed server turns standby: it stops taking part.</summary>
    public async Task<bool> RemoveMemberAsync(IPEndPoint address, CancellationToken ct)
    {
        lock (_gate) if (!_isLeader) throw NotLeader();
        return await _cluster.RemoveMemberAsync(address, ct).ConfigureAwait(false);
    }

    /// <summary>Gives up the leadership (an election follows among the others).</summary>
    public async Task ResignAsync(CancellationToken ct) => await ((ICluster)_cluster).ResignAsync(ct).ConfigureAwait(false);

    /// <summary>A committed membership change: a server added takes part (votes), a server removed becomes a standby.</summary>
    private ValueTask OnMembershipChangedAsync(IClusterConfiguration<EndPoint> configuration, CancellationToken token)
    {
        var member = configuration.Members.Contains(_settings.Self);
        _logger.LogInformation("Raft membership changed: {Members}", string.Join(",", configuration.Members));
        _ = Task.Run(async () =>
        {
            try
            {
                if (member && _cluster.Standby)
                {
                    await _cluster.RevertToNormalModeAsync(CancellationToken.None).ConfigureAwait(false);
                    _logger.LogInformation("This server was added to the zone's Raft cluster: it now votes and may lead");
                }
                else if (!member && !_cluster.Standby && configuration.Members.Count > 0)
                {
                    await _cluster.EnableStandbyModeAsync(CancellationToken.None).ConfigureAwait(false);
                    _logger.LogInformation("This server was removed from the zone's Raft cluster: it no longer takes part");
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogWarning("Could not follow the membership change: {Reason}", ex.Message);
            }
        }, CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    /// <summary>The XML-RPC endpoint of the current leader (null when no leader is known or it cannot be asked).</summary>
    public async Task<string?> LeaderEndpointAsync(CancellationToken ct)
    {
        var leader = _cluster.Leader;
        if (leader is null) return null;
        if (!leader.IsRemote) return _settings.XmlRpcEndpoint;
        try
        {
            var meta = await leader.GetMetadataAsync(false, ct).ConfigureAwait(false);
            return meta.TryGetValue(XmlRpcKey, out var e) ? e : null;
        }
        catch (Exception ex) when (ex is MemberUnavailableException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>XML-RPC endpoints by server id, as far as they are known (a server tells its own in its Raft metadata).</summary>
    public async Task<IReadOnlyDictionary<int, string>> EndpointsAsync(CancellationToken ct) =>
        await MetadataAsync(XmlRpcKey, _settings.XmlRpcEndpoint, ct).ConfigureAwait(false);

    /// <summary>Host agents' endpoints (https://HOST:PORT) by server id, as far as they are known.</summary>
    public async Task<IReadOnlyDictionary<int, string>> AgentEndpointsAsync(CancellationToken ct) =>
        await MetadataAsync(AgentKey, _settings.AgentEndpoint, ct).ConfigureAwait(false);

    /// <summary>The current leader's agent endpoint (null when no leader is known or it cannot be asked).</summary>
    public async Task<string?> LeaderAgentEndpointAsync(CancellationToken ct)
    {
        var leader = _cluster.Leader;
        if (leader is null) return null;
        if (!leader.IsRemote) return _settings.AgentEndpoint;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            var meta = await leader.GetMetadataAsync(false, cts.Token).ConfigureAwait(false);
            return meta.TryGetValue(AgentKey, out var e) ? e : null;
        }
        catch (Exception ex) when (ex is MemberUnavailableException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private async Task<IReadOnlyDictionary<int, string>> MetadataAsync(string key, string? own, CancellationToken ct)
    {
        var result = new Dictionary<int, string>();
        if (own is { Length: > 0 } && ServerId is var self and >= 0) result[self] = own;
        foreach (var m in _cluster.Members)
        {
            if (!m.IsRemote) continue;
            var id = IdOf(m.EndPoint);
            if (id < 0) continue;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(TimeSpan.FromSeconds(2));
                var meta = await m.GetMetadataAsync(false, cts.Token).ConfigureAwait(false);
                if (meta.TryGetValue(key, out var e)) result[id] = e;
            }
            catch (Exception ex) when (ex is MemberUnavailableException or OperationCanceledException or IOException or InvalidOperationException)
            {
            }
        }
        return result;
    }

    /// <summary>This server's one.zone.raftstatus (OpenNebula's numbers: 1 candidate, 2 follower, 3 leader).</summary>
    public RaftStatus Status()
    {
        var leader = _cluster.Leader;
        var state = !_cluster.LeadershipToken.IsCancellationRequested ? RaftStatus.Leader : leader is not null ? RaftStatus.Follower : RaftStatus.Candidate;
        var votedFor = -1;
        IPersistentState ps = _wal;
        foreach (var server in Servers())
        {
            if (TryParse(server.Raft) is not { } ep) continue;
            var id = ClusterMemberId.FromEndPoint(ep);
            if (ps.IsVotedFor(in id)) { votedFor = server.Id; break; }
        }
        return new RaftStatus(
            ServerId: ServerId,
            State: state,
            Term: _cluster.Term,
            VotedFor: votedFor,
            Commit: _wal.LastCommittedEntryIndex,
            LogIndex: _wal.LastEntryIndex,
            LogTerm: _cluster.Term,
            FedlogIndex: -1);
    }

    /// <summary>The Raft state of every server as this one sees it (its own exactly; others as leader or follower).</summary>
    public IReadOnlyDictionary<int, RaftStatus> ServerStates()
    {
        var self = Status();
        var leaderId = _cluster.Leader is { } l ? IdOf(l.EndPoint) : -1;
        var result = new Dictionary<int, RaftStatus>();
        foreach (var s in Servers())
        {
            var i = s.Id;
            result[i] = i == self.ServerId ? self : new RaftStatus(i, i == leaderId ? RaftStatus.Leader : RaftStatus.Follower, self.Term, -1, self.Commit, -1, self.Term, -1);
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        SetLeader(false, default);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _cluster.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        _cluster.Dispose();
        await _wal.DisposeAsync().ConfigureAwait(false);
        await _machine.DisposeAsync().ConfigureAwait(false);
        _members.Dispose();
    }
}

/// <summary>
/// The Raft membership on disk (DATA/raft/members): the library saves every configuration it applies here, with
/// its version, so a restart of every server keeps the membership. Addresses in the library's own binary form.
/// </summary>
internal sealed class MemberStorage(string file) : PersistentClusterConfigurationStorage<EndPoint>(file)
{
    private readonly string _file = file;

    protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> writer) => writer.WriteEndPoint(address);

    protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader) => reader.ReadEndPoint();

    /// <summary>The persisted membership; on the very first start (no file yet) <paramref name="initial"/> is written as version 0.</summary>
    public async Task<IReadOnlySet<EndPoint>> LoadOrSeedAsync(IReadOnlyList<IPEndPoint> initial, CancellationToken ct)
    {
        if (!File.Exists(_file) && initial.Count > 0)
        {
            using var seed = new InMemorySeed();
            var builder = seed.CreateInitialConfigurationBuilder();
            foreach (var p in initial) builder.Add(p);
            builder.Build();
            var (configuration, _) = await ((IClusterConfigurationStorage)seed).LoadConfigurationAsync(ct).ConfigureAwait(false);
            await ((IClusterConfigurationStorage)this).SaveConfigurationAsync(configuration, 0L, ct).ConfigureAwait(false);
        }
        if (!File.Exists(_file)) return new HashSet<EndPoint>();
        var loaded = await ((IClusterConfigurationStorage<EndPoint>)this).LoadConfigurationAsync(ct).ConfigureAwait(false);
        return loaded.Members;
    }

    /// <summary>Only serialises the --peers list in the library's format for <see cref="LoadOrSeedAsync"/>.</summary>
    private sealed class InMemorySeed : InMemoryClusterConfigurationStorage<EndPoint>
    {
        protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> writer) => writer.WriteEndPoint(address);

        protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader) => reader.ReadEndPoint();
    }
}
