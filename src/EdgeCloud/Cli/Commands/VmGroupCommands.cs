using System.CommandLine;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud vmgroup</c>: VM groups, roles with affinity rules (OpenNebula's <c>onevmgroup</c>).</summary>
public static class VmGroupCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "vmgroup",
        Noun = "VM group",
        Prefix = "vmgroup",
        PoolMethod = "one.vmgrouppool.info",
        PoolArgs = [-2, -1, -1],
        Element = "VM_GROUP",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("ROLES", e => string.Join(",", e.Element("ROLES")?.Elements("ROLE").Select(r => S(r, "NAME")) ?? [])) { Shrink = true },
            new("VMS", e => N(e.Element("ROLES")?.Elements("ROLE").Sum(r => S(r, "VMS").Split(',', StringSplitOptions.RemoveEmptyEntries).Length) ?? 0)) { Right = true },
        ],
        Skip = new HashSet<string> { "ROLES" },
        Sections = e =>
        {
            var roles = e.Element("ROLES")?.Elements("ROLE").ToList() ?? [];
            return roles.Count == 0 ? [] :
            [
                new ShowSection("ROLES")
                {
                    TableHeader = ["ID", "NAME", "POLICY", "HOST_AFFINED", "HOST_ANTI_AFFINED", "VMS"],
                    TableRows = roles.Select(r => (IReadOnlyList<string>)
                        [S(r, "ID"), S(r, "NAME"), S(r, "POLICY"), S(r, "HOST_AFFINED"), S(r, "HOST_ANTI_AFFINED"), S(r, "VMS")]).ToList(),
                },
            ];
        },
    };

    public static Command Build() => Verbs.Object(Kind, "VM groups: roles and (anti-)affinity between VMs and hosts",
    [
        Verbs.CreateFromFile(Kind),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        RoleAdd(),
        RoleDelete(),
        RoleUpdate(),
        .. Verbs.Locking(Kind),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);

    private static Command RoleAdd()
    {
        var group = Verbs.Id(Kind, "VMGROUP");
        var file = new Argument<string?>("FILE") { Description = "File with ROLE = [ NAME = ..., POLICY = ... ] ('-' or none: standard input)", Arity = ArgumentArity.ZeroOrOne };
        return Verbs.Make("role-add", "Add a role to a VM group", [group, file], async c =>
        {
            var text = Verbs.ReadTemplateArgument(c.Get(file));
            var id = await c.ResolveAsync(Kind, c.Get(group)!).ConfigureAwait(false);
            await c.CallAsync("one.vmgroup.roleadd", id, text).ConfigureAwait(false);
        });
    }

    private static Command RoleDelete()
    {
        var group = Verbs.Id(Kind, "VMGROUP");
        var role = new Argument<int>("ROLE_ID") { Description = "The role's id (see vmgroup show)" };
        return Verbs.Make("role-delete", "Delete a role of a VM group", [group, role], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(group)!).ConfigureAwait(false);
            await c.CallAsync("one.vmgroup.roledelete", id, c.Get(role)).ConfigureAwait(false);
        });
    }

    private static Command RoleUpdate()
    {
        var group = Verbs.Id(Kind, "VMGROUP");
        var role = new Argument<int>("ROLE_ID") { Description = "The role's id (see vmgroup show)" };
        var file = new Argument<string?>("FILE") { Description = "File with the role's new attributes ('-' or none: standard input)", Arity = ArgumentArity.ZeroOrOne };
        return Verbs.Make("role-update", "Update a role of a VM group", [group, role, file], async c =>
        {
            var text = Verbs.ReadTemplateArgument(c.Get(file));
            var id = await c.ResolveAsync(Kind, c.Get(group)!).ConfigureAwait(false);
            await c.CallAsync("one.vmgroup.roleupdate", id, c.Get(role), text).ConfigureAwait(false);
        });
    }
}
