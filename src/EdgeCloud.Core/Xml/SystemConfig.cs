using System.Collections.Immutable;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// What one.system.config shows (the OPENNEBULA_CONFIGURATION document), with oned.conf's defaults.
/// Clients read a few of these (quota and permission defaults in <c>oneuser show</c>, the driver
/// lists in Sunstone/FireEdge); the rest is informational. Driver sections are free-form
/// name/value maps because each driver kind has its own keys (see opennebula_configuration.xsd).
/// </summary>
public sealed record SystemConfig
{
    public string ApiListOrder { get; init; } = "DESC";
    public string DefaultAuth { get; init; } = "default";
    public string DefaultDevicePrefix { get; init; } = "sd";
    public string DefaultImagePersistent { get; init; } = "";
    public string DefaultImagePersistentNew { get; init; } = "NO";
    public string DefaultImageType { get; init; } = "OS";

    /// <summary>Octal digits, e.g. "177" (new objects get 0777 &amp; ~umask).</summary>
    public string DefaultUmask { get; init; } = "177";

    public bool EnableOtherPermissions { get; init; } = true;

    /// <summary>STANDALONE, MASTER or SLAVE.</summary>
    public string FederationMode { get; init; } = "STANDALONE";
    public int ZoneId { get; init; }
    public int ServerId { get; init; } = -1;
    public string MasterOned { get; init; } = "";

    public string MacPrefix { get; init; } = "02:00";
    public int NetworkSize { get; init; } = 254;
    public int Port { get; init; } = 2633;
    public string ScriptsRemoteDir { get; init; } = "/var/tmp/one";
    public long SessionExpirationTime { get; init; } = 900;
    public string VmSnapshotFactor { get; init; } = "0";

    public int MonitoringIntervalHost { get; init; } = 180;
    public int MonitoringIntervalVm { get; init; } = 180;
    public int MonitoringIntervalDatastore { get; init; } = 300;
    public int MonitoringIntervalMarket { get; init; } = 600;

    public int VncPortsStart { get; init; } = 5900;
    public string VncPortsReserved { get; init; } = "32768:65536";
    public int VlanIdsStart { get; init; } = 2;
    public string VlanIdsReserved { get; init; } = "0, 1, 4095";
    public int VxlanIdsStart { get; init; } = 2;

    public string VmAdminOperations { get; init; } = "migrate, delete, recover, retry, deploy, resched, backup";
    public string VmManageOperations { get; init; } =
        "undeploy, hold, release, stop, suspend, resume, reboot, poweroff, disk-attach, nic-attach, disk-snapshot, " +
        "terminate, disk-resize, snapshot, updateconf, rename, resize, update, disk-saveas, sched-action, sg-attach, pci-attach";
    public string VmUseOperations { get; init; } = "";

    public ImmutableArray<string> VmRestrictedAttr { get; init; } =
    [
        "CONTEXT/FILES", "NIC/MAC", "NIC/VLAN_ID", "NIC/BRIDGE", "NIC/FILTER", "NIC/INBOUND_AVG_BW",
        "NIC/INBOUND_PEAK_BW", "NIC/INBOUND_PEAK_KB", "NIC/OUTBOUND_AVG_BW", "NIC/OUTBOUND_PEAK_BW",
        "NIC/OUTBOUND_PEAK_KB", "NIC/OPENNEBULA_MANAGED", "NIC/VCENTER_NET_REF", "NIC/VCENTER_SWITCH_NAME",
        "NIC/VCENTER_SWITCH_NPORTS", "NIC/VCENTER_PORTGROUP_TYPE", "NIC/VCENTER_CCR_REF",
        "NIC/VCENTER_INSTANCE_ID", "NIC/VCENTER_VLAN_ID", "NIC_ALIAS/MAC", "NIC_ALIAS/VLAN_ID",
        "NIC_ALIAS/BRIDGE", "NIC_DEFAULT/MAC", "NIC_DEFAULT/FILTER", "DISK/TOTAL_BYTES_SEC",
        "DISK/READ_BYTES_SEC", "DISK/WRITE_BYTES_SEC", "DISK/TOTAL_IOPS_SEC", "DISK/READ_IOPS_SEC",
        "DISK/WRITE_IOPS_SEC", "DISK/ORIGINAL_SIZE", "DISK/ORIGINAL_UID", "CPU_COST", "MEMORY_COST",
        "DISK_COST", "PCI", "EMULATOR", "RAW", "USER_PRIORITY", "USER_INPUTS/CPU", "USER_INPUTS/MEMORY",
        "USER_INPUTS/VCPU", "VCENTER_VM_FOLDER", "VCENTER_ESX_HOST", "TOPOLOGY/PIN_POLICY", "TOPOLOGY/HUGEPAGE_SIZE",
    ];

    public ImmutableArray<string> ImageRestrictedAttr { get; init; } = ["SOURCE"];

