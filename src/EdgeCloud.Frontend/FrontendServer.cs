using System.Net;
using EdgeCloud.Api.OneApi;
using EdgeCloud.Core;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using EdgeCloud.Frontend.Agents;
using EdgeCloud.Frontend.Drivers;
using EdgeCloud.Frontend.HighAvailability;
using EdgeCloud.Frontend.Monitoring;
using EdgeCloud.Frontend.Scheduling;
using EdgeCloud.Frontend.Storage;
using EdgeCloud.Requests;
using EdgeCloud.Requests.Auth;
using EdgeCloud.Scheduler;
using EdgeCloud.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend;

/// <summary>
/// One front-end: store → state → command bus → request rules → drivers, monitor and scheduler →
/// XML-RPC listener, started in that order and stopped in reverse. Tests start it in-process on a
/// temporary directory and port 0; <c>edgecloud frontend</c> starts it from the command line.
/// </summary>
public sealed class FrontendServer : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly IStateStore _store;
    private readonly CommandBus _bus;
    private readonly ILogger _logger;
    private int _stopped;

    /// <summary>The Raft member when this front-end is one server of a cluster (--raft); null when stand-alone.</summary>
    public RaftFrontend? Raft { get; private init; }

    private FrontendServer(WebApplication web, IStateStore store, CommandBus bus, Cloud cloud, Uri endpoint, string oneAuthPath, ILogger logger)
    {
        _web = web;
        _store = store;
        _bus = bus;
        Cloud = cloud;
        Endpoint = endpoint;
        OneAuthPath = oneAuthPath;
        _logger = logger;
    }

    public Cloud Cloud { get; }

    /// <summary>http://address:port/RPC2.</summary>
    public Uri Endpoint { get; }

    /// <summary>https://address:port of the host agents' gRPC endpoint (null when disabled).</summary>
    public Uri? AgentEndpoint { get; private init; }

    /// <summary>DATA/one_auth: "oneadmin:PASSWORD", as OpenNebula's ~/.one/one_auth.</summary>
    public string OneAuthPath { get; }

    public string OneAdminSession => File.ReadAllText(OneAuthPath).Trim();

    public IServiceProvider Services => _web.Services;

    public string StoreBackend => _store.Backend;

    public static async Task<FrontendServer> StartAsync(FrontendOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.DataDir);
        var dataDir = Path.GetFullPath(options.DataDir);
        // The empty builder: no appsettings files and so no file watcher on the content root (which would
        // otherwise wake on every write the store makes to the data directory). Settings come from options.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = dataDir, EnvironmentName = "Production" });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else AddConsoleLogging(builder.Logging, options.LogFormat);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Start-up failures are reported once, by us, in one line (not as the host's stack trace).
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // Signals are handled by the caller (edgecloud frontend); the host must not hold process exit.
        builder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
        // Host agents: their own port, HTTP/2 over TLS with the front-end CA's certificate; a client
        // certificate is asked for (not required: joining agents have none yet) and checked per call.
        // A stand-alone front-end keeps its agent CA in DATA/pki; a Raft server gets the zone's CA from the replicated
        // state (the listener refuses TLS until it is known).
        var agentNames = options.AgentServerNames.Append(options.ListenAddress).Append(options.AgentListenAddress);
        var pki = options.AgentPort < 0 ? null
            : options.Raft.Length > 0 ? AgentPki.Replicated(agentNames)
            : AgentPki.LoadOrCreate(Path.Combine(dataDir, "pki"), agentNames);
        if (pki is not null) builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null; // the endpoint enforces CloudSettings.MaxRequestBytes with a proper fault
            k.Listen(IPAddress.Parse(options.ListenAddress), options.Port);
            if (pki is not null)
            {
                var agentAddress = IPAddress.Parse(options.AgentListenAddress.Length > 0 ? options.AgentListenAddress : options.ListenAddress);
                k.Listen(agentAddress, options.AgentPort, l =>
                {
                    // HTTP/2 for the gRPC stream, HTTP/1.1 too for plain downloads (images for the replica caches).
                    l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
                    l.UseHttps(h =>
                    {
                        // Chosen per handshake: a Raft server's certificate changes when the zone's CA arrives.
                        h.ServerCertificateSelector = (_, _) => pki.Server;
                        h.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                        // Chain and host checks are the hub's (AgentPki.HostOf): accept here, decide there.
                        h.ClientCertificateValidation = (_, _, _) => true;
                    });
                });
            }
        });

        var loggerFactory = LoggerFactory.Create(b => { if (logging is not null) logging(b); else AddConsoleLogging(b, options.LogFormat); });
        var logger = loggerFactory.CreateLogger<FrontendServer>();
        var connection = options.Database.Length > 0 ? options.Database : Path.Combine(dataDir, "edgecloud.db");
        var store = StateStoreFactory.Create(connection, loggerFactory);
        await store.InitializeAsync(ct).ConfigureAwait(false);
        var stored = await store.LoadAsync(ct).ConfigureAwait(false);
        // ---- High availability: with --raft the replicated log is the change log, its snapshot the initial state.
        RaftFrontend? raft = null;
        if (options.Raft.Length > 0)
        {
            try { raft = await RaftFrontend.CreateAsync(options, dataDir, store, stored.Version, loggerFactory, ct).ConfigureAwait(false); }
            catch { await store.DisposeAsync().ConfigureAwait(false); throw; }
        }
        ILeadership leadership = (ILeadership?)raft?.Node ?? AlwaysLeader.Instance;
        var snapshot = raft?.Node.InitialState ?? StateSnapshot.Load(stored.Objects, stored.Sequences, stored.Version);
        var time = TimeProvider.System;
        var settings = new CloudSettings();
        var monitoring = new MonitoringStore();

        Cloud? cloud = null;
        Func<Cloud> cloudRef = () => cloud ?? throw new InvalidOperationException("front-end not started");
        var hub = pki is null ? null : new AgentHub(cloudRef, pki, monitoring, options, time, loggerFactory.CreateLogger<AgentHub>(), leadership, raft);
        if (pki is not null) raft?.UseAgentPki(pki);
        hub?.WatchLeadership();
        var vmDrivers = new List<IVmDriver> { new DummyVmDriver(TimeSpan.FromSeconds(options.DummyActionDelay), time) };
        if (hub is not null)
            vmDrivers.AddRange(new[] { "kvm", "lxc" }.Select(n => new AgentVmDriver(n, hub, cloudRef, TimeSpan.FromSeconds(options.AgentActionTimeout))));
        var runner = new DriverRunner(cloudRef, vmDrivers, loggerFactory.CreateLogger<DriverRunner>());
        var bus = new CommandBus(snapshot, (IChangeLog?)raft?.Node ?? new StoreChangeLog(store), time, loggerFactory.CreateLogger<CommandBus>());
        cloud = new Cloud(bus, settings, time, runner);
        // ---- networking: external IPAM drivers and elastic-IP hooks (docs/networking.md)
        var netTimeout = TimeSpan.FromSeconds(options.NetworkDriverTimeout);
        cloud.Ipam = new EdgeCloud.Frontend.Networking.ExternalIpamDrivers(options.IpamDrivers.Length > 0 ? options.IpamDrivers : Path.Combine(dataDir, "ipam"), netTimeout);
        var ipamLogger = loggerFactory.CreateLogger<EdgeCloud.Frontend.Networking.IpamReleaser>();
        cloud.IpamFreeFailed = (mad, ip, reason) => ipamLogger.LogWarning("IPAM {Driver}: giving back {Ip} failed: {Reason}", mad, ip, reason);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(time);
        services.AddSingleton(bus);
        services.AddSingleton(cloud);
        services.AddSingleton(monitoring);
        services.AddSingleton<IMonitoringSource>(monitoring);
        services.AddSingleton(runner);
        services.AddSingleton<IDriverDispatcher>(runner);
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, runner, loggerFactory));
        services.AddSingleton<IHostProbe>(new DummyHostProbe(options.DummyHostCpu, options.DummyHostMemoryMb, options.DummyHostDiskMb));
        if (hub is not null)
        {
            services.AddSingleton(hub);
            services.AddSingleton(pki!);
            foreach (var n in new[] { "kvm", "qemu", "lxc" }) services.AddSingleton<IHostProbe>(new AgentHostProbe(n, hub, options, time));
            services.AddGrpc();
            services.AddSingleton<SecurityGroupUpdater>();
            services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<SecurityGroupUpdater>(), loggerFactory));
            // Replica hosts keep checkpoints only of VMs that still exist (docs/agent.md).
            services.AddSingleton<CheckpointCollector>();
            services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<CheckpointCollector>(), loggerFactory));
        }
        services.AddSingleton<Func<Cloud>>(cloudRef);
        services.AddSingleton<HostMonitor>();
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<HostMonitor>(), loggerFactory));
        services.AddSingleton<HostFailureRecovery>();
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<HostFailureRecovery>(), loggerFactory));
        // Every front-end (Raft followers too) keeps DATA/vms/VMID.log, as oned's /var/log/one/VMID.log.
        services.AddSingleton(sp => new VmLog(Path.Combine(dataDir, "vms"), time, sp.GetRequiredService<ILogger<VmLog>>()));
        services.AddSingleton<DummyStorageAndNetwork>();
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<DummyStorageAndNetwork>(), loggerFactory));
        services.AddSingleton(new PlacementEngine(SchedulerOptionsFrom(options), time));
        services.AddSingleton<SchedulerService>();
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<SchedulerService>(), loggerFactory));
        // ---- storage: the fs datastore driver, the http marketplace driver (see docs/storage.md)
        var storageHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        var importer = new EdgeCloud.Storage.ImageImporter(EdgeCloud.Storage.QemuImg.IsAvailable(options.QemuImg) ? new EdgeCloud.Storage.QemuImg(options.QemuImg) : null, storageHttp);
        services.AddSingleton(importer);
        services.AddSingleton(sp => new FsDatastoreDriver(cloudRef, options, importer, sp.GetRequiredService<ILogger<FsDatastoreDriver>>()));
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<FsDatastoreDriver>(), loggerFactory));
        // storage: disk save-as and backups uploaded by the hosts, restores of backups
        services.AddSingleton(sp => new HostCopyStore(cloudRef, sp.GetRequiredService<FsDatastoreDriver>(), importer, sp.GetRequiredService<ILogger<HostCopyStore>>()));
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<HostCopyStore>(), loggerFactory));
        services.AddSingleton(sp => new HttpMarketDriver(cloudRef, options, storageHttp, importer, sp.GetRequiredService<ILogger<HttpMarketDriver>>()));
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<HttpMarketDriver>(), loggerFactory));
        // ---- end storage
        services.AddSingleton(sp => new EdgeCloud.Frontend.Networking.IpamReleaser(cloudRef, sp.GetRequiredService<ILogger<EdgeCloud.Frontend.Networking.IpamReleaser>>()));
        services.AddSingleton(sp => new EdgeCloud.Frontend.Networking.ElasticIpBinder(cloudRef,
            new EdgeCloud.Frontend.Networking.ElasticIpHookDirectory(options.ElasticIpHooks.Length > 0 ? options.ElasticIpHooks : Path.Combine(dataDir, "elastic-ip"), netTimeout),
            sp.GetRequiredService<ILogger<EdgeCloud.Frontend.Networking.ElasticIpBinder>>()));
        services.AddSingleton<IHostedService>(sp => LeaderOnlyService.Wrap(leadership, sp.GetRequiredService<EdgeCloud.Frontend.Networking.ElasticIpBinder>(), loggerFactory));

        var renderContext = new RenderContext(monitoring, settings.DefaultUserQuotas, settings.DefaultGroupQuotas);
        services.AddSingleton(new XmlCache(renderContext));
        services.AddSingleton(sp =>
        {
            var methods = new OneMethods(cloud, () => SystemConfigFor(options, settings), () => raft?.Node.Status() ?? new RaftStatus(), monitoring) { ZoneServers = raft };
            if (pki is not null)
            {
                // EdgeCloud extension: one.host.jointoken(session, host id, lifetime seconds) → a one-time join token for the host's agent.
                methods.Extend("one.host.jointoken", async (c, a, ct) =>
                {
                    var hostId = a.Int(0);
                    var ttl = a.Int(1, 3600);
                    var secret = await cloud.HostJoinSecretAsync(c, hostId, TimeSpan.FromSeconds(ttl), ct).ConfigureAwait(false);
                    return Reply.Of(pki.JoinToken(hostId, secret));
                });
            }
            return methods;
        });
        if (raft is not null) services.AddSingleton<IWriteForwarder>(raft);
        services.AddSingleton<XmlRpcEndpoint>();

        var web = builder.Build();
        bus.Subscribe(web.Services.GetRequiredService<HostMonitor>());
        web.Services.GetRequiredService<VmLog>().Attach(bus);
        if (hub is not null)
        {
            hub.FirstReport = web.Services.GetRequiredService<HostMonitor>().ProbeSoon;
            bus.Subscribe(web.Services.GetRequiredService<SecurityGroupUpdater>());
            bus.Subscribe(web.Services.GetRequiredService<CheckpointCollector>());
        }
        bus.Subscribe(web.Services.GetRequiredService<DummyStorageAndNetwork>());
        bus.Subscribe(web.Services.GetRequiredService<SchedulerService>());
        bus.Subscribe(web.Services.GetRequiredService<FsDatastoreDriver>()); // storage
        bus.Subscribe(web.Services.GetRequiredService<HostCopyStore>()); // storage
        web.Services.GetRequiredService<HostCopyStore>().Map(web, ctx => hub is not null && hub.IsAgentRequest(ctx) ? hub.Pki.HostOf(ctx.Connection.ClientCertificate) : null);
        bus.Subscribe(web.Services.GetRequiredService<HttpMarketDriver>()); // storage
        bus.Subscribe(web.Services.GetRequiredService<EdgeCloud.Frontend.Networking.IpamReleaser>()); // networking
        bus.Subscribe(web.Services.GetRequiredService<EdgeCloud.Frontend.Networking.ElasticIpBinder>()); // networking
        // storage: GET/HEAD /images/{id}; host agents (their certificate on the agents' port) need no session
        ImageEndpoint.Map(web, cloudRef, hub is null ? null : ctx => hub.IsAgentRequest(ctx), loggerFactory.CreateLogger("EdgeCloud.Frontend.Storage.ImageEndpoint"));
        var endpointHandler = web.Services.GetRequiredService<XmlRpcEndpoint>();
        web.MapPost("/RPC2", endpointHandler.HandleAsync);
        web.MapPost("/", endpointHandler.HandleAsync);
        if (hub is not null) web.MapGrpcService<AgentHub>();

        // First start: oneadmin with a random password, written to DATA/one_auth as OpenNebula does.
        var oneAuth = Path.Combine(dataDir, "one_auth");
        if (raft is not null)
        {
            // A Raft server: the leader bootstraps (once, replicated) and every server writes one_auth from the log.
            await raft.StartAsync(bus, cloud, Path.Combine(dataDir, "datastores"), () => ResumeInterrupted(cloud, runner, logger), ct).ConfigureAwait(false);
        }
        else
        {
        var password = PasswordHash.NewPassword();
        var created = await cloud.BootstrapAsync(password, $"http://{options.ListenAddress}:{options.Port}/RPC2", Path.Combine(dataDir, "datastores"), ct).ConfigureAwait(false);
        if (created || !File.Exists(oneAuth))
        {
            if (!created)
            {
                // The database exists but its credentials file is gone: give oneadmin a new password.
                var admin = Caller.System;
                await cloud.UserPasswdAsync(admin, 0, password, ct).ConfigureAwait(false);
            }
            await WriteSecretAsync(oneAuth, $"oneadmin:{password}\n", ct).ConfigureAwait(false);
        }
        }

        try
        {
            await web.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Leave nothing running behind a failed start (a half-started host would keep the process alive).
            logger.LogError("Front-end could not start: {Reason}", ex.Message);
            await ShutdownAsync(web, bus, store, raft).ConfigureAwait(false);
            throw new InvalidOperationException(ex.Message, ex);
        }
        var addresses = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal));
        var endpoint = new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), "/RPC2");
        var agentAddress = addresses.FirstOrDefault(a => a.StartsWith("https://", StringComparison.Ordinal));
        var agentEndpoint = agentAddress is null ? null : new Uri(agentAddress.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        if (raft is null) ResumeInterrupted(cloud, runner, logger);
        logger.LogInformation("EdgeCloud front-end ready on {Endpoint} (store: {Backend}, data: {DataDir}, {Objects} objects)",
            endpoint, store.Backend, dataDir, stored.Objects.Count);
        if (agentEndpoint is not null) logger.LogInformation("Host agents join and connect at {AgentEndpoint}", agentEndpoint);
        return new FrontendServer(web, store, bus, cloud, endpoint, oneAuth, logger) { AgentEndpoint = agentEndpoint, Raft = raft };
    }

    /// <summary>
    /// VMs caught in a transient state when the front-end stopped: their driver action is issued again
    /// (driver actions are idempotent for a VM and history record), so nothing stays stuck.
    /// </summary>
    private static void ResumeInterrupted(Cloud cloud, DriverRunner runner, ILogger logger)
    {
        var n = 0;
        foreach (var vm in cloud.State.All<Vm>(ObjectType.Vm))
        {
            if (vm.State != VmState.ACTIVE || vm.LastHistory is not { } h) continue;
            if (!VmLifeCycle.IsTransient(vm.LcmState)) continue;
            // The action as it was sent (same id: an agent that already ran it answers without running it again).
            var op = vm.DriverOp ?? VmLifeCycle.DefaultOp(vm.LcmState);
            if (op is null) continue;
            runner.Enqueue(new DriverRequest(vm.Id, op.Value, h.Hid, h.Seq, vm.DriverOp is null ? "" : vm.DriverArgument, vm.DriverActions));
            n++;
        }
        if (n > 0) logger.LogInformation("Resumed {Count} interrupted VM actions", n);
    }

    /// <summary>
    /// One line per event: JSON lines (timestamp, level, category, message and every structured field)
    /// when the output is not a terminal or "json" is asked for; readable single lines on a terminal.
    /// </summary>
    public static void AddConsoleLogging(ILoggingBuilder logging, string format)
    {
        var json = format switch
        {
            "json" => true,
            "text" => false,
            _ => Console.IsOutputRedirected,
        };
        if (json)
            logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.JsonWriterOptions = new() { Indented = false }; });
        else
            logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
    }

    private static SchedulerOptions SchedulerOptionsFrom(FrontendOptions o) => new()
    {
        Policy = o.SchedulerPolicy.ToLowerInvariant() switch
        {
            "packing" => HostPolicy.Packing,
            "striping" => HostPolicy.Striping,
            "load-aware" or "load_aware" or "loadaware" => HostPolicy.LoadAware,
            "custom" => HostPolicy.Custom,
            var p => throw new ArgumentException($"Unknown scheduler policy \"{p}\": use packing, striping, load-aware or custom"),
        },
        Rank = o.SchedulerRank.Length > 0 ? o.SchedulerRank : null,
        MaxDispatchPerCycle = o.MaxDispatchPerCycle > 0 ? o.MaxDispatchPerCycle : null,
        MaxPerHostPerCycle = o.MaxDispatchPerHost > 0 ? o.MaxDispatchPerHost : null,
    };

    private static SystemConfig SystemConfigFor(FrontendOptions o, CloudSettings s) => new()
    {
        Port = o.Port,
        MonitoringIntervalHost = (int)Math.Max(1, o.MonitorInterval),
        DefaultUmask = Convert.ToString(s.DefaultUmask, 8),
    };

    private static async Task WriteSecretAsync(string path, string content, CancellationToken ct)
    {
        var tmp = path + ".tmp";
        await File.WriteAllTextAsync(tmp, content, ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Stops accepting calls, lets the writer finish, stops the background services, closes the store.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _logger.LogInformation("EdgeCloud front-end stopping");
        await ShutdownAsync(_web, _bus, _store, Raft).ConfigureAwait(false);
        _logger.LogInformation("EdgeCloud front-end stopped");
    }

    private static async Task ShutdownAsync(WebApplication web, CommandBus bus, IStateStore store, RaftFrontend? raft = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await web.StopAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await bus.DisposeAsync().ConfigureAwait(false);
        if (raft is not null) await raft.DisposeAsync().ConfigureAwait(false);
        await store.DisposeAsync().ConfigureAwait(false);
        await web.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A host lifetime that leaves signals and process exit to the program that owns the front-end.</summary>
    private sealed class ExternalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
