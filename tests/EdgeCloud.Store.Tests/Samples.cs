using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Store.Tests;

/// <summary>
/// Realistic objects of every stored type, filled the way the front-end fills them (templates with
/// repeated vectors, quotas, history, leases), with text that stresses the encoding: quotes,
/// backslashes, control characters, NUL, non-ASCII and characters outside the BMP.
/// </summary>
internal static class Samples
{
    /// <summary>Every character class a stored string must survive.</summary>
    public const string Nasty = "quote\" apos' back\\slash\nnewline\ttab\rCR nul\0end <xml>&amp; ünïcödé 日本語 🚀 \u2028 \u0001 $1 %s {0}";

    public static Template Template(string seed)
    {
        var t = new Template();
        t.Add("CPU", "1.5");
        t.Add("MEMORY", "2048");
        t.Add("DESCRIPTION", $"{seed}: {Nasty}");
        t.Add(new VectorAttribute("DISK", [new("IMAGE_ID", "3"), new("TARGET", "vda"), new("DEV_PREFIX", "vd")]));
        t.Add(new VectorAttribute("DISK", [new("IMAGE_ID", "4"), new("TARGET", "vdb"), new("SIZE", "10240")]));
        t.Add(new VectorAttribute("NIC", [new("NETWORK_ID", "0"), new("IP", "10.0.0.7"), new("MAC", "02:00:0a:00:00:07")]));
        t.Add(new VectorAttribute("CONTEXT", [
            new("NETWORK", "YES"),
            new("SSH_PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1 user@host"),
            new("START_SCRIPT", "#!/bin/sh\necho \"héllo\" 'wörld' > /tmp/x && exit 0\n"),
            new("EMPTY", ""),
        ]));
        t.Add("LABELS", "prod,db");
        return t;
    }

    public static QuotaSet Quotas() => new()
    {
        Vm = QuotaEntry.Create("", QuotaSet.VmMetrics) with
        {
            Limits = ImmutableSortedDictionary.CreateRange<string, double>(StringComparer.Ordinal, [new("VMS", 10.0), new("CPU", 8.5), new("MEMORY", -2.0)]),
            Used = ImmutableSortedDictionary.CreateRange<string, double>(StringComparer.Ordinal, [new("VMS", 3.0), new("CPU", 2.25), new("MEMORY", 6144.0)]),
        },
        Datastore = [QuotaEntry.Create("1", QuotaSet.DatastoreMetrics), QuotaEntry.Create("100", QuotaSet.DatastoreMetrics)],
        Network = [QuotaEntry.Create("0", QuotaSet.NetworkMetrics)],
        Image = [QuotaEntry.Create("3", QuotaSet.ImageMetrics)],
    };

    private static Permissions Perms(string octal) => Permissions.FromOctal(Convert.ToInt32(octal, 8));

    public static User User(int id) => new()
    {
        Id = id,
        Name = $"user{id} {Nasty}",
        Template = Template("user"),
        Gid = 1,
        Gname = "users",
        Groups = [1, 100, 101],
        Password = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        AuthDriver = "core",
        Enabled = true,
        LoginTokens = [new LoginToken("a1b2c3", 1_900_000_000, -1), new LoginToken("d4e5f6", -1, 100)],
        Quotas = Quotas(),
    };

    public static Group Group(int id) => new()
    {
        Id = id,
        Name = $"group{id}",
        Template = Template("group"),
        Users = [0, 2, 5],
        Admins = [2],
        Quotas = Quotas(),
    };

    public static AclRule Acl(int id) => new()
    {
        Id = id,
        Name = "",
        User = AclRule.GroupId | 1,
        Resource = ObjectType.Vm.AclBit() | ObjectType.Image.AclBit() | AclRule.All,
        Rights = (long)(AuthOp.Use | AuthOp.Manage | AuthOp.Create),
        Zone = AclRule.IndividualId | 0,
    };

    public static Zone Zone(int id) => new()
    {
        Id = id,
        Name = "OpenNebula",
        Template = Template("zone"),
        State = 0,
        Servers = [new ZoneServer(0, "fe-1", "http://127.0.0.1:2633/RPC2"), new ZoneServer(1, "fe-2", "http://[::1]:2633/RPC2")],
    };

    public static Cluster Cluster(int id) => new()
    {
        Id = id,
        Name = "default",
        Template = Template("cluster"),
        Hosts = [0, 1, 2],
        Datastores = [0, 1, 2],
        VNets = [0],
    };