    public ImmutableArray<string> VnetRestrictedAttr { get; init; } =
    [
        "VN_MAD", "PHYDEV", "VLAN_ID", "BRIDGE", "CONF", "BRIDGE_CONF", "OVS_BRIDGE_CONF", "IP_LINK_CONF",
        "FILTER", "FILTER_IP_SPOOFING", "FILTER_MAC_SPOOFING", "AR/VN_MAD", "AR/PHYDEV", "AR/VLAN_ID",
        "AR/BRIDGE", "AR/FILTER", "AR/FILTER_IP_SPOOFING", "AR/FILTER_MAC_SPOOFING", "CLUSTER_IDS",
    ];

    public ImmutableArray<string> UserRestrictedAttr { get; init; } =
        ["VM_USE_OPERATIONS", "VM_MANAGE_OPERATIONS", "VM_ADMIN_OPERATIONS"];

    public ImmutableArray<string> GroupRestrictedAttr { get; init; } =
        ["VM_USE_OPERATIONS", "VM_MANAGE_OPERATIONS", "VM_ADMIN_OPERATIONS"];

    public ImmutableArray<string> InheritDatastoreAttr { get; init; } =
    [
        "CEPH_HOST", "CEPH_SECRET", "CEPH_KEY", "CEPH_USER", "CEPH_CONF", "CEPH_TRASH", "POOL_NAME",
        "ISCSI_USER", "ISCSI_USAGE", "ISCSI_HOST", "ISCSI_IQN", "GLUSTER_HOST", "GLUSTER_VOLUME", "DISK_TYPE",
        "ALLOW_ORPHANS",
    ];

    public ImmutableArray<string> InheritImageAttr { get; init; } = ["DISK_TYPE"];

    public ImmutableArray<string> InheritVnetAttr { get; init; } =
    [
        "VLAN_TAGGED_ID", "FILTER", "FILTER_IP_SPOOFING", "FILTER_MAC_SPOOFING", "MTU", "METRIC",
        "INBOUND_AVG_BW", "INBOUND_PEAK_BW", "INBOUND_PEAK_KB", "OUTBOUND_AVG_BW", "OUTBOUND_PEAK_BW",
        "OUTBOUND_PEAK_KB", "CONF", "BRIDGE_CONF", "OVS_BRIDGE_CONF", "IP_LINK_CONF", "EXTERNAL", "GUEST_MTU",
    ];

    /// <summary>AUTH_MAD_CONF sections (NAME, PASSWORD_CHANGE, DRIVER_MANAGED_GROUPS, DRIVER_MANAGED_GROUP_ADMIN, MAX_TOKEN_TIME).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> AuthMadConf { get; init; } =
    [
        AuthConf("core", passwordChange: true, managedGroups: false, maxTokenTime: -1),
        AuthConf("public", passwordChange: false, managedGroups: false, maxTokenTime: -1),
        AuthConf("ssh", passwordChange: true, managedGroups: false, maxTokenTime: -1),
        AuthConf("x509", passwordChange: false, managedGroups: false, maxTokenTime: -1),
        AuthConf("ldap", passwordChange: true, managedGroups: true, maxTokenTime: 86400),
        AuthConf("server_cipher", passwordChange: false, managedGroups: false, maxTokenTime: -1),
        AuthConf("server_x509", passwordChange: false, managedGroups: false, maxTokenTime: -1),
    ];

    /// <summary>VM_MAD sections (NAME, EXECUTABLE, ARGUMENTS, TYPE, DEFAULT, SUNSTONE_NAME...).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> VmMad { get; init; } = [];

    /// <summary>TM_MAD_CONF sections (NAME, LN_TARGET, CLONE_TARGET, SHARED, DS_MIGRATE...).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> TmMadConf { get; init; } = [];

    /// <summary>DS_MAD_CONF sections (NAME, REQUIRED_ATTRS, PERSISTENT_ONLY, MARKETPLACE_ACTIONS).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> DsMadConf { get; init; } = [];

    /// <summary>VN_MAD_CONF sections (NAME, BRIDGE_TYPE).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> VnMadConf { get; init; } = [];

    /// <summary>A name/value section, keys sorted as oned writes them.</summary>
    public static ImmutableSortedDictionary<string, string> Section(params (string Key, string Value)[] values) =>
        values.ToImmutableSortedDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);

    private static ImmutableSortedDictionary<string, string> AuthConf(string name, bool passwordChange, bool managedGroups, long maxTokenTime) =>
        Section(
            ("DRIVER_MANAGED_GROUPS", managedGroups ? "YES" : "NO"),
            ("DRIVER_MANAGED_GROUP_ADMIN", "NO"),
            ("MAX_TOKEN_TIME", maxTokenTime.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("NAME", name),
            ("PASSWORD_CHANGE", passwordChange ? "YES" : "NO"));
}
