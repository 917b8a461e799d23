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
    ]);

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
