using System.CommandLine;
using System.Runtime.InteropServices;
using EdgeCloud.Agent;
using EdgeCloud.Core.Drivers;
using EdgeCloud.HostNetwork;
using EdgeCloud.Hypervisor;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Cli;

/// <summary>
/// <c>edgecloud agent --frontend URL --join-token TOKEN --data DIR</c>: the host agent. The first start
/// joins with the token; later starts reuse the certificate in DATA/identity (no token needed).
/// </summary>
public static class AgentCommand
{
    public static Command Build()
    {
        var data = new Option<string>("--data") { Description = "Directory of the agent's local state (identity, VMs, journal, disks)", Required = true };
        var frontend = new Option<string?>("--frontend") { Description = "The front-end's agent endpoint, https://HOST:2634 (first start); a Raft zone's servers may be listed: URL1,URL2,..." };
        var token = new Option<string?>("--join-token") { Description = "One-time join token from `edgecloud host join-token HOST` (first start)" };
        var hypervisor = new Option<string?>("--hypervisor") { Description = "kvm (libvirt/QEMU), lxc or dummy; default: kvm" };
        var logFormat = new Option<string?>("--log-format") { Description = "json, text or auto (default)" };
        var listen = new Option<string?>("--listen") { Description = "ADDRESS:PORT of the endpoint peers pull migrating VMs from (default 0.0.0.0:2635; port 0 = any)" };
        var advertise = new Option<string?>("--advertise") { Description = "Host name or address peers reach this host by (default: the machine name)" };
        var libvirtUri = new Option<string?>("--libvirt-uri") { Description = "libvirt URI of this host's hypervisor (kvm; default qemu:///system)" };
        var migrationUri = new Option<string?>("--migration-uri") { Description = "libvirt URI other hosts live-migrate VMs to (default: --libvirt-uri when it names a host, else qemu+tcp://ADVERTISE/system)" };
        var cmd = new Command("agent", "Run the host agent: joins a front-end and runs its VMs on this host") { data, frontend, token, hypervisor, logFormat, listen, advertise, libvirtUri, migrationUri };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new AgentOptions
            {
                DataDir = parse.GetValue(data)!,
                FrontendUrl = parse.GetValue(frontend) ?? "",
                JoinToken = parse.GetValue(token) ?? "",
                Listen = parse.GetValue(listen) ?? "0.0.0.0:2635",
                Advertise = parse.GetValue(advertise) ?? Environment.MachineName,
                LibvirtUri = parse.GetValue(libvirtUri) ?? "qemu:///system",
                MigrationUri = parse.GetValue(migrationUri) ?? "",
            };
            return await RunAsync(options, parse.GetValue(hypervisor) ?? "kvm", parse.GetValue(logFormat) ?? "auto", ct).ConfigureAwait(false);
        });
        return cmd;
    }

    public static async Task<int> RunAsync(AgentOptions options, string hypervisorName, string logFormat, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var loggerFactory = LoggerFactory.Create(b => EdgeCloud.Frontend.FrontendServer.AddConsoleLogging(b, logFormat));
        var logger = loggerFactory.CreateLogger("agent");
        Directory.CreateDirectory(options.DataDir);

        AgentIdentity identity;
        try
        {
            identity = AgentIdentity.Load(options.DataDir) ?? await JoinAsync(options, stop.Token).ConfigureAwait(false);
            // More front-ends of the zone given on the command line: the agent may go to any of them.
            identity.LearnFrontends(FrontendUrls(options), replace: false);
        }
        catch (Exception ex) when (ex is ArgumentException or RpcException or HttpRequestException or IOException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync($"edgecloud agent: {(ex is RpcException r ? r.Status.Detail : ex.Message)}").ConfigureAwait(false);
            return 1;
        }
        using (identity)
        {
            IHypervisor hv;
            IHostNetwork? network;
            try
            {
                (hv, network) = await HostDrivers.CreateAsync(hypervisorName, options, loggerFactory, stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HostDriverException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"edgecloud agent: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            var state = new LocalState(options.DataDir);
            var disks = HostDrivers.Disks(options, identity);
            AgentFileServer files;
            try
            {
                files = await AgentFileServer.StartAsync(System.Net.IPEndPoint.Parse(options.Listen), options.Advertise, identity, state, disks, loggerFactory, stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or FormatException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"edgecloud agent: cannot listen on {options.Listen}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            await using (files.ConfigureAwait(false))
            {
                var service = HostDrivers.Service(identity, state, hv, network, options, disks, files, logger);
                Console.WriteLine($"agent: host {identity.HostId} ({identity.HostName}), front-ends {string.Join(",", identity.Frontends)}, hypervisor {hv.Name}, peers {files.Advertised}");
                await service.RunAsync(stop.Token).ConfigureAwait(false);
            }
            logger.LogInformation("Agent stopped (VMs keep running)");
        }
        return 0;
    }

    private static Task<AgentIdentity> JoinAsync(AgentOptions options, CancellationToken ct)
    {
        if (options.JoinToken.Length == 0 || options.FrontendUrl.Length == 0)
            throw new ArgumentException("This agent has not joined a front-end yet: give --frontend https://HOST:2634 and --join-token (from `edgecloud host join-token HOST`).");
        return AgentIdentity.JoinAsync(options.DataDir, FrontendUrls(options)[0], options.JoinToken, ct);
    }

    private static string[] FrontendUrls(AgentOptions options) =>
        options.FrontendUrl.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Which host drivers an agent runs, by hypervisor name.</summary>
public static class HostDrivers
{
    /// <summary>The agent's storage step: its replica cache, fed from the front-end it joined.</summary>
    public static LocalDisks Disks(AgentOptions options, AgentIdentity identity) =>
        LocalDisks.ForAgent(options.DataDir, new Uri(identity.FrontendUrl), identity.CreateHttpHandler(), options.CacheMb << 20);

    /// <summary>An agent wired up: executor (storage, network, hypervisor, migrations from peers) and the stream service.</summary>
    public static AgentService Service(AgentIdentity identity, LocalState state, IHypervisor hv, IHostNetwork? network, AgentOptions options, LocalDisks disks, AgentFileServer files, ILogger logger)
    {
        var executor = new CommandExecutor(state, hv, network, disks, options, logger, new MigrationReceiver(disks)) { CheckpointStore = files.Checkpoints };
        // Periodic checkpoints of VMs' disks to the cluster's replica: kvm (libvirt external disk snapshots).
        if (hv is KvmHypervisor kvm) executor.Checkpoints = new VmCheckpointer(state, executor, new KvmDiskCheckpoints(kvm.Options), disks, logger);
        return new AgentService(identity, state, executor, new HostFactsReader(options.DataDir), options, logger)
        {
            CheckpointStore = files.Checkpoints,
            ExtraFacts = hv is KvmHypervisor
                ? new Dictionary<string, string> { ["AGENT_ENDPOINT"] = files.Advertised.ToString().TrimEnd('/'), ["LIBVIRT_MIGRATION_URI"] = options.EffectiveMigrationUri }
                : new Dictionary<string, string> { ["AGENT_ENDPOINT"] = files.Advertised.ToString().TrimEnd('/') },
        };
    }

    public static async Task<(IHypervisor, IHostNetwork?)> CreateAsync(string name, AgentOptions options, ILoggerFactory logs, CancellationToken ct)
    {
        switch (name)
        {
            case "kvm" or "qemu":
                // libvirtd is started by hand where no init system runs it (edge boxes, containers).
                await new LibvirtDaemon(options.LibvirtUri).EnsureRunningAsync(ct).ConfigureAwait(false);
                return (new KvmHypervisor(new KvmOptions { Uri = options.LibvirtUri }), new LinuxHostNetwork());
            case "lxc":
                return (new LxcHypervisor(), new LinuxHostNetwork());
        }
        return await (name switch
        {
            // EDGECLOUD_DUMMY_DELAY_MS: how long a dummy shutdown takes (tests of actions cut short by a crash).
            "dummy" => Task.FromResult<(IHypervisor, IHostNetwork?)>((new DummyHypervisor(TimeSpan.FromMilliseconds(
                int.TryParse(Environment.GetEnvironmentVariable("EDGECLOUD_DUMMY_DELAY_MS"), out var ms) ? ms : 0)), null)),
            _ => throw new ArgumentException($"Unknown hypervisor \"{name}\": use kvm, lxc or dummy."),
        }).ConfigureAwait(false);
    }
}
