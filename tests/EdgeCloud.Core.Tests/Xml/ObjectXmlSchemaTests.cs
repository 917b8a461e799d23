using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;
using EdgeCloud.Testing.Xsd;
using static EdgeCloud.Testing.Xsd.KnownOnedDeviations;

namespace EdgeCloud.Core.Tests.Xml;

/// <summary>Every object kind, in several states, validates against its OpenNebula XSD (one.&lt;x&gt;.info bodies).</summary>
public sealed class ObjectXmlSchemaTests(SchemaFixture schemas) : IClassFixture<SchemaFixture>
{
    private static readonly RenderContext Ctx = RenderContext.Default with { Monitoring = Samples.Monitoring() };

    private static RenderContext CtxWithDefaults() => Ctx with
    {
        DefaultUserQuotas = Samples.FilledQuotas() with { Datastore = [], Network = [], Image = [] },
        DefaultGroupQuotas = Samples.FilledQuotas(),
    };

    public static TheoryData<string> UserCases => new() { "oneadmin", "tokens-and-quotas", "disabled-no-groups" };

    private static User UserCase(string name) => name switch
    {
        "oneadmin" => Samples.Oneadmin(),
        "tokens-and-quotas" => Samples.UserWithTokensAndQuotas(),
        _ => Samples.DisabledUserWithoutGroups(),
    };

    [Theory]
    [MemberData(nameof(UserCases))]
    public void Render_User_ValidatesAgainstUserXsd(string name)
    {
        schemas.AssertValid(ObjectXml.Render(UserCase(name), CtxWithDefaults()), "user.xsd");
        schemas.AssertValid(ObjectXml.Render(UserCase(name), RenderContext.Default), "user.xsd");
    }

