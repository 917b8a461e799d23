using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>CLUSTER (cluster.xsd). The optional PLAN element (DRS plans) is not modelled.</summary>
    private static void WriteCluster(OneXmlWriter w, Cluster c)
    {
        w.Start("CLUSTER");
        w.Element("ID", c.Id);
        w.Element("NAME", c.Name);
        WriteIds(w, "HOSTS", c.Hosts);
        WriteIds(w, "DATASTORES", c.Datastores);
        WriteIds(w, "VNETS", c.VNets);
        TemplateXml.Write(w, c.Template);
        w.End("CLUSTER");
    }

    /// <summary>
    /// HOST (host.xsd). HOST_SHARE comes from the stored share; its DATASTORES/DS entries and the
    /// MONITORING element come from the live sample of <see cref="RenderContext.Monitoring"/>.
    /// </summary>
    private static void WriteHost(OneXmlWriter w, Host h, RenderContext ctx)
    {
        var sample = ctx.Monitoring.Host(h.Id);
        var s = h.Share;

        w.Start("HOST");
        w.Element("ID", h.Id);
        w.Element("NAME", h.Name);
        w.Element("STATE", (int)h.State);
        w.Element("PREV_STATE", (int)h.PrevState);
        w.Element("IM_MAD", h.ImMad);
        w.Element("VM_MAD", h.VmMad);
        w.Element("CLUSTER_ID", h.ClusterId);
        w.Element("CLUSTER", h.ClusterName);

        w.Start("HOST_SHARE");
        w.Element("MEM_USAGE", s.MemUsage);
        w.Element("CPU_USAGE", s.CpuUsage);
        w.Element("TOTAL_MEM", s.TotalMem);
        w.Element("TOTAL_CPU", s.TotalCpu);
        w.Element("MAX_MEM", s.MaxMem);
        w.Element("MAX_CPU", s.MaxCpu);
        w.Element("RUNNING_VMS", s.RunningVms);
        w.Element("VMS_THREAD", 1); // oned's default: one VM vCPU per host thread (no NUMA pinning modelled)
        WriteHostDatastores(w, h, sample);
        w.Empty("PCI_DEVICES");
        w.Empty("NUMA_NODES");
        w.End("HOST_SHARE");

        WriteIds(w, "VMS", h.Vms);
        TemplateXml.Write(w, h.Template);
        WriteHostMonitoring(w, h.Id, sample);
        w.End("HOST");
    }

    /// <summary>
    /// HOST_SHARE/DATASTORES. oned keeps this element as a template that monitoring fills (DS entries,
    /// FREE_DISK, MAX_DISK, USED_DISK); a host that was never monitored therefore shows an empty
    /// <c>&lt;DATASTORES/&gt;</c> (or only DISK_USAGE once VMs reserved disk on it), although host.xsd requires
    /// DISK_USAGE, FREE_DISK, MAX_DISK and USED_DISK. We match oned: the schema tests list this as the known
    /// oned deviation "unmonitored host DATASTORES".
    /// </summary>
    private static void WriteHostDatastores(OneXmlWriter w, Host h, HostMonitoring? sample)
    {
        var s = h.Share;
        if (h.LastMonitored == 0 && sample is null)
        {
            if (s.DiskUsage == 0)
            {
                w.Empty("DATASTORES");
            }
            else
            {
                w.Start("DATASTORES");
                w.Element("DISK_USAGE", s.DiskUsage);
                w.End("DATASTORES");
            }
            return;
        }

        w.Start("DATASTORES");
        w.Element("DISK_USAGE", s.DiskUsage);
        if (sample is not null)
        {
            foreach (var (id, (total, free, used)) in sample.Datastores)
            {
                w.Start("DS");
                w.Element("FREE_MB", free);
                w.Element("ID", id);
                w.Element("TOTAL_MB", total);
                w.Element("USED_MB", used);
                w.End("DS");
            }
        }
        w.Element("FREE_DISK", s.FreeDisk);
        w.Element("MAX_DISK", s.MaxDisk);
        w.Element("USED_DISK", s.UsedDisk);
        w.End("DATASTORES");
    }

    /// <summary>
    /// A host MONITORING element as oned writes it (TIMESTAMP, ID, CAPACITY, SYSTEM); <c>&lt;MONITORING/&gt;</c>
    /// when there is no sample, as oned for a host it has not monitored.
    /// </summary>
    internal static void WriteHostMonitoring(OneXmlWriter w, int hostId, HostMonitoring? m)
    {
        if (m is null)
        {
            w.Empty("MONITORING");
            return;
        }
        w.Start("MONITORING");
        w.Element("TIMESTAMP", m.Timestamp);
        w.Element("ID", hostId);
        w.Start("CAPACITY");
        w.Element("FREE_CPU", m.FreeCpu);
        w.Element("FREE_MEMORY", m.FreeMemory);
        w.Element("USED_CPU", m.UsedCpu);
        w.Element("USED_MEMORY", m.UsedMemory);
        w.End("CAPACITY");
        w.Start("SYSTEM");
        w.Element("NETRX", m.NetRx);
        w.Element("NETTX", m.NetTx);
        w.End("SYSTEM");
        w.End("MONITORING");
    }

    /// <summary>DATASTORE (datastore.xsd). Datastores carry no LOCK in the schema.</summary>
    private static void WriteDatastore(OneXmlWriter w, Datastore d)
    {
        w.Start("DATASTORE");
        WriteOwnedHead(w, d);
        WritePermissions(w, d.Permissions);
        w.Element("DS_MAD", d.DsMad);
        w.Element("TM_MAD", d.TmMad);
        w.Element("BASE_PATH", d.BasePath);
        w.Element("TYPE", (int)d.DsType);
        w.Element("DISK_TYPE", d.DiskType);
        w.Element("STATE", (int)d.State);
        WriteIds(w, "CLUSTERS", d.Clusters);
        w.Element("TOTAL_MB", d.TotalMb);
        w.Element("FREE_MB", d.FreeMb);
        w.Element("USED_MB", d.UsedMb);
        WriteIds(w, "IMAGES", d.Images);
        TemplateXml.Write(w, d.Template);
        w.End("DATASTORE");
    }
}
