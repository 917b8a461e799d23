using System.CommandLine;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud cluster</c>: groups of hosts with their datastores and networks (OpenNebula's <c>onecluster</c>).</summary>
public static class ClusterCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "cluster",
        Noun = "cluster",
        Prefix = "cluster",
        PoolMethod = "one.clusterpool.info",
        Element = "CLUSTER",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("HOSTS", e => N(Count(e, "HOSTS"))) { Right = true },
            new("VNETS", e => N(Count(e, "VNETS"))) { Right = true },
            new("DATASTORES", e => N(Count(e, "DATASTORES"))) { Right = true },
        ],
    };

    public static Command Build() => Verbs.Object(Kind, "Clusters: hosts, datastores and networks that go together",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        Member("addhost", "Add a host to a cluster", HostCommands.Kind),
        Member("delhost", "Remove a host from a cluster", HostCommands.Kind),
        Member("adddatastore", "Add a datastore to a cluster", DatastoreCommands.Kind),
        Member("deldatastore", "Remove a datastore from a cluster", DatastoreCommands.Kind),
        Member("addvnet", "Add a virtual network to a cluster", VNetCommands.Kind),
        Member("delvnet", "Remove a virtual network from a cluster", VNetCommands.Kind),
    ]);

    private static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Cluster name" };
        return Verbs.Make("create", "Create a cluster", [name], async c =>
            Verbs.PrintId(await c.CallIntAsync("one.cluster.allocate", c.Get(name)!).ConfigureAwait(false)));
    }

    /// <summary><c>one.cluster.{verb}(cluster, member)</c>.</summary>
    private static Command Member(string verb, string description, OneKind member)
    {
        var cluster = Verbs.Id(Kind, "CLUSTER");
        var item = Verbs.Ids(member, member.Command.ToUpperInvariant());
        return Verbs.Make(verb, description, [cluster, item], async c =>
        {
            var cid = await c.ResolveAsync(Kind, c.Get(cluster)!).ConfigureAwait(false);
            foreach (var id in await c.ResolveManyAsync(member, c.Get(item)!).ConfigureAwait(false))
                await c.CallAsync($"one.cluster.{verb}", cid, id).ConfigureAwait(false);
        });
    }
}
