using System.Collections.Immutable;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Xml;
using EdgeCloud.Requests;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Api.OneApi;

/// <summary>One XML-RPC method: the authenticated caller and the arguments after the session string.</summary>
public delegate Task<Reply> OneMethod(Caller caller, XmlRpcArgs args, CancellationToken cancellationToken);

/// <summary>
/// OpenNebula's XML-RPC methods, declared as data: name → handler, each a thin adapter from
/// positional arguments to <see cref="Cloud"/>. Argument lists and types follow OpenNebula 7.5
/// (shared/OPENNEBULA-API.md); optional trailing arguments take oned's defaults.
/// </summary>
public sealed class OneMethods
{
    private readonly Dictionary<string, OneMethod> _methods = new(StringComparer.Ordinal);
    private readonly Cloud _cloud;
    private readonly Func<SystemConfig> _config;
    private readonly Func<RaftStatus> _raft;

    public OneMethods(Cloud cloud, Func<SystemConfig> config, Func<RaftStatus> raft, IMonitoringSource monitoring)
    {
        _cloud = cloud;
        _config = config;
        _raft = raft;
        RegisterSystem();
        RegisterUsersAndGroups();
        RegisterInfrastructure(monitoring);
        RegisterTemplatesAndVms(monitoring);
        RegisterStorageAndNetwork();
        RegisterMarkets();
        RegisterEmptyPools();
    }

    /// <summary>
    /// Whether a method may change state (a Raft follower forwards those to the leader). Reads are the info,
    /// pool, monitoring, system and Raft status calls; everything else writes (one.user.login too: it stores a token).
    /// </summary>
    public static bool IsWrite(string name) =>
        !(name.EndsWith(".info", StringComparison.Ordinal)
          || name.EndsWith(".monitoring", StringComparison.Ordinal)
          || name.StartsWith("one.system.", StringComparison.Ordinal)
          || name is "one.zone.raftstatus" or "one.vmpool.infoextended" or "one.vmpool.infoset");

    /// <summary>
    /// Raft cluster hooks: the live state of each server for one.zone.info's SERVER_POOL, and the
    /// membership calls (one.zone.addserver / delserver). Null on a stand-alone front-end.
    /// </summary>
    public IZoneServers? ZoneServers { get; init; }

    public bool TryGet(string name, out OneMethod method) => _methods.TryGetValue(name, out method!);

    public IReadOnlyCollection<string> Names => _methods.Keys;

    private void Add(string name, OneMethod m) => _methods.Add(name, m);

    /// <summary>
    /// Adds a method the composition root provides (EdgeCloud extensions that need front-end parts the
    /// API layer does not know, e.g. one.host.jointoken needs the agents' CA). Names must be new.
    /// </summary>
    public void Extend(string name, OneMethod method) => _methods.Add(name, method);

    private static Task<Reply> Done(int id) => Task.FromResult<Reply>(new IntReply(id));

    private static async Task<Reply> Id(Task<int> t) => new IntReply(await t.ConfigureAwait(false));

    /// <summary>The nine chmod ints after the object id.</summary>
    private static int[] Bits(XmlRpcArgs a) { var r = new int[9]; for (var i = 0; i < 9; i++) r[i] = a.Int(i + 1); return r; }

    /// <summary>The methods every owned object type shares: info, update, delete, chmod, chown, rename, lock, unlock, pool info.</summary>
    private void AddCommon<T>(string prefix, string poolPrefix, ObjectType type, bool hasLock = true, bool hasOwner = true) where T : PoolObject
    {
        Add($"one.{prefix}.info", (c, a, ct) => Task.FromResult<Reply>(new ObjectReply(_cloud.Info<T>(c, type, a.Int(0)))));
        Add($"one.{prefix}.update", (c, a, ct) => Id(_cloud.UpdateAsync(c, type, a.Int(0), a.Str(1), a.Int(2, 0), ct)));
        Add($"one.{prefix}.rename", (c, a, ct) => Id(_cloud.RenameAsync(c, type, a.Int(0), a.Str(1), ct)));
        if (hasOwner)
        {
            Add($"one.{prefix}.chmod", (c, a, ct) => Id(_cloud.ChmodAsync(c, type, a.Int(0), Bits(a), ct)));
            Add($"one.{prefix}.chown", (c, a, ct) => Id(_cloud.ChownAsync(c, type, a.Int(0), a.Int(1), a.Int(2), ct)));
        }
        if (hasLock)
        {
            Add($"one.{prefix}.lock", (c, a, ct) => Id(_cloud.LockAsync(c, type, a.Int(0), a.Int(1), a.Bool(2, false), ct)));
            Add($"one.{prefix}.unlock", (c, a, ct) => Id(_cloud.UnlockAsync(c, type, a.Int(0), ct)));
        }
        Add($"one.{poolPrefix}.info", (c, a, ct) =>
            Task.FromResult<Reply>(new PoolReply(type, _cloud.Pool<T>(c, type, a.Int(0, -2), a.Int(1, -1), a.Int(2, -1)))));
    }

