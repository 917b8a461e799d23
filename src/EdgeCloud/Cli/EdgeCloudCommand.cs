using System.CommandLine;
using System.Runtime.InteropServices;
using EdgeCloud.Frontend;

namespace EdgeCloud.Cli;

/// <summary>The command line of the <c>edgecloud</c> binary.</summary>
public static class EdgeCloudCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("EdgeCloud: an edge cloud manager that speaks OpenNebula's API.");
        root.Subcommands.Add(FrontendCommand());
        root.Subcommands.Add(AgentCommand.Build());
        root.Subcommands.Add(UpCommand.Build());
        foreach (var command in Client.ClientCommands.All()) root.Subcommands.Add(command);
        // "@1 VM/* USE" is an ACL rule, not a response file: no @file expansion.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            // Usage errors are one line, like every other error of the CLI.
            await Console.Error.WriteLineAsync($"edgecloud: {string.Join("; ", parse.Errors.Select(e => e.Message).Distinct())} (see 'edgecloud {string.Join(' ', CommandPath(parse))} --help')").ConfigureAwait(false);
            return 1;
        }
        return await parse.InvokeAsync().ConfigureAwait(false);
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        return names;
    }

    private static Command FrontendCommand()
    {
        var data = new Option<string>("--data") { Description = "Directory that holds this front-end's whole state", Required = true };
        var port = new Option<int?>("--port") { Description = "XML-RPC port (default 2633)" };
        var listen = new Option<string?>("--listen") { Description = "Address to listen on (default 127.0.0.1)" };
        var agentPort = new Option<int?>("--agent-port") { Description = "Port host agents connect to (gRPC, mutual TLS; default 2634; -1 disables it)" };
        var db = new Option<string?>("--db") { Description = "Database: a PostgreSQL connection string (default: SQLite file in --data)" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML file with more settings (see docs/configuration.md)" };

        var raft = new Option<string?>("--raft") { Description = "This server's Raft address HOST:PORT: run as one server of a high-availability cluster" };
        var peers = new Option<string?>("--peers") { Description = "Every server's Raft address, comma-separated, in the same order on all (ids are positions)" };
        var join = new Option<bool>("--join") { Description = "With --raft: join a running cluster; the leader adds this server with one.zone.addserver (zone server-add)" };
        var cmd = new Command("frontend", "Run a front-end: API, scheduler, monitor and life-cycle management") { data, port, listen, agentPort, db, config, raft, peers, join };
        cmd.SetAction(async (parse, ct) =>
        {
            FrontendOptions options;
            try
            {
                options = new FrontendOptions { DataDir = parse.GetValue(data)! };
                if (parse.GetValue(config) is { } file) options = ConfigFile.Apply(options, file.FullName);
                if (parse.GetValue(port) is int p) options = options with { Port = p };
                if (parse.GetValue(listen) is { } l) options = options with { ListenAddress = l };
                if (parse.GetValue(agentPort) is int ap) options = options with { AgentPort = ap };
                if (parse.GetValue(db) is { } d) options = options with { Database = d };
                if (parse.GetValue(raft) is { } r) options = options with { Raft = r };
                if (parse.GetValue(peers) is { } ps) options = options with { Peers = ps };
                if (parse.GetValue(join)) options = options with { RaftJoin = true };
                if (options.RaftJoin && options.Raft.Length == 0)
                    throw new ArgumentException("--join needs --raft: this server's Raft address, which the leader is told with zone server-add");
                if (!options.RaftJoin && options.Raft.Length > 0 != options.Peers.Length > 0)
                    throw new ArgumentException("--raft and --peers go together: this server's Raft address and the list of all servers");
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"edgecloud frontend: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            return await RunFrontendAsync(options, ct).ConfigureAwait(false);
        });
        return cmd;
    }

    private static async Task<int> RunFrontendAsync(FrontendOptions options, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        FrontendServer server;
        try
        {
            server = await FrontendServer.StartAsync(options, ct: stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"edgecloud frontend: could not start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        await using (server.ConfigureAwait(false))
        {
            Console.WriteLine($"endpoint: {server.Endpoint}");
            Console.WriteLine($"credentials: {server.OneAuthPath}");
            if (server.AgentEndpoint is { } agents) Console.WriteLine($"agents: {agents}");
            try { await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            await server.StopAsync().ConfigureAwait(false);
        }
        return 0;
    }
}
