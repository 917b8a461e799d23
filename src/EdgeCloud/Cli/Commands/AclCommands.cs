using System.CommandLine;
using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud acl</c>: access rules in OpenNebula's text form (<c>@1 VM+NET/* USE+MANAGE *</c>; <c>oneacl</c>).</summary>
public static class AclCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "acl",
        Noun = "ACL rule",
        Prefix = "acl",
        PoolMethod = "one.acl.info",
        Element = "ACL",
        ByName = false,
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("USER", e => Part(e, 0)),
            new("RESOURCES", e => Part(e, 1).Split('/')[0]) { Shrink = true },
            new("RID", e => Part(e, 1).Split('/') is [_, var rid] ? rid : ""),
            new("RIGHTS", e => Part(e, 2)),
            new("ZONE", e => Part(e, 3)),
            new("RULE", e => S(e, "STRING")) { Default = false },
        ],
    };

    private static string Part(XElement e, int index) =>
        S(e, "STRING").Split(' ', StringSplitOptions.RemoveEmptyEntries) is var parts && parts.Length > index ? parts[index] : "";

    public static Command Build() => Verbs.Object(Kind, "Access control rules: who may do what to which resources",
    [
        Create(),
        Verbs.List(Kind),
        Delete(),
    ]);

    private static Command Create()
    {
        var rule = new Argument<string[]>("RULE")
        {
            Description = "USER RESOURCES RIGHTS [ZONE], as one quoted string or separate words, e.g. \"@1 VM+NET/* USE+MANAGE *\"",
            Arity = ArgumentArity.OneOrMore,
        };
        return Verbs.Make("create", "Add an ACL rule", [rule], async c =>
        {
            var (user, resource, rights, zone) = Parse(string.Join(' ', c.Get(rule)!));
            object?[] args = zone is null ? [user, resource, rights] : [user, resource, rights, zone];
            Verbs.PrintId(await c.CallIntAsync("one.acl.addrule", args).ConfigureAwait(false));
        });
    }

    private static Command Delete()
    {
        var ids = new Argument<string>("ID") { Description = "Rule ids, comma separated, ranges like 3..7" };
        return Verbs.Make("delete", "Delete ACL rules", [ids], async c =>
        {
            foreach (var id in await c.ResolveManyAsync(Kind, c.Get(ids)!).ConfigureAwait(false))
                await c.CallAsync("one.acl.delrule", id).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// The four hex strings <c>one.acl.addrule</c> takes, from the text form (OpenNebula's <c>Acl.parse_rule</c>): user
    /// <c>#uid</c>, <c>@gid</c> or <c>*</c>; resources <c>TYPE+TYPE/</c> then <c>#id</c>, <c>@gid</c>, <c>%cid</c> or
    /// <c>*</c>; rights <c>USE+MANAGE+ADMIN+CREATE</c>; optional zone <c>#zid</c> or <c>*</c>.
    /// </summary>
    public static (string User, string Resource, string Rights, string? Zone) Parse(string text)
    {
        var parts = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 3 or > 4)
            throw new CliException($"malformed ACL rule \"{text}\": use USER RESOURCES RIGHTS [ZONE], e.g. \"@1 VM+NET/* USE+MANAGE *\"");
        var user = Id(parts[0], text, allowCluster: false);

        var slash = parts[1].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0) throw new CliException($"malformed ACL rule \"{text}\": resources need TYPES/ID, e.g. VM+NET/*");
        long resource = Id(parts[1][(slash + 1)..], text, allowCluster: true);
        foreach (var word in parts[1][..slash].Split('+'))
        {
            var type = AclText.ResourceTypes.FirstOrDefault(t => t.Name.Equals(word, StringComparison.OrdinalIgnoreCase));
            if (type.Name is null)
                throw new CliException($"malformed ACL rule \"{text}\": unknown resource \"{word}\" (one of {string.Join(", ", AclText.ResourceTypes.Select(t => t.Name))})");
            resource |= type.Type.AclBit();
        }

        long rights = 0;
        foreach (var word in parts[2].Split('+'))
        {
            rights |= word.ToUpperInvariant() switch
            {
                "USE" => (long)AuthOp.Use,
                "MANAGE" => (long)AuthOp.Manage,
                "ADMIN" => (long)AuthOp.Admin,
                "CREATE" => (long)AuthOp.Create,
                _ => throw new CliException($"malformed ACL rule \"{text}\": unknown right \"{word}\" (USE, MANAGE, ADMIN, CREATE)"),
            };
        }

        string? zone = null;
        if (parts.Length == 4)
        {
            if (parts[3].StartsWith('@') || parts[3].StartsWith('%'))
                throw new CliException($"malformed ACL rule \"{text}\": the zone is #id or *");
            zone = AclText.Hex(Id(parts[3], text, allowCluster: false));
        }
        return (AclText.Hex(user), AclText.Hex(resource), AclText.Hex(rights), zone);
    }

    private static long Id(string word, string text, bool allowCluster)
    {
        if (word == "*") return AclRule.All;
        if (word.Length > 1 && int.TryParse(word[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            switch (word[0])
            {
                case '#': return AclRule.IndividualId | (uint)n;
                case '@': return AclRule.GroupId | (uint)n;
                case '%' when allowCluster: return AclRule.ClusterId | (uint)n;
            }
        }
        throw new CliException($"malformed ACL rule \"{text}\": \"{word}\" is not #id, @group_id{(allowCluster ? ", %cluster_id" : "")} or *");
    }
}
