using System.Text;
using System.Xml.Linq;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;
using EdgeCloud.Testing.Xsd;
using static EdgeCloud.Testing.Xsd.KnownOnedDeviations;

namespace EdgeCloud.Core.Tests.Xml;

/// <summary>Every pool document (and the other non-object documents) validates against its XSD.</summary>
public sealed class PoolXmlSchemaTests(SchemaFixture schemas) : IClassFixture<SchemaFixture>
{
    private static readonly RenderContext Ctx = RenderContext.Default with
    {
        Monitoring = Samples.Monitoring(),
        DefaultUserQuotas = Samples.FilledQuotas() with { Datastore = [], Network = [], Image = [] },
        DefaultGroupQuotas = Samples.FilledQuotas(),
    };

    private void AssertPool(ObjectType type, string xsd, IEnumerable<PoolObject> objects, RenderMode mode = RenderMode.PoolEntry, params KnownOnedDeviation[] allowed)
    {
        var list = objects.ToList();
        schemas.AssertValid(PoolXml.Render(type, list, Ctx, mode), xsd, allowed);
        // The empty pool validates too (except ZONE_POOL, which always holds zone 0).
        if (type != ObjectType.Zone) schemas.AssertValid(PoolXml.Render(type, [], Ctx, mode), xsd);
    }

    [Fact]
    public void UserPool_ValidatesAgainstUserPoolXsd() =>
        AssertPool(ObjectType.User, "user_pool.xsd", [Samples.Oneadmin(), Samples.UserWithTokensAndQuotas(), Samples.DisabledUserWithoutGroups()]);

    [Fact]
    public void GroupPool_ValidatesAgainstGroupPoolXsd() =>
        AssertPool(ObjectType.Group, "group_pool.xsd", [Samples.EmptyGroup(), Samples.GroupWithAdmins()]);

    [Fact]
    public void AclPool_ValidatesAgainstAclPoolXsd() =>
        AssertPool(ObjectType.Acl, "acl_pool.xsd", Samples.DefaultAcls());

    [Fact]
    public void ZonePool_ValidatesAgainstZonePoolXsd() =>
        AssertPool(ObjectType.Zone, "zone_pool.xsd", [Samples.Zone0()]);

    [Fact]
    public void ClusterPool_ValidatesAgainstClusterPoolXsd() =>
        AssertPool(ObjectType.Cluster, "cluster_pool.xsd", [Samples.DefaultCluster(), new Cluster { Id = 100, Name = "edge" }]);

    [Fact]
    public void HostPool_WithUnmonitoredHost_DeviatesOnlyInDatastores() =>
        AssertPool(ObjectType.Host, "host_pool.xsd", [Samples.MonitoredHost(), Samples.UnmonitoredHost()], RenderMode.PoolEntry, UnmonitoredHostDatastores);

    [Fact]
    public void HostPool_MonitoredHosts_ValidatesAgainstHostPoolXsd() =>
        AssertPool(ObjectType.Host, "host_pool.xsd", [Samples.MonitoredHost(), Samples.MonitoredHost() with { Id = 7, Name = "node07" }]);

    [Fact]
    public void DatastorePool_ValidatesAgainstDatastorePoolXsd() =>
        AssertPool(ObjectType.Datastore, "datastore_pool.xsd", [Samples.SystemDatastore(), Samples.ImageDatastore(), Samples.FileDatastore()]);

    [Fact]
    public void ImagePool_ValidatesAgainstImagePoolXsd() =>
        AssertPool(ObjectType.Image, "image_pool.xsd", [Samples.ReadyImage(), Samples.LockedPersistentImage()]);

    [Fact]
    public void VmTemplatePool_ValidatesAgainstVmTemplatePoolXsd() =>
        AssertPool(ObjectType.Template, "vmtemplate_pool.xsd", [Samples.VmTemplate()]);

    [Fact]
    public void VmPool_ShortBodies_ValidateAgainstVmPoolXsd() =>
        AssertPool(ObjectType.Vm, "vm_pool.xsd", [Samples.PendingVm(), Samples.RunningVmWithTwoHistories(), Samples.PoweredOffVmWithSnapshotsAndLock()]);

    [Fact]
    public void VmPool_Extended_ValidatesAgainstVmPoolExtendedXsd() =>
        AssertPool(ObjectType.Vm, "vm_pool_extended.xsd", [Samples.RunningVmWithTwoHistories(), Samples.PoweredOffVmWithSnapshotsAndLock()], RenderMode.Full);

