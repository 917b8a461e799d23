using System.CommandLine;
using System.Xml.Linq;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud zone</c>: the zone this front-end serves (OpenNebula's <c>onezone</c>).</summary>
public static class ZoneCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "zone",
        Noun = "zone",
        Prefix = "zone",
        PoolMethod = "one.zonepool.info",
        Element = "ZONE",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("ENDPOINT", e => S(e, "TEMPLATE/ENDPOINT")) { Shrink = true },
            new("STAT", e => S(e, "STATE") == "0" ? "on" : "off"),
        ],
        Decoders = new Dictionary<string, Func<string, string>> { ["STATE"] = v => v == "0" ? "ENABLED" : v == "1" ? "DISABLED" : v },
    };

    public static Command Build() => Verbs.Object(Kind, "Zones (this front-end serves one)",
    [
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Raft(),
        ServerAdd(),
        ServerDel(),
    ]);

    /// <summary>
    /// <c>zone server-add ZONE --name N --endpoint URL [--raft HOST:PORT]</c> (onezone server-add): adds a front-end,
    /// started with <c>--join</c>, to the zone's Raft cluster (one.zone.addserver).
    /// </summary>
    private static Command ServerAdd()
    {
        var zone = Verbs.Id(Kind);
        var name = Verbs.Text("--name", "Name of the new server", "NAME", "-n");
        var endpoint = Verbs.Text("--endpoint", "The new server's XML-RPC endpoint, http://HOST:PORT/RPC2", "URL", "-e");
        var raft = Verbs.Text("--raft", "The new server's Raft address HOST:PORT (its --raft; default: the endpoint's host, port 2640)", "HOST:PORT", "-r");
        return Verbs.Make("server-add", "Add a server (a front-end started with --join) to the zone's Raft cluster", [zone, name, endpoint, raft], async c =>
        {
            var n = c.Get(name) ?? throw new CliException("give the new server's --name");
            var e = c.Get(endpoint) ?? throw new CliException("give the new server's --endpoint (http://HOST:PORT/RPC2)");
            var id = await c.ResolveAsync(Kind, c.Get(zone)!).ConfigureAwait(false);
            var template = $"SERVER=[NAME=\"{Escape(n)}\", ENDPOINT=\"{Escape(e)}\"" + (c.Get(raft) is { } r ? $", RAFT_ENDPOINT=\"{Escape(r)}\"" : "") + "]";
            await c.CallAsync("one.zone.addserver", id, template).ConfigureAwait(false);
        });
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary><c>zone server-del ZONE SERVER_ID</c> (onezone server-del): removes a server from the zone's Raft cluster.</summary>
    private static Command ServerDel()
    {
        var zone = Verbs.Id(Kind);
        var server = new Argument<int>("SERVER_ID") { Description = "The server's id in the zone (as zone raft / zone show list them)" };
        return Verbs.Make("server-del", "Delete a server from the zone's Raft cluster (deleting the leader makes a new one)", [zone, server], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(zone)!).ConfigureAwait(false);
            await c.CallAsync("one.zone.delserver", id, c.Get(server)).ConfigureAwait(false);
        });
    }

    private static readonly string[] StateNames = ["solo", "candidate", "follower", "leader"];

    private static string StateName(string v) => int.TryParse(v, out var n) && n >= 0 && n < StateNames.Length ? StateNames[n] : v;

    /// <summary>
    /// <c>zone raft</c>: the Raft cluster as the server asked sees it — its own one.zone.raftstatus, then every
    /// server of zone 0's SERVER_POOL with its state (as <c>onezone show</c> lists them).
    /// </summary>
    private static Command Raft()
    {
        var json = Verbs.Flag("--json", "Print the RAFT document as JSON", "-j");
        var xml = Verbs.Flag("--xml", "Print the RAFT document as XML", "-x");
        return Verbs.Make("raft", "Show the front-ends' Raft cluster: this server's state and every server's", [json, xml], async c =>
        {
            var raft = await c.CallXmlAsync("one.zone.raftstatus", []).ConfigureAwait(false);
            if (c.Get(xml)) { CliContext.Out.WriteLine(raft.ToString()); return; }
            if (c.Get(json)) { CliContext.Out.WriteLine(XmlJson.Convert(raft)); return; }
            var id = S(raft, "SERVER_ID");
            if (id == "-1")
            {
                CliContext.Out.WriteLine("This front-end runs alone (no Raft cluster): state solo.");
                return;
            }
            CliContext.Out.WriteLine($"SERVER {id}: {StateName(S(raft, "STATE"))}, term {S(raft, "TERM")}, log index {S(raft, "LOG_INDEX")}, commit {S(raft, "COMMIT")}, voted for {S(raft, "VOTEDFOR")}");
            var zone = await c.CallXmlAsync("one.zone.info", [0]).ConfigureAwait(false);
            var servers = zone.Element("SERVER_POOL")?.Elements("SERVER").ToList() ?? [];
            Column[] columns =
            [
                new("ID", e => S(e, "ID")) { Right = true },
                new("NAME", e => S(e, "NAME")),
                new("STATE", e => StateName(S(e, "STATE"))),
                new("TERM", e => S(e, "TERM")) { Right = true },
                new("INDEX", e => S(e, "LOG_INDEX")) { Right = true },
                new("COMMIT", e => S(e, "COMMIT")) { Right = true },
                new("ENDPOINT", e => S(e, "ENDPOINT")) { Shrink = true },
            ];
            CliContext.Out.Write(Table.Render(columns, servers, Table.Width()));
        });
    }
}
