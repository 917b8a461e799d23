using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Tests.Xml;

/// <summary>Realistic objects in several states, built in code as the engine would store them.</summary>
internal static class Samples
{
    public const long Now = 1_760_000_000;

    public static readonly Permissions Um = Permissions.FromOctal(Convert.ToInt32("600", 8));
    public static readonly Permissions UmU = Permissions.FromOctal(Convert.ToInt32("640", 8));

    public static VectorAttribute Vector(string name, params (string Key, string Value)[] values) =>
        new(name, values.Select(v => new KeyValuePair<string, string>(v.Key, v.Value)));

    public static Template Template(params TemplateAttribute[] attributes) => new(attributes);

    public static SingleAttribute S(string name, string value) => new(name, value);

    // ------------------------------------------------------------------ users and groups

    public static QuotaSet FilledQuotas()
    {
        var vm = QuotaEntry.Create("", QuotaSet.VmMetrics);
        vm = vm with
        {
            Limits = vm.Limits.SetItem("CPU", 8.5).SetItem("MEMORY", 16384).SetItem("VMS", -2),
            Used = vm.Used.SetItem("CPU", 0.5).SetItem("MEMORY", 1024).SetItem("VMS", 1).SetItem("SYSTEM_DISK_SIZE", 2048),
        };
        var ds = QuotaEntry.Create("1", QuotaSet.DatastoreMetrics);
        ds = ds with { Limits = ds.Limits.SetItem("SIZE", 100000), Used = ds.Used.SetItem("IMAGES", 2).SetItem("SIZE", 4096) };
        var net = QuotaEntry.Create("0", QuotaSet.NetworkMetrics);
        net = net with { Used = net.Used.SetItem("LEASES", 3) };
        var img = QuotaEntry.Create("0", QuotaSet.ImageMetrics);
        img = img with { Used = img.Used.SetItem("RVMS", 1) };
        return new QuotaSet { Vm = vm, Datastore = [ds], Network = [net], Image = [img] };
    }

    public static User Oneadmin() => new()
    {
        Id = 0,
        Name = "oneadmin",
        Gid = 0,
        Gname = "oneadmin",
        Groups = [0],
        Password = "4478db59d30855454ece114e8ccfa5563d21c9bd",
        AuthDriver = "core",
        Template = Template(S("TOKEN_PASSWORD", "ec21d27e2fe4f9ed08a396cbd47b08b8e0a4ca3c")),
    };

    public static User UserWithTokensAndQuotas() => new()
    {
        Id = 2,
        Name = "alice",
        Gid = 100,
        Gname = "developers",
        Groups = [1, 100],
        Password = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
        AuthDriver = "core",
        Enabled = true,
        LoginTokens =
        [
            new LoginToken("aa6f3a5a1b0d0c9c8e76e0ab9f5d7e7a3a7e4f1b2c3d4e5f60718293a4b5c6d7", Now + 36000, -1),
            new LoginToken("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", -1, 100),
        ],
        Quotas = FilledQuotas(),
        Template = Template(S("EMAIL", "alice@example.com"), S("SSH_PUBLIC_KEY", "ssh-ed25519 AAAA <alice@laptop>")),
    };

    public static User DisabledUserWithoutGroups() => new()
    {
        Id = 3,
        Name = "bob",
        Gid = 1,
        Gname = "users",
        Password = "x",
        AuthDriver = "ldap",
        Enabled = false,
    };

    public static Group GroupWithAdmins() => new()
    {
        Id = 100,
        Name = "developers",
        Users = [2, 5, 7],
        Admins = [2],
        Quotas = FilledQuotas(),
        Template = Template(
            Vector("FIREEDGE", ("DEFAULT_VIEW", "cloud"), ("GROUP_ADMIN_VIEWS", "groupadmin"), ("VIEWS", "cloud")),
            S("DESCRIPTION", "Dev & test")),
    };

    public static Group EmptyGroup() => new() { Id = 1, Name = "users" };

    // ------------------------------------------------------------------ infrastructure

