using System.Text;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// Pool documents (<c>&lt;X_POOL&gt;</c> + entries + trailer). The API keeps each object's rendered entry
/// (<see cref="RenderMode.PoolEntry"/> bytes) cached and streams <see cref="Header"/>, the cached entries and
/// <see cref="Trailer"/> without re-rendering; <see cref="Render"/> does the same from objects.
/// </summary>
public static class PoolXml
{
    /// <summary>Root element of the pool document of <paramref name="type"/> (per the *_pool.xsd files).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a pooled type.</exception>
    public static string PoolRootName(ObjectType type) => type switch
    {
        ObjectType.User => "USER_POOL",
        ObjectType.Group => "GROUP_POOL",
        ObjectType.Acl => "ACL_POOL",
        ObjectType.Zone => "ZONE_POOL",
        ObjectType.Cluster => "CLUSTER_POOL",
        ObjectType.Host => "HOST_POOL",
        ObjectType.Datastore => "DATASTORE_POOL",
        ObjectType.Image => "IMAGE_POOL",
        ObjectType.Template => "VMTEMPLATE_POOL",
        ObjectType.Vm => "VM_POOL",
        ObjectType.VNet => "VNET_POOL",
        ObjectType.SecGroup => "SECURITY_GROUP_POOL",
        ObjectType.VmGroup => "VM_GROUP_POOL",
        ObjectType.VNTemplate => "VNTEMPLATE_POOL",
        ObjectType.Market => "MARKETPLACE_POOL",
        ObjectType.MarketApp => "MARKETPLACEAPP_POOL",
        ObjectType.Document => "DOCUMENT_POOL",
        ObjectType.Hook => "HOOK_POOL",
        ObjectType.VRouter => "VROUTER_POOL",
        ObjectType.Vdc => "VDC_POOL",
        ObjectType.BackupJob => "BACKUPJOB_POOL",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary><c>&lt;X_POOL&gt;</c> as UTF-8.</summary>
    public static byte[] Header(ObjectType type) => Encoding.ASCII.GetBytes("<" + PoolRootName(type) + ">");

    /// <summary>
    /// What closes the pool document: <c>&lt;/X_POOL&gt;</c>, preceded for users and groups by the
    /// DEFAULT_USER_QUOTAS / DEFAULT_GROUP_QUOTAS block user_pool.xsd / group_pool.xsd require at the end.
    /// </summary>
    public static byte[] Trailer(ObjectType type, RenderContext ctx)
    {
        var w = new OneXmlWriter(512);
        WriteTrailer(w, type, ctx);
        return w.ToArray();
    }

    public static void WriteHeader(OneXmlWriter writer, ObjectType type) => writer.Start(PoolRootName(type));

    public static void WriteTrailer(OneXmlWriter writer, ObjectType type, RenderContext ctx)
    {
        if (type == ObjectType.User) ObjectXml.WriteDefaultQuotas(writer, "DEFAULT_USER_QUOTAS", ctx.DefaultUserQuotas);
        else if (type == ObjectType.Group) ObjectXml.WriteDefaultQuotas(writer, "DEFAULT_GROUP_QUOTAS", ctx.DefaultGroupQuotas);
        writer.End(PoolRootName(type));
    }

    /// <summary>A pool document from already-rendered entries (cached <see cref="RenderMode.PoolEntry"/> bytes).</summary>
    public static void Write(OneXmlWriter writer, ObjectType type, IEnumerable<ReadOnlyMemory<byte>> entries, RenderContext ctx)
    {
        WriteHeader(writer, type);
        foreach (var e in entries) writer.Raw(e.Span);
        WriteTrailer(writer, type, ctx);
    }

    /// <summary>
    /// A pool document rendered from objects. <paramref name="mode"/> is <see cref="RenderMode.PoolEntry"/> for
    /// the <c>*pool.info</c> listings and <see cref="RenderMode.Full"/> for the extended ones
    /// (one.vmpool.infoextended: vm_pool_extended.xsd).
    /// </summary>
    public static string Render(ObjectType type, IEnumerable<PoolObject> objects, RenderContext ctx, RenderMode mode = RenderMode.PoolEntry)
    {
        var w = new OneXmlWriter(16 * 1024);
        WriteObjects(w, type, objects, ctx, mode);
        return w.ToString();
    }

    /// <inheritdoc cref="Render"/>
    public static byte[] RenderUtf8(ObjectType type, IEnumerable<PoolObject> objects, RenderContext ctx, RenderMode mode = RenderMode.PoolEntry)
    {
        var w = new OneXmlWriter(16 * 1024);
        WriteObjects(w, type, objects, ctx, mode);
        return w.ToArray();
    }

    /// <summary>Writes a pool document rendered from objects.</summary>
    /// <exception cref="ArgumentException">An object is not of <paramref name="type"/>.</exception>
    public static void WriteObjects(OneXmlWriter writer, ObjectType type, IEnumerable<PoolObject> objects, RenderContext ctx, RenderMode mode = RenderMode.PoolEntry)
    {
        WriteHeader(writer, type);
        foreach (var o in objects)
        {
            if (o.Type != type) throw new ArgumentException($"{o.Type} object {o.Id} in a {PoolRootName(type)}", nameof(objects));
            ObjectXml.Write(writer, o, ctx, mode);
        }
        WriteTrailer(writer, type, ctx);
    }

    /// <summary>The empty pool document of a type that is not modelled yet (MARKETPLACE_POOL, HOOK_POOL...).</summary>
    public static string Empty(ObjectType type, RenderContext? ctx = null)
    {
        var w = new OneXmlWriter(128);
        WriteHeader(w, type);
        WriteTrailer(w, type, ctx ?? RenderContext.Default);
        return w.ToString();
    }
}
