namespace EdgeCloud.Core.Objects;

/// <summary>Every kind of object the front-end keeps. The numbers are stable: they are stored.</summary>
public enum ObjectType
{
    User = 1,
    Group = 2,
    Acl = 3,
    Zone = 4,
    Cluster = 5,
    Host = 6,
    Datastore = 7,
    Image = 8,
    Template = 9,
    Vm = 10,
    VNet = 11,
    SecGroup = 12,
    VmGroup = 13,
    VNTemplate = 14,
    Market = 15,
    MarketApp = 16,
    Document = 17,
    Hook = 18,
    VRouter = 19,
    Vdc = 20,
    BackupJob = 21,

    /// <summary>The cloud's default user and group quotas (one object, id 0).</summary>
    QuotaDefaults = 22,
}

public static class ObjectTypeNames
{
    /// <summary>The lower-case words OpenNebula uses in error messages ("virtual machine", "host"...).</summary>
    public static string ErrorName(this ObjectType type) => type switch
    {
        ObjectType.User => "user",
        ObjectType.Group => "group",
        ObjectType.Acl => "ACL rule",
        ObjectType.Zone => "zone",
        ObjectType.Cluster => "cluster",
        ObjectType.Host => "host",
        ObjectType.Datastore => "datastore",
        ObjectType.Image => "image",
        ObjectType.Template => "template",
        ObjectType.Vm => "virtual machine",
        ObjectType.VNet => "virtual network",
        ObjectType.SecGroup => "security group",
        ObjectType.VmGroup => "VM group",
        ObjectType.VNTemplate => "virtual network template",
        ObjectType.Market => "marketplace",
        ObjectType.MarketApp => "marketplace app",
        ObjectType.Document => "document",
        ObjectType.Hook => "hook",
        ObjectType.VRouter => "virtual router",
        ObjectType.Vdc => "VDC",
        ObjectType.BackupJob => "backup job",
        ObjectType.QuotaDefaults => "default quotas",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>ACL resource bit of the type (OpenNebula's PoolObjectSQL::ObjectType values).</summary>
    public static long AclBit(this ObjectType type) => type switch
    {
        ObjectType.Vm => 0x1000000000L,
        ObjectType.Host => 0x2000000000L,
        ObjectType.VNet => 0x4000000000L,
        ObjectType.Image => 0x8000000000L,
        ObjectType.User => 0x10000000000L,
        ObjectType.Template => 0x20000000000L,
        ObjectType.Group => 0x40000000000L,
        ObjectType.Datastore => 0x100000000000L,
        ObjectType.Cluster => 0x200000000000L,
        ObjectType.Document => 0x400000000000L,
        ObjectType.Zone => 0x800000000000L,
        ObjectType.SecGroup => 0x1000000000000L,
        ObjectType.Vdc => 0x2000000000000L,
        ObjectType.VRouter => 0x4000000000000L,
        ObjectType.Market => 0x8000000000000L,
        ObjectType.MarketApp => 0x10000000000000L,
        ObjectType.VmGroup => 0x20000000000000L,
        ObjectType.VNTemplate => 0x40000000000000L,
        ObjectType.Hook => 0x80000000000000L,
        ObjectType.BackupJob => 0x100000000000000L,
        _ => 0,
    };
}