    public static Cluster DefaultCluster() => new()
    {
        Id = 0,
        Name = "default",
        Hosts = [0, 1],
        Datastores = [0, 1, 2],
        VNets = [0],
        Template = Template(S("RESERVED_CPU", ""), S("RESERVED_MEM", "")),
    };

    public static Host UnmonitoredHost() => new()
    {
        Id = 1,
        Name = "node02",
        State = HostState.INIT,
        PrevState = HostState.INIT,
        ImMad = "kvm",
        VmMad = "kvm",
        ClusterId = 0,
        ClusterName = "default",
    };

    public static Host MonitoredHost() => new()
    {
        Id = 0,
        Name = "node01",
        State = HostState.MONITORED,
        PrevState = HostState.MONITORED,
        ImMad = "kvm",
        VmMad = "kvm",
        ClusterId = 0,
        ClusterName = "default",
        LastMonitored = Now,
        Vms = [4, 5],
        Share = new HostShare
        {
            CpuUsage = 150,
            MemUsage = 786432,
            DiskUsage = 0,
            TotalCpu = 800,
            TotalMem = 16318212,
            MaxCpu = 800,
            MaxMem = 16318212,
            MaxDisk = 476802,
            FreeDisk = 300000,
            UsedDisk = 176802,
            RunningVms = 2,
        },
        Template = Template(
            S("ARCH", "x86_64"), S("CPUSPEED", "2400"), S("HOSTNAME", "node01"), S("HYPERVISOR", "kvm"),
            S("MODELNAME", "Intel(R) Xeon(R) CPU"), S("RESERVED_CPU", ""), S("RESERVED_MEM", ""),
            S("VERSION", "7.5.80")),
    };

    public static HostMonitoring HostSample() => new()
    {
        Timestamp = Now,
        FreeCpu = 650,
        UsedCpu = 150,
        FreeMemory = 12000000,
        UsedMemory = 4318212,
        NetRx = 123456789,
        NetTx = 98765432,
        Datastores = ImmutableSortedDictionary<int, (long, long, long)>.Empty.Add(0, (476802, 300000, 176802)),
    };

    public static Datastore SystemDatastore() => new()
    {
        Id = 0,
        Name = "system",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        DsMad = "-",
        TmMad = "ssh",
        BasePath = "/var/lib/one//datastores/0",
        DsType = DatastoreType.SYSTEM_DS,
        DiskType = 0,
        State = DatastoreState.READY,
        Clusters = [0],
        TotalMb = 476802,
        FreeMb = 300000,
        UsedMb = 176802,
        Template = Template(S("ALLOW_ORPHANS", "NO"), S("DS_MIGRATE", "YES"), S("SHARED", "NO"), S("TM_MAD", "ssh"),
            S("TYPE", "SYSTEM_DS")),
    };

    public static Datastore ImageDatastore() => new()
    {
        Id = 1,
        Name = "default",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        DsMad = "fs",
        TmMad = "ssh",
        BasePath = "/var/lib/one//datastores/1",
        DsType = DatastoreType.IMAGE_DS,
        Clusters = [0],
        TotalMb = 476802,
        FreeMb = 300000,
        UsedMb = 176802,
        Images = [0, 1],
        Template = Template(S("ALLOW_ORPHANS", "NO"), S("CLONE_TARGET", "SYSTEM"), S("DS_MAD", "fs"),
            S("LN_TARGET", "SYSTEM"), S("TM_MAD", "ssh"), S("TYPE", "IMAGE_DS")),
    };

    public static Datastore FileDatastore() => new()
    {
        Id = 2,
        Name = "files",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        DsMad = "fs",
        TmMad = "ssh",
        BasePath = "/var/lib/one//datastores/2",
        DsType = DatastoreType.FILE_DS,
        State = DatastoreState.DISABLED,
        Clusters = [0, 100],
        Template = Template(S("DS_MAD", "fs"), S("TM_MAD", "ssh"), S("TYPE", "FILE_DS")),
    };

