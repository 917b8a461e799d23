using System.Globalization;
using System.Text;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// OpenNebula's text form of an ACL rule (<c>AclRule::build_str</c>), e.g. <c>#0 VM+NET/@1 USE+MANAGE #0</c>:
/// the user (<c>#uid</c>, <c>@gid</c>, <c>*</c>), the resource types joined with '+' in OpenNebula's bit
/// order followed by <c>/#id</c>, <c>/@gid</c>, <c>/%cid</c> or <c>/*</c>, the rights joined with '+', and
/// the zone (<c>#zid</c> or <c>*</c>). Parts that carry no known flag print <c>??</c>, as oned does.
/// Shared by the ACL_POOL document and the CLI.
/// </summary>
public static class AclText
{
    /// <summary>Resource types in the order oned prints them (ascending ACL bit).</summary>
    private static readonly (ObjectType Type, string Name)[] ResourceNames =
    [
        (ObjectType.Vm, "VM"), (ObjectType.Host, "HOST"), (ObjectType.VNet, "NET"), (ObjectType.Image, "IMAGE"),
        (ObjectType.User, "USER"), (ObjectType.Template, "TEMPLATE"), (ObjectType.Group, "GROUP"),
        (ObjectType.Datastore, "DATASTORE"), (ObjectType.Cluster, "CLUSTER"), (ObjectType.Document, "DOCUMENT"),
        (ObjectType.Zone, "ZONE"), (ObjectType.SecGroup, "SECGROUP"), (ObjectType.Vdc, "VDC"),
        (ObjectType.VRouter, "VROUTER"), (ObjectType.Market, "MARKETPLACE"), (ObjectType.MarketApp, "MARKETPLACEAPP"),
        (ObjectType.VmGroup, "VMGROUP"), (ObjectType.VNTemplate, "VNTEMPLATE"), (ObjectType.Hook, "HOOK"),
        (ObjectType.BackupJob, "BACKUPJOB"),
    ];

    private static readonly (AuthOp Op, string Name)[] RightNames =
        [(AuthOp.Use, "USE"), (AuthOp.Manage, "MANAGE"), (AuthOp.Admin, "ADMIN"), (AuthOp.Create, "CREATE")];

    /// <summary>The resource-type words in printing order, for parsers of the text form.</summary>
    public static IReadOnlyList<(ObjectType Type, string Name)> ResourceTypes => ResourceNames;

    public static string ToText(AclRule rule) => ToText(rule.User, rule.Resource, rule.Rights, rule.Zone);

    public static string ToText(long user, long resource, long rights, long zone)
    {
        var sb = new StringBuilder(48);
        AppendId(sb, user, allowCluster: false);
        sb.Append(' ');

        var first = true;
        foreach (var (type, name) in ResourceNames)
        {
            if ((resource & type.AclBit()) == 0) continue;
            if (!first) sb.Append('+');
            sb.Append(name);
            first = false;
        }
        sb.Append('/');
        AppendId(sb, resource, allowCluster: true);
        sb.Append(' ');

        first = true;
        foreach (var (op, name) in RightNames)
        {
            if ((rights & (long)op) == 0) continue;
            if (!first) sb.Append('+');
            sb.Append(name);
            first = false;
        }
        sb.Append(' ');

        if ((zone & AclRule.IndividualId) != 0) sb.Append('#').Append(Id(zone));
        else if ((zone & AclRule.All) != 0) sb.Append('*');
        else sb.Append("??");
        return sb.ToString();
    }

    /// <summary>Upper-case hex without prefix, as the ACL document writes the four numbers.</summary>
    public static string Hex(long value) => value.ToString("X", CultureInfo.InvariantCulture);

    // Flag precedence is oned's: group, then individual, then all, then cluster.
    private static void AppendId(StringBuilder sb, long value, bool allowCluster)
    {
        if ((value & AclRule.GroupId) != 0) sb.Append('@').Append(Id(value));
        else if ((value & AclRule.IndividualId) != 0) sb.Append('#').Append(Id(value));
        else if ((value & AclRule.All) != 0) sb.Append('*');
        else if (allowCluster && (value & AclRule.ClusterId) != 0) sb.Append('%').Append(Id(value));
        else sb.Append("??");
    }

    private static string Id(long value) => ((int)(value & AclRule.IdMask)).ToString(CultureInfo.InvariantCulture);
}