    public static Host Host(int id) => new()
    {
        Id = id,
        Name = $"node-{id}.example.org",
        Template = Template("host"),
        State = HostState.MONITORED,
        PrevState = HostState.MONITORING_MONITORED,
        ImMad = "kvm",
        VmMad = "kvm",
        ClusterId = 0,
        ClusterName = "default",
        Share = new HostShare
        {
            CpuUsage = 150, MemUsage = 2_097_152, DiskUsage = 10_240, TotalCpu = 800, TotalMem = 16_777_216,
            MaxCpu = 800, MaxMem = 16_000_000, MaxDisk = 500_000, FreeDisk = 400_000, UsedDisk = 100_000, RunningVms = 2,
        },
        Vms = [7, 8],
        LastMonitored = 1_700_000_123,
        Lock = new LockInfo(1, 0, 1_700_000_000, 42),
    };

    public static Datastore Datastore(int id) => new()
    {
        Id = id,
        Name = "system",
        Template = Template("datastore"),
        Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin", Permissions = Perms("660"),
        DsMad = "fs", TmMad = "ssh", BasePath = "/var/lib/one//datastores/0", DsType = DatastoreType.SYSTEM_DS,
        DiskType = 0, State = DatastoreState.READY, Clusters = [0, 100], TotalMb = 1_000_000, FreeMb = 900_000, UsedMb = 100_000,
        Images = [],
    };

    public static Image Image(int id) => new()
    {
        Id = id,
        Name = $"ubuntu 22.04 «{id}»",
        Template = Template("image"),
        Uid = 2, Gid = 1, Uname = "alice", Gname = "users", Permissions = Perms("640"),
        ImageType = ImageType.OS, DiskType = 0, Persistent = true, RegTime = 1_700_000_000,
        Source = "/var/lib/one/datastores/1/0f1e2d3c", Path = "https://example.org/ubuntu.qcow2", Format = "qcow2", Fs = "",
        Size = 2252, State = ImageState.USED_PERS, PrevState = ImageState.READY, RunningVms = 1, CloningOps = 0,
        CloningId = -1, TargetSnapshot = -1, DatastoreId = 1, Datastore = "default", Vms = [7], Clones = [12], AppClones = [],
    };

    public static Market Market(int id) => new()
    {
        Id = id, Name = $"community «{id}»", Template = Template("market"),
        Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin", Permissions = Perms("644"),
        MarketMad = "http", State = MarketState.DISABLED, ZoneId = "0", TotalMb = 100, FreeMb = 40, UsedMb = 60, Apps = [3, 4],
    };

    public static MarketApp MarketApp(int id) => new()
    {
        Id = id, Name = $"tiny «{id}»", Template = Template("marketapp"),
        Uid = 3, Gid = 100, Uname = "bob", Gname = "edge", Permissions = Perms("640"), Lock = new LockInfo(2, 3, 1_700_000_100, -1),
        RegTime = 1_700_000_000, ZoneId = "0", OriginId = 5, Source = "https://example.org/tiny.qcow2", Md5 = "d41d8cd98f00b204e9800998ecf8427e",
        Size = 17, Description = "tiny", Version = "1.0", Format = "qcow2", AppTemplate64 = "REVWX1BSRUZJWD0idmQi", MarketId = 100,
        MarketName = "community", State = MarketAppState.ERROR, AppType = MarketAppType.IMAGE, FromCatalogue = true,
    };

    public static VmTemplate VmTemplate(int id) => new()
    {
        Id = id,
        Name = $"tmpl-{id}",
        Template = Template("template"),
        Uid = 2, Gid = 1, Uname = "alice", Gname = "users", Permissions = Perms("600"), RegTime = 1_700_000_001,
    };

    public static VNTemplate VNTemplate(int id) => new()
    {
        Id = id,
        Name = $"vntmpl-{id} {Nasty}",
        Template = Template("vntemplate"),
        Uid = 2, Gid = 1, Uname = "alice", Gname = "users", Permissions = Perms("640"), RegTime = 1_700_000_002,
        Lock = new LockInfo(1, 2, 1_700_000_003, 7),
    };

    public static Vm Vm(int id) => new()
    {
        Id = id,
        Name = $"vm-{id} {Nasty}",
        Template = Template("vm"),
        Uid = 2, Gid = 1, Uname = "alice", Gname = "users", Permissions = Perms("600"),
        LastPoll = 1_700_000_500, State = VmState.ACTIVE, LcmState = LcmState.RUNNING,
        PrevState = VmState.ACTIVE, PrevLcmState = LcmState.BOOT, Resched = 0, Stime = 1_700_000_100, Etime = 0,
        DeployId = $"one-{id}",
        UserTemplate = Template("user template"),
        History =
        [
            new HistoryRecord { Oid = id, Seq = 0, Hostname = "node-1", Hid = 1, Cid = 0, Stime = 1_700_000_100, Etime = 1_700_000_200,
                VmMad = "kvm", TmMad = "ssh", DsId = 0, Pstime = 1_700_000_101, Petime = 1_700_000_110, Rstime = 1_700_000_111,
                Retime = 1_700_000_200, Action = 4, Uid = 2, Gid = 1, RequestId = 77 },
            new HistoryRecord { Oid = id, Seq = 1, Hostname = "node-2", Hid = 2, Cid = 0, Stime = 1_700_000_201,
                VmMad = "kvm", TmMad = "ssh", DsId = 0, Rstime = 1_700_000_210 },
        ],
        Snapshots = [new VmSnapshot(0, "before upgrade", 1_700_000_300, "snap-0", false), new VmSnapshot(1, "after", 1_700_000_400, "snap-1", true)],
        Lock = new LockInfo(3, 2, 1_700_000_450, -1),
    };

