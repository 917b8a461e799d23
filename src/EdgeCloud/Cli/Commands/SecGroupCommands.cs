using System.CommandLine;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud secgroup</c>: security groups, firewall rules for NICs (OpenNebula's <c>onesecgroup</c>).</summary>
public static class SecGroupCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "secgroup",
        Noun = "security group",
        Prefix = "secgroup",
        PoolMethod = "one.secgrouppool.info",
        PoolArgs = [-2, -1, -1],
        Element = "SECURITY_GROUP",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("RULES", e => N(e.Element("TEMPLATE")?.Elements("RULE").Count() ?? 0)) { Right = true },
            new("UPDATED", e => N(Count(e, "UPDATED_VMS"))) { Right = true },
            new("OUTDATED", e => N(Count(e, "OUTDATED_VMS"))) { Right = true },
            new("ERROR", e => N(Count(e, "ERROR_VMS"))) { Right = true },
        ],
        Sections = e =>
        {
            var rules = e.Element("TEMPLATE")?.Elements("RULE").ToList() ?? [];
            return rules.Count == 0 ? [] :
            [
                new ShowSection("RULES")
                {
                    TableHeader = ["TYPE", "PROTOCOL", "ICMP_TYPE", "NETWORK", "RANGE"],
                    TableRows = rules.Select(r => (IReadOnlyList<string>)
                    [
                        S(r, "RULE_TYPE"), S(r, "PROTOCOL"), S(r, "ICMP_TYPE"),
                        S(r, "NETWORK_ID").Length > 0 ? "vnet " + S(r, "NETWORK_ID") : S(r, "IP").Length > 0 ? $"{S(r, "IP")}+{S(r, "SIZE")}" : "any",
                        S(r, "RANGE").Length > 0 ? S(r, "RANGE") : "all",
                    ]).ToList(),
                },
            ];
        },
    };

    public static Command Build() => Verbs.Object(Kind, "Security groups: inbound and outbound rules applied to NICs",
    [
        Verbs.CreateFromFile(Kind),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        Clone(),
        Commit(),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);

    private static Command Clone()
    {
        var sg = Verbs.Id(Kind, "SECGROUP");
        var name = new Argument<string>("NAME") { Description = "Name of the copy" };
        return Verbs.Make("clone", "Copy a security group", [sg, name], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(sg)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.secgroup.clone", id, c.Get(name)!).ConfigureAwait(false));
        });
    }

    private static Command Commit()
    {
        var recovery = Verbs.Flag("--recovery", "Only retry the VMs that are outdated or in error");
        return Verbs.ForEach(Kind, "commit", "Apply the security group's rules to the VMs that use it", [recovery],
            (c, id) => c.CallAsync("one.secgroup.commit", id, c.Get(recovery)));
    }
}
