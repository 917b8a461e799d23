using System.Diagnostics;
using System.Xml.Linq;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;
using EdgeCloud.Core.Xml;
using Xunit.Abstractions;

namespace EdgeCloud.Core.Tests.Xml;

/// <summary>
/// What OpenNebula's CLI and pyone read beyond the XSDs (OPENNEBULA-API.md §0 and §6): things whose absence
/// made the real CLI fail against a fake server.
/// </summary>
public sealed class ClientContractTests(ITestOutputHelper output)
{
    private static readonly RenderContext Ctx = RenderContext.Default with { Monitoring = Samples.Monitoring() };

    private static XElement Parse(string xml) => XDocument.Parse(xml).Root!;

    private static string[] ChildNames(XElement e) => e.Elements().Select(x => x.Name.LocalName).ToArray();

    [Fact]
    public void User_WithoutQuotas_HasFourQuotaElementsAndDefaultBlock()
    {
        var user = Parse(ObjectXml.Render(Samples.Oneadmin(), RenderContext.Default));
        foreach (var q in new[] { "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA" })
        {
            Assert.NotNull(user.Element(q));
            Assert.NotNull(user.Element("DEFAULT_USER_QUOTAS")!.Element(q));
        }
    }

    [Fact]
    public void Group_WithoutQuotas_HasFourQuotaElementsAndDefaultBlock()
    {
        var group = Parse(ObjectXml.Render(Samples.EmptyGroup(), RenderContext.Default));
        foreach (var q in new[] { "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA" })
        {
            Assert.NotNull(group.Element(q));
            Assert.NotNull(group.Element("DEFAULT_GROUP_QUOTAS")!.Element(q));
        }
    }

    [Fact]
    public void UserQuotas_Numbers_PrintedAsOnedPrintsThem()
    {
        var user = Parse(ObjectXml.Render(Samples.UserWithTokensAndQuotas(), RenderContext.Default));
        var vm = user.Element("VM_QUOTA")!.Element("VM")!;
        Assert.Equal("8.5", vm.Element("CPU")!.Value);
        Assert.Equal("0.5", vm.Element("CPU_USED")!.Value);
        Assert.Equal("16384", vm.Element("MEMORY")!.Value);
        Assert.Equal("-2", vm.Element("VMS")!.Value);
        Assert.Equal("-1", vm.Element("RUNNING_VMS")!.Value);
        Assert.Equal("0", vm.Element("PCI_DEV_USED")!.Value);
        var ds = user.Element("DATASTORE_QUOTA")!.Element("DATASTORE")!;
        Assert.Equal(["ID", "IMAGES", "IMAGES_USED", "SIZE", "SIZE_USED"], ChildNames(ds));
        Assert.Equal("1", ds.Element("ID")!.Value);
        Assert.Equal("4096", ds.Element("SIZE_USED")!.Value);
    }

    [Fact]
    public void UserPoolEntry_IsUserWithoutQuotasFollowedByQuotas()
    {
        var xml = ObjectXml.Render(Samples.UserWithTokensAndQuotas(), RenderContext.Default, RenderMode.PoolEntry);
        var doc = Parse("<X>" + xml + "</X>");
        Assert.Equal(["USER", "QUOTAS"], ChildNames(doc));
        Assert.Null(doc.Element("USER")!.Element("VM_QUOTA"));
        Assert.Equal("2", doc.Element("QUOTAS")!.Element("ID")!.Value);
        Assert.Equal(2, doc.Element("USER")!.Elements("LOGIN_TOKEN").Count());
    }

    [Fact]
    public void VNet_EmptyVlans_StillCarriesVlanElements()
    {
        var vnet = Parse(ObjectXml.Render(Samples.EmptyVlanVNet(), Ctx));
        Assert.Equal("", vnet.Element("VLAN_ID")!.Value);
        Assert.Equal("", vnet.Element("OUTER_VLAN_ID")!.Value);
        Assert.Equal("1", vnet.Element("VLAN_ID_AUTOMATIC")!.Value);
        var pool = Parse(ObjectXml.Render(Samples.EmptyVlanVNet(), Ctx, RenderMode.PoolEntry));
        Assert.NotNull(pool.Element("VLAN_ID"));
        Assert.NotNull(pool.Element("OUTER_VLAN_ID"));
    }