    [Fact]
    public void VmPool_ExtendedWithPendingVm_DeviatesOnlyInTmMadSystem() =>
        AssertPool(ObjectType.Vm, "vm_pool_extended.xsd", [Samples.PendingVm()], RenderMode.Full, VmTemplateWithoutTmMadSystem);

    [Fact]
    public void VNetPool_ValidatesAgainstVnetPoolXsd() =>
        AssertPool(ObjectType.VNet, "vnet_pool.xsd", [Samples.VNetWithLeases(), Samples.EmptyVlanVNet()]);

    [Fact]
    public void VNetPool_WithUserArAttributes_DeviatesOnlyInAr() =>
        AssertPool(ObjectType.VNet, "vnet_pool.xsd", [Samples.ReservationWithStaticIp6AndGateway()], RenderMode.PoolEntry, AddressRangeUserAttributes);

    [Fact]
    public void VNetPool_Extended_ValidatesAgainstVnetPoolExtendedXsd() =>
        AssertPool(ObjectType.VNet, "vnet_pool_extended.xsd", [Samples.VNetWithLeases(), Samples.EmptyVlanVNet()], RenderMode.Full);

    [Fact]
    public void SecurityGroupPool_ValidatesAgainstSecurityGroupPoolXsd() =>
        AssertPool(ObjectType.SecGroup, "security_group_pool.xsd", [Samples.SecGroupWithPlainRules()]);

    [Fact]
    public void VmGroupPool_ValidatesAgainstVmGroupPoolXsd() =>
        AssertPool(ObjectType.VmGroup, "vm_group_pool.xsd", [Samples.VmGroupWithRoles()]);

    public static TheoryData<ObjectType, string, string> UnmodelledPools => new()
    {
        { ObjectType.Market, "MARKETPLACE_POOL", "marketplace_pool.xsd" },
        { ObjectType.MarketApp, "MARKETPLACEAPP_POOL", "marketplaceapp_pool.xsd" },
        { ObjectType.VNTemplate, "VNTEMPLATE_POOL", "vntemplate_pool.xsd" },
        { ObjectType.VRouter, "VROUTER_POOL", "vrouter_pool.xsd" },
        { ObjectType.Vdc, "VDC_POOL", "vdc_pool.xsd" },
        { ObjectType.Document, "DOCUMENT_POOL", "document_pool.xsd" },
        { ObjectType.Hook, "HOOK_POOL", "hook_pool.xsd" },
        { ObjectType.BackupJob, "BACKUPJOB_POOL", "backupjob_pool.xsd" },
    };

    [Theory]
    [MemberData(nameof(UnmodelledPools))]
    public void Empty_UnmodelledPool_ValidatesWithItsRootName(ObjectType type, string root, string xsd)
    {
        Assert.Equal(root, PoolXml.PoolRootName(type));
        var xml = PoolXml.Empty(type);
        Assert.Equal(root, XDocument.Parse(xml).Root!.Name.LocalName);
        schemas.AssertValid(xml, xsd);
    }

    [Fact]
    public void Write_CachedEntries_EqualsRenderFromObjects()
    {
        PoolObject[] users = [Samples.Oneadmin(), Samples.UserWithTokensAndQuotas()];
        var cached = users.Select(u => (ReadOnlyMemory<byte>)ObjectXml.RenderUtf8(u, Ctx, RenderMode.PoolEntry)).ToList();

        var streamed = new List<byte>();
        streamed.AddRange(PoolXml.Header(ObjectType.User));
        foreach (var c in cached) streamed.AddRange(c.ToArray());
        streamed.AddRange(PoolXml.Trailer(ObjectType.User, Ctx));

        var w = new OneXmlWriter();
        PoolXml.Write(w, ObjectType.User, cached, Ctx);

        var expected = PoolXml.Render(ObjectType.User, users, Ctx);
        Assert.Equal(expected, Encoding.UTF8.GetString(streamed.ToArray()));
        Assert.Equal(expected, w.ToString());
        schemas.AssertValid(expected, "user_pool.xsd");
    }

