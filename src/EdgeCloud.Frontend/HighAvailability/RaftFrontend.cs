using System.Net;
using EdgeCloud.Api.OneApi;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using EdgeCloud.Raft;
using EdgeCloud.Requests;
using EdgeCloud.Requests.Auth;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.HighAvailability;

/// <summary>
/// A front-end as one server of a Raft cluster: the node (log, elections, replication), the write
/// forwarding of a follower, the zone's server list, and what a server does when it becomes the
/// leader — bootstrap the cloud if nobody did (the bootstrap entry carries oneadmin's password, so
/// every server writes the same one_auth from the replicated state), record the servers in zone 0,
/// and re-issue interrupted driver actions.
/// </summary>
public sealed class RaftFrontend : IWriteForwarder, IZoneServers, IAsyncDisposable
{
    private readonly RaftNode _node;
    private readonly string _oneAuthPath;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private Cloud? _cloud;
    private Action? _resume;
    private string _datastores = "";

    private RaftFrontend(RaftNode node, string oneAuthPath, ILogger logger)
    {
        _node = node;
        _oneAuthPath = oneAuthPath;
        _logger = logger;
        _http = new HttpClient { Timeout = node.Settings.CommitTimeout + TimeSpan.FromSeconds(5) };
        _node.SecretKnown += WriteOneAuth;
        if (_node.Secret is { } s) WriteOneAuth(s);
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
            ElectionTimeoutMinMs = options.RaftElectionTimeoutMin,
            ElectionTimeoutMaxMs = options.RaftElectionTimeoutMax,
            SnapshotEvery = options.RaftSnapshotEvery,
            CommitTimeout = TimeSpan.FromSeconds(Math.Max(1, options.RaftCommitTimeout)),
        };
        if (options.Port == 0) throw new ArgumentException("A Raft server needs a fixed --port: the other servers forward writes to it");
        var node = await RaftNode.CreateAsync(settings, store, storeVersion, loggers, ct).ConfigureAwait(false);
        return new RaftFrontend(node, Path.Combine(dataDir, "one_auth"), loggers.CreateLogger<RaftFrontend>());
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

    /// <summary>Zone 0's SERVER_POOL: every server with its id (position in --peers), name and XML-RPC endpoint.</summary>
    private async Task RecordServersAsync(Cloud cloud)
    {
        var endpoints = await _node.EndpointsAsync(_stop.Token).ConfigureAwait(false);
        var servers = _node.Settings.Peers.Select((p, i) => new ZoneServer(i, $"server-{i}", endpoints.TryGetValue(i, out var e) ? e : $"raft://{p}")).ToList();
        await cloud.Bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Zone>(ObjectType.Zone, 0) is not { } zone) return;
            if (zone.Servers.SequenceEqual(servers)) return;
            tx.Put(zone with { Servers = [.. servers] });
        }, _stop.Token).ConfigureAwait(false);
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

    // ---- IZoneServers ----

    public IReadOnlyDictionary<int, RaftStatus> States() => _node.ServerStates();

    public Task<int> AddServerAsync(Caller caller, int zoneId, string template, CancellationToken ct) =>
        Task.FromException<int>(CloudException.Action(
            "Cannot add a server at run time: the Raft servers are the --peers list, the same on every server. " +
            "Stop the servers, add the new address to every --peers list, and start them again.", zoneId));

    public Task<int> DeleteServerAsync(Caller caller, int zoneId, int serverId, CancellationToken ct) =>
        Task.FromException<int>(CloudException.Action(
            "Cannot delete a server at run time: the Raft servers are the --peers list, the same on every server. " +
            "Stop the servers, remove the address from every --peers list, and start them again.", zoneId));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _node.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }
}
