using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using EdgeCloud.Agent;
using EdgeCloud.Client;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Frontend;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Cli;

/// <summary>
/// <c>edgecloud up</c>: a whole cloud in one command. A front-end on embedded SQLite, this machine as a
/// host through a local agent (kvm when it can run guests, simulated otherwise), the default
/// datastores, a private network, a tiny bootable image built from the distribution's packages and a
/// template for it; then the endpoint, the credentials and three commands to try. Ctrl-C stops the
/// front-end and the agent (VMs keep running and are picked up again); a second run reuses DATA.
/// </summary>
public static class UpCommand
{
    public const string NetworkName = "private";
    public const string ImageName = "tiny";
    public const string TemplateName = "tiny";
    public const string LocalHostName = "localhost";

    /// <summary>
    /// /var/lib/edgecloud for root (QEMU runs as libvirt's own user and must reach the VM directories,
    /// which a private home directory does not allow), ~/.edgecloud otherwise.
    /// </summary>
    public static string DefaultDataDir => IsRoot()
        ? "/var/lib/edgecloud"
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".edgecloud");

    private static bool IsRoot() => OperatingSystem.IsLinux() && geteuid() == 0;

    public static Command Build()
    {
        var data = new Option<string?>("--data") { Description = "State directory (default /var/lib/edgecloud as root, else ~/.edgecloud)" };
        var port = new Option<int?>("--port") { Description = "XML-RPC port (default 2633)" };
        var agentPort = new Option<int?>("--agent-port") { Description = "Port the agents connect to (default 2634)" };
        var db = new Option<string?>("--db") { Description = "Database: a PostgreSQL connection string (default: SQLite in the state directory)" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML file with front-end settings (see docs/configuration.md)" };
        var dummyHosts = new Option<int>("--dummy-hosts") { Description = "Also add N simulated hosts (to try scale)", DefaultValueFactory = _ => 0 };
        var hypervisor = new Option<string?>("--hypervisor") { Description = "The local host's hypervisor: kvm, dummy, or auto (default: kvm when this machine can run guests)" };
        var noImage = new Option<bool>("--no-image") { Description = "Do not build the tiny test image" };
        var cmd = new Command("up", "Start a complete cloud on this machine: front-end, local host, network, image, template")
            { data, port, agentPort, db, config, dummyHosts, hypervisor, noImage };
        cmd.SetAction(async (parse, ct) =>
        {
            FrontendOptions options;
            try
            {
                options = new FrontendOptions { DataDir = parse.GetValue(data) ?? DefaultDataDir, MonitorInterval = 5, SchedulerInterval = 2 };
                if (parse.GetValue(config) is { } file) options = ConfigFile.Apply(options, file.FullName);
                if (parse.GetValue(data) is { } d) options = options with { DataDir = d };
                if (parse.GetValue(port) is int p) options = options with { Port = p };
                if (parse.GetValue(agentPort) is int ap) options = options with { AgentPort = ap };
                if (parse.GetValue(db) is { } conn) options = options with { Database = conn };
                if (options.AgentPort < 0) throw new ArgumentException("edgecloud up needs the agents' port (--agent-port must not be -1).");
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"edgecloud up: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            return await RunAsync(options, parse.GetValue(dummyHosts), parse.GetValue(hypervisor) ?? "auto", !parse.GetValue(noImage), ct).ConfigureAwait(false);
        });
        return cmd;
    }

    private static async Task<int> RunAsync(FrontendOptions options, int dummyHosts, string hypervisor, bool buildImage, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        Directory.CreateDirectory(options.DataDir);
        var dataDir = Path.GetFullPath(options.DataDir);
        options = options with { DataDir = dataDir };
        // The front-end's own log goes to a file: the terminal is for what the operator needs to read.
        var logFile = Path.Combine(dataDir, "edgecloud.log");
        using var logWriter = new StreamWriter(logFile, append: true) { AutoFlush = true };
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FileLoggerProvider(logWriter)).SetMinimumLevel(LogLevel.Information));
        var log = loggerFactory.CreateLogger("up");

        var simulatedBecause = "--hypervisor dummy";
        if (hypervisor == "auto")
        {
            hypervisor = CanRunGuests(out var cannot) ? "kvm" : "dummy";
            simulatedBecause = $"this machine cannot run guests: {cannot}";
        }
        if (hypervisor is not ("kvm" or "dummy"))
        {
            await Console.Error.WriteLineAsync($"edgecloud up: unknown hypervisor \"{hypervisor}\": use kvm, dummy or auto").ConfigureAwait(false);
            return 2;
        }
        if (hypervisor == "kvm" && !CanRunGuests(out var why))
        {
            await Console.Error.WriteLineAsync($"edgecloud up: this machine cannot run kvm guests: {why} (scripts/install-host-deps.sh installs QEMU and libvirt; or use --hypervisor dummy)").ConfigureAwait(false);
            return 1;
        }

        FrontendServer server;
        try
        {
            server = await FrontendServer.StartAsync(options, b => b.AddProvider(new FileLoggerProvider(logWriter)).SetMinimumLevel(LogLevel.Information), stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"edgecloud up: could not start the front-end: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        await using (server.ConfigureAwait(false))
        {
            await File.WriteAllTextAsync(Path.Combine(dataDir, "one_endpoint"), server.Endpoint + "\n", stop.Token).ConfigureAwait(false);
            var readyAt = clock.Elapsed;
            Task agentTask = Task.CompletedTask;
            AgentIdentity? identity = null;
            AgentFileServer? files = null;
            try
            {
                using var admin = new OneClient(server.Endpoint, server.OneAdminSession);
                string hostLine;
                if (hypervisor == "kvm")
                {
                    identity = await LocalAgentAsync(admin, server, dataDir, stop.Token).ConfigureAwait(false);
                    var agentOptions = new AgentOptions { DataDir = Path.Combine(dataDir, "agent"), MonitorInterval = options.MonitorInterval };
                    var (hv, network) = await HostDrivers.CreateAsync("kvm", agentOptions, loggerFactory, stop.Token).ConfigureAwait(false);
                    var state = new LocalState(agentOptions.DataDir);
                    var agentLog = loggerFactory.CreateLogger("agent");
                    var disks = HostDrivers.Disks(agentOptions, identity);
                    files = await AgentFileServer.StartAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), "127.0.0.1", identity, state, disks, loggerFactory, stop.Token).ConfigureAwait(false);
                    var service = HostDrivers.Service(identity, state, hv, network, agentOptions, disks, files, agentLog);
                    agentTask = service.RunAsync(stop.Token);
                    var domainType = (await hv.FactsAsync(stop.Token).ConfigureAwait(false)).GetValueOrDefault("KVM_DOMAIN_TYPE", "");
                    hostLine = $"{LocalHostName} (kvm through libvirt{(domainType == "qemu" ? ", QEMU TCG: this machine has no usable KVM" : "")})";
                }
                else
                {
                    await EnsureHostAsync(admin, LocalHostName, "dummy").ConfigureAwait(false);
                    hostLine = $"{LocalHostName} (simulated, {simulatedBecause})";
                }
                for (var i = 1; i <= dummyHosts; i++) await EnsureHostAsync(admin, $"dummy-{i}", "dummy").ConfigureAwait(false);
                await EnsureNetworkAsync(admin).ConfigureAwait(false);
                var imageLine = buildImage ? await EnsureImageAsync(admin, dataDir, log, stop.Token).ConfigureAwait(false) : "skipped (--no-image)";
                await EnsureTemplateAsync(admin, buildImage).ConfigureAwait(false);

                PrintReady(server, dataDir, options, readyAt, clock.Elapsed, hostLine, imageLine, dummyHosts);
                try { await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            catch (Exception ex) when (ex is OneException or HostDriverException or ArgumentException or IOException or InvalidOperationException or Grpc.Core.RpcException or HttpRequestException)
            {
                if (!stop.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync($"edgecloud up: {ex.Message} (details in {logFile})").ConfigureAwait(false);
                    await stop.CancelAsync().ConfigureAwait(false);
                    try { await agentTask.ConfigureAwait(false); } catch (OperationCanceledException) { }
                    if (files is not null) await files.DisposeAsync().ConfigureAwait(false);
                    identity?.Dispose();
                    return 1;
                }
            }
            Console.WriteLine("Stopping: the front-end and the local agent stop; running VMs keep running and are picked up by the next `edgecloud up`.");
            try { await agentTask.ConfigureAwait(false); } catch (OperationCanceledException) { }
            if (files is not null) await files.DisposeAsync().ConfigureAwait(false);
            identity?.Dispose();
            await server.StopAsync().ConfigureAwait(false);
        }
        return 0;
    }

    private static void PrintReady(FrontendServer server, string dataDir, FrontendOptions options, TimeSpan readyAt, TimeSpan setUp, string hostLine, string imageLine, int dummyHosts)
    {
        var defaults = dataDir == Path.GetFullPath(DefaultDataDir) && options.Port == 2633;
        Console.WriteLine($"EdgeCloud is up: front-end ready in {readyAt.TotalSeconds:0.0} s, cloud set up in {setUp.TotalSeconds:0.0} s.");
        Console.WriteLine($"  endpoint     {server.Endpoint}");
        Console.WriteLine($"  credentials  {Path.Combine(dataDir, "one_auth")} (oneadmin)");
        Console.WriteLine($"  agents       {server.AgentEndpoint}");
        Console.WriteLine($"  local host   {hostLine}");
        if (dummyHosts > 0) Console.WriteLine($"  dummy hosts  {dummyHosts}");
        Console.WriteLine($"  network      {NetworkName} (bridge ecbr0, 10.42.0.100-199)");
        Console.WriteLine($"  image        {imageLine}");
        Console.WriteLine($"  log          {Path.Combine(dataDir, "edgecloud.log")}");
        Console.WriteLine();
        Console.WriteLine("Try:");
        if (!defaults) Console.WriteLine($"  export ONE_XMLRPC={server.Endpoint} ONE_AUTH={Path.Combine(dataDir, "one_auth")}");
        Console.WriteLine($"  edgecloud template instantiate {TemplateName} --name first --wait RUNNING");
        Console.WriteLine("  edgecloud vm list");
        Console.WriteLine("  edgecloud vm show first");
        Console.WriteLine();
        Console.WriteLine("Ctrl-C stops the cloud; `edgecloud up` again continues from the same state.");
    }

    /// <summary>True when QEMU and libvirt are installed and we are root (libvirt's system instance).</summary>
    public static bool CanRunGuests(out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux()) { why = "not Linux"; return false; }
        if (!IsRoot()) { why = "not running as root"; return false; }
        foreach (var tool in new[] { "qemu-system-x86_64", "virsh", "libvirtd", "qemu-img", "genisoimage" })
            if (!OnPath(tool)) { why = $"{tool} is not installed"; return false; }
        return true;
    }

    [DllImport("libc")]
    private static extern uint geteuid();

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/usr/sbin").Split(':').Append("/usr/sbin").Any(d => File.Exists(Path.Combine(d, tool)));

    private static async Task<int?> FindAsync(OneClient admin, string pool, string element, string name)
    {
        var args = pool is "one.hostpool.info" or "one.datastorepool.info" ? Array.Empty<object>() : [-2, -1, -1];
        var xml = XElement.Parse(await admin.CallStringAsync(pool, args).ConfigureAwait(false));
        return xml.Elements(element).Where(e => e.Element("NAME")?.Value == name).Select(e => (int?)(int)e.Element("ID")!).FirstOrDefault();
    }

    private static async Task<int> EnsureHostAsync(OneClient admin, string name, string mad) =>
        await FindAsync(admin, "one.hostpool.info", "HOST", name).ConfigureAwait(false)
        ?? await admin.CallIntAsync("one.host.allocate", name, mad, mad, -1).ConfigureAwait(false);

    /// <summary>The local host and its agent's identity: joined once (a one-time token), reused on later runs.</summary>
    private static async Task<AgentIdentity> LocalAgentAsync(OneClient admin, FrontendServer server, string dataDir, CancellationToken ct)
    {
        var agentDir = Path.Combine(dataDir, "agent");
        Directory.CreateDirectory(agentDir);
        // QEMU runs as libvirt's user: it must be able to walk into the VM directories.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dataDir, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(agentDir, (UnixFileMode)0b111_101_101);
        }
        // Every directory above the VM directories must let others through (QEMU is not root).
        for (var d = new DirectoryInfo(agentDir); d is not null; d = d.Parent)
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(d.FullName) & UnixFileMode.OtherExecute) == 0)
                throw new ArgumentException($"QEMU (which runs as libvirt's user) cannot reach {agentDir}: {d.FullName} is private; use --data outside it (default for root: /var/lib/edgecloud).");
        if (AgentIdentity.Load(agentDir) is { } known && known.FrontendUrl == server.AgentEndpoint!.ToString().TrimEnd('/')) return known;
        var hostId = await EnsureHostAsync(admin, LocalHostName, "kvm").ConfigureAwait(false);
        var token = await admin.CallStringAsync("one.host.jointoken", hostId, 600).ConfigureAwait(false);
        if (Directory.Exists(Path.Combine(agentDir, "identity"))) Directory.Delete(Path.Combine(agentDir, "identity"), recursive: true);
        return await AgentIdentity.JoinAsync(agentDir, server.AgentEndpoint!.ToString(), token, ct).ConfigureAwait(false);
    }

    private static async Task EnsureNetworkAsync(OneClient admin)
    {
        var id = await FindAsync(admin, "one.vnpool.info", "VNET", NetworkName).ConfigureAwait(false)
                 ?? await admin.CallIntAsync("one.vn.allocate",
            $"NAME={NetworkName}\nVN_MAD=bridge\nBRIDGE=ecbr0\nDESCRIPTION=\"Private network of the quick start\"\n" +
            "AR=[TYPE=IP4,IP=10.42.0.100,SIZE=100]\nNETWORK_ADDRESS=10.42.0.0\nNETWORK_MASK=255.255.255.0\nGATEWAY=10.42.0.1\nDNS=10.42.0.1", -1).ConfigureAwait(false);
        // The network driver makes it READY in a moment; the printed commands must find it ready.
        var sw = Stopwatch.StartNew();
        while ((int)XElement.Parse(await admin.CallStringAsync("one.vn.info", id).ConfigureAwait(false)).Element("STATE")! != 1)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new InvalidOperationException($"the network {NetworkName} did not become ready");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>The tiny guest image: built once from the distribution's packages (scripts/build-test-guest.sh, embedded), registered in datastore 1.</summary>
    private static async Task<string> EnsureImageAsync(OneClient admin, string dataDir, ILogger log, CancellationToken ct)
    {
        if (await FindAsync(admin, "one.imagepool.info", "IMAGE", ImageName).ConfigureAwait(false) is int existing)
            return $"{ImageName} (image {existing})";
        var tools = Path.Combine(dataDir, "tools");
        Directory.CreateDirectory(tools);
        var script = Path.Combine(tools, "build-test-guest.sh");
        await using (var resource = Assembly.GetExecutingAssembly().GetManifestResourceStream("build-test-guest.sh")
                                    ?? throw new InvalidOperationException("the image build script is not embedded in this binary"))
        await using (var file = File.Create(script))
            await resource.CopyToAsync(file, ct).ConfigureAwait(false);
        var guestDir = Path.Combine(dataDir, "guest");
        Console.WriteLine("Building the tiny test image from the distribution's packages (first run only)...");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(guestDir);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not run bash");
        var stderr = p.StandardError.ReadToEndAsync(ct);
        var stdout = await p.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        log.LogInformation("build-test-guest: {Output}", await stderr.ConfigureAwait(false));
        if (p.ExitCode != 0) throw new InvalidOperationException($"building the test image failed: {(await stderr.ConfigureAwait(false)).Trim().Split('\n').LastOrDefault()}");
        var disk = stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("TG_DISK=", StringComparison.Ordinal))?["TG_DISK=".Length..].Trim('\'')
                   ?? throw new InvalidOperationException("the image build printed no TG_DISK");
        // A real image datastore (files copied in, checked by qemu-img, checksummed) next to the bootstrap ones.
        var ds = await FindAsync(admin, "one.datastorepool.info", "DATASTORE", "images").ConfigureAwait(false)
                 ?? await admin.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1).ConfigureAwait(false);
        var id = await admin.CallIntAsync("one.image.allocate",
            $"NAME={ImageName}\nPATH=\"{disk}\"\nTYPE=OS\nDESCRIPTION=\"Tiny test guest (busybox, Debian cloud kernel)\"", ds, false).ConfigureAwait(false);
        // Wait for the datastore's copy (seconds: a 17 MB file).
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            var image = XElement.Parse(await admin.CallStringAsync("one.image.info", id).ConfigureAwait(false));
            var state = (int)image.Element("STATE")!;
            if (state == 1) return $"{ImageName} (image {id}, tiny busybox guest)";
            if (state == 5) throw new InvalidOperationException($"the image {ImageName} could not be registered: {image.Element("TEMPLATE")?.Element("ERROR")?.Value}");
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
        throw new InvalidOperationException($"the image {ImageName} was not ready within 2 minutes");
    }

    private static async Task EnsureTemplateAsync(OneClient admin, bool withImage)
    {
        if (await FindAsync(admin, "one.templatepool.info", "VMTEMPLATE", TemplateName).ConfigureAwait(false) is not null) return;
        var disk = withImage ? $"DISK=[IMAGE={ImageName}]\n" : "";
        await admin.CallIntAsync("one.template.allocate",
            $"NAME={TemplateName}\nCPU=0.5\nVCPU=1\nMEMORY=128\n{disk}NIC=[NETWORK={NetworkName}]\n" +
            "CONTEXT=[NETWORK=YES,SET_HOSTNAME=\"$NAME\"]\nDESCRIPTION=\"A tiny VM: busybox, boots in seconds\"").ConfigureAwait(false);
    }

    /// <summary>Log lines of the front-end and agent into one file (the terminal stays for the operator).</summary>
    private sealed class FileLoggerProvider(StreamWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new FileLogger(writer, categoryName);
        public void Dispose() { }

        private sealed class FileLogger(StreamWriter writer, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                var line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {logLevel.ToString().ToLowerInvariant()[..4]} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}";
                lock (writer) writer.WriteLine(line);
            }
        }
    }
}
