using System.CommandLine;
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
    ]);
}