    public static Zone Zone0() => new()
    {
        Id = 0,
        Name = "OpenNebula",
        Template = Template(S("ENDPOINT", "http://localhost:2633/RPC2")),
        Servers = [new ZoneServer(0, "fe0", "http://10.0.0.1:2633/RPC2"), new ZoneServer(1, "fe1", "http://10.0.0.2:2633/RPC2")],
    };

    /// <summary>The resource types <c>onegroup create</c> lets the new group's users create.</summary>
    public static readonly long CreateBits = ObjectType.Vm.AclBit() | ObjectType.Image.AclBit() | ObjectType.Template.AclBit()
        | ObjectType.Document.AclBit() | ObjectType.SecGroup.AclBit() | ObjectType.VRouter.AclBit()
        | ObjectType.VmGroup.AclBit() | ObjectType.BackupJob.AclBit();

    public static AclRule[] DefaultAcls() =>
    [
        // what onegroup create adds: @1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VROUTER+VMGROUP+BACKUPJOB/* CREATE #0
        new AclRule { Id = 0, Name = "", User = AclRule.GroupId | 1, Resource = CreateBits | AclRule.All, Rights = 8, Zone = AclRule.IndividualId },
        new AclRule { Id = 1, Name = "", User = AclRule.All, Resource = ObjectType.Zone.AclBit() | AclRule.All, Rights = 1, Zone = AclRule.All },
        new AclRule { Id = 2, Name = "", User = AclRule.IndividualId | 2, Resource = ObjectType.Host.AclBit() | AclRule.ClusterId | 100, Rights = 3, Zone = AclRule.IndividualId },
    ];

    // ------------------------------------------------------------------ storage

    public static Image ReadyImage() => new()
    {
        Id = 0,
        Name = "ubuntu2404",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = Um,
        ImageType = ImageType.OS,
        DiskType = 0,
        Persistent = false,
        RegTime = Now - 86400,
        Source = "/var/lib/one//datastores/1/6b2e1c",
        Path = "/tmp/ubuntu2404.qcow2",
        Format = "qcow2",
        Fs = "",
        Size = 2252,
        State = ImageState.USED,
        PrevState = ImageState.READY,
        RunningVms = 2,
        DatastoreId = 1,
        Datastore = "default",
        Vms = [4, 5],
        Template = Template(S("DEV_PREFIX", "vd"), S("DRIVER", "qcow2")),
    };

    public static Image LockedPersistentImage() => new()
    {
        Id = 1,
        Name = "data",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        ImageType = ImageType.DATABLOCK,
        Persistent = true,
        RegTime = Now,
        State = ImageState.LOCKED,
        DatastoreId = 1,
        Datastore = "default",
        Size = 10240,
        Lock = new LockInfo(1, 2, Now, 42),
    };

    public static VmTemplate VmTemplate() => new()
    {
        Id = 0,
        Name = "ubuntu",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        RegTime = Now - 3600,
        Template = Template(
            Vector("CONTEXT", ("NETWORK", "YES"), ("SSH_PUBLIC_KEY", "$USER[SSH_PUBLIC_KEY]")),
            S("CPU", "0.5"),
            Vector("DISK", ("IMAGE", "ubuntu2404"), ("IMAGE_UNAME", "oneadmin")),
            Vector("GRAPHICS", ("LISTEN", "0.0.0.0"), ("TYPE", "VNC")),
            S("MEMORY", "512"),
            Vector("NIC", ("NETWORK", "private"), ("NETWORK_UNAME", "oneadmin")),
            Vector("OS", ("ARCH", "x86_64")),
            S("VCPU", "1")),
    };

    // ------------------------------------------------------------------ VMs

