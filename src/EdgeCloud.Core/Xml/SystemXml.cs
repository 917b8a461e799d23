using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// The documents that are not objects: OPENNEBULA_CONFIGURATION (one.system.config), MONITORING_DATA
/// (one.host.monitoring, one.hostpool.monitoring, one.vm.monitoring, one.vmpool.monitoring) and RAFT
/// (one.zone.raftstatus).
/// </summary>
public static class SystemXml
{
    /// <summary>
    /// OPENNEBULA_CONFIGURATION. oned dumps its configuration as a template, i.e. sorted by name, which is the
    /// order of opennebula_configuration.xsd; we build the same template and let the template writer sort.
    /// </summary>
    public static string RenderConfiguration(SystemConfig config)
    {
        var t = new Template();
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static VectorAttribute V(string name, IEnumerable<KeyValuePair<string, string>> values) => new(name, values);

        t.Add("API_LIST_ORDER", config.ApiListOrder);
        foreach (var s in config.AuthMadConf) t.Add(V("AUTH_MAD_CONF", s));
        t.Add("DEFAULT_AUTH", config.DefaultAuth);
        t.Add(V("DEFAULT_COST", [new("CPU_COST", "0"), new("DISK_COST", "0"), new("MEMORY_COST", "0")]));
        t.Add("DEFAULT_DEVICE_PREFIX", config.DefaultDevicePrefix);
        t.Add("DEFAULT_IMAGE_PERSISTENT", config.DefaultImagePersistent);
        t.Add("DEFAULT_IMAGE_PERSISTENT_NEW", config.DefaultImagePersistentNew);
        t.Add("DEFAULT_IMAGE_TYPE", config.DefaultImageType);
        t.Add("DEFAULT_UMASK", config.DefaultUmask);
        foreach (var s in config.DsMadConf) t.Add(V("DS_MAD_CONF", s));
        t.Add("ENABLE_OTHER_PERMISSIONS", config.EnableOtherPermissions ? "YES" : "NO");
        t.Add(V("FEDERATION",
        [
            new("MASTER_ONED", config.MasterOned), new("MODE", config.FederationMode),
            new("SERVER_ID", I(config.ServerId)), new("ZONE_ID", I(config.ZoneId)),
        ]));
        foreach (var a in config.GroupRestrictedAttr) t.Add("GROUP_RESTRICTED_ATTR", a);
        foreach (var a in config.ImageRestrictedAttr) t.Add("IMAGE_RESTRICTED_ATTR", a);
        foreach (var a in config.InheritDatastoreAttr) t.Add("INHERIT_DATASTORE_ATTR", a);
        foreach (var a in config.InheritImageAttr) t.Add("INHERIT_IMAGE_ATTR", a);
        foreach (var a in config.InheritVnetAttr) t.Add("INHERIT_VNET_ATTR", a);
        t.Add("MAC_PREFIX", config.MacPrefix);
        t.Add("MONITORING_INTERVAL_DATASTORE", I(config.MonitoringIntervalDatastore));
        t.Add("MONITORING_INTERVAL_HOST", I(config.MonitoringIntervalHost));
        t.Add("MONITORING_INTERVAL_MARKET", I(config.MonitoringIntervalMarket));
        t.Add("MONITORING_INTERVAL_VM", I(config.MonitoringIntervalVm));
        t.Add("NETWORK_SIZE", I(config.NetworkSize));
        t.Add("PORT", I(config.Port));
        t.Add("SCRIPTS_REMOTE_DIR", config.ScriptsRemoteDir);
        t.Add("SESSION_EXPIRATION_TIME", I(config.SessionExpirationTime));
        foreach (var s in config.TmMadConf) t.Add(V("TM_MAD_CONF", s));
        foreach (var a in config.UserRestrictedAttr) t.Add("USER_RESTRICTED_ATTR", a);
        t.Add(V("VLAN_IDS", [new("RESERVED", config.VlanIdsReserved), new("START", I(config.VlanIdsStart))]));
        t.Add("VM_ADMIN_OPERATIONS", config.VmAdminOperations);
        foreach (var s in config.VmMad) t.Add(V("VM_MAD", s));
        t.Add("VM_MANAGE_OPERATIONS", config.VmManageOperations);
        foreach (var a in config.VmRestrictedAttr) t.Add("VM_RESTRICTED_ATTR", a);
        t.Add("VM_SNAPSHOT_FACTOR", config.VmSnapshotFactor);
        t.Add("VM_USE_OPERATIONS", config.VmUseOperations);
        t.Add(V("VNC_PORTS", [new("RESERVED", config.VncPortsReserved), new("START", I(config.VncPortsStart))]));
        foreach (var a in config.VnetRestrictedAttr) t.Add("VNET_RESTRICTED_ATTR", a);
        foreach (var s in config.VnMadConf) t.Add(V("VN_MAD_CONF", s));
        t.Add(V("VXLAN_IDS", [new("START", I(config.VxlanIdsStart))]));
        return TemplateXml.ToXml(t, "OPENNEBULA_CONFIGURATION");
    }

    /// <summary>
    /// MONITORING_DATA of hosts: one host MONITORING record per sample, as in HOST/MONITORING (TIMESTAMP, ID,
    /// CAPACITY, SYSTEM). monitoring_data.xsd only describes VM records, so these documents are a known
    /// oned deviation from the schema.
    /// </summary>
    public static string RenderHostMonitoringData(IEnumerable<(int HostId, HostMonitoring Sample)> samples)
    {
        var w = new OneXmlWriter(1024);
        w.Start("MONITORING_DATA");
        foreach (var (id, s) in samples) ObjectXml.WriteHostMonitoring(w, id, s);
        w.End("MONITORING_DATA");
        return w.ToString();
    }

    /// <summary>MONITORING_DATA of VMs (monitoring_data.xsd): one MONITORING record per sample.</summary>
    public static string RenderVmMonitoringData(IEnumerable<(int VmId, VmMonitoring Sample)> samples)
    {
        var w = new OneXmlWriter(1024);
        w.Start("MONITORING_DATA");
        foreach (var (id, s) in samples) ObjectXml.WriteVmMonitoring(w, id, s);
        w.End("MONITORING_DATA");
        return w.ToString();
    }

    /// <summary>The RAFT document (raftstatus.xsd).</summary>
    public static string RenderRaftStatus(RaftStatus status)
    {
        var w = new OneXmlWriter(256);
        w.Start("RAFT");
        w.Element("SERVER_ID", status.ServerId);
        w.Element("STATE", status.State);
        w.Element("TERM", status.Term);
        w.Element("VOTEDFOR", status.VotedFor);
        w.Element("COMMIT", status.Commit);
        w.Element("LOG_INDEX", status.LogIndex);
        w.Element("LOG_TERM", status.LogTerm);
        w.Element("FEDLOG_INDEX", status.FedlogIndex);
        w.End("RAFT");
        return w.ToString();
    }
}