    private void RegisterSystem()
    {
        Add("one.system.version", (c, a, ct) => Task.FromResult(Reply.Of(_cloud.Settings.Version)));
        Add("one.system.config", (c, a, ct) => Task.FromResult(Reply.Of(SystemXml.RenderConfiguration(_config()))));
        Add("one.zone.info", (c, a, ct) =>
        {
            var zone = _cloud.ZoneInfo(c, a.Int(0));
            // The servers' Raft state changes on its own: rendered live, not from the per-version cache.
            return Task.FromResult(ZoneServers is { } zs
                ? Reply.Of(ObjectXml.Render(zone, RenderContext.Default with { ZoneServers = zs.States().ToImmutableDictionary() }))
                : new ObjectReply(zone));
        });
        Add("one.zone.addserver", (c, a, ct) => ZoneServers is { } zs
            ? Id(zs.AddServerAsync(c, a.Int(0), a.Str(1), ct))
            : throw CloudException.Action("Cannot add a server: this front-end runs without Raft (start it with --raft and --peers).", a.Int(0)));
        Add("one.zone.delserver", (c, a, ct) => ZoneServers is { } zs
            ? Id(zs.DeleteServerAsync(c, a.Int(0), a.Int(1), ct))
            : throw CloudException.Action("Cannot delete a server: this front-end runs without Raft.", a.Int(0)));
        Add("one.zonepool.info", (c, a, ct) => Task.FromResult<Reply>(new PoolReply(ObjectType.Zone, _cloud.Pool<Zone>(c, ObjectType.Zone))));
        Add("one.zone.update", (c, a, ct) => Id(_cloud.UpdateAsync(c, ObjectType.Zone, a.Int(0), a.Str(1), a.Int(2, 0), ct)));
        Add("one.zone.rename", (c, a, ct) => Id(_cloud.RenameAsync(c, ObjectType.Zone, a.Int(0), a.Str(1), ct)));
        Add("one.zone.raftstatus", (c, a, ct) => Task.FromResult(Reply.Of(SystemXml.RenderRaftStatus(_raft()))));
    }

