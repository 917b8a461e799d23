using System.CommandLine;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud group</c>: groups, their admins and quotas (OpenNebula's <c>onegroup</c>).</summary>
public static class GroupCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "group",
        Noun = "group",
        Prefix = "group",
        PoolMethod = "one.grouppool.info",
        Element = "GROUP",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("USERS", e => N(Count(e, "USERS"))) { Right = true },
            new("ADMINS", e => Ids(e, "ADMINS")) { Default = false },
        ],
        Skip = new HashSet<string> { "DEFAULT_GROUP_QUOTAS" },
    };

    /// <summary>The resources members of a new group may create, as <c>onegroup create</c> grants them.</summary>
    private static readonly ObjectType[] CreatableByMembers =
    [
        ObjectType.Vm, ObjectType.Image, ObjectType.Template, ObjectType.Document, ObjectType.SecGroup, ObjectType.VRouter,
        ObjectType.VmGroup, ObjectType.BackupJob,
    ];

    public static Command Build() => Verbs.Object(Kind, "Groups: members, group admins and quotas",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind, selfWhenOmitted: true),
        Verbs.Update(Kind),
        Verbs.Delete(Kind),
        Admin("addadmin", "Make users admins of a group"),
        Admin("deladmin", "Remove users from a group's admins"),
        UserCommands.Quota(Kind),
    ]);

    /// <summary>
    /// <c>one.group.allocate</c>, then the ACL rule OpenNebula's <c>onegroup create</c> adds so the members can create
    /// VMs, images, templates and the like (<c>@gid VM+IMAGE+TEMPLATE+.../* CREATE *</c>).
    /// </summary>
    private static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Group name" };
        return Verbs.Make("create", "Create a group whose members may create VMs, images and templates", [name], async c =>
        {
            var id = await c.CallIntAsync("one.group.allocate", c.Get(name)!).ConfigureAwait(false);
            Verbs.PrintId(id);
            var resources = CreatableByMembers.Aggregate(AclRule.All, (acc, t) => acc | t.AclBit());
            await c.CallAsync("one.acl.addrule",
                AclText.Hex(AclRule.GroupId | (uint)id), AclText.Hex(resources), AclText.Hex((long)AuthOp.Create), AclText.Hex(AclRule.All)).ConfigureAwait(false);
        });
    }

    private static Command Admin(string verb, string description)
    {
        var group = Verbs.Id(Kind, "GROUP");
        var user = Verbs.Ids(UserCommands.Kind, "USER");
        return Verbs.Make(verb, description, [group, user], async c =>
        {
            var gid = await c.ResolveAsync(Kind, c.Get(group)!).ConfigureAwait(false);
            foreach (var uid in await c.ResolveManyAsync(UserCommands.Kind, c.Get(user)!).ConfigureAwait(false))
                await c.CallAsync($"one.group.{verb}", gid, uid).ConfigureAwait(false);
        });
    }
}
