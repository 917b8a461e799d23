using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>Bootstrap objects, zone and system methods, clusters, hosts (monitoring, status) and datastores.</summary>
public abstract class ClustersHostsDatastoresTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    // ------------------------------------------------------------------ bootstrap, zone, system

    [BackendFact]
    public async Task Bootstrap_DefaultObjects_ExistWithOpenNebulasIds()
    {
        var users = await Admin.InfoAsync("one.userpool.info");
        Assert.Equal("oneadmin", users.Entry(0).Str("NAME"));
        Assert.Equal("serveradmin", users.Entry(1).Str("NAME"));
        var groups = await Admin.InfoAsync("one.grouppool.info");
        Assert.Equal("oneadmin", groups.Entry(0).Str("NAME"));
        Assert.Equal("users", groups.Entry(1).Str("NAME"));
        var ds = await Admin.InfoAsync("one.datastorepool.info");
        Assert.Equal(("system", 1), (ds.Entry(0).Str("NAME"), ds.Entry(0).Int("TYPE")));
        Assert.Equal(("default", 0), (ds.Entry(1).Str("NAME"), ds.Entry(1).Int("TYPE")));
        Assert.Equal(("files", 2), (ds.Entry(2).Str("NAME"), ds.Entry(2).Int("TYPE")));
        var cluster = await Admin.InfoAsync("one.cluster.info", 0, false);
        Assert.Equal("default", cluster.Str("NAME"));
        Assert.Equal([0, 1, 2], cluster.Ids("DATASTORES").Take(3));
        Assert.Equal("OpenNebula", (await Admin.InfoAsync("one.zone.info", 0, false)).Str("NAME"));
        Assert.Equal("default", (await Admin.InfoAsync("one.secgroup.info", 0, false)).Str("NAME"));
        Assert.True((await Admin.InfoAsync("one.acl.info")).Elements("ACL").Count() >= 5);
    }

    [BackendFact]
    public async Task Bootstrap_DocumentsValidateAgainstTheXsds()
    {
        Schemas.AssertValid((await Admin.InfoAsync("one.zone.info", 0, false)).ToString(), "zone.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.zonepool.info")).ToString(), "zone_pool.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.cluster.info", 0, false)).ToString(), "cluster.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.clusterpool.info")).ToString(), "cluster_pool.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.datastore.info", 1, false)).ToString(), "datastore.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.datastorepool.info")).ToString(), "datastore_pool.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.system.config")).ToString(), "opennebula_configuration.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.zone.raftstatus")).ToString(), "raftstatus.xsd");
    }

    [BackendFact]
    public async Task SystemVersion_AnyAuthenticatedUser_Answers()
    {
        var (_, user) = await NewUserAsync();

        Assert.Equal("7.5.80", await user.CallStringAsync("one.system.version"));
        Assert.Equal("OPENNEBULA_CONFIGURATION", (await user.InfoAsync("one.system.config")).Name.LocalName);
    }

    [BackendFact]
    public async Task ZoneUpdateAndRename_ChangeTheZone()
    {
        var endpoint = (await Admin.InfoAsync("one.zone.info", 0)).Str("TEMPLATE/ENDPOINT");
        await Admin.CallAsync("one.zone.update", 0, "DESCRIPTION = \"edge\"", 1);
        var renamed = Unique("zone");
        await Admin.CallAsync("one.zone.rename", 0, renamed);

        var zone = await Admin.InfoAsync("one.zone.info", 0);
        Assert.Equal(renamed, zone.Str("NAME"));
        Assert.Equal("edge", zone.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal(endpoint, zone.Str("TEMPLATE/ENDPOINT"));

        // Back as it was (zone.xsd allows only ENDPOINT in the template; other tests validate the zone).
        await Admin.CallAsync("one.zone.update", 0, $"ENDPOINT = \"{endpoint}\"", 0);
        await Admin.CallAsync("one.zone.rename", 0, "OpenNebula");
        Assert.Equal(["ENDPOINT"], (await Admin.InfoAsync("one.zone.info", 0)).At("TEMPLATE").Elements().Select(e => e.Name.LocalName));
    }

    [BackendFact]
    public async Task ZoneInfo_UnknownZone_NoExists() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.zone.info", 7, false), Err.NoExists, "[one.zone.info] Error getting zone [7].");

    // ------------------------------------------------------------------ clusters

    [BackendFact]
    public async Task ClusterAllocate_UserIdsStartAt100_AndTheClusterIsListed()
    {
        var name = Unique("cl");

        var id = await Admin.CallIntAsync("one.cluster.allocate", name);

        Assert.True(id >= 100);
        var c = await Admin.InfoAsync("one.cluster.info", id, false);
        Assert.Equal(name, c.Str("NAME"));
        Assert.Empty(c.Ids("HOSTS"));
        Assert.Contains(id, (await Admin.InfoAsync("one.clusterpool.info")).EntryIds());
        Schemas.AssertValid(c.ToString(), "cluster.xsd");
    }

    [BackendFact]
    public async Task ClusterAllocate_TakenName_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.cluster.allocate", "default"), Err.Allocate, "[one.cluster.allocate] Error allocating a new cluster.");

    [BackendFact]
    public async Task ClusterAddhostDelhost_HostMovesBetweenClusters()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        var hid = await Admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", -1);
        Assert.Equal(0, (await Admin.InfoAsync("one.host.info", hid)).Int("CLUSTER_ID"));

        await Admin.CallAsync("one.cluster.addhost", cid, hid);

        var host = await Admin.InfoAsync("one.host.info", hid);
        Assert.Equal(cid, host.Int("CLUSTER_ID"));
        Assert.Equal((await Admin.InfoAsync("one.cluster.info", cid)).Str("NAME"), host.Str("CLUSTER"));
        Assert.Equal([hid], (await Admin.InfoAsync("one.cluster.info", cid)).Ids("HOSTS"));
        Assert.DoesNotContain(hid, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("HOSTS"));

        await Admin.CallAsync("one.cluster.delhost", cid, hid);

        Assert.Equal(0, (await Admin.InfoAsync("one.host.info", hid)).Int("CLUSTER_ID"));
        Assert.Empty((await Admin.InfoAsync("one.cluster.info", cid)).Ids("HOSTS"));
        Assert.Contains(hid, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("HOSTS"));
    }

    [BackendFact]
    public async Task ClusterAdddatastoreDeldatastore_BothSidesAgree()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));

        await Admin.CallAsync("one.cluster.adddatastore", cid, 1);
        Assert.Contains(1, (await Admin.InfoAsync("one.cluster.info", cid)).Ids("DATASTORES"));
        Assert.Contains(cid, (await Admin.InfoAsync("one.datastore.info", 1)).Ids("CLUSTERS"));

        await Admin.CallAsync("one.cluster.deldatastore", cid, 1);
        Assert.DoesNotContain(1, (await Admin.InfoAsync("one.cluster.info", cid)).Ids("DATASTORES"));
        Assert.DoesNotContain(cid, (await Admin.InfoAsync("one.datastore.info", 1)).Ids("CLUSTERS"));
    }

    [BackendFact]
    public async Task ClusterAddvnetDelvnet_BothSidesAgree()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        var net = await NewNetAsync(2);

        await Admin.CallAsync("one.cluster.addvnet", cid, net);
        Assert.Contains(net, (await Admin.InfoAsync("one.cluster.info", cid)).Ids("VNETS"));
        Assert.Contains(cid, (await Admin.InfoAsync("one.vn.info", net)).Ids("CLUSTERS"));

        await Admin.CallAsync("one.cluster.delvnet", cid, net);
        Assert.DoesNotContain(net, (await Admin.InfoAsync("one.cluster.info", cid)).Ids("VNETS"));
        Assert.DoesNotContain(cid, (await Admin.InfoAsync("one.vn.info", net)).Ids("CLUSTERS"));
    }

    [BackendFact]
    public async Task ClusterAddhost_UnknownHost_NoExistsAndNothingChanges()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));

        await FailsUnchangedAsync(() => Admin.CallAsync("one.cluster.addhost", cid, 99999), Err.NoExists, "Error getting host [99999].");
    }

    [BackendFact]
    public async Task ClusterDelete_WithHosts_ActionErrorAndNothingChanges()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        await Admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", cid);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.cluster.delete", cid), Err.Action);
    }

    [BackendFact]
    public async Task ClusterDelete_Default_ActionErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.cluster.delete", 0), Err.Action);

    [BackendFact]
    public async Task ClusterDelete_Empty_IsGone()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));

        await Admin.CallAsync("one.cluster.delete", cid);

        await FailsAsync(() => Admin.CallAsync("one.cluster.info", cid), Err.NoExists, $"Error getting cluster [{cid}].");
    }

    [BackendFact]
    public async Task ClusterUpdateAndRename_HostsFollowTheNewName()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        var hid = await Admin.CallIntAsync("one.host.allocate", Unique("h"), "dummy", "dummy", cid);
        var name = Unique("renamed");

        await Admin.CallAsync("one.cluster.update", cid, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 0);
        await Admin.CallAsync("one.cluster.rename", cid, name);

        var c = await Admin.InfoAsync("one.cluster.info", cid);
        Assert.Equal(name, c.Str("NAME"));
        Assert.Equal("updated by cli", c.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal(name, (await Admin.InfoAsync("one.host.info", hid)).Str("CLUSTER"));
    }

    // ------------------------------------------------------------------ hosts

    [BackendFact]
    public async Task HostAllocate_Dummy_MonitoredWithinSeconds()
    {
        var name = Unique("h");

        var hid = await Admin.CallIntAsync("one.host.allocate", name, "dummy", "dummy", -1);

        var host = await WaitHostStateAsync(hid, 2, TimeSpan.FromSeconds(3));
        Assert.Equal(name, host.Str("NAME"));
        Assert.Equal(("dummy", "dummy"), (host.Str("IM_MAD"), host.Str("VM_MAD")));
        Assert.True(host.Long("HOST_SHARE/TOTAL_CPU") > 0);
        Assert.True(host.Long("HOST_SHARE/TOTAL_MEM") > 0);
        Assert.Equal("dummy", host.Str("TEMPLATE/HYPERVISOR"));
        Assert.Contains(hid, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("HOSTS"));
        Schemas.AssertValid(host.ToString(), "host.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.hostpool.info")).Entries().Aggregate("<HOST_POOL>", (s, h) => s + (h.Int("STATE") == 2 ? h.ToString() : "")) + "</HOST_POOL>", "host_pool.xsd");
    }

    [BackendFact]
    public async Task HostAllocate_NeverMonitored_DeviatesFromTheXsdOnlyInDatastores()
    {
        // kvm hosts are monitored by the host agent, which is not connected: the host never gets a sample.
        var hid = await Admin.CallIntAsync("one.host.allocate", Unique("kvm"), "kvm", "kvm", -1);

        var host = await WaitHostStateAsync(hid, 3);

        Assert.False(string.IsNullOrEmpty(host.Str("TEMPLATE/ERROR")));
        Schemas.AssertValid(host.ToString(), "host.xsd", KnownOnedDeviations.UnmonitoredHostDatastores);
        await Admin.CallAsync("one.host.delete", hid);
    }

    [BackendFact]
    public async Task HostAllocate_UnknownDriver_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.host.allocate", Unique("h"), "nosuch", "dummy", -1), Err.Allocate,
            "[one.host.allocate] Error allocating a new host.");

    [BackendFact]
    public async Task HostAllocate_TakenName_AllocateErrorAndNothingChanges()
    {
        var name = Unique("h");
        await Admin.CallIntAsync("one.host.allocate", name, "dummy", "dummy", -1);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.host.allocate", name, "dummy", "dummy", -1), Err.Allocate);
    }

    [BackendFact]
    public async Task HostAllocate_UnknownCluster_NoExistsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.host.allocate", Unique("h"), "dummy", "dummy", 4242), Err.NoExists, "Error getting cluster [4242].");

    [BackendFact]
    public async Task HostStatus_DisableOfflineEnable_StatesFollow()
    {
        var hid = await NewHostAsync();

        await Admin.CallAsync("one.host.status", hid, 1);
        Assert.Equal(4, (await Admin.InfoAsync("one.host.info", hid)).Int("STATE"));

        await Admin.CallAsync("one.host.status", hid, 2);
        Assert.Equal(8, (await Admin.InfoAsync("one.host.info", hid)).Int("STATE"));

        await Admin.CallAsync("one.host.status", hid, 0);
        await WaitHostStateAsync(hid, 2, TimeSpan.FromSeconds(5));
    }

    [BackendFact]
    public async Task HostStatus_InvalidStatus_ApiErrorAndNothingChanges()
    {
        var hid = await NewHostAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.host.status", hid, 7), Err.Api);
    }

    [BackendFact]
    public async Task HostStatus_Disabled_SchedulerPlacesNothingThere()
    {
        var hid = await NewHostAsync();
        await Admin.CallAsync("one.host.status", hid, 1);

        var vm = await NewVmAsync($"SCHED_REQUIREMENTS = \"ID = {hid}\"\n");

        var pending = await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", vm), v => v.Has("USER_TEMPLATE/SCHED_MESSAGE"), "a scheduler message");
        Assert.Equal(VmState.Pending, pending.Int("STATE"));
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.host.info", hid)).Ids("VMS"));

        await Admin.CallAsync("one.host.status", hid, 0);
        var running = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal(hid, running.Int("HISTORY_RECORDS/HISTORY/HID"));
        await Admin.CallAsync("one.vm.action", "terminate-hard", vm);
        await WaitVmAsync(vm, VmState.Done);
    }

    [BackendFact]
    public async Task HostDelete_WithVms_RefusedUntilTheVmIsGone()
    {
        var hid = await NewHostAsync();
        var vm = await NewVmAsync($"SCHED_REQUIREMENTS = \"ID = {hid}\"\n");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal([vm], (await Admin.InfoAsync("one.host.info", hid)).Ids("VMS"));

        await FailsUnchangedAsync(() => Admin.CallAsync("one.host.delete", hid), Err.Action, "[one.host.delete]");

        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);
        Assert.Empty((await Admin.InfoAsync("one.host.info", hid)).Ids("VMS"));
        await Admin.CallAsync("one.host.delete", hid);
        await FailsAsync(() => Admin.CallAsync("one.host.info", hid), Err.NoExists, $"[one.host.info] Error getting host [{hid}].");
        Assert.DoesNotContain(hid, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("HOSTS"));
    }

    [BackendFact]
    public async Task HostUpdateAndRename_ChangeTheHost()
    {
        var hid = await NewHostAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.host.update", hid, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);
        await Admin.CallAsync("one.host.rename", hid, name);

        var host = await Admin.InfoAsync("one.host.info", hid);
        Assert.Equal(name, host.Str("NAME"));
        Assert.Equal("updated by cli", host.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal("dummy", host.Str("TEMPLATE/IM_MAD"));
    }

    [BackendFact]
    public async Task HostMonitoring_MonitoredHost_ReturnsItsSamples()
    {
        var hid = await NewHostAsync();

        var one = await Wait.ForAsync(() => Admin.InfoAsync("one.host.monitoring", hid), d => d.Elements("MONITORING").Any(), "a monitoring sample");
        var all = await Admin.InfoAsync("one.hostpool.monitoring");

        Assert.Equal(hid, one.Element("MONITORING")!.Int("ID"));
        Assert.Contains(hid, all.Elements("MONITORING").Select(m => m.Int("ID")));
        Schemas.AssertValid(one.ToString(), "monitoring_data.xsd", KnownOnedDeviations.HostMonitoringData);
    }

    // ------------------------------------------------------------------ datastores

    [BackendFact]
    public async Task DatastoreAllocate_ImageSystemAndFile_TypesAndDefaults()
    {
        var image = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("ids")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\nTYPE = \"IMAGE_DS\"\n", -1);
        var system = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("sds")}\"\nTM_MAD = \"dummy\"\nTYPE = \"SYSTEM_DS\"\n", -1);
        var file = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("fds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\nTYPE = \"FILE_DS\"\n", -1);

        Assert.All(new[] { image, system, file }, id => Assert.True(id >= 100));
        Assert.Equal(0, (await Admin.InfoAsync("one.datastore.info", image)).Int("TYPE"));
        Assert.Equal(1, (await Admin.InfoAsync("one.datastore.info", system)).Int("TYPE"));
        Assert.Equal(2, (await Admin.InfoAsync("one.datastore.info", file)).Int("TYPE"));
        var ds = await Admin.InfoAsync("one.datastore.info", image, false);
        Assert.Equal(("dummy", "dummy", 0), (ds.Str("DS_MAD"), ds.Str("TM_MAD"), ds.Int("STATE")));
        Assert.Equal([0], ds.Ids("CLUSTERS"));
        Assert.Contains(image, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("DATASTORES"));
        Schemas.AssertValid(ds.ToString(), "datastore.xsd");
    }

    [BackendFact]
    public async Task DatastoreAllocate_InCluster_AddedToThatCluster()
    {
        var cid = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));

        var id = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("ds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\n", cid);

        Assert.Equal([cid], (await Admin.InfoAsync("one.datastore.info", id)).Ids("CLUSTERS"));
        Assert.Equal([id], (await Admin.InfoAsync("one.cluster.info", cid)).Ids("DATASTORES"));
    }

    [BackendFact]
    public async Task DatastoreAllocate_NoTmMad_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.datastore.allocate", $"NAME = \"{Unique("ds")}\"\nDS_MAD = \"dummy\"\n", -1), Err.Allocate,
            "[one.datastore.allocate] Error allocating a new datastore.");

    [BackendFact]
    public async Task DatastoreEnable_SystemDatastore_DisabledAndEnabled()
    {
        var system = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("sds")}\"\nTM_MAD = \"dummy\"\nTYPE = \"SYSTEM_DS\"\n", -1);

        await Admin.CallAsync("one.datastore.enable", system, false);
        Assert.Equal(1, (await Admin.InfoAsync("one.datastore.info", system)).Int("STATE"));

        await Admin.CallAsync("one.datastore.enable", system, true);
        Assert.Equal(0, (await Admin.InfoAsync("one.datastore.info", system)).Int("STATE"));
    }

    [BackendFact]
    public async Task DatastoreUpdateRenameChmodChown_ChangeTheDatastore()
    {
        var id = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("ds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\n", -1);
        var (uid, _) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.datastore.update", id, "DESCRIPTION = \"d\"", 0);
        await Admin.CallAsync("one.datastore.rename", id, name);
        await Admin.CallAsync("one.datastore.chmod", id, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await Admin.CallAsync("one.datastore.chown", id, uid, 1);

        var ds = await Admin.InfoAsync("one.datastore.info", id);
        Assert.Equal(name, ds.Str("NAME"));
        Assert.Equal("d", ds.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal("dummy", ds.Str("TEMPLATE/DS_MAD")); // identity attributes survive a replace
        Assert.Equal("644", ds.Octal());
        Assert.Equal((uid, 1), (ds.Int("UID"), ds.Int("GID")));
    }

    [BackendFact]
    public async Task DatastoreDelete_WithImages_ActionErrorAndNothingChanges()
    {
        var id = await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("ds")}\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\"\n", -1);
        var image = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("img")}\"\nPATH = \"/tmp/x\"\nSIZE = 1\n", id, false);
        await WaitImageStateAsync(image, 1);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.datastore.delete", id), Err.Action, "[one.datastore.delete]");

        await Admin.CallAsync("one.image.delete", image, false);
        await Admin.CallAsync("one.datastore.delete", id);
        await FailsAsync(() => Admin.CallAsync("one.datastore.info", id), Err.NoExists, $"Error getting datastore [{id}].");
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.cluster.info", 0)).Ids("DATASTORES"));
    }
}

public sealed class ClustersHostsDatastoresTests_Sqlite(SqliteFrontend fixture) : ClustersHostsDatastoresTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class ClustersHostsDatastoresTests_Postgres(PostgresFrontend fixture) : ClustersHostsDatastoresTests(fixture), IClassFixture<PostgresFrontend>;
