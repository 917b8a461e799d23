using System.CommandLine;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud datastore</c>: image, system and file datastores (OpenNebula's <c>onedatastore</c>).</summary>
public static class DatastoreCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "datastore",
        Noun = "datastore",
        Prefix = "datastore",
        PoolMethod = "one.datastorepool.info",
        Element = "DATASTORE",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("USER", e => S(e, "UNAME")) { Shrink = true, Default = false },
            new("GROUP", e => S(e, "GNAME")) { Shrink = true, Default = false },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("SIZE", e => Mb(D(e, "TOTAL_MB"))) { Right = true },
            new("AVA", e => Percent(D(e, "FREE_MB"), D(e, "TOTAL_MB"))) { Right = true },
            new("CLUSTERS", e => Ids(e, "CLUSTERS")) { Shrink = true },
            new("IMAGES", e => N(Count(e, "IMAGES"))) { Right = true },
            new("TYPE", e => Type(S(e, "TYPE"))),
            new("DS", e => S(e, "DS_MAD")),
            new("TM", e => S(e, "TM_MAD")),
            new("STAT", e => S(e, "STATE") == "0" ? "on" : "off"),
        ],
        Decoders = new Dictionary<string, Func<string, string>>
        {
            ["TYPE"] = EnumName<DatastoreType>,
            ["STATE"] = EnumName<DatastoreState>,
            ["TOTAL_MB"] = MbText,
            ["FREE_MB"] = MbText,
            ["USED_MB"] = MbText,
        },
    };

    private static string Type(string type) => EnumName<DatastoreType>(type) switch
    {
        "IMAGE_DS" => "img",
        "SYSTEM_DS" => "sys",
        "FILE_DS" => "fil",
        "BACKUP_DS" => "bck",
        var other => other,
    };

    public static Command Build() => Verbs.Object(Kind, "Datastores: where images and running VMs' disks live",
    [
        Verbs.CreateFromFile(Kind, ClusterCommands.Kind),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        Verbs.Call(Kind, "enable", "Enable datastores", "enable", true),
        Verbs.Call(Kind, "disable", "Disable datastores (no new images or VMs)", "enable", false),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);
}
