using System.Net;
using EdgeCloud.Api.OneApi;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using EdgeCloud.Frontend.Agents;
using EdgeCloud.Raft;
using EdgeCloud.Requests;
using EdgeCloud.Requests.Auth;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.HighAvailability;

/// <summary>
/// A front-end as one server of a Raft cluster: the node (log, elections, replication), the write
/// forwarding of a follower, the zone's server list, and what a server does when it becomes the
/// leader — bootstrap the cloud if nobody did (the bootstrap entry carries oneadmin's password, so
/// every server writes the same one_auth from the replicated state), replicate the zone's host agent CA if
/// the zone has none yet, record the servers in zone 0, and re-issue interrupted driver actions. It also
/// tells the agents' hub where the leader's and every server's agent endpoint is (<see cref="IAgentZone"/>).
/// </summary>
public sealed class RaftFrontend : IWriteForwarder, IZoneServers, IAgentZone, IAsyncDisposable
{
    private readonly RaftNode _node;
    private readonly string _oneAuthPath;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private Cloud? _cloud;
    private Action? _resume;
    private string _datastores = "";
    private readonly string _pkiDir;
    private AgentPki? _pki;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _agentEndpoints = new();

    private RaftFrontend(RaftNode node, string dataDir, ILogger logger)
    {
        _node = node;
        _oneAuthPath = Path.Combine(dataDir, "one_auth");
        _pkiDir = Path.Combine(dataDir, "pki");
        _logger = logger;
        _http = new HttpClient { Timeout = node.Settings.CommitTimeout + TimeSpan.FromSeconds(5) };
        _node.SecretKnown += WriteOneAuth;
        if (_node.Secret is { } s) WriteOneAuth(s);
        _node.SecretsKnown += InstallAgentCa;
    }

    /// <summary>
    /// The host agents' CA of this server: installed from the replicated secrets (now, if they are already known,
    /// and whenever they change), so every server of the zone issues and accepts the same agent certificates.
    /// </summary>
    public void UseAgentPki(AgentPki pki)
    {
        _pki = pki;
        if (_node.Secrets is { } s) InstallAgentCa(s);
    }

    private void InstallAgentCa(ZoneSecrets secrets)
    {
        if (_pki is not { } pki || !secrets.HasAgentCa) return;
        try
        {
            var before = pki.IsReady ? pki.CaHash : null;
            pki.Install(secrets.AgentCaCertificatePem!, secrets.AgentCaKeyPem!);
            if (before != pki.CaHash) _logger.LogInformation("Host agent CA of the zone installed from the replicated state (SHA-256 {Hash})", pki.CaHash);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            _logger.LogError("The zone's replicated host agent CA cannot be read: {Reason}", ex.Message);
        }
    }

    /// <summary>
    /// Leader start-up: a zone without an agent CA in its replicated secrets gets one — this server's DATA/pki CA
    /// when it has one (a zone that ran before the CA was replicated keeps the agents joined here), a new one otherwise.
    /// </summary>
    private async Task ReplicateAgentCaAsync()
    {
        if (_pki is null || _node.Secrets is { HasAgentCa: true }) return;
        var (cert, key) = AgentPki.ReadCa(_pkiDir) ?? AgentPki.CreateCa(null);
        await _node.ReplicateSecretsAsync(new ZoneSecrets(_node.Secret, cert, key), _stop.Token).ConfigureAwait(false);
        _logger.LogInformation("Replicated the zone's host agent CA ({Origin})", File.Exists(Path.Combine(_pkiDir, "ca.crt")) ? "this server's DATA/pki" : "new");
    }

    public RaftNode Node => _node;

