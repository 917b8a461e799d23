using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// Renders every object of the model as the XML document OpenNebula's API returns for it, element by
/// element in the order of OpenNebula's XSDs (<c>shared/opennebula-xsd</c>), because OpenNebula's CLI,
/// pyone and Sunstone read these documents positionally or through bindings generated from the XSDs.
/// Where oned itself departs from its XSDs we match oned; every such place says so in a comment and is
/// listed in the schema tests' allow-list of known oned deviations.
/// </summary>
/// <remarks>
/// Rendering is pure: the same object and context give the same bytes, so the API can cache each object's
/// rendering and stream cached bytes into pool documents (<see cref="PoolXml"/>). The object kinds are
/// split into partial files: Auth (user, group, ACL, zone), Infrastructure (cluster, host, datastore),
/// Storage (image, VM template), Vm, Network (vnet, security group, VM group, vnet template), Quotas.
/// </remarks>
public static partial class ObjectXml
{
    /// <summary>The object's XML as a string.</summary>
    /// <exception cref="ArgumentException">The object kind has no renderer.</exception>
    public static string Render(PoolObject obj, RenderContext ctx, RenderMode mode = RenderMode.Full)
    {
        var w = new OneXmlWriter(2048);
        Write(w, obj, ctx, mode);
        return w.ToString();
    }

    /// <summary>The object's XML as UTF-8 bytes (what the API caches and streams).</summary>
    /// <exception cref="ArgumentException">The object kind has no renderer.</exception>
    public static byte[] RenderUtf8(PoolObject obj, RenderContext ctx, RenderMode mode = RenderMode.Full)
    {
        var w = new OneXmlWriter(2048);
        Write(w, obj, ctx, mode);
        return w.ToArray();
    }

    /// <summary>Appends the object's XML to <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The object kind has no renderer.</exception>
    public static void Write(OneXmlWriter writer, PoolObject obj, RenderContext ctx, RenderMode mode = RenderMode.Full)
    {
        switch (obj)
        {
            case Vm vm: WriteVm(writer, vm, ctx, mode); break;
            case Host host: WriteHost(writer, host, ctx); break;
            case User user: WriteUser(writer, user, ctx, mode); break;
            case Group group: WriteGroup(writer, group, ctx, mode); break;
            case AclRule acl: WriteAcl(writer, acl); break;
            case Zone zone: WriteZone(writer, zone, ctx, mode); break;
            case Cluster cluster: WriteCluster(writer, cluster); break;
            case Datastore ds: WriteDatastore(writer, ds); break;
            case Image image: WriteImage(writer, image); break;
            case VmTemplate template: WriteVmTemplate(writer, template); break;
            case VNet vnet: WriteVNet(writer, vnet, mode); break;
            case SecGroup sg: WriteSecGroup(writer, sg); break;
            case VmGroup vmg: WriteVmGroup(writer, vmg); break;
            case VNTemplate vnt: WriteVNTemplate(writer, vnt); break;
            case Market market: WriteMarket(writer, market); break;
            case MarketApp app: WriteMarketApp(writer, app); break;
            default: throw new ArgumentException($"No XML renderer for {obj.GetType().Name}", nameof(obj));
        }
    }

    /// <summary>Root element of one object's document (VM, HOST, VMTEMPLATE, VNET, SECURITY_GROUP...).</summary>
    public static string ElementName(ObjectType type) => type switch
    {
        ObjectType.User => "USER",
        ObjectType.Group => "GROUP",
        ObjectType.Acl => "ACL",
        ObjectType.Zone => "ZONE",
        ObjectType.Cluster => "CLUSTER",
        ObjectType.Host => "HOST",
        ObjectType.Datastore => "DATASTORE",
        ObjectType.Image => "IMAGE",
        ObjectType.Template => "VMTEMPLATE",
        ObjectType.Vm => "VM",
        ObjectType.VNet => "VNET",
        ObjectType.SecGroup => "SECURITY_GROUP",
        ObjectType.VmGroup => "VM_GROUP",
        ObjectType.VNTemplate => "VNTEMPLATE",
        ObjectType.Market => "MARKETPLACE",
        ObjectType.MarketApp => "MARKETPLACEAPP",
        ObjectType.Document => "DOCUMENT",
        ObjectType.Hook => "HOOK",
        ObjectType.VRouter => "VROUTER",
        ObjectType.Vdc => "VDC",
        ObjectType.BackupJob => "BACKUPJOB",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    // ---------------------------------------------------------------- shared pieces

    /// <summary>ID, UID, GID, UNAME, GNAME, NAME: the head every owned object starts with.</summary>
    private static void WriteOwnedHead(OneXmlWriter w, OwnedObject o)
    {
        w.Element("ID", o.Id);
        w.Element("UID", o.Uid);
        w.Element("GID", o.Gid);
        w.Element("UNAME", o.Uname);
        w.Element("GNAME", o.Gname);
        w.Element("NAME", o.Name);
    }

    private static void WritePermissions(OneXmlWriter w, Permissions p)
    {
        w.Start("PERMISSIONS");
        w.Element("OWNER_U", p.OwnerU);
        w.Element("OWNER_M", p.OwnerM);
        w.Element("OWNER_A", p.OwnerA);
        w.Element("GROUP_U", p.GroupU);
        w.Element("GROUP_M", p.GroupM);
        w.Element("GROUP_A", p.GroupA);
        w.Element("OTHER_U", p.OtherU);
        w.Element("OTHER_M", p.OtherM);
        w.Element("OTHER_A", p.OtherA);
        w.End("PERMISSIONS");
    }

    /// <summary>The LOCK element, written only while the object is locked (as oned).</summary>
    private static void WriteLock(OneXmlWriter w, LockInfo? lockInfo)
    {
        if (lockInfo is null) return;
        w.Start("LOCK");
        w.Element("LOCKED", lockInfo.Locked);
        w.Element("OWNER", lockInfo.Owner);
        w.Element("TIME", lockInfo.Time);
        w.Element("REQ_ID", lockInfo.ReqId);
        w.End("LOCK");
    }

    /// <summary>An id collection (shared.xsd IDS): <c>&lt;NAME&gt;&lt;ID&gt;1&lt;/ID&gt;...&lt;/NAME&gt;</c>.</summary>
    private static void WriteIds(OneXmlWriter w, string name, IReadOnlyCollection<int> ids)
    {
        if (ids.Count == 0)
        {
            w.Empty(name);
            return;
        }
        w.Start(name);
        foreach (var id in ids) w.Element("ID", id);
        w.End(name);
    }
}
