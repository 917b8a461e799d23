using System.CommandLine;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary>
/// <c>edgecloud market</c> and <c>edgecloud marketapp</c>: marketplaces and their appliances (OpenNebula's
/// <c>onemarket</c>, <c>onemarketapp</c>). List and show only: the front-end lists them empty for now.
/// </summary>
public static class MarketCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "market",
        Noun = "marketplace",
        Prefix = "market",
        PoolMethod = "one.marketpool.info",
        Element = "MARKETPLACE",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("SIZE", e => Mb(D(e, "TOTAL_MB"))) { Right = true },
            new("AVAIL", e => Percent(D(e, "FREE_MB"), D(e, "TOTAL_MB"))) { Right = true },
            new("APPS", e => N(Count(e, "MARKETPLACEAPPS"))) { Right = true },
            new("MAD", e => S(e, "MARKET_MAD")),
            new("ZONE", e => S(e, "ZONE_ID")) { Right = true },
            new("STAT", e => S(e, "STATE") == "0" ? "on" : "off"),
        ],
    };

    public static readonly OneKind AppKind = new()
    {
        Command = "marketapp",
        Noun = "marketplace app",
        Prefix = "marketapp",
        PoolMethod = "one.marketapppool.info",
        PoolArgs = [-2, -1, -1],
        Element = "MARKETPLACEAPP",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("VERSION", e => S(e, "VERSION")),
            new("SIZE", e => Mb(D(e, "SIZE"))) { Right = true },
            new("STAT", e => S(e, "STATE")),
            new("TYPE", e => S(e, "TYPE")),
            new("REGTIME", e => Date(L(e, "REGTIME"))),
            new("MARKET", e => S(e, "MARKETPLACE")) { Shrink = true },
            new("ZONE", e => S(e, "ZONE_ID")) { Right = true },
        ],
    };

    public static Command Build() => Verbs.Object(Kind, "Marketplaces (list and show)", [Verbs.List(Kind), Verbs.Show(Kind)]);

    public static Command BuildApps() => Verbs.Object(AppKind, "Marketplace appliances (list and show)", [Verbs.List(AppKind), Verbs.Show(AppKind)]);
}