    [Fact]
    public void Render_GroupWithAdminsAndQuotas_ValidatesAgainstGroupXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.GroupWithAdmins(), CtxWithDefaults()), "group.xsd");

    [Fact]
    public void Render_EmptyGroup_ValidatesAgainstGroupXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.EmptyGroup(), RenderContext.Default), "group.xsd");

    [Fact]
    public void Render_Zone_ValidatesAgainstZoneXsd()
    {
        schemas.AssertValid(ObjectXml.Render(Samples.Zone0(), Ctx), "zone.xsd");
        var withRaft = Ctx with
        {
            ZoneServers = ImmutableDictionary<int, RaftStatus>.Empty
                .Add(0, new RaftStatus(0, RaftStatus.Leader, 3, 0, 120, 120, 3, -1))
                .Add(1, new RaftStatus(1, RaftStatus.Follower, 3, 0, 120, 120, 3, -1)),
        };
        schemas.AssertValid(ObjectXml.Render(Samples.Zone0(), withRaft), "zone.xsd");
    }

    [Fact]
    public void Render_Cluster_ValidatesAgainstClusterXsd()
    {
        schemas.AssertValid(ObjectXml.Render(Samples.DefaultCluster(), Ctx), "cluster.xsd");
        schemas.AssertValid(ObjectXml.Render(new Cluster { Id = 100, Name = "empty" }, Ctx), "cluster.xsd");
    }

    [Fact]
    public void Render_MonitoredHost_ValidatesAgainstHostXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.MonitoredHost(), Ctx), "host.xsd");

    [Fact]
    public void Render_MonitoredHostWithoutLiveSample_ValidatesAgainstHostXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.MonitoredHost(), RenderContext.Default), "host.xsd");

    [Fact]
    public void Render_UnmonitoredHost_DeviatesOnlyInDatastores() =>
        schemas.AssertValid(ObjectXml.Render(Samples.UnmonitoredHost(), Ctx), "host.xsd", UnmonitoredHostDatastores);

    [Fact]
    public void Render_UnmonitoredHostWithReservedDisk_DeviatesOnlyInDatastores() =>
        schemas.AssertValid(
            ObjectXml.Render(Samples.UnmonitoredHost() with { Share = new HostShare { DiskUsage = 1024 } }, Ctx),
            "host.xsd", UnmonitoredHostDatastores);

    public static TheoryData<string> DatastoreCases => new() { "system", "image", "file" };

    [Theory]
    [MemberData(nameof(DatastoreCases))]
    public void Render_Datastore_ValidatesAgainstDatastoreXsd(string kind)
    {
        var ds = kind switch
        {
            "system" => Samples.SystemDatastore(),
            "image" => Samples.ImageDatastore(),
            _ => Samples.FileDatastore(),
        };
        schemas.AssertValid(ObjectXml.Render(ds, Ctx), "datastore.xsd");
    }

    [Fact]
    public void Render_Images_ValidateAgainstImageXsd()
    {
        schemas.AssertValid(ObjectXml.Render(Samples.ReadyImage(), Ctx), "image.xsd");
        schemas.AssertValid(ObjectXml.Render(Samples.LockedPersistentImage(), Ctx), "image.xsd");
    }

    [Fact]
    public void Render_VmTemplate_ValidatesAgainstVmTemplateXsd()
    {
        schemas.AssertValid(ObjectXml.Render(Samples.VmTemplate(), Ctx), "vmtemplate.xsd");
        schemas.AssertValid(ObjectXml.Render(Samples.VmTemplate() with { Lock = new LockInfo(1, 0, Samples.Now, 1) }, Ctx), "vmtemplate.xsd");
    }

    [Fact]
    public void Render_PendingVmNeverDeployed_DeviatesOnlyInTmMadSystem() =>
        schemas.AssertValid(ObjectXml.Render(Samples.PendingVm(), Ctx), "vm.xsd", VmTemplateWithoutTmMadSystem);

    [Fact]
    public void Render_RunningVmWithTwoHistories_ValidatesAgainstVmXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.RunningVmWithTwoHistories(), Ctx), "vm.xsd");

    [Fact]
    public void Render_VmWithSnapshotsLockAndBackupConfig_ValidatesAgainstVmXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.PoweredOffVmWithSnapshotsAndLock(), Ctx), "vm.xsd");

    [Fact]
    public void Render_VmWithoutMonitoring_ValidatesAgainstVmXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.RunningVmWithTwoHistories(), RenderContext.Default), "vm.xsd");

    [Fact]
    public void Render_VNetWithLeases_ValidatesAgainstVnetXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.VNetWithLeases(), Ctx), "vnet.xsd");

    [Fact]
    public void Render_LockedVlanVNetWithoutRanges_ValidatesAgainstVnetXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.EmptyVlanVNet(), Ctx), "vnet.xsd");

    [Fact]
    public void Render_ReservationWithUserArAttributes_DeviatesOnlyInAr() =>
        schemas.AssertValid(ObjectXml.Render(Samples.ReservationWithStaticIp6AndGateway(), Ctx), "vnet.xsd", AddressRangeUserAttributes);

    [Fact]
    public void Render_SecGroupWithPlainRules_ValidatesAgainstSecurityGroupXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.SecGroupWithPlainRules(), Ctx), "security_group.xsd");

    [Fact]
    public void Render_SecGroupWithPortRanges_DeviatesOnlyInRules() =>
        schemas.AssertValid(ObjectXml.Render(Samples.SecGroupWithRanges(), Ctx), "security_group.xsd", SecurityGroupRuleAttributes);

    [Fact]
    public void Render_VmGroupWithRoles_ValidatesAgainstVmGroupXsd() =>
        schemas.AssertValid(ObjectXml.Render(Samples.VmGroupWithRoles(), Ctx), "vm_group.xsd");

    [Fact]
    public void RenderUtf8_MatchesRender()
    {
        var vm = Samples.PoweredOffVmWithSnapshotsAndLock();
        Assert.Equal(ObjectXml.Render(vm, Ctx), System.Text.Encoding.UTF8.GetString(ObjectXml.RenderUtf8(vm, Ctx)));
    }
}