    [Fact]
    public void VNet_AddressRanges_DeriveEndsAndLeaseAddresses()
    {
        var vnet = Parse(ObjectXml.Render(Samples.VNetWithLeases(), Ctx));
        Assert.Equal("4", vnet.Element("USED_LEASES")!.Value);
        var ars = vnet.Element("AR_POOL")!.Elements("AR").ToList();

        Assert.Equal("10.0.1.101", ars[0].Element("IP_END")!.Value);
        Assert.Equal("02:00:0a:00:01:65", ars[0].Element("MAC_END")!.Value);
        Assert.Equal("3", ars[0].Element("USED_LEASES")!.Value);
        var leases = ars[0].Element("LEASES")!.Elements("LEASE").ToList();
        Assert.Equal(["10.0.1.2", "10.0.1.3", "10.0.1.7"], leases.Select(l => l.Element("IP")!.Value));
        Assert.Equal(["4", "5", "-1"], leases.Select(l => l.Element("VM")!.Value));

        var dual = ars[1];
        Assert.Equal("2001:db8:1::aff:fe00:201", dual.Element("IP6_GLOBAL")!.Value);
        Assert.Equal("fd00:1::aff:fe00:20a", dual.Element("IP6_ULA_END")!.Value);
        var lease = dual.Element("LEASES")!.Element("LEASE")!;
        Assert.Equal("10.0.2.4", lease.Element("IP")!.Value);
        Assert.Equal("02:00:0a:00:02:04", lease.Element("MAC")!.Value);
        Assert.Equal("fe80::aff:fe00:204", lease.Element("IP6_LINK")!.Value);

        var ether = ars[2];
        Assert.Null(ether.Element("IP_END"));
        Assert.Equal("02:00:00:00:00:10", ether.Element("MAC_END")!.Value);
        Assert.Null(ether.Element("LEASES"));

        var pool = Parse(ObjectXml.Render(Samples.VNetWithLeases(), Ctx, RenderMode.PoolEntry));
        Assert.DoesNotContain(pool.Descendants("AR"), ar => ar.Element("LEASES") is not null || ar.Element("USED_LEASES") is not null);
    }

    [Fact]
    public void VNet_StaticIp6Range_HasIp6EndAndLeaseIp6()
    {
        var ar = Parse(ObjectXml.Render(Samples.ReservationWithStaticIp6AndGateway(), Ctx)).Descendants("AR").Single();
        Assert.Equal("2001:db8::13", ar.Element("IP6_END")!.Value);
        Assert.Equal("2001:db8::12", ar.Element("LEASES")!.Element("LEASE")!.Element("IP6")!.Value);
        Assert.Equal("10.0.3.1", ar.Element("GATEWAY")!.Value);
    }

    [Fact]
    public void Vm_EveryDiskHasType_InFullAndShortBodies()
    {
        foreach (var mode in new[] { RenderMode.Full, RenderMode.PoolEntry })
        {
            foreach (var vm in new[] { Samples.PendingVm(), Samples.RunningVmWithTwoHistories() })
            {
                var disks = Parse(ObjectXml.Render(vm, Ctx, mode)).Element("TEMPLATE")!.Elements("DISK").ToList();
                Assert.NotEmpty(disks);
                Assert.All(disks, d => Assert.False(string.IsNullOrEmpty(d.Element("TYPE")?.Value)));
                Assert.All(disks, d => Assert.Equal(ChildNames(d).Order(StringComparer.Ordinal), ChildNames(d)));
            }
        }
    }

    [Fact]
    public void VmShort_RunningVm_HasOnlyTheLastHistory()
    {
        var vm = Parse(ObjectXml.Render(Samples.RunningVmWithTwoHistories(), Ctx, RenderMode.PoolEntry));
        var history = vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").ToList();
        Assert.Single(history);
        Assert.Equal("1", history[0].Element("SEQ")!.Value);
        Assert.Equal("node01", history[0].Element("HOSTNAME")!.Value);
        Assert.Equal(["OID", "SEQ", "HOSTNAME", "HID", "CID", "DS_ID", "VM_MAD", "TM_MAD", "ACTION"], ChildNames(history[0]));
    }

    [Fact]
    public void VmShort_PendingVm_HasEmptyHistoryRecords()
    {
        var vm = Parse(ObjectXml.Render(Samples.PendingVm(), Ctx, RenderMode.PoolEntry));
        Assert.Empty(vm.Element("HISTORY_RECORDS")!.Elements());
    }