    private static Template VmSystemTemplate(int vmId, bool deployed)
    {
        var t = Template(
            S("AUTOMATIC_REQUIREMENTS", "(CLUSTER_ID = 0) & !(PUBLIC_CLOUD = YES) & !(PIN_POLICY = PINNED)"),
            Vector("CONTEXT", ("DISK_ID", "2"), ("ETH0_IP", "10.0.1.2"), ("NETWORK", "YES"), ("TARGET", "hda")),
            S("CPU", "0.5"),
            Vector("DISK",
                ("ALLOW_ORPHANS", "NO"), ("CLONE", "YES"), ("CLONE_TARGET", "SYSTEM"), ("CLUSTER_ID", "0"),
                ("DATASTORE", "default"), ("DATASTORE_ID", "1"), ("DEV_PREFIX", "vd"), ("DISK_ID", "0"),
                ("DISK_SNAPSHOT_TOTAL_SIZE", "0"), ("DISK_TYPE", "FILE"), ("DRIVER", "qcow2"), ("FORMAT", "qcow2"),
                ("IMAGE", "ubuntu2404"), ("IMAGE_ID", "0"), ("IMAGE_STATE", "2"), ("IMAGE_UNAME", "oneadmin"),
                ("LN_TARGET", "SYSTEM"), ("ORIGINAL_SIZE", "2252"), ("READONLY", "NO"), ("SAVE", "NO"), ("SIZE", "2252"),
                ("SOURCE", "/var/lib/one//datastores/1/6b2e1c"), ("TARGET", "vda"), ("TM_MAD", "ssh"), ("TYPE", "FILE")),
            // A volatile disk as the engine may store it, before TYPE is filled in: the renderer adds TYPE.
            Vector("DISK", ("DISK_ID", "1"), ("FORMAT", "raw"), ("SIZE", "1024"), ("TARGET", "vdb")),
            Vector("FEATURES", ("ACPI", "yes")),
            Vector("GRAPHICS", ("LISTEN", "0.0.0.0"), ("PORT", "5904"), ("TYPE", "VNC")),
            Vector("HYPERV_OPTIONS", ("RELAXED", "yes")),
            S("MEMORY", "512"),
            Vector("MEMORY_ENCRYPTION", ("TYPE", "NONE")),
            Vector("NIC",
                ("AR_ID", "0"), ("BRIDGE", "br0"), ("BRIDGE_TYPE", "linux"), ("CLUSTER_ID", "0"), ("IP", "10.0.1.2"),
                ("MAC", "02:00:0a:00:01:02"), ("MODEL", "virtio"), ("NAME", "NIC0"), ("NETWORK", "private"),
                ("NETWORK_ID", "0"), ("NETWORK_UNAME", "oneadmin"), ("NIC_ID", "0"), ("SECURITY_GROUPS", "0"),
                ("TARGET", "one-4-0"), ("VN_MAD", "bridge")),
            Vector("OS", ("ARCH", "x86_64"), ("UUID", "8e0a5bd6-0d3c-4c7a-9d5b-8d5c4f7e5a11")),
            Vector("SECURITY_GROUP_RULE", ("PROTOCOL", "ALL"), ("RULE_TYPE", "OUTBOUND"), ("SECURITY_GROUP_ID", "0"),
                ("SECURITY_GROUP_NAME", "default")),
            S("TEMPLATE_ID", "0"),
            S("VCPU", "1"),
            S("VMID", vmId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Vector("VIDEO", ("TYPE", "virtio")));
        if (deployed) t.Add("TM_MAD_SYSTEM", "ssh");
        return t;
    }

    public static Vm PendingVm() => new()
    {
        Id = 3,
        Name = "pending-vm",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        State = VmState.PENDING,
        LcmState = LcmState.LCM_INIT,
        Stime = Now,
        Template = Template(
            S("AUTOMATIC_REQUIREMENTS", "(CLUSTER_ID = 0)"), S("CPU", "1"),
            Vector("DISK", ("DISK_ID", "0"), ("IMAGE", "ubuntu2404"), ("IMAGE_ID", "0"), ("SIZE", "2252")),
            S("MEMORY", "1024"), S("TEMPLATE_ID", "0"), S("VMID", "3")),
        UserTemplate = Template(S("DESCRIPTION", "waits for a host"), S("SCHED_REQUIREMENTS", "HYPERVISOR=kvm")),
    };

    public static Vm RunningVmWithTwoHistories() => new()
    {
        Id = 4,
        Name = "web-4",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        State = VmState.ACTIVE,
        LcmState = LcmState.RUNNING,
        PrevState = VmState.ACTIVE,
        PrevLcmState = LcmState.MIGRATE,
        LastPoll = Now,
        Stime = Now - 7200,
        DeployId = "one-4",
        Template = VmSystemTemplate(4, deployed: true),
        UserTemplate = Template(S("LABELS", "web,prod"), S("LOGO", "images/logos/ubuntu.png"),
            S("SCHED_REQUIREMENTS", "ID=\"0\" | ID=\"1\"")),
        History =
        [
            new HistoryRecord
            {
                Oid = 4, Seq = 0, Hostname = "node02", Hid = 1, Cid = 0, Stime = Now - 7000, Etime = Now - 3600,
                VmMad = "kvm", TmMad = "ssh", DsId = 0, Pstime = Now - 7000, Petime = Now - 6990, Rstime = Now - 6990,
                Retime = Now - 3600, Action = 2, Uid = 2, Gid = 100, RequestId = 1234,
            },
            new HistoryRecord
            {
                Oid = 4, Seq = 1, Hostname = "node01", Hid = 0, Cid = 0, Stime = Now - 3600, VmMad = "kvm",
                TmMad = "ssh", DsId = 0, Rstime = Now - 3600,
            },
        ],
    };

    public static Vm PoweredOffVmWithSnapshotsAndLock() => RunningVmWithTwoHistories() with
    {
        Id = 5,
        Name = "db-5",
        State = VmState.POWEROFF,
        LcmState = LcmState.LCM_INIT,
        Template = VmSystemTemplate(5, deployed: true).WithBackupConfig(),
        Snapshots =
        [
            new VmSnapshot(0, "before-upgrade", Now - 600, "snap-0", Active: false),
            new VmSnapshot(1, "after <upgrade> & tests", Now - 60, "snap-1", Active: true),
        ],
        Lock = new LockInfo(2, 0, Now, 7),
    };

    private static Template WithBackupConfig(this Template t)
    {
        t.Add(Vector("BACKUP_CONFIG", ("BACKUP_VOLATILE", "NO"), ("FS_FREEZE", "NONE"), ("KEEP_LAST", "3"), ("MODE", "FULL")));
        return t;
    }

    public static VmMonitoring VmSample(int id) => new()
    {
        Timestamp = Now,
        Cpu = 12.5 + id,
        Memory = 524288,
        NetRx = 1000,
        NetTx = 2000,
        DiskRdBytes = 3000,
        DiskWrBytes = 4000,
        DiskRdIops = 5,
        DiskWrIops = 6,
    };

    // ------------------------------------------------------------------ network

    public static VNet VNetWithLeases() => new()
    {
        Id = 0,
        Name = "private",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        Clusters = [0],
        Bridge = "br0",
        BridgeType = "linux",
        State = VNetState.READY,
        PrevState = VNetState.INIT,
        VnMad = "bridge",
        PhyDev = "",
        Template = Template(S("BRIDGE", "br0"), S("DNS", "8.8.8.8"), S("GATEWAY", "10.0.1.1"), S("NETWORK_MASK", "255.255.255.0"),
            S("VN_MAD", "bridge")),
        AddressRanges =
        [
            new AddressRange
            {
                ArId = 0,
                Attributes = Vector("AR", ("AR_ID", "0"), ("IP", "10.0.1.2"), ("MAC", "02:00:0a:00:01:02"), ("SIZE", "100"), ("TYPE", "IP4")),
                Leases = ImmutableSortedDictionary<int, Lease>.Empty.Add(0, new Lease(0, 4, 0)).Add(1, new Lease(1, 5, 0)).Add(5, new Lease(5, -1, -1)),
            },
            new AddressRange
            {
                ArId = 1,
                Attributes = Vector("AR", ("AR_ID", "1"), ("GLOBAL_PREFIX", "2001:db8:1::"), ("IP", "10.0.2.1"),
                    ("MAC", "02:00:0a:00:02:01"), ("SIZE", "10"), ("TYPE", "IP4_6"), ("ULA_PREFIX", "fd00:1::")),
                Leases = ImmutableSortedDictionary<int, Lease>.Empty.Add(3, new Lease(3, 4, 1)),
            },
            new AddressRange
            {
                ArId = 2,
                Attributes = Vector("AR", ("AR_ID", "2"), ("MAC", "02:00:00:00:00:01"), ("SIZE", "16"), ("TYPE", "ETHER")),
            },
        ],
        NextArId = 3,
    };

    public static VNet EmptyVlanVNet() => new()
    {
        Id = 1,
        Name = "vlan-net",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        State = VNetState.LOCK_CREATE,
        VnMad = "802.1Q",
        PhyDev = "eth1",
        VlanIdAutomatic = true,
        Bridge = "onebr.1",
        Lock = new LockInfo(1, 2, Now, 3),
    };

    public static VNet ReservationWithStaticIp6AndGateway() => new()
    {
        Id = 2,
        Name = "reservation",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        State = VNetState.READY,
        VnMad = "bridge",
        Bridge = "br0",
        ParentNetworkId = 0,
        VlanId = "100",
        OuterVlanId = "",
        AddressRanges =
        [
            new AddressRange
            {
                ArId = 0,
                Attributes = Vector("AR", ("AR_ID", "0"), ("GATEWAY", "10.0.3.1"), ("IP", "10.0.3.10"), ("IP6", "2001:db8::10"),
                    ("MAC", "02:00:0a:00:03:0a"), ("PARENT_NETWORK_AR_ID", "0"), ("PREFIX_LENGTH", "64"), ("SIZE", "4"),
                    ("TYPE", "IP4_6_STATIC")),
                Leases = ImmutableSortedDictionary<int, Lease>.Empty.Add(2, new Lease(2, 4, 2)),
            },
        ],
    };

    public static SecGroup SecGroupWithPlainRules() => new()
    {
        Id = 0,
        Name = "default",
        Uid = 0,
        Gid = 0,
        Uname = "oneadmin",
        Gname = "oneadmin",
        Permissions = UmU,
        UpdatedVms = [4, 5],
        Template = Template(
            S("DESCRIPTION", "The default security group is added to every network."),
            Vector("RULE", ("PROTOCOL", "ALL"), ("RULE_TYPE", "OUTBOUND")),
            Vector("RULE", ("PROTOCOL", "ALL"), ("RULE_TYPE", "INBOUND"))),
    };

    public static SecGroup SecGroupWithRanges() => new()
    {
        Id = 100,
        Name = "web",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        OutdatedVms = [4],
        ErrorVms = [9],
        Template = Template(
            Vector("RULE", ("PROTOCOL", "TCP"), ("RANGE", "22,80,443"), ("RULE_TYPE", "inbound")),
            Vector("RULE", ("IP", "10.0.0.0"), ("PROTOCOL", "ICMP"), ("RULE_TYPE", "inbound"), ("SIZE", "256"))),
    };

    public static VmGroup VmGroupWithRoles() => new()
    {
        Id = 0,
        Name = "app",
        Uid = 2,
        Gid = 100,
        Uname = "alice",
        Gname = "developers",
        Permissions = Um,
        Lock = new LockInfo(3, 2, Now, 11),
        Roles =
        [
            new VmGroupRole(0, "web", "ANTI_AFFINED", "", "", [4, 5]),
            new VmGroupRole(1, "db", "AFFINED", "0", "1", []),
            new VmGroupRole(2, "cache", "", "", "", [6]),
        ],
        Template = Template(S("AFFINED", "web, db")),
    };

    /// <summary>A monitoring source over fixed samples.</summary>
    public sealed class FixedMonitoring(IReadOnlyDictionary<int, HostMonitoring> hosts, IReadOnlyDictionary<int, VmMonitoring> vms) : IMonitoringSource
    {
        public HostMonitoring? Host(int hostId) => hosts.GetValueOrDefault(hostId);

        public VmMonitoring? Vm(int vmId) => vms.GetValueOrDefault(vmId);
    }

    public static FixedMonitoring Monitoring() => new(
        new Dictionary<int, HostMonitoring> { [0] = HostSample() },
        new Dictionary<int, VmMonitoring> { [4] = VmSample(4), [5] = VmSample(5) });
}