    [Fact]
    public void Trailer_UserAndGroupPools_CloseWithDefaultQuotas()
    {
        Assert.StartsWith("<DEFAULT_USER_QUOTAS>", Encoding.UTF8.GetString(PoolXml.Trailer(ObjectType.User, Ctx)), StringComparison.Ordinal);
        Assert.StartsWith("<DEFAULT_GROUP_QUOTAS>", Encoding.UTF8.GetString(PoolXml.Trailer(ObjectType.Group, Ctx)), StringComparison.Ordinal);
        Assert.Equal("</HOST_POOL>", Encoding.UTF8.GetString(PoolXml.Trailer(ObjectType.Host, Ctx)));
        Assert.Equal("<VM_POOL>", Encoding.UTF8.GetString(PoolXml.Header(ObjectType.Vm)));
    }

    [Fact]
    public void WriteObjects_ObjectOfOtherType_Throws() =>
        Assert.Throws<ArgumentException>(() => PoolXml.Render(ObjectType.Host, [Samples.Oneadmin()], Ctx));

    // ------------------------------------------------------------------ non-object documents

    [Fact]
    public void RenderConfiguration_Defaults_ValidatesAgainstConfigurationXsd()
    {
        schemas.AssertValid(SystemXml.RenderConfiguration(new SystemConfig()), "opennebula_configuration.xsd");
        var withDrivers = new SystemConfig
        {
            VmMad = [SystemConfig.Section(("ARGUMENTS", "-t 15 -r 0 kvm"), ("DEFAULT", "vmm_exec/vmm_exec_kvm.conf"), ("EXECUTABLE", "one_vmm_exec"), ("NAME", "kvm"), ("SUNSTONE_NAME", "KVM"), ("TYPE", "kvm"))],
            TmMadConf = [SystemConfig.Section(("CLONE_TARGET", "SYSTEM"), ("DS_MIGRATE", "YES"), ("LN_TARGET", "SYSTEM"), ("NAME", "ssh"), ("SHARED", "NO"))],
            DsMadConf = [SystemConfig.Section(("NAME", "fs"), ("PERSISTENT_ONLY", "NO"), ("REQUIRED_ATTRS", ""))],
            VnMadConf = [SystemConfig.Section(("BRIDGE_TYPE", "linux"), ("NAME", "bridge"))],
            EnableOtherPermissions = false,
            FederationMode = "MASTER",
        };
        schemas.AssertValid(SystemXml.RenderConfiguration(withDrivers), "opennebula_configuration.xsd");
    }

    [Fact]
    public void RenderVmMonitoringData_ValidatesAgainstMonitoringDataXsd()
    {
        schemas.AssertValid(SystemXml.RenderVmMonitoringData([(4, Samples.VmSample(4)), (4, Samples.VmSample(4) with { Timestamp = Samples.Now + 30, Cpu = 0.25 })]), "monitoring_data.xsd");
        schemas.AssertValid(SystemXml.RenderVmMonitoringData([]), "monitoring_data.xsd");
    }

    [Fact]
    public void RenderHostMonitoringData_DeviatesOnlyInHostRecords() =>
        schemas.AssertValid(
            SystemXml.RenderHostMonitoringData([(0, Samples.HostSample()), (0, Samples.HostSample() with { Timestamp = Samples.Now + 60 })]),
            "monitoring_data.xsd", HostMonitoringData);

    [Fact]
    public void RenderRaftStatus_ValidatesAgainstRaftStatusXsd()
    {
        schemas.AssertValid(SystemXml.RenderRaftStatus(new RaftStatus()), "raftstatus.xsd");
        schemas.AssertValid(SystemXml.RenderRaftStatus(new RaftStatus(1, RaftStatus.Leader, 7, 1, 1500, 1502, 7, 12)), "raftstatus.xsd");
    }

    [Fact]
    public void DefaultQuotaDocuments_MatchTheBlocksTheUserAndGroupXsdsDeclare()
    {
        var user = XDocument.Parse(ObjectXml.RenderDefaultUserQuotas(Samples.FilledQuotas())).Root!;
        var group = XDocument.Parse(ObjectXml.RenderDefaultGroupQuotas(QuotaSet.Empty)).Root!;
        Assert.Equal("DEFAULT_USER_QUOTAS", user.Name.LocalName);
        Assert.Equal("DEFAULT_GROUP_QUOTAS", group.Name.LocalName);
        Assert.Equal(["DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA"], group.Elements().Select(e => e.Name.LocalName));
    }
}
