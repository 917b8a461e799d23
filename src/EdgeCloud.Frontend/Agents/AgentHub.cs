using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Frontend.Monitoring;
using EdgeCloud.Requests;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Agents;

/// <summary>
/// The front-end's end of the host agents' streams (the gRPC service <c>HostAgent</c>):
/// <list type="bullet">
/// <item>Join: spends a one-time join token and issues the agent its certificate.</item>
/// <item>Connect: one stream per host over mutual TLS; the client certificate names the host.
/// Commands wait here (by command id) until their result arrives; when a host's agent reconnects,
/// every command still waiting is sent again (the agent answers repeats from its journal).</item>
/// <item>Monitoring pushed by agents goes to the <see cref="MonitoringStore"/>, the latest host facts
/// are kept for <see cref="AgentHostProbe"/>, and VMs found gone or back are applied to the state.</item>
/// <item>In a Raft zone (<paramref name="zone"/>) only the leader takes Join and Connect: a follower turns the
/// agent away to the leader (<see cref="LeaderRedirect"/>), and a leader that loses the leadership closes every
/// agent stream at once, so the agents go to the new leader.</item>
/// </list>
/// </summary>
public sealed class AgentHub(Func<Cloud> cloud, AgentPki pki, MonitoringStore monitoring, FrontendOptions options, TimeProvider time, ILogger<AgentHub> logger,
    ILeadership? leadership = null, IAgentZone? zone = null)
    : HostAgent.HostAgentBase
{
    private readonly ILeadership _leadership = leadership ?? AlwaysLeader.Instance;
    private long _leadingSince = time.GetUtcNow().ToUnixTimeSeconds();
    private int _watching;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<int, AgentSession> _sessions = new();
    private readonly ConcurrentDictionary<string, PendingCommand> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (CommandResult Result, long At)> _early = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, (HostFacts Facts, long At)> _facts = new();

    public AgentPki Pki => pki;

    /// <summary>
    /// Follows the leadership: when this front-end stops leading, every agent stream is closed at once (the agents
    /// reconnect to the new leader); when it starts leading, the monitoring grace period starts.
    /// </summary>
    public void WatchLeadership()
    {
        if (Interlocked.Exchange(ref _watching, 1) == 1) return;
        _leadership.Changed += leader =>
        {
            if (leader)
            {
                Interlocked.Exchange(ref _leadingSince, time.GetUtcNow().ToUnixTimeSeconds());
                return;
            }
            var closed = 0;
            foreach (var s in _sessions.Values) { s.Close(); closed++; }
            if (closed > 0) logger.LogInformation("This front-end no longer leads the zone: closed {Count} agent streams (they go to the new leader)", closed);
        };
    }

    /// <summary>
    /// Seconds left of the grace period after this front-end started leading (or started): the agents of the zone
    /// are still finding their way here, so a host without a report is not failed yet.
    /// </summary>
    public long GraceLeft()
    {
        var grace = 3 * (long)Math.Max(1, options.MonitorInterval) + 5;
        return Math.Max(0, Interlocked.Read(ref _leadingSince) + grace - time.GetUtcNow().ToUnixTimeSeconds());
    }

    /// <summary>Turns the agent away when this front-end does not lead its zone (Raft): to the leader, or to try again.</summary>
    private async Task RefuseUnlessLeaderAsync(ServerCallContext context)
    {
        if (_leadership.IsLeader || zone is null) return;
        var leader = await zone.LeaderAgentEndpointAsync(context.CancellationToken).ConfigureAwait(false);
        if (leader == zone.OwnAgentEndpoint) leader = null; // elected here, not leading yet: the agent retries shortly
        var all = await zone.AgentEndpointsAsync(context.CancellationToken).ConfigureAwait(false);
        logger.LogInformation("Turned an agent away from {Peer}: this front-end does not lead the zone (leader: {Leader})", context.Peer, leader ?? "unknown");
        throw LeaderRedirect.Create(leader, all);
    }

    private async Task<IReadOnlyList<string>> FrontendsAsync(CancellationToken ct) =>
        zone is null ? [] : await zone.AgentEndpointsAsync(ct).ConfigureAwait(false);

    private AgentPki ReadyPki() => pki.IsReady ? pki
        : throw new RpcException(new Status(StatusCode.Unavailable, "This front-end does not know the zone's agent CA yet (it comes with the replicated state): try again."));

    /// <summary>Called with a host id when its agent's first report after connecting arrives (the monitor probes it at once).</summary>
    public Action<int>? FirstReport { get; set; }

    /// <summary>Raised with a host id when its agent's stream opens here (after the commands waiting for it were sent again).</summary>
    public event Action<int>? AgentConnected;

    /// <summary>Hosts whose agent is connected now.</summary>
    public IReadOnlyCollection<int> ConnectedHosts => _sessions.Keys.ToList();

    public bool IsConnected(int hostId) => _sessions.ContainsKey(hostId);

    /// <summary>The latest facts the host's agent pushed and when (epoch seconds), if any.</summary>
    public (HostFacts Facts, long At)? Facts(int hostId) => _facts.TryGetValue(hostId, out var f) ? f : null;

    /// <summary>True when an HTTP request comes from a joined host's agent (its current certificate).</summary>
    public bool IsAgentRequest(HttpContext ctx)
    {
        var cert = ctx.Connection.ClientCertificate;
        if (pki.HostOf(cert) is not int hostId) return false;
        return cloud().State.Get<Host>(ObjectType.Host, hostId) is { } host
               && string.Equals(host.AgentCertificate, cert!.SerialNumber, StringComparison.OrdinalIgnoreCase);
    }

    // ------------------------------------------------------------------ join

    public override Task<DiscoverReply> Discover(DiscoverRequest request, ServerCallContext context) =>
        Task.FromResult(new DiscoverReply { CaCertificatePem = ReadyPki().CaPem });

    public override async Task<JoinReply> Join(JoinRequest request, ServerCallContext context)
    {
        if (!JoinToken.TryParse(request.Token, out var token))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Malformed join token: expected ecj1.<host id>.<secret>.<CA hash>, as `edgecloud host join-token` prints it."));
        ReadyPki();
        await RefuseUnlessLeaderAsync(context).ConfigureAwait(false);
        if (!string.Equals(token.CaHash, pki.CaHash, StringComparison.Ordinal))
            throw new RpcException(new Status(StatusCode.PermissionDenied, "The join token was made by another front-end (its CA hash does not match this front-end's)."));
        System.Security.Cryptography.X509Certificates.X509Certificate2 cert;
        try { cert = pki.SignAgent(request.CsrPem, token.HostId); }
        catch (ArgumentException ex) { throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message)); }
        Host host;
        try
        {
            host = await cloud().HostJoinAsync(token.HostId, token.Secret, cert.SerialNumber, context.CancellationToken).ConfigureAwait(false);
        }
        catch (CloudException ex)
        {
            logger.LogWarning("Refused an agent join for host {HostId} from {Peer}: {Reason}", token.HostId, context.Peer, ex.Message);
            throw new RpcException(new Status(StatusCode.PermissionDenied, ex.Message));
        }
        logger.LogInformation("Agent of host {HostId} ({Host}) joined from {Peer} as {Hostname}", host.Id, host.Name, context.Peer, request.Hostname);
        return new JoinReply
        {
            HostId = host.Id, HostName = host.Name, CertificatePem = cert.ExportCertificatePem(), CaCertificatePem = pki.CaPem,
            Frontends = { await FrontendsAsync(context.CancellationToken).ConfigureAwait(false) },
        };
    }

    // ------------------------------------------------------------------ the stream

    public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<FrontendMessage> responseStream, ServerCallContext context)
    {
        ReadyPki();
        await RefuseUnlessLeaderAsync(context).ConfigureAwait(false);
        var client = context.GetHttpContext().Connection.ClientCertificate;
        var hostId = pki.HostOf(client) ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "A client certificate issued by this front-end is required (join the host first)."));
        var host = cloud().State.Get<Host>(ObjectType.Host, hostId)
                   ?? throw new RpcException(new Status(StatusCode.PermissionDenied, $"Host {hostId} no longer exists."));
        if (!string.Equals(host.AgentCertificate, client!.SerialNumber, StringComparison.OrdinalIgnoreCase))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"This certificate of host {hostId} was replaced by a later join."));

        using var session = new AgentSession(hostId);
        if (_sessions.TryGetValue(hostId, out var previous)) previous.Close();
        _sessions[hostId] = session;
        logger.LogInformation("Agent of host {HostId} connected from {Peer}", hostId, context.Peer);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, session.Closed);
        var ct = linked.Token;
        var writer = WriteLoopAsync(session, responseStream, ct);
        try
        {
            var welcome = new Welcome { HostId = hostId, MonitorIntervalSeconds = (int)Math.Max(1, options.MonitorInterval) };
            welcome.Frontends.AddRange(await FrontendsAsync(ct).ConfigureAwait(false));
            session.Send(new FrontendMessage { Welcome = welcome });
            // Lost the leadership while this stream opened: the close above came before this session existed.
            if (!_leadership.IsLeader) session.Close();
            foreach (var p in _pending.Values.Where(p => p.HostId == hostId)) session.Send(new FrontendMessage { Command = p.Command });
            AgentConnected?.Invoke(hostId);
            while (await requestStream.MoveNext(ct).ConfigureAwait(false))
            {
                var message = requestStream.Current;
                switch (message.BodyCase)
                {
                    case AgentMessage.BodyOneofCase.Hello:
                        logger.LogInformation("Agent of host {HostId}: version {Version}, hypervisors {Hypervisors}", hostId, message.Hello.AgentVersion, string.Join(",", message.Hello.Hypervisors));
                        break;
                    case AgentMessage.BodyOneofCase.Result:
                        OnResult(session, message.Result);
                        break;
                    case AgentMessage.BodyOneofCase.Monitoring:
                        await OnMonitoringAsync(hostId, message.Monitoring, ct).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            logger.LogInformation("Agent stream of host {HostId} broke: {Reason}", hostId, ex.Message);
        }
        finally
        {
            _sessions.TryRemove(new KeyValuePair<int, AgentSession>(hostId, session));
            session.Close();
            try { await writer.ConfigureAwait(false); } catch (Exception) { /* the stream is gone either way */ }
            logger.LogInformation("Agent of host {HostId} disconnected", hostId);
        }
    }

    private static async Task WriteLoopAsync(AgentSession session, IServerStreamWriter<FrontendMessage> stream, CancellationToken ct)
    {
        await foreach (var m in session.Outbox.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            await stream.WriteAsync(m, ct).ConfigureAwait(false);
    }

    private void OnResult(AgentSession session, CommandResult result)
    {
        if (_pending.TryRemove(result.CommandId, out var pending)) pending.Complete(result);
        else
        {
            // A result from before this front-end (re)started: kept until the command is asked again.
            _early[result.CommandId] = (result, time.GetUtcNow().ToUnixTimeSeconds());
            PruneEarly();
        }
        session.Send(new FrontendMessage { Ack = new ResultAck { CommandIds = { result.CommandId } } });
    }

    private void PruneEarly()
    {
        if (_early.Count < 1024) return;
        var cutoff = time.GetUtcNow().ToUnixTimeSeconds() - 3600;
        foreach (var (id, e) in _early)
            if (e.At < cutoff) _early.TryRemove(id, out _);
    }

    private async Task OnMonitoringAsync(int hostId, AgentProtocol.Monitoring m, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (m.HostFactsJson.Length > 0 && JsonSerializer.Deserialize<HostFacts>(m.HostFactsJson, Json) is { } facts)
        {
            var first = !_facts.TryGetValue(hostId, out var previous) || previous.At < now - 3 * Math.Max(1, options.MonitorInterval);
            _facts[hostId] = (facts, now);
            if (first) FirstReport?.Invoke(hostId);
            monitoring.SetHost(hostId, new HostMonitoring
            {
                Timestamp = now,
                UsedCpu = facts.UsedCpu, FreeCpu = Math.Max(0, facts.TotalCpu - facts.UsedCpu),
                UsedMemory = facts.UsedMemoryKb, FreeMemory = Math.Max(0, facts.TotalMemoryKb - facts.UsedMemoryKb),
                NetRx = facts.NetRxBytes, NetTx = facts.NetTxBytes,
            });
        }
        var observations = new List<VmObservation>(m.Vms.Count);
        var checkpoints = new List<VmCheckpointReport>();
        foreach (var vm in m.Vms)
        {
            observations.Add(new VmObservation(vm.VmId, vm.State));
            if (vm.CheckpointJson.Length > 0 && JsonSerializer.Deserialize<CheckpointJson>(vm.CheckpointJson, Json) is { } cp)
                checkpoints.Add(new VmCheckpointReport(vm.VmId, cp.Seq, cp.Time, cp.Bytes, cp.Full, cp.TotalBytes));
            Fence(hostId, vm.VmId);
            if (vm.DomainStatusJson.Length > 0 && JsonSerializer.Deserialize<DomainStatus>(vm.DomainStatusJson, Json) is { } d)
            {
                monitoring.SetVm(vm.VmId, new VmMonitoring
                {
                    Timestamp = now, Cpu = d.CpuPercent, Memory = d.MemoryKb, NetRx = d.NetRxBytes, NetTx = d.NetTxBytes,
                    DiskRdBytes = d.DiskReadBytes, DiskWrBytes = d.DiskWriteBytes, DiskRdIops = d.DiskReadOps, DiskWrIops = d.DiskWriteOps,
                });
            }
        }
        try { await cloud().VmsObservedAsync(hostId, observations, ct).ConfigureAwait(false); }
        catch (CloudException ex) { logger.LogWarning("VM states reported by host {HostId} could not be applied: {Reason}", hostId, ex.Message); }
        if (checkpoints.Count > 0)
        {
            try { await cloud().VmCheckpointsReportedAsync(hostId, checkpoints, ct).ConfigureAwait(false); }
            catch (CloudException ex) { logger.LogWarning("VM checkpoints reported by host {HostId} could not be recorded: {Reason}", hostId, ex.Message); }
        }
    }

    /// <summary>The agent's checkpoint report of a VM (EdgeCloud.Agent.CheckpointReport).</summary>
    private sealed record CheckpointJson(long Seq, long Time, long Bytes, bool Full, long TotalBytes);

    private readonly ConcurrentDictionary<string, bool> _fencing = new(StringComparer.Ordinal);

    /// <summary>
    /// Fencing: a host that reports a VM the host-failure recovery moved away from it (its record on this host
    /// was closed as delete-recreate, and the VM now runs elsewhere) must not keep its stale copy. The agent is
    /// told to destroy the domain and drop the VM's files and local state (an Epilog from its own spec).
    /// </summary>
    private void Fence(int hostId, int vmId)
    {
        var vm = cloud().State.Get<Vm>(ObjectType.Vm, vmId);
        if (vm is null || vm.HostId == hostId || vm.History.LastOrDefault(h => h.Hid == hostId) is not { } left
            || left.Action != (int)VmAction.DeleteRecreate || left.Etime == 0)
            return;
        var id = $"fence.vm{vmId}.{left.Seq}";
        if (!_fencing.TryAdd(id, true)) return;
        logger.LogWarning("Host {HostId} still has VM {VmId}, which was restarted on host {NewHost} after host {HostId} failed: destroying the stale copy", hostId, vmId, vm.HostId, hostId);
        _ = Task.Run(async () =>
        {
            try
            {
                var r = await ExecuteAsync(hostId, new Command { CommandId = id, VmId = vmId, Op = DriverOp.Epilog.ToString(), Argument = VmLifeCycle.EpilogFenced },
                    TimeSpan.FromSeconds(options.AgentActionTimeout), CancellationToken.None).ConfigureAwait(false);
                if (r.Success) logger.LogInformation("VM {VmId}: stale copy on host {HostId} destroyed", vmId, hostId);
                else logger.LogWarning("VM {VmId}: fencing on host {HostId} failed: {Reason}", vmId, hostId, r.Message);
            }
            finally
            {
                _fencing.TryRemove(id, out _);
            }
        });
    }

    // ------------------------------------------------------------------ commands

    /// <summary>
    /// Sends a command to a host's agent and waits for its result. A host that is not connected gets the
    /// command when its agent connects; a command with an id already waiting is not sent twice.
    /// </summary>
    public async Task<CommandResult> ExecuteAsync(int hostId, Command command, TimeSpan timeout, CancellationToken ct)
    {
        if (_early.TryRemove(command.CommandId, out var early)) return early.Result;
        var pending = _pending.GetOrAdd(command.CommandId, _ => new PendingCommand(hostId, command));
        if (_sessions.TryGetValue(hostId, out var session)) session.Send(new FrontendMessage { Command = command });
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            return await pending.Task.WaitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The caller gave up (this front-end stopped leading): the next leader sends the action again, same id.
            _pending.TryRemove(new KeyValuePair<string, PendingCommand>(command.CommandId, pending));
            throw;
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(new KeyValuePair<string, PendingCommand>(command.CommandId, pending));
            var why = IsConnected(hostId) ? "did not answer" : "is not connected";
            return new CommandResult { CommandId = command.CommandId, Success = false, Message = $"The agent of host {hostId} {why} within {timeout.TotalSeconds:0} s." };
        }
    }

    private sealed class PendingCommand(int hostId, Command command)
    {
        private readonly TaskCompletionSource<CommandResult> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int HostId { get; } = hostId;
        public Command Command { get; } = command;
        public Task<CommandResult> Task => _tcs.Task;
        public void Complete(CommandResult r) => _tcs.TrySetResult(r);
    }

    private sealed class AgentSession(int hostId) : IDisposable
    {
        private readonly CancellationTokenSource _closed = new();
        public int HostId { get; } = hostId;
        public Channel<FrontendMessage> Outbox { get; } = Channel.CreateUnbounded<FrontendMessage>(new UnboundedChannelOptions { SingleReader = true });
        public CancellationToken Closed => _closed.Token;
        public void Send(FrontendMessage m) => Outbox.Writer.TryWrite(m);

        public void Close()
        {
            Outbox.Writer.TryComplete();
            try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose() => _closed.Dispose();
    }
}

/// <summary>The Raft zone as the agents' hub needs it: where the leader and every server take agents.</summary>
public interface IAgentZone
{
    /// <summary>This server's own agent endpoint (https://HOST:PORT).</summary>
    string OwnAgentEndpoint { get; }

    /// <summary>The leader's agent endpoint, or null when no leader is known.</summary>
    Task<string?> LeaderAgentEndpointAsync(CancellationToken ct);

    /// <summary>Every server's agent endpoint, by server id order (servers last heard of included).</summary>
    Task<IReadOnlyList<string>> AgentEndpointsAsync(CancellationToken ct);
}