    [Fact]
    public void VmShort_Template_HoldsOnlyTheListedAttributes()
    {
        var vm = Parse(ObjectXml.Render(Samples.RunningVmWithTwoHistories(), Ctx, RenderMode.PoolEntry));
        var template = vm.Element("TEMPLATE")!;
        Assert.Equal(["CPU", "MEMORY", "VCPU", "DISK", "DISK", "NIC", "GRAPHICS"], ChildNames(template));
        Assert.Equal(["DISK_ID", "SIZE", "TYPE"], ChildNames(template.Elements("DISK").ElementAt(1)));
        // The volatile disk was stored without TYPE and gets the default.
        Assert.Equal("FILE", template.Elements("DISK").ElementAt(1).Element("TYPE")!.Value);
        Assert.Equal(["IP", "MAC", "NETWORK", "NETWORK_ID", "NIC_ID", "SECURITY_GROUPS"], ChildNames(template.Element("NIC")!));
        Assert.Null(vm.Element("PERMISSIONS"));
        Assert.Equal("16.5", vm.Element("MONITORING")!.Element("CPU")!.Value);
        Assert.Equal("web,prod", vm.Element("USER_TEMPLATE")!.Element("LABELS")!.Value);
    }

    [Fact]
    public void VmFull_AllHistoriesAndXsdTemplateOrder()
    {
        var vm = Parse(ObjectXml.Render(Samples.RunningVmWithTwoHistories(), Ctx));
        Assert.Equal(2, vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").Count());
        var names = ChildNames(vm.Element("TEMPLATE")!);
        // vm.xsd's sequence, not alphabetical: HYPERV_OPTIONS < GRAPHICS < VIDEO, MEMORY_ENCRYPTION after TM_MAD_SYSTEM.
        Assert.True(Array.IndexOf(names, "HYPERV_OPTIONS") < Array.IndexOf(names, "GRAPHICS"));
        Assert.True(Array.IndexOf(names, "GRAPHICS") < Array.IndexOf(names, "VIDEO"));
        Assert.True(Array.IndexOf(names, "VIDEO") < Array.IndexOf(names, "MEMORY"));
        Assert.True(Array.IndexOf(names, "TM_MAD_SYSTEM") < Array.IndexOf(names, "MEMORY_ENCRYPTION"));
        Assert.True(Array.IndexOf(names, "MEMORY_ENCRYPTION") < Array.IndexOf(names, "VCPU"));
        Assert.Equal(["BACKUP_CONFIG", "BACKUP_IDS"], ChildNames(vm.Element("BACKUPS")!));
    }

    [Fact]
    public void VmFull_Snapshots_RenderedFromModelIntoTemplate()
    {
        var vm = Samples.PoweredOffVmWithSnapshotsAndLock();
        vm.Template.Add(Samples.Vector("SNAPSHOT", ("NAME", "stale copy in the template"), ("SNAPSHOT_ID", "9")));
        var doc = Parse(ObjectXml.Render(vm, Ctx));
        var snaps = doc.Element("TEMPLATE")!.Elements("SNAPSHOT").ToList();
        Assert.Equal(["0", "1"], snaps.Select(s => s.Element("SNAPSHOT_ID")!.Value));
        Assert.Equal("after <upgrade> & tests", snaps[1].Element("NAME")!.Value);
        Assert.Equal("YES", snaps[1].Element("ACTIVE")!.Value);
        Assert.Null(snaps[0].Element("ACTIVE"));
        Assert.Equal("2", doc.Element("LOCK")!.Element("LOCKED")!.Value);
        Assert.Equal("FULL", doc.Element("BACKUPS")!.Element("BACKUP_CONFIG")!.Element("MODE")!.Value);
        Assert.Null(doc.Element("TEMPLATE")!.Element("BACKUP_CONFIG"));
    }

    [Fact]
    public void VmFull_TemplateWithoutVmid_GetsVmid()
    {
        var vm = Samples.PendingVm();
        vm.Template.Remove("VMID");
        Assert.Equal("3", Parse(ObjectXml.Render(vm, Ctx)).Element("TEMPLATE")!.Element("VMID")!.Value);
    }

    [Fact]
    public void Host_Monitored_ShareAndMonitoringFromSample()
    {
        var host = Parse(ObjectXml.Render(Samples.MonitoredHost(), Ctx));
        var ds = host.Element("HOST_SHARE")!.Element("DATASTORES")!;
        Assert.Equal(["DISK_USAGE", "DS", "FREE_DISK", "MAX_DISK", "USED_DISK"], ChildNames(ds));
        Assert.Equal("300000", ds.Element("DS")!.Element("FREE_MB")!.Value);
        var mon = host.Element("MONITORING")!;
        Assert.Equal(["TIMESTAMP", "ID", "CAPACITY", "SYSTEM"], ChildNames(mon));
        Assert.Equal("650", mon.Element("CAPACITY")!.Element("FREE_CPU")!.Value);
    }

    [Fact]
    public void Host_Unmonitored_EmptyDatastoresAndMonitoring()
    {
        var host = Parse(ObjectXml.Render(Samples.UnmonitoredHost(), Ctx));
        Assert.Empty(host.Element("HOST_SHARE")!.Element("DATASTORES")!.Elements());
        Assert.Empty(host.Element("MONITORING")!.Elements());
    }

    [Fact]
    public void Acl_HexUpperCaseAndOnedString()
    {
        var rule = new AclRule { Id = 5, Name = "", User = 0x200000001L, Resource = 0x5400000000L, Rights = 3, Zone = AclRule.All };
        var acl = Parse(ObjectXml.Render(rule, Ctx));
        Assert.Equal("200000001", acl.Element("USER")!.Value);
        Assert.Equal("5400000000", acl.Element("RESOURCE")!.Value);
        Assert.Equal("3", acl.Element("RIGHTS")!.Value);
        Assert.Equal("400000000", acl.Element("ZONE")!.Value);
        Assert.Equal("@1 VM+NET/* USE+MANAGE *", acl.Element("STRING")!.Value);

        var bootstrap = Samples.DefaultAcls()[0];
        Assert.Equal("125429400000000", AclText.Hex(bootstrap.Resource)); // as the CLI's onegroup create sends it
        Assert.Equal("@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VROUTER+VMGROUP+BACKUPJOB/* CREATE #0", AclText.ToText(bootstrap));
        Assert.Equal("#2 HOST/%100 USE+MANAGE #0", AclText.ToText(Samples.DefaultAcls()[2]));
        Assert.Equal("* ZONE/* USE *", AclText.ToText(Samples.DefaultAcls()[1]));
        Assert.Equal("#0 IMAGE/#7 ADMIN+CREATE #0",
            AclText.ToText(AclRule.IndividualId, ObjectType.Image.AclBit() | AclRule.IndividualId | 7, 12, AclRule.IndividualId));
        Assert.Equal("?? /??  ??", AclText.ToText(0, 0, 0, 0));
    }

    [Fact]
    public void Zone_Pool_ServersWithoutRaftAndInfoWithRaft()
    {
        var ctx = Ctx with
        {
            ZoneServers = System.Collections.Immutable.ImmutableDictionary<int, RaftStatus>.Empty.Add(1, new RaftStatus(1, RaftStatus.Follower, 2, 0, 10, 11, 2, -1)),
        };
        var info = Parse(ObjectXml.Render(Samples.Zone0(), ctx)).Descendants("SERVER").ToList();
        Assert.Null(info[0].Element("STATE"));
        Assert.Equal("2", info[1].Element("STATE")!.Value);
        var pool = Parse(ObjectXml.Render(Samples.Zone0(), ctx, RenderMode.PoolEntry)).Descendants("SERVER").ToList();
        Assert.All(pool, s => Assert.Equal(["ENDPOINT", "ID", "NAME"], ChildNames(s)));
    }

    [Fact]
    public void VmPool_TenThousandShortVms_RendersAndParses()
    {
        var baseVm = Samples.RunningVmWithTwoHistories();
        var vms = Enumerable.Range(0, 10_000).Select(i => (PoolObject)(baseVm with { Id = i, Name = "vm-" + i })).ToList();
        var w = new OneXmlWriter(64 * 1024 * 1024);

        PoolXml.WriteObjects(w, ObjectType.Vm, vms, Ctx); // warm-up (JIT)
        w.Clear();
        var sw = Stopwatch.StartNew();
        PoolXml.WriteObjects(w, ObjectType.Vm, vms, Ctx);
        sw.Stop();
        output.WriteLine($"one.vmpool.info, 10,000 short VMs: {sw.Elapsed.TotalMilliseconds:F1} ms, {w.Length / 1024} KiB");

        var root = XDocument.Parse(w.ToString()).Root!;
        Assert.Equal("VM_POOL", root.Name.LocalName);
        Assert.Equal(10_000, root.Elements("VM").Count());
        Assert.All(root.Elements("VM"), vm => Assert.Single(vm.Element("HISTORY_RECORDS")!.Elements()));
    }
}