    public static VNet VNet(int id) => new()
    {
        Id = id,
        Name = $"private-{id}",
        Template = Template("vnet"),
        Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin", Permissions = Perms("644"),
        Clusters = [0], Bridge = "br0", BridgeType = "linux", State = VNetState.READY, PrevState = VNetState.INIT,
        ParentNetworkId = -1, VnMad = "bridge", PhyDev = "eth0", VlanId = "100", OuterVlanId = "", VlanIdAutomatic = false,
        AddressRanges =
        [
            new AddressRange
            {
                ArId = 0,
                Attributes = new VectorAttribute("AR", [new("TYPE", "IP4"), new("IP", "10.0.0.1"), new("SIZE", "254"), new("MAC", "02:00:0a:00:00:01")]),
                Leases = ImmutableSortedDictionary.CreateRange<int, Lease>([new(0, new Lease(0, 7, 0)), new(5, new Lease(5, -1, -1)), new(6, new Lease(6, 8, 1))]),
            },
            new AddressRange
            {
                ArId = 1,
                Attributes = new VectorAttribute("AR", [new("TYPE", "IP6"), new("GLOBAL_PREFIX", "2001:db8::"), new("SIZE", "1024")]),
            },
        ],
        NextArId = 2,
        VRouters = [3],
    };

    public static SecGroup SecGroup(int id)
    {
        var t = Template("secgroup");
        t.Add(new VectorAttribute("RULE", [new("PROTOCOL", "TCP"), new("RULE_TYPE", "inbound"), new("RANGE", "22,80:90")]));
        t.Add(new VectorAttribute("RULE", [new("PROTOCOL", "ALL"), new("RULE_TYPE", "outbound")]));
        return new SecGroup
        {
            Id = id,
            Name = "default",
            Template = t,
            Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin", Permissions = Perms("600"),
            UpdatedVms = [7], OutdatedVms = [8, 9], UpdatingVms = [], ErrorVms = [10],
        };
    }

    public static VmGroup VmGroup(int id) => new()
    {
        Id = id,
        Name = "web+db",
        Template = Template("vmgroup"),
        Uid = 2, Gid = 1, Uname = "alice", Gname = "users", Permissions = Perms("600"),
        Roles =
        [
            new VmGroupRole(0, "web", "AFFINED", "1,2", "", [7, 8]),
            new VmGroupRole(1, "db", "ANTI_AFFINED", "", "3", [9]),
        ],
    };

    /// <summary>One object of each stored type, ids starting at <paramref name="id"/>.</summary>
    public static IReadOnlyList<PoolObject> OneOfEach(int id = 0) =>
    [
        User(id), Group(id), Acl(id), Zone(id), Cluster(id), Host(id), Datastore(id), Image(id),
        VmTemplate(id), Vm(id), VNet(id), SecGroup(id), VmGroup(id), VNTemplate(id), Market(id), MarketApp(id),
        new QuotaDefaults
        {
            Id = id, Name = "default quotas",
            User = QuotaSet.Empty with { Vm = QuotaEntry.Create("", QuotaSet.VmMetrics) with { Limits = QuotaEntry.Create("", QuotaSet.VmMetrics).Limits.SetItem("VMS", 10) } },
        },
    ];

    /// <summary>The ObjectTypes that have a stored form (ObjectCodec knows them).</summary>
    public static IEnumerable<ObjectType> StoredTypes() => Enum.GetValues<ObjectType>().Where(t =>
    {
        try
        {
            ObjectCodec.ClrType(t);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    });

    public static ChangeSet Write(params PoolObject[] values) =>
        new([.. values.Select(v => new Change(v.Type, v.Id, v))], new Dictionary<ObjectType, int>());

    public static ChangeSet Delete(ObjectType type, int id) =>
        new([new Change(type, id, null)], new Dictionary<ObjectType, int>());

    public static ChangeSet Sequence(ObjectType type, int last) =>
        new([], new Dictionary<ObjectType, int> { [type] = last });

    /// <summary>The canonical form for comparing: the stored JSON of each object, in (type, id) order.</summary>
    public static IReadOnlyList<string> Canonical(IEnumerable<PoolObject> objects) =>
        [.. objects.OrderBy(o => o.Type).ThenBy(o => o.Id).Select(o => $"{o.Type}/{o.Id}/{o.GetType().Name}:{ObjectCodec.Serialize(o)}")];
}
