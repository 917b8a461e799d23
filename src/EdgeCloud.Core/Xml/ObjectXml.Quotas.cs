using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>
    /// VM quota metrics in the order of shared.xsd's VM_QUOTA/VM (each followed by its _USED twin).
    /// The XSD requires every one of them, so metrics the model does not track (PCI_DEV, PCI_NIC...)
    /// are written with the default limit -1 and usage 0, as oned does for a fresh quota.
    /// </summary>
    private static readonly string[] VmQuotaMetrics =
    [
        "CPU", "MEMORY", "PCI_DEV", "PCI_NIC", "RUNNING_CPU", "RUNNING_MEMORY", "RUNNING_PCI_DEV", "RUNNING_PCI_NIC",
        "RUNNING_VMS", "SYSTEM_DISK_SIZE", "VMS",
    ];

    /// <summary>
    /// The four quota elements, always all four (empty when unset): OpenNebula's CLI reads
    /// DATASTORE_QUOTA, NETWORK_QUOTA, VM_QUOTA and IMAGE_QUOTA unconditionally (<c>oneuser show</c>).
    /// Numbers are printed as oned prints its floats: -1 default, -2 unlimited, integers without
    /// decimals, fractions (CPU 0.5) as such.
    /// </summary>
    public static void WriteQuotas(OneXmlWriter writer, QuotaSet quotas)
    {
        var w = writer;
        WriteIdQuotas(w, "DATASTORE_QUOTA", "DATASTORE", quotas.Datastore, QuotaSet.DatastoreMetrics);
        WriteIdQuotas(w, "NETWORK_QUOTA", "NETWORK", quotas.Network, QuotaSet.NetworkMetrics);

        if (quotas.Vm is null)
        {
            w.Empty("VM_QUOTA");
        }
        else
        {
            w.Start("VM_QUOTA");
            w.Start("VM");
            foreach (var m in VmQuotaMetrics) QuotaPair(w, quotas.Vm, m);
            w.End("VM");
            w.End("VM_QUOTA");
        }

        WriteIdQuotas(w, "IMAGE_QUOTA", "IMAGE", quotas.Image, QuotaSet.ImageMetrics);
    }

    /// <summary>A quota kind kept per object id (DATASTORE, NETWORK, IMAGE): each entry's ID, then limit/usage per metric.</summary>
    private static void WriteIdQuotas(OneXmlWriter w, string listName, string entryName, IReadOnlyList<QuotaEntry> entries, string[] metrics)
    {
        if (entries.Count == 0)
        {
            w.Empty(listName);
            return;
        }
        w.Start(listName);
        foreach (var q in entries)
        {
            w.Start(entryName);
            w.Element("ID", q.Id);
            foreach (var m in metrics) QuotaPair(w, q, m);
            w.End(entryName);
        }
        w.End(listName);
    }

    /// <summary>
    /// A DEFAULT_USER_QUOTAS / DEFAULT_GROUP_QUOTAS block (<paramref name="elementName"/>) holding the four
    /// quota elements; also the whole answer of one.userquota.info / one.groupquota.info.
    /// </summary>
    public static void WriteDefaultQuotas(OneXmlWriter writer, string elementName, QuotaSet quotas)
    {
        writer.Start(elementName);
        WriteQuotas(writer, quotas);
        writer.End(elementName);
    }

    /// <summary>The document one.userquota.info returns (<c>&lt;DEFAULT_USER_QUOTAS&gt;</c>).</summary>
    public static string RenderDefaultUserQuotas(QuotaSet quotas)
    {
        var w = new OneXmlWriter(512);
        WriteDefaultQuotas(w, "DEFAULT_USER_QUOTAS", quotas);
        return w.ToString();
    }

    /// <summary>The document one.groupquota.info returns (<c>&lt;DEFAULT_GROUP_QUOTAS&gt;</c>).</summary>
    public static string RenderDefaultGroupQuotas(QuotaSet quotas)
    {
        var w = new OneXmlWriter(512);
        WriteDefaultQuotas(w, "DEFAULT_GROUP_QUOTAS", quotas);
        return w.ToString();
    }

    /// <summary>The QUOTAS element that follows each USER / GROUP in the pool documents.</summary>
    private static void WritePoolQuotas(OneXmlWriter w, int ownerId, QuotaSet quotas)
    {
        w.Start("QUOTAS");
        w.Element("ID", ownerId);
        WriteQuotas(w, quotas);
        w.End("QUOTAS");
    }

    private static void QuotaPair(OneXmlWriter w, QuotaEntry q, string metric)
    {
        w.ElementDecimal(metric, q.Limit(metric));
        w.Start(metric + "_USED");
        w.Decimal(q.UsedOf(metric));
        w.End(metric + "_USED");
    }
}