    private void RegisterUsersAndGroups()
    {
        Add("one.user.allocate", (c, a, ct) => Id(_cloud.UserAllocateAsync(c, a.Str(0), a.Str(1), a.Str(2, "core"), a.IntArray(3, []), ct)));
        Add("one.user.info", (c, a, ct) => Task.FromResult<Reply>(new ObjectReply(_cloud.UserInfo(c, a.Int(0, -1)))));
        Add("one.userpool.info", (c, a, ct) => Task.FromResult<Reply>(new PoolReply(ObjectType.User, _cloud.UserPool(c))));
        Add("one.user.delete", (c, a, ct) => Id(_cloud.UserDeleteAsync(c, a.Int(0), ct)));
        Add("one.user.passwd", (c, a, ct) => Id(_cloud.UserPasswdAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.user.chauth", (c, a, ct) => Id(_cloud.UserChauthAsync(c, a.Int(0), a.Str(1), a.Str(2, ""), ct)));
        Add("one.user.enable", (c, a, ct) => Id(_cloud.UserEnableAsync(c, a.Int(0), a.Bool(1), ct)));
        Add("one.user.chgrp", (c, a, ct) => Id(_cloud.UserChgrpAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.user.addgroup", (c, a, ct) => Id(_cloud.UserAddGroupAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.user.delgroup", (c, a, ct) => Id(_cloud.UserDelGroupAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.user.update", (c, a, ct) => Id(_cloud.UpdateAsync(c, ObjectType.User, a.Int(0), a.Str(1), a.Int(2, 0), ct)));
        Add("one.user.quota", (c, a, ct) => Id(_cloud.SetQuotaAsync(c, ObjectType.User, a.Int(0), a.Str(1), ct)));
        Add("one.user.login", async (c, a, ct) => Reply.Of(await _cloud.UserLoginAsync(c, a.Str(0), a.Str(1), a.Long(2), a.Int(3, -1), ct).ConfigureAwait(false)));

        Add("one.userquota.info", (c, a, ct) => Task.FromResult(Reply.Of(ObjectXml.RenderDefaultUserQuotas(_cloud.DefaultQuotas().User))));
        Add("one.groupquota.info", (c, a, ct) => Task.FromResult(Reply.Of(ObjectXml.RenderDefaultGroupQuotas(_cloud.DefaultQuotas().Group))));
        Add("one.userquota.update", async (c, a, ct) =>
            Reply.Of(ObjectXml.RenderDefaultUserQuotas(await _cloud.UpdateDefaultQuotasAsync(c, users: true, a.Str(0), ct).ConfigureAwait(false))));
        Add("one.groupquota.update", async (c, a, ct) =>
            Reply.Of(ObjectXml.RenderDefaultGroupQuotas(await _cloud.UpdateDefaultQuotasAsync(c, users: false, a.Str(0), ct).ConfigureAwait(false))));

        Add("one.group.allocate", (c, a, ct) => Id(_cloud.GroupAllocateAsync(c, a.Str(0), ct)));
        Add("one.group.info", (c, a, ct) => Task.FromResult<Reply>(new ObjectReply(_cloud.GroupInfo(c, a.Int(0, -1)))));
        Add("one.grouppool.info", (c, a, ct) => Task.FromResult<Reply>(new PoolReply(ObjectType.Group, _cloud.GroupPool(c))));
        Add("one.group.delete", (c, a, ct) => Id(_cloud.GroupDeleteAsync(c, a.Int(0), ct)));
        Add("one.group.update", (c, a, ct) => Id(_cloud.UpdateAsync(c, ObjectType.Group, a.Int(0), a.Str(1), a.Int(2, 0), ct)));
        Add("one.group.addadmin", (c, a, ct) => Id(_cloud.GroupAddAdminAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.group.deladmin", (c, a, ct) => Id(_cloud.GroupDelAdminAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.group.quota", (c, a, ct) => Id(_cloud.SetQuotaAsync(c, ObjectType.Group, a.Int(0), a.Str(1), ct)));

        Add("one.acl.info", (c, a, ct) => Task.FromResult<Reply>(new PoolReply(ObjectType.Acl, _cloud.AclPool(c))));
        Add("one.acl.addrule", (c, a, ct) => Id(_cloud.AclAddAsync(c, a.Str(0), a.Str(1), a.Str(2), a.Str(3, ""), ct)));
        Add("one.acl.delrule", (c, a, ct) => Id(_cloud.AclDeleteAsync(c, a.Int(0), ct)));
    }

    private void RegisterInfrastructure(IMonitoringSource monitoring)
    {
        AddCommon<Cluster>("cluster", "clusterpool", ObjectType.Cluster, hasLock: false, hasOwner: false);
        Add("one.cluster.allocate", (c, a, ct) => Id(_cloud.ClusterAllocateAsync(c, a.Str(0), ct)));
        Add("one.cluster.delete", (c, a, ct) => Id(_cloud.ClusterDeleteAsync(c, a.Int(0), ct)));
        Add("one.cluster.addhost", (c, a, ct) => Id(_cloud.ClusterAddHostAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.cluster.delhost", (c, a, ct) => Id(_cloud.ClusterDelHostAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.cluster.adddatastore", (c, a, ct) => Id(_cloud.ClusterAddDatastoreAsync(c, a.Int(0), a.Int(1), true, ct)));
        Add("one.cluster.deldatastore", (c, a, ct) => Id(_cloud.ClusterAddDatastoreAsync(c, a.Int(0), a.Int(1), false, ct)));
        Add("one.cluster.addvnet", (c, a, ct) => Id(_cloud.ClusterAddVNetAsync(c, a.Int(0), a.Int(1), true, ct)));
        Add("one.cluster.delvnet", (c, a, ct) => Id(_cloud.ClusterAddVNetAsync(c, a.Int(0), a.Int(1), false, ct)));

        AddCommon<Host>("host", "hostpool", ObjectType.Host, hasLock: false, hasOwner: false);
        Add("one.host.allocate", (c, a, ct) => Id(_cloud.HostAllocateAsync(c, a.Str(0), a.Str(1), a.Str(2), a.Int(3, -1), ct)));
        Add("one.host.delete", (c, a, ct) => Id(_cloud.HostDeleteAsync(c, a.Int(0), ct)));
        Add("one.host.status", (c, a, ct) => Id(_cloud.HostStatusAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.host.monitoring", (c, a, ct) =>
        {
            var h = _cloud.Info<Host>(c, ObjectType.Host, a.Int(0));
            var sample = monitoring.Host(h.Id);
            return Task.FromResult(Reply.Of(SystemXml.RenderHostMonitoringData(sample is null ? [] : [(h.Id, sample)])));
        });
        Add("one.hostpool.monitoring", (c, a, ct) =>
        {
            var hosts = _cloud.Pool<Host>(c, ObjectType.Host);
            var samples = hosts.Select(h => (h.Id, Sample: monitoring.Host(h.Id))).Where(x => x.Sample is not null).Select(x => (x.Id, x.Sample!));
            return Task.FromResult(Reply.Of(SystemXml.RenderHostMonitoringData(samples)));
        });

        AddCommon<Datastore>("datastore", "datastorepool", ObjectType.Datastore, hasLock: false);
        Add("one.datastore.allocate", (c, a, ct) => Id(_cloud.DatastoreAllocateAsync(c, a.Str(0), a.Int(1, -1), ct)));
        Add("one.datastore.delete", (c, a, ct) => Id(_cloud.DatastoreDeleteAsync(c, a.Int(0), ct)));
        Add("one.datastore.enable", (c, a, ct) => Id(_cloud.DatastoreEnableAsync(c, a.Int(0), a.Bool(1), ct)));
    }

    private void RegisterTemplatesAndVms(IMonitoringSource monitoring)
    {
        AddCommon<VmTemplate>("template", "templatepool", ObjectType.Template);
        Add("one.template.allocate", (c, a, ct) => Id(_cloud.TemplateAllocateAsync(c, a.Str(0), ct)));
        Add("one.template.clone", (c, a, ct) => Id(_cloud.TemplateCloneAsync(c, a.Int(0), a.Str(1), a.Bool(2, false), ct)));
        Add("one.template.delete", (c, a, ct) => Id(_cloud.TemplateDeleteAsync(c, a.Int(0), a.Bool(1, false), ct)));
        _methods["one.template.chmod"] = (c, a, ct) =>
            a.Bool(10, false) ? throw CloudException.Action("Recursive chmod (of the template's images) is not available yet.", a.Int(0))
                              : Id(_cloud.ChmodAsync(c, ObjectType.Template, a.Int(0), Bits(a), ct));
        Add("one.template.instantiate", (c, a, ct) => Id(_cloud.TemplateInstantiateAsync(c, a.Int(0), a.Str(1, ""), a.Bool(2, false), a.Str(3, ""), a.Bool(4, false), ct)));

        AddCommon<Vm>("vm", "vmpool", ObjectType.Vm);
        Add("one.vm.allocate", (c, a, ct) => Id(_cloud.VmAllocateAsync(c, a.Str(0), a.Bool(1, false), ct)));
        Add("one.vm.action", (c, a, ct) => Id(_cloud.VmActionAsync(c, a.Str(0), a.Int(1), ct)));
        Add("one.vm.deploy", (c, a, ct) => Id(_cloud.VmDeployAsync(c, a.Int(0), a.Int(1), a.Bool(2, false), a.Int(3, -1), ct)));
        Add("one.vm.migrate", (c, a, ct) => Id(_cloud.VmMigrateAsync(c, a.Int(0), a.Int(1), a.Bool(2, false), a.Bool(3, false), a.Int(4, -1), a.Int(5, 0), ct)));
        Add("one.vm.resize", (c, a, ct) => Id(_cloud.VmResizeAsync(c, a.Int(0), a.Str(1), a.Bool(2, false), ct)));
        Add("one.vm.attach", (c, a, ct) => Id(_cloud.VmAttachDiskAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vm.detach", (c, a, ct) => Id(_cloud.VmDetachDiskAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.vm.attachnic", (c, a, ct) => Id(_cloud.VmAttachNicAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vm.detachnic", (c, a, ct) => Id(_cloud.VmDetachNicAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.vm.snapshotcreate", (c, a, ct) => Id(_cloud.VmSnapshotCreateAsync(c, a.Int(0), a.Str(1, ""), ct)));
        Add("one.vm.snapshotrevert", (c, a, ct) => Id(_cloud.VmSnapshotActionAsync(c, a.Int(0), a.Int(1), true, ct)));
        Add("one.vm.snapshotdelete", (c, a, ct) => Id(_cloud.VmSnapshotActionAsync(c, a.Int(0), a.Int(1), false, ct)));
        // Disk snapshots, resize, save-as and backups (Requests/Cloud.DiskActions.cs).
        Add("one.vm.disksnapshotcreate", (c, a, ct) => Id(_cloud.VmDiskSnapshotCreateAsync(c, a.Int(0), a.Int(1), a.Str(2, ""), ct)));
        Add("one.vm.disksnapshotrevert", (c, a, ct) => Id(_cloud.VmDiskSnapshotRevertAsync(c, a.Int(0), a.Int(1), a.Int(2), ct)));
        Add("one.vm.disksnapshotdelete", (c, a, ct) => Id(_cloud.VmDiskSnapshotDeleteAsync(c, a.Int(0), a.Int(1), a.Int(2), ct)));
        Add("one.vm.disksnapshotrename", (c, a, ct) => Id(_cloud.VmDiskSnapshotRenameAsync(c, a.Int(0), a.Int(1), a.Int(2), a.Str(3), ct)));
        Add("one.vm.diskresize", (c, a, ct) => Id(_cloud.VmDiskResizeAsync(c, a.Int(0), a.Int(1), a.Str(2), ct)));
        Add("one.vm.disksaveas", (c, a, ct) => Id(_cloud.VmDiskSaveAsAsync(c, a.Int(0), a.Int(1), a.Str(2), a.Str(3, ""), a.Int(4, -1), ct)));
        Add("one.vm.backup", (c, a, ct) => Id(_cloud.VmBackupAsync(c, a.Int(0), a.Int(1, -1), a.Bool(2, false), ct)));
        Add("one.vm.backupcancel", (c, a, ct) => Id(_cloud.VmBackupCancelAsync(c, a.Int(0), ct)));
        Add("one.vm.updateconf", (c, a, ct) => Id(_cloud.VmUpdateConfAsync(c, a.Int(0), a.Str(1), a.Int(2, 0), ct)));
        Add("one.vm.recover", (c, a, ct) => Id(_cloud.VmRecoverAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.vm.monitoring", (c, a, ct) =>
        {
            var vm = _cloud.Info<Vm>(c, ObjectType.Vm, a.Int(0));
            var sample = monitoring.Vm(vm.Id);
            return Task.FromResult(Reply.Of(SystemXml.RenderVmMonitoringData(sample is null ? [] : [(vm.Id, sample)])));
        });
        _methods["one.vmpool.info"] = (c, a, ct) =>
            Task.FromResult<Reply>(new PoolReply(ObjectType.Vm, _cloud.VmPool(c, a.Int(0, -2), a.Int(1, -1), a.Int(2, -1), a.Int(3, -1), a.Str(4, ""))));
        Add("one.vmpool.infoextended", (c, a, ct) =>
            Task.FromResult<Reply>(new PoolReply(ObjectType.Vm, _cloud.VmPool(c, a.Int(0, -2), a.Int(1, -1), a.Int(2, -1), a.Int(3, -1), a.Str(4, "")), RenderMode.Full)));
        Add("one.vmpool.infoset", (c, a, ct) =>
        {
            var ids = a.Str(0).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.TryParse(s, out var v) ? v : throw CloudException.Api($"Invalid VM id \"{s}\" in the id list")).ToHashSet();
            var vms = _cloud.VmPool(c, -2, -1, -1, -2, "").Where(v => ids.Contains(v.Id)).ToList();
            return Task.FromResult<Reply>(new PoolReply(ObjectType.Vm, vms, a.Bool(1, false) ? RenderMode.Full : RenderMode.PoolEntry));
        });
        Add("one.vmpool.monitoring", (c, a, ct) =>
        {
            var vms = _cloud.VmPool(c, a.Int(0, -2), -1, -1, -1, "");
            var samples = vms.Select(v => (v.Id, Sample: monitoring.Vm(v.Id))).Where(x => x.Sample is not null).Select(x => (x.Id, x.Sample!));
            return Task.FromResult(Reply.Of(SystemXml.RenderVmMonitoringData(samples)));
        });
    }

    private void RegisterStorageAndNetwork()
    {
        AddCommon<Image>("image", "imagepool", ObjectType.Image);
        Add("one.image.allocate", (c, a, ct) => Id(_cloud.ImageAllocateAsync(c, a.Str(0), a.Int(1), a.Bool(2, false), ct)));
        Add("one.image.delete", (c, a, ct) => Id(_cloud.ImageDeleteAsync(c, a.Int(0), a.Bool(1, false), ct)));
        Add("one.image.enable", (c, a, ct) => Id(_cloud.ImageEnableAsync(c, a.Int(0), a.Bool(1), ct)));
        Add("one.image.persistent", (c, a, ct) => Id(_cloud.ImagePersistentAsync(c, a.Int(0), a.Bool(1), ct)));
        Add("one.image.chtype", (c, a, ct) => Id(_cloud.ImageChtypeAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.image.snapshotrevert", (c, a, ct) => Id(_cloud.ImageSnapshotAsync(c, a.Int(0), a.Int(1), "revert", ct)));
        Add("one.image.snapshotdelete", (c, a, ct) => Id(_cloud.ImageSnapshotAsync(c, a.Int(0), a.Int(1), "delete", ct)));
        Add("one.image.snapshotflatten", (c, a, ct) => Id(_cloud.ImageSnapshotAsync(c, a.Int(0), a.Int(1), "flatten", ct)));
        Add("one.image.restore", async (c, a, ct) => Reply.Of(await _cloud.ImageRestoreAsync(c, a.Int(0), a.Int(1), a.Str(2, ""), ct).ConfigureAwait(false)));
        Add("one.image.clone", (c, a, ct) => Id(_cloud.ImageCloneAsync(c, a.Int(0), a.Str(1), a.Int(2, -1), ct)));

        AddCommon<VNet>("vn", "vnpool", ObjectType.VNet);
        Add("one.vn.allocate", (c, a, ct) => Id(_cloud.VNetAllocateAsync(c, a.Str(0), a.Int(1, -1), ct)));
        Add("one.vn.delete", (c, a, ct) => Id(_cloud.VNetDeleteAsync(c, a.Int(0), ct)));
        Add("one.vn.add_ar", (c, a, ct) => Id(_cloud.VNetAddArAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vn.rm_ar", (c, a, ct) => Id(_cloud.VNetRemoveArAsync(c, a.Int(0), a.Int(1), a.Bool(2, false), ct)));
        Add("one.vn.free_ar", (c, a, ct) => Id(_cloud.VNetRemoveArAsync(c, a.Int(0), a.Int(1), true, ct)));
        Add("one.vn.update_ar", (c, a, ct) => Id(_cloud.VNetUpdateArAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vn.hold", (c, a, ct) => Id(_cloud.VNetHoldAsync(c, a.Int(0), a.Str(1), true, ct)));
        Add("one.vn.release", (c, a, ct) => Id(_cloud.VNetHoldAsync(c, a.Int(0), a.Str(1), false, ct)));
        Add("one.vn.reserve", (c, a, ct) => Id(_cloud.VNetReserveAsync(c, a.Int(0), a.Str(1), ct)));

        AddCommon<VNTemplate>("vntemplate", "vntemplatepool", ObjectType.VNTemplate);
        Add("one.vntemplate.allocate", (c, a, ct) => Id(_cloud.VNTemplateAllocateAsync(c, a.Str(0), ct)));
        Add("one.vntemplate.clone", (c, a, ct) => Id(_cloud.VNTemplateCloneAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vntemplate.delete", (c, a, ct) => Id(_cloud.DeleteOwnedAsync(c, ObjectType.VNTemplate, a.Int(0), ct)));
        Add("one.vntemplate.instantiate", (c, a, ct) => Id(_cloud.VNTemplateInstantiateAsync(c, a.Int(0), a.Str(1, ""), a.Str(2, ""), ct)));

        AddCommon<SecGroup>("secgroup", "secgrouppool", ObjectType.SecGroup, hasLock: false);
        Add("one.secgroup.allocate", (c, a, ct) => Id(_cloud.SecGroupAllocateAsync(c, a.Str(0), ct)));
        Add("one.secgroup.delete", (c, a, ct) => Id(_cloud.DeleteOwnedAsync(c, ObjectType.SecGroup, a.Int(0), ct)));
        Add("one.secgroup.clone", (c, a, ct) => Id(_cloud.SecGroupCloneAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.secgroup.commit", (c, a, ct) => Id(_cloud.SecGroupCommitAsync(c, a.Int(0), a.Bool(1, false), ct)));

        AddCommon<VmGroup>("vmgroup", "vmgrouppool", ObjectType.VmGroup);
        Add("one.vmgroup.allocate", (c, a, ct) => Id(_cloud.VmGroupAllocateAsync(c, a.Str(0), ct)));
        Add("one.vmgroup.delete", (c, a, ct) => Id(_cloud.DeleteOwnedAsync(c, ObjectType.VmGroup, a.Int(0), ct)));
        Add("one.vmgroup.roleadd", (c, a, ct) => Id(_cloud.VmGroupRoleAddAsync(c, a.Int(0), a.Str(1), ct)));
        Add("one.vmgroup.roledelete", (c, a, ct) => Id(_cloud.VmGroupRoleDeleteAsync(c, a.Int(0), a.Int(1), ct)));
        Add("one.vmgroup.roleupdate", (c, a, ct) => Id(_cloud.VmGroupRoleUpdateAsync(c, a.Int(0), a.Int(1), a.Str(2), ct)));
    }

    /// <summary>Pools of object kinds that later capabilities fill (marketplaces, routers...): listed empty, so clients' list commands work.</summary>
    private void RegisterEmptyPools()
    {
        foreach (var (method, type) in new[]
                 {
                     ("one.vrouterpool.info", ObjectType.VRouter),
                     ("one.vdcpool.info", ObjectType.Vdc), ("one.documentpool.info", ObjectType.Document),
                     ("one.hookpool.info", ObjectType.Hook), ("one.backupjobpool.info", ObjectType.BackupJob),
                 })
            Add(method, (c, a, ct) => Task.FromResult<Reply>(new PoolReply(type, [])));
    }

    // ------------------------------------------------------------------ marketplaces (storage branch)

    /// <summary>one.market.* and one.marketapp.* (Cloud.Markets.cs). one.marketpool.info takes no filter arguments, as oned.</summary>
    private void RegisterMarkets()
    {
        AddCommon<Market>("market", "marketpool", ObjectType.Market, hasLock: false);
        _methods["one.marketpool.info"] = (c, a, ct) => Task.FromResult<Reply>(new PoolReply(ObjectType.Market, _cloud.Pool<Market>(c, ObjectType.Market)));
        Add("one.market.allocate", (c, a, ct) => Id(_cloud.MarketAllocateAsync(c, a.Str(0), ct)));
        Add("one.market.delete", (c, a, ct) => Id(_cloud.MarketDeleteAsync(c, a.Int(0), ct)));
        Add("one.market.enable", (c, a, ct) => Id(_cloud.MarketEnableAsync(c, a.Int(0), a.Bool(1), ct)));

        AddCommon<MarketApp>("marketapp", "marketapppool", ObjectType.MarketApp);
        Add("one.marketapp.allocate", (c, a, ct) => Id(_cloud.MarketAppAllocateAsync(c, a.Str(0), a.Int(1), ct)));
        Add("one.marketapp.delete", (c, a, ct) => Id(_cloud.MarketAppDeleteAsync(c, a.Int(0), ct)));
        Add("one.marketapp.enable", (c, a, ct) => Id(_cloud.MarketAppEnableAsync(c, a.Int(0), a.Bool(1), ct)));
    }
}

/// <summary>The zone's Raft servers, for one.zone.info and one.zone.addserver / delserver.</summary>
public interface IZoneServers
{
    /// <summary>Raft state by server id.</summary>
    IReadOnlyDictionary<int, RaftStatus> States();

    /// <summary>one.zone.addserver: template "SERVER=[NAME=..., ENDPOINT=...]"; returns the zone id.</summary>
    Task<int> AddServerAsync(Caller caller, int zoneId, string template, CancellationToken ct);

    /// <summary>one.zone.delserver; returns the zone id.</summary>
    Task<int> DeleteServerAsync(Caller caller, int zoneId, int serverId, CancellationToken ct);
}