    /// <summary>Builds the node from the options (clear <see cref="ArgumentException"/>s for bad addresses).</summary>
    public static async Task<RaftFrontend> CreateAsync(FrontendOptions options, string dataDir, IStateStore store, long storeVersion, ILoggerFactory loggers, CancellationToken ct)
    {
        var peers = options.Peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(RaftSettings.ParseEndPoint).ToList();
        var self = RaftSettings.ParseEndPoint(options.Raft);
        var host = options.ListenAddress is "0.0.0.0" or "::" or "[::]" ? self.Address.ToString() : options.ListenAddress;
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) host = $"[{host}]";
        var settings = new RaftSettings
        {
            Self = self,
            Peers = peers,
            Directory = Path.Combine(dataDir, "raft"),
            XmlRpcEndpoint = $"http://{host}:{options.Port}/RPC2",
            AgentEndpoint = AgentEndpointOf(options, host),
            Join = options.RaftJoin,
            ElectionTimeoutMinMs = options.RaftElectionTimeoutMin,
            ElectionTimeoutMaxMs = options.RaftElectionTimeoutMax,
            SnapshotEvery = options.RaftSnapshotEvery,
            CommitTimeout = TimeSpan.FromSeconds(Math.Max(1, options.RaftCommitTimeout)),
        };
        if (options.Port == 0) throw new ArgumentException("A Raft server needs a fixed --port: the other servers forward writes to it");
        var node = await RaftNode.CreateAsync(settings, store, storeVersion, loggers, ct).ConfigureAwait(false);
        return new RaftFrontend(node, dataDir, loggers.CreateLogger<RaftFrontend>());
    }

    /// <summary>The agent endpoint this server tells the agents and the other servers (empty with no fixed agent port).</summary>
    private static string AgentEndpointOf(FrontendOptions options, string host)
    {
        if (options.AgentPort <= 0) return "";
        var name = options.AgentServerNames.FirstOrDefault(n => n.Length > 0);
        if (name is null)
        {
            var listen = options.AgentListenAddress.Length > 0 ? options.AgentListenAddress : options.ListenAddress;
            name = listen is "0.0.0.0" or "::" or "[::]" ? host : listen;
            if (IPAddress.TryParse(name, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) name = $"[{name}]";
        }
        return $"https://{name}:{options.AgentPort}";
    }

    /// <summary>Joins the cluster; from now on leadership changes run <see cref="OnLeadershipAsync"/>.</summary>
    public async Task StartAsync(CommandBus bus, Cloud cloud, string datastores, Action resumeInterrupted, CancellationToken ct)
    {
        _cloud = cloud;
        _datastores = datastores;
        _resume = resumeInterrupted;
        _node.Changed += leader => { if (leader) _ = OnLeadershipAsync(); };
        await _node.StartAsync(bus, ct).ConfigureAwait(false);
    }

    private async Task OnLeadershipAsync()
    {
        var cloud = _cloud!;
        for (var attempt = 0; _node.IsLeader && !_stop.IsCancellationRequested; attempt++)
        {
            try
            {
                if (cloud.State.Get(ObjectType.User, 0) is null)
                {
                    var password = PasswordHash.NewPassword();
                    _node.ReplicateSecretWithBootstrap(password);
                    try
                    {
                        if (await cloud.BootstrapAsync(password, _node.Settings.XmlRpcEndpoint, _datastores, _stop.Token).ConfigureAwait(false))
                            _logger.LogInformation("Cloud bootstrapped by Raft server {Id}", _node.ServerId);
                    }
                    finally
                    {
                        _node.ReplicateSecretWithBootstrap(null);
                    }
                }
                await ReplicateAgentCaAsync().ConfigureAwait(false);
                await RecordServersAsync(cloud).ConfigureAwait(false);
                _resume?.Invoke();
                return;
            }
            catch (Exception ex) when (ex is CloudException or OperationCanceledException)
            {
                if (_stop.IsCancellationRequested) return;
                _logger.LogWarning("Leader start-up work failed (attempt {Attempt}): {Reason}", attempt + 1, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Zone 0's SERVER_POOL: every server with its stable id, name, XML-RPC endpoint and Raft address. The first
    /// leader records the --peers list (ids by position); later leaders refresh endpoints they learn, record a
    /// member the membership has but the list lacks (an addserver cut short by a leader change), and drop a server
    /// the membership lost (a leader that deleted itself steps down before it can write the list).
    /// </summary>
    private async Task RecordServersAsync(Cloud cloud)
    {
        var endpoints = await _node.EndpointsAsync(_stop.Token).ConfigureAwait(false);
        var members = _node.Members.OfType<IPEndPoint>().ToList();
        await cloud.Bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Zone>(ObjectType.Zone, 0) is not { } zone) return;
            var servers = zone.Servers.Count > 0 && zone.Servers.All(s => s.Raft.Length > 0)
                ? zone.Servers.ToList()
                : [.. _node.Servers()];
            for (var i = 0; i < servers.Count; i++)
                if (endpoints.TryGetValue(servers[i].Id, out var e) && e != servers[i].Endpoint) servers[i] = servers[i] with { Endpoint = e };
                else if (servers[i].Endpoint.Length == 0) servers[i] = servers[i] with { Endpoint = $"raft://{servers[i].Raft}" };
            // A server the membership no longer has (a leader that deleted itself could not record it).
            if (members.Count > 0) servers.RemoveAll(s => !members.Any(m => Same(s.Raft, m)));
            foreach (var m in members)
            {
                if (servers.Any(s => Same(s.Raft, m))) continue;
                var id = servers.Count == 0 ? 0 : servers.Max(s => s.Id) + 1;
                servers.Add(new ZoneServer(id, $"server-{id}", $"raft://{m}") { Raft = m.ToString() });
            }
            if (zone.Servers.SequenceEqual(servers)) return;
            tx.Put(zone with { Servers = [.. servers] });
        }, _stop.Token).ConfigureAwait(false);
    }

    private static bool Same(string raft, IPEndPoint address)
    {
        try { return raft.Length > 0 && RaftSettings.ParseEndPoint(raft).Equals(address); }
        catch (ArgumentException) { return false; }
    }

    private void WriteOneAuth(string password)
    {
        var content = $"oneadmin:{password}\n";
        if (File.Exists(_oneAuthPath) && File.ReadAllText(_oneAuthPath) == content) return;
        var tmp = _oneAuthPath + ".tmp";
        File.WriteAllText(tmp, content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, _oneAuthPath, overwrite: true);
        _logger.LogInformation("Wrote oneadmin's replicated credentials to {Path}", _oneAuthPath);
    }

    // ---- IWriteForwarder ----

    public bool MustForward => !_node.IsLeader && !_node.LeaderIsLocal;

    public async Task<byte[]?> ForwardAsync(byte[] request, CancellationToken cancellationToken)
    {
        // During an election there is briefly no leader: wait for one (bounded) rather than fail the call at once.
        var endpoint = await _node.LeaderEndpointAsync(cancellationToken).ConfigureAwait(false);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp();
        var patience = TimeSpan.FromMilliseconds(_node.Settings.ElectionTimeoutMaxMs * 3);
        while (endpoint is null && System.Diagnostics.Stopwatch.GetElapsedTime(deadline) < patience && MustForward)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            endpoint = await _node.LeaderEndpointAsync(cancellationToken).ConfigureAwait(false);
        }
        if (endpoint is null || endpoint == _node.Settings.XmlRpcEndpoint) return null;
        try
        {
            using var content = new ByteArrayContent(request);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/xml");
            using var response = await _http.PostAsync(endpoint, content, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return null;
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Could not forward a write to the leader at {Endpoint}: {Reason}", endpoint, ex.Message);
            return null;
        }
    }

    // ---- IAgentZone ----

    public string OwnAgentEndpoint => _node.Settings.AgentEndpoint;

    public Task<string?> LeaderAgentEndpointAsync(CancellationToken ct) => _node.LeaderAgentEndpointAsync(ct);

    /// <summary>Every server's agent endpoint: those the servers tell now, and the last known of the ones that do not answer.</summary>
    public async Task<IReadOnlyList<string>> AgentEndpointsAsync(CancellationToken ct)
    {
        foreach (var (id, e) in await _node.AgentEndpointsAsync(ct).ConfigureAwait(false)) _agentEndpoints[id] = e;
        var ids = _node.Servers().Select(s => s.Id).ToHashSet();
        foreach (var id in _agentEndpoints.Keys.Where(i => !ids.Contains(i)).ToList()) _agentEndpoints.TryRemove(id, out _);
        return [.. _agentEndpoints.OrderBy(kv => kv.Key).Select(kv => kv.Value).Where(e => e.Length > 0).Distinct()];
    }

    // ---- IZoneServers ----

    public IReadOnlyDictionary<int, RaftStatus> States() => _node.ServerStates();

    /// <summary>
    /// one.zone.addserver(zone, "SERVER=[NAME=..., ENDPOINT=..., RAFT_ENDPOINT=...]"): ENDPOINT is the new server's
    /// XML-RPC endpoint (as OpenNebula has it); RAFT_ENDPOINT its Raft address HOST:PORT (default: ENDPOINT's host,
    /// port 2640). The new server runs with --join; the leader brings it up to date, commits the new membership,
    /// and records it in SERVER_POOL with the next free id.
    /// </summary>
    public async Task<int> AddServerAsync(Caller caller, int zoneId, string template, CancellationToken ct)
    {
        var cloud = CheckZone(caller, zoneId, "add a server to");
        Core.Templates.Template parsed;
        try { parsed = Core.Templates.Template.Parse(template); }
        catch (FormatException ex) { throw CloudException.Action("Cannot add a server: the template does not parse: " + ex.Message, zoneId); }
        var vector = parsed.Vector("SERVER") ?? throw CloudException.Action("Cannot add a server: the template has no SERVER=[NAME=..., ENDPOINT=...] attribute.", zoneId);
        var name = vector.Get("NAME") is { Length: > 0 } n ? n : throw CloudException.Action("Cannot add a server: SERVER has no NAME.", zoneId);
        var endpoint = vector.Get("ENDPOINT") is { Length: > 0 } e ? e : throw CloudException.Action("Cannot add a server: SERVER has no ENDPOINT (the new server's XML-RPC endpoint, http://HOST:PORT/RPC2).", zoneId);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw CloudException.Action($"Cannot add a server: ENDPOINT \"{endpoint}\" is not an http(s) URL.", zoneId);
        IPEndPoint raft;
        try { raft = RaftSettings.ParseEndPoint(vector.Get("RAFT_ENDPOINT") is { Length: > 0 } r ? r : $"{url.Host}:{DefaultRaftPort}"); }
        catch (ArgumentException ex) { throw CloudException.Action("Cannot add a server: RAFT_ENDPOINT: " + ex.Message, zoneId); }
        var servers = _node.Servers();
        if (servers.Any(s => s.Name == name)) throw CloudException.Action($"Cannot add a server: a server named \"{name}\" is already in the zone.", zoneId);
        if (servers.Any(s => Same(s.Raft, raft)) || _node.Members.Contains(raft))
            throw CloudException.Action($"Cannot add a server: {raft} is already a member of the zone's Raft cluster.", zoneId);

        _logger.LogInformation("Adding Raft server {Name} at {Raft} ({Endpoint}): bringing it up to date", name, raft, endpoint);
        bool added;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
            cts.CancelAfter(TimeSpan.FromSeconds(60));
            // The catch-up fails at once while the new server is not listening yet (still starting): try again, bounded.
            while (!(added = await _node.AddMemberAsync(raft, cts.Token).ConfigureAwait(false)) && !_node.Members.Contains(raft))
            {
                _logger.LogInformation("Raft server {Raft} could not be brought up to date yet; trying again", raft);
                await Task.Delay(TimeSpan.FromSeconds(1), cts.Token).ConfigureAwait(false);
            }
            added |= _node.Members.Contains(raft);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CloudException(ErrorCode.Replication, $"Cannot add server {raft}: it did not catch up within 60 s, or the leader changed (is it running with --join?).", zoneId);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            throw new CloudException(ErrorCode.Replication, $"Cannot add server {raft}: {ex.Message}", zoneId);
        }
        if (!added) throw new CloudException(ErrorCode.Replication, $"Cannot add server {raft}: it refused the replication or the new membership was not committed (is it running with --join?).", zoneId);
        await cloud.Bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Zone>(ObjectType.Zone, zoneId) is not { } zone) return;
            var list = zone.Servers.ToList();
            list.RemoveAll(s => Same(s.Raft, raft)); // recorded meanwhile under a default name by a leader start-up
            var id = zone.Servers.Count == 0 ? 0 : zone.Servers.Max(s => s.Id) + 1;
            if (zone.Servers.FirstOrDefault(s => Same(s.Raft, raft)) is { } known) id = known.Id;
            list.Add(new ZoneServer(id, name, endpoint) { Raft = raft.ToString() });
            tx.Put(zone with { Servers = [.. list.OrderBy(s => s.Id)] });
        }, ct).ConfigureAwait(false);
        _logger.LogInformation("Raft server {Name} at {Raft} added to the zone", name, raft);
        return zoneId;
    }

    /// <summary>Default Raft port when one.zone.addserver gives no RAFT_ENDPOINT.</summary>
    public const int DefaultRaftPort = 2640;

    /// <summary>
    /// one.zone.delserver(zone, server id): commits the membership without the server (it turns standby and stops
    /// taking part) and drops it from SERVER_POOL. Deleting the leader itself: it resigns first, and the call is
    /// carried out by the next leader.
    /// </summary>
    public async Task<int> DeleteServerAsync(Caller caller, int zoneId, int serverId, CancellationToken ct)
    {
        var cloud = CheckZone(caller, zoneId, "delete a server from");
        var servers = _node.Servers();
        var server = servers.FirstOrDefault(s => s.Id == serverId)
                     ?? throw CloudException.Action($"Cannot delete server {serverId}: zone {zoneId} has no such server.", zoneId);
        var raft = TryAddress(server.Raft) ?? throw CloudException.Action($"Cannot delete server {serverId}: its Raft address \"{server.Raft}\" is unknown.", zoneId);
        var members = _node.Members;
        if (members.Contains(raft) && members.Count <= 1)
            throw CloudException.Action($"Cannot delete server {serverId}: it is the zone's only server.", zoneId);
        if (members.Contains(raft))
        {
            bool removed;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
                cts.CancelAfter(_node.Settings.CommitTimeout);
                removed = await _node.RemoveMemberAsync(raft, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new CloudException(ErrorCode.Replication, $"Cannot delete server {serverId}: the new membership was not committed in time, or the leader changed.", zoneId);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                throw new CloudException(ErrorCode.Replication, $"Cannot delete server {serverId}: {ex.Message}", zoneId);
            }
            if (!removed) throw new CloudException(ErrorCode.Replication, $"Cannot delete server {serverId}: the new membership was not committed.", zoneId);
        }
        try
        {
            await cloud.Bus.ExecuteAsync(tx =>
            {
                if (tx.Get<Zone>(ObjectType.Zone, zoneId) is not { } zone) return;
                if (zone.Servers.All(s => s.Id != serverId)) return;
                tx.Put(zone with { Servers = [.. zone.Servers.Where(s => s.Id != serverId)] });
            }, ct).ConfigureAwait(false);
        }
        catch (CloudException) when (raft.Equals(_node.Settings.Self))
        {
            // The leader removed itself: it no longer leads, so the list is cleaned by the next leader's start-up.
        }
        _logger.LogInformation("Raft server {Id} ({Raft}) deleted from the zone", serverId, raft);
        return zoneId;
    }

    private static IPEndPoint? TryAddress(string raft)
    {
        try { return raft.Length == 0 ? null : RaftSettings.ParseEndPoint(raft); }
        catch (ArgumentException) { return null; }
    }

    private Cloud CheckZone(Caller caller, int zoneId, string what)
    {
        var cloud = _cloud ?? throw CloudException.Internal("The front-end is still starting.");
        if (!caller.IsAdmin) throw new CloudException(ErrorCode.Authorization, $"Not authorized to {what} zone {zoneId}: only oneadmin's group manages the zone's servers.", zoneId);
        if (cloud.State.Get<Zone>(ObjectType.Zone, zoneId) is null) throw CloudException.NotFound(ObjectType.Zone, zoneId);
        if (zoneId != 0) throw CloudException.Action($"Zone {zoneId} is not the zone this front-end serves (0).", zoneId);
        return cloud;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _node.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }
}
