using System.Collections.Immutable;
using System.Globalization;
using EdgeCloud.Core;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>OpenNebula's VM actions (VMActions::Action numbers), recorded in HISTORY/ACTION.</summary>
public enum VmAction
{
    None = 0, Migrate = 1, LiveMigrate = 2, Undeploy = 5, UndeployHard = 6, Hold = 7, Release = 8, Stop = 9,
    Suspend = 10, Resume = 11, Delete = 13, DeleteRecreate = 14, Reboot = 15, RebootHard = 16, Resched = 17,
    Unresched = 18, Poweroff = 19, PoweroffHard = 20, DiskAttach = 21, DiskDetach = 22, NicAttach = 23,
    NicDetach = 24, DiskSnapshotCreate = 25, DiskSnapshotDelete = 26, Terminate = 27, TerminateHard = 28,
    DiskResize = 29, Deploy = 30, Resize = 35, SnapshotCreate = 37, SnapshotDelete = 38, SnapshotRevert = 39,
    DiskSaveAs = 40, DiskSnapshotRevert = 41, Recover = 42, Retry = 43, DiskSnapshotRename = 45, PoffMigrate = 48, PoffHardMigrate = 49,
    Backup = 50, BackupCancel = 55,
}

/// <summary>
/// The VM life-cycle state machine: every transition between OpenNebula's VM/LCM states, the
/// driver action each transient state runs, and the bookkeeping that goes with it (host capacity,
/// history records, quotas, images and leases). All functions work inside a command
/// (<see cref="StateTransaction"/>); driver actions are queued to run after the commit.
/// </summary>
public sealed class VmLifeCycle(IDriverDispatcher drivers, CloudSettings settings)
{
    /// <summary>Where each transient state goes on driver success and on failure.</summary>
    private readonly record struct Edge(VmState OkState, LcmState OkLcm, VmState FailState, LcmState FailLcm);

    private static readonly Dictionary<LcmState, Edge> Edges = new()
    {
        [LcmState.PROLOG] = new(VmState.ACTIVE, LcmState.BOOT, VmState.ACTIVE, LcmState.PROLOG_FAILURE),
        [LcmState.PROLOG_RESUME] = new(VmState.ACTIVE, LcmState.BOOT_STOPPED, VmState.ACTIVE, LcmState.PROLOG_RESUME_FAILURE),
        [LcmState.PROLOG_UNDEPLOY] = new(VmState.ACTIVE, LcmState.BOOT_UNDEPLOY, VmState.ACTIVE, LcmState.PROLOG_UNDEPLOY_FAILURE),
        [LcmState.BOOT] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.BOOT_FAILURE),
        [LcmState.BOOT_STOPPED] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.BOOT_STOPPED_FAILURE),
        [LcmState.BOOT_UNDEPLOY] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.BOOT_UNDEPLOY_FAILURE),
        [LcmState.BOOT_MIGRATE] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.BOOT_MIGRATE_FAILURE),
        [LcmState.BOOT_POWEROFF] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.BOOT_SUSPENDED] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.SUSPENDED, LcmState.LCM_INIT),
        [LcmState.BOOT_UNKNOWN] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.UNKNOWN),
        [LcmState.SHUTDOWN] = new(VmState.ACTIVE, LcmState.EPILOG, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.SHUTDOWN_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.SHUTDOWN_UNDEPLOY] = new(VmState.ACTIVE, LcmState.EPILOG_UNDEPLOY, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.SAVE_STOP] = new(VmState.ACTIVE, LcmState.EPILOG_STOP, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.SAVE_SUSPEND] = new(VmState.SUSPENDED, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.SAVE_MIGRATE] = new(VmState.ACTIVE, LcmState.PROLOG_MIGRATE, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.PROLOG_MIGRATE] = new(VmState.ACTIVE, LcmState.BOOT, VmState.ACTIVE, LcmState.PROLOG_MIGRATE_FAILURE),
        [LcmState.PROLOG_MIGRATE_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.PROLOG_MIGRATE_POWEROFF_FAILURE),
        [LcmState.PROLOG_MIGRATE_SUSPEND] = new(VmState.SUSPENDED, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.PROLOG_MIGRATE_SUSPEND_FAILURE),
        [LcmState.MIGRATE] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.EPILOG] = new(VmState.DONE, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.EPILOG_FAILURE),
        [LcmState.EPILOG_STOP] = new(VmState.STOPPED, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.EPILOG_STOP_FAILURE),
        [LcmState.EPILOG_UNDEPLOY] = new(VmState.UNDEPLOYED, LcmState.LCM_INIT, VmState.ACTIVE, LcmState.EPILOG_UNDEPLOY_FAILURE),
        [LcmState.HOTPLUG] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.HOTPLUG_NIC] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.HOTPLUG_SNAPSHOT] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.HOTPLUG_RESIZE] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.HOTPLUG_PROLOG_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.HOTPLUG_EPILOG_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.HOTPLUG_NIC_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        // Disk snapshots, disk resize, disk save-as and backups (VmDiskActions): back where they started, either way.
        [LcmState.DISK_SNAPSHOT] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.DISK_SNAPSHOT_DELETE] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.DISK_SNAPSHOT_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.DISK_SNAPSHOT_REVERT_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.DISK_SNAPSHOT_DELETE_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.DISK_SNAPSHOT_SUSPENDED] = new(VmState.SUSPENDED, LcmState.LCM_INIT, VmState.SUSPENDED, LcmState.LCM_INIT),
        [LcmState.DISK_SNAPSHOT_DELETE_SUSPENDED] = new(VmState.SUSPENDED, LcmState.LCM_INIT, VmState.SUSPENDED, LcmState.LCM_INIT),
        [LcmState.DISK_RESIZE] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.DISK_RESIZE_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.HOTPLUG_SAVEAS] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.HOTPLUG_SAVEAS_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
        [LcmState.HOTPLUG_SAVEAS_SUSPENDED] = new(VmState.SUSPENDED, LcmState.LCM_INIT, VmState.SUSPENDED, LcmState.LCM_INIT),
        [LcmState.BACKUP] = new(VmState.ACTIVE, LcmState.RUNNING, VmState.ACTIVE, LcmState.RUNNING),
        [LcmState.BACKUP_POWEROFF] = new(VmState.POWEROFF, LcmState.LCM_INIT, VmState.POWEROFF, LcmState.LCM_INIT),
    };

    /// <summary>Each failure state and the transient state a retry runs again.</summary>
    private static readonly Dictionary<LcmState, LcmState> Retries = new()
    {
        [LcmState.PROLOG_FAILURE] = LcmState.PROLOG,
        [LcmState.PROLOG_RESUME_FAILURE] = LcmState.PROLOG_RESUME,
        [LcmState.PROLOG_UNDEPLOY_FAILURE] = LcmState.PROLOG_UNDEPLOY,
        [LcmState.PROLOG_MIGRATE_FAILURE] = LcmState.PROLOG_MIGRATE,
        [LcmState.PROLOG_MIGRATE_POWEROFF_FAILURE] = LcmState.PROLOG_MIGRATE_POWEROFF,
        [LcmState.PROLOG_MIGRATE_SUSPEND_FAILURE] = LcmState.PROLOG_MIGRATE_SUSPEND,
        [LcmState.BOOT_FAILURE] = LcmState.BOOT,
        [LcmState.BOOT_MIGRATE_FAILURE] = LcmState.BOOT_MIGRATE,
        [LcmState.BOOT_STOPPED_FAILURE] = LcmState.BOOT_STOPPED,
        [LcmState.BOOT_UNDEPLOY_FAILURE] = LcmState.BOOT_UNDEPLOY,
        [LcmState.EPILOG_FAILURE] = LcmState.EPILOG,
        [LcmState.EPILOG_STOP_FAILURE] = LcmState.EPILOG_STOP,
        [LcmState.EPILOG_UNDEPLOY_FAILURE] = LcmState.EPILOG_UNDEPLOY,
    };

    /// <summary>The driver action a transient state runs when entered without a more specific one.</summary>
    public static DriverOp? DefaultOp(LcmState s) => s switch
    {
        LcmState.PROLOG or LcmState.PROLOG_RESUME or LcmState.PROLOG_UNDEPLOY => DriverOp.Prolog,
        LcmState.BOOT or LcmState.BOOT_UNDEPLOY or LcmState.BOOT_POWEROFF or LcmState.BOOT_UNKNOWN => DriverOp.Deploy,
        LcmState.BOOT_STOPPED or LcmState.BOOT_SUSPENDED or LcmState.BOOT_MIGRATE => DriverOp.Restore,
        LcmState.SHUTDOWN or LcmState.SHUTDOWN_POWEROFF or LcmState.SHUTDOWN_UNDEPLOY => DriverOp.Shutdown,
        LcmState.SAVE_STOP or LcmState.SAVE_SUSPEND or LcmState.SAVE_MIGRATE => DriverOp.Save,
        LcmState.PROLOG_MIGRATE or LcmState.PROLOG_MIGRATE_POWEROFF or LcmState.PROLOG_MIGRATE_SUSPEND => DriverOp.PrologMigrate,
        LcmState.MIGRATE => DriverOp.MigrateLive,
        LcmState.EPILOG or LcmState.EPILOG_STOP or LcmState.EPILOG_UNDEPLOY => DriverOp.Epilog,
        _ => null,
    };

    /// <summary>Argument of the clean-up sent to the host a VM left: its files go, the hypervisor is not touched (the VM was saved there).</summary>
    public const string EpilogMigrated = "migrated";

    /// <summary>
    /// Argument of the clean-up sent to a host that failed and came back with a VM that was recreated elsewhere:
    /// its stale copy goes, and its persistent disks are not written back (the VM's disks live on elsewhere).
    /// </summary>
    public const string EpilogFenced = "fenced";

    public static bool IsFailure(LcmState s) => Retries.ContainsKey(s);

    /// <summary>Sends a driver action that moves no state (its result is not applied), e.g. a backup cancel, after the commit.</summary>
    public void Send(StateTransaction tx, DriverRequest request) => tx.AfterCommit(() => drivers.Enqueue(request));

    public static bool IsTransient(LcmState s) => Edges.ContainsKey(s);

    // ------------------------------------------------------------------ entering states

    /// <summary>Moves the VM to (state, lcm), runs the state's bookkeeping, and queues its driver action.</summary>
    public Vm Enter(StateTransaction tx, Vm vm, VmState state, LcmState lcm, DriverOp? op = null, string argument = "")
    {
        var before = vm;
        vm = vm with { PrevState = vm.State, PrevLcmState = vm.LcmState, State = state, LcmState = state == VmState.ACTIVE ? lcm : LcmState.LCM_INIT };
        vm = Bookkeeping(tx, before, vm);
        op ??= state == VmState.ACTIVE ? DefaultOp(lcm) : null;
        if (op is { } o && vm.LastHistory is { } h)
        {
            vm = vm with { DriverActions = vm.DriverActions + 1, DriverOp = o, DriverArgument = argument };
            var request = new DriverRequest(vm.Id, o, h.Hid, h.Seq, argument, vm.DriverActions);
            tx.AfterCommit(() => drivers.Enqueue(request));
        }
        tx.Put(vm);
        return vm;
    }

    private Vm Bookkeeping(StateTransaction tx, Vm before, Vm vm)
    {
        var now = tx.Now;
        // RUNNING_* quotas follow the VM in and out of ACTIVE.
        var wasRunning = VmAttributes.CountsAsRunning(before.State);
        var isRunning = VmAttributes.CountsAsRunning(vm.State);
        if (wasRunning != isRunning) ChargeOwner(tx, vm, VmAttributes.RunningQuotaDelta(vm, isRunning ? 1 : -1), check: false);

        if (vm.LastHistory is { } h)
        {
            var nh = h;
            if (before.LcmState is LcmState.PROLOG or LcmState.PROLOG_RESUME or LcmState.PROLOG_UNDEPLOY or LcmState.PROLOG_MIGRATE && vm.LcmState != before.LcmState && nh.Petime == 0)
                nh = nh with { Petime = now };
            if (vm.LcmState is LcmState.BOOT or LcmState.BOOT_STOPPED or LcmState.BOOT_UNDEPLOY or LcmState.BOOT_MIGRATE && nh.Rstime == 0)
                nh = nh with { Rstime = now };
            if (vm.LcmState is LcmState.EPILOG or LcmState.EPILOG_STOP or LcmState.EPILOG_UNDEPLOY && nh.Estime == 0)
                nh = nh with { Estime = now, Retime = nh.Retime == 0 ? now : nh.Retime };
            if (before.LcmState is LcmState.EPILOG or LcmState.EPILOG_STOP or LcmState.EPILOG_UNDEPLOY && vm.LcmState != before.LcmState && vm.State != VmState.ACTIVE)
                nh = nh with { Eetime = now };
            if (!ReferenceEquals(nh, h)) vm = vm with { History = vm.History.SetItem(vm.History.Count - 1, nh) };
        }

        // Leaving the host: DONE, STOPPED, UNDEPLOYED release its capacity and close the history record.
        if (vm.State is VmState.DONE or VmState.STOPPED or VmState.UNDEPLOYED && before.State != vm.State)
        {
            if (vm.LastHistory is { } last && last.Etime == 0)
            {
                ReleaseHost(tx, vm, last.Hid);
                vm = vm with { History = vm.History.SetItem(vm.History.Count - 1, last with { Etime = now, Eetime = last.Eetime == 0 ? now : last.Eetime }) };
            }
        }
        if (vm.State == VmState.DONE && before.State != VmState.DONE)
        {
            vm = vm with { Etime = now };
            ReleaseResources(tx, vm);
        }
        // A successful boot does not clear USER_TEMPLATE/ERROR: OpenNebula keeps the last error until the user removes it.
        return vm;
    }

    /// <summary>Takes VM, image and network quotas back and frees images and leases (VM is DONE).</summary>
    private void ReleaseResources(StateTransaction tx, Vm vm)
    {
        ChargeOwner(tx, vm, VmAttributes.VmQuotaDelta(vm, -1), check: false);
        VmDiskActions.KeepSnapshotsOnImages(tx, vm);
        foreach (var d in vm.Template.Vectors("DISK"))
            if (d.GetInt("IMAGE_ID") is int imageId)
                Images.Release(tx, imageId, vm.Id);
        foreach (var n in vm.Template.Vectors("NIC").Concat(vm.Template.Vectors("NIC_ALIAS")))
            Leases.Release(tx, n, vm.Id);
        ChargeLeases(tx, vm, -1);
        if (vm.Template.Vector("VMGROUP")?.GetInt("VMGROUP_ID") is int gid && tx.Get<VmGroup>(ObjectType.VmGroup, gid) is { } g)
            tx.Put(g with { Roles = g.Roles.Select(r => r with { Vms = r.Vms.Remove(vm.Id) }).ToImmutableList() });
    }

    internal void ChargeLeases(StateTransaction tx, Vm vm, int sign)
    {
        foreach (var n in vm.Template.Vectors("NIC").Concat(vm.Template.Vectors("NIC_ALIAS")))
            if (n.GetInt("NETWORK_ID") is int net)
                ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net, sign, q.Who, check: false));
    }

    public void ChargeOwner(StateTransaction tx, Vm vm, IReadOnlyDictionary<string, double> delta, bool check) =>
        ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddVm(q.Quotas, q.Defaults, delta, q.Who, check));

    /// <summary>
    /// Applies a quota change to the owner user and group. Resources owned by oneadmin or the oneadmin
    /// group are not subject to quotas (as in oned), so they are neither checked nor counted.
    /// </summary>
    internal void ChargeOwnerQuota(StateTransaction tx, int uid, int gid, Func<(QuotaSet Quotas, QuotaSet Defaults, string Who), QuotaSet> change)
    {
        if (uid == 0 || gid == 0) return;
        var defaults = tx.Get<QuotaDefaults>(ObjectType.QuotaDefaults, QuotaDefaults.SingletonId);
        if (tx.Get<User>(ObjectType.User, uid) is { } u)
            tx.Put(u with { Quotas = change((u.Quotas, defaults?.User ?? settings.DefaultUserQuotas, $"User [{uid}]")) });
        if (tx.Get<Group>(ObjectType.Group, gid) is { } g)
            tx.Put(g with { Quotas = change((g.Quotas, defaults?.Group ?? settings.DefaultGroupQuotas, $"Group [{gid}]")) });
    }

    // ------------------------------------------------------------------ host capacity

    public static (long Cpu, long Mem, long Disk) Footprint(Vm vm) =>
        ((long)Math.Round(VmAttributes.Cpu(vm.Template) * 100), VmAttributes.MemoryMb(vm.Template) * 1024, VmAttributes.SystemDiskMb(vm.Template));

    public static void AddToHost(StateTransaction tx, Vm vm, int hostId)
    {
        if (tx.Get<Host>(ObjectType.Host, hostId) is not { } h || h.Vms.Contains(vm.Id)) return;
        var (cpu, mem, disk) = Footprint(vm);
        tx.Put(h with
        {
            Vms = h.Vms.Add(vm.Id),
            Share = h.Share with
            {
                CpuUsage = h.Share.CpuUsage + cpu, MemUsage = h.Share.MemUsage + mem, DiskUsage = h.Share.DiskUsage + disk,
                RunningVms = h.Share.RunningVms + 1,
            },
        });
    }

    public static void ReleaseHost(StateTransaction tx, Vm vm, int hostId)
    {
        if (tx.Get<Host>(ObjectType.Host, hostId) is not { } h || !h.Vms.Contains(vm.Id)) return;
        var (cpu, mem, disk) = Footprint(vm);
        tx.Put(h with
        {
            Vms = h.Vms.Remove(vm.Id),
            Share = h.Share with
            {
                CpuUsage = Math.Max(0, h.Share.CpuUsage - cpu), MemUsage = Math.Max(0, h.Share.MemUsage - mem),
                DiskUsage = Math.Max(0, h.Share.DiskUsage - disk), RunningVms = Math.Max(0, h.Share.RunningVms - 1),
            },
        });
    }

    /// <summary>Starts a new placement: a history record on (host, system datastore), capacity taken on the host.</summary>
    public static Vm AddHistory(StateTransaction tx, Vm vm, Host host, Datastore? systemDs, VmAction action, int uid, int gid)
    {
        var h = new HistoryRecord
        {
            Oid = vm.Id, Seq = vm.History.Count, Hostname = host.Name, Hid = host.Id, Cid = host.ClusterId,
            Stime = tx.Now, VmMad = host.VmMad, TmMad = systemDs?.TmMad ?? "dummy", DsId = systemDs?.Id ?? -1,
            Pstime = tx.Now, Action = (int)action, Uid = uid, Gid = gid,
        };
        var t = vm.Template;
        if (systemDs is not null && t.Get("TM_MAD_SYSTEM") != systemDs.TmMad)
        {
            t = t.Clone();
            t.Set("TM_MAD_SYSTEM", systemDs.TmMad);
        }
        AddToHost(tx, vm, host.Id);
        return vm with { History = vm.History.Add(h), Template = t };
    }

    /// <summary>Closes the last record with the action that ended it.</summary>
    public static Vm CloseHistory(StateTransaction tx, Vm vm, VmAction action)
    {
        if (vm.LastHistory is not { } h) return vm;
        return vm with { History = vm.History.SetItem(vm.History.Count - 1, h with { Action = (int)action, Etime = h.Etime == 0 ? tx.Now : h.Etime }) };
    }

    // ------------------------------------------------------------------ driver results

    /// <summary>
    /// A driver finished an action. Stale replies (the VM moved on, or belongs to another history
    /// record) are ignored, so a late or repeated reply never moves a VM twice.
    /// </summary>
    public void OnDriverResult(StateTransaction tx, DriverRequest request, DriverReply reply)
    {
        if (tx.Get<Vm>(ObjectType.Vm, request.VmId) is not { } vm) return;
        if (vm.LastHistory is not { } h || h.Seq != request.Seq) return;
        var lcm = vm.State == VmState.ACTIVE ? vm.LcmState : LcmState.LCM_INIT;
        if (vm.State == VmState.POWEROFF || vm.State == VmState.SUSPENDED) return;
        if (!Edges.TryGetValue(lcm, out var edge)) return;
        if (!Expected(lcm, request.Op)) return;

        if (reply.DeployId.Length > 0 && vm.DeployId != reply.DeployId) vm = vm with { DeployId = reply.DeployId };
        if (reply.Success)
        {
            vm = ApplySuccessEffects(tx, vm, request);
            vm = VmDiskActions.OnSuccess(tx, this, vm, request, reply);
            // A cold migration (save → prolog on the new host) boots from the saved memory, as OpenNebula's restore.
            var restore = lcm == LcmState.PROLOG_MIGRATE && edge.OkLcm == LcmState.BOOT ? DriverOp.Restore : (DriverOp?)null;
            Enter(tx, vm, edge.OkState, edge.OkLcm, restore);
        }
        else
        {
            vm = WithError(vm, tx.Now, $"Error executing {request.Op}: {reply.Message}");
            vm = ApplyFailureEffects(tx, vm, request, lcm);
            vm = VmDiskActions.OnFailure(tx, this, vm, request, reply);
            Enter(tx, vm, edge.FailState, edge.FailLcm);
        }
    }

    private static bool Expected(LcmState lcm, DriverOp op) => lcm switch
    {
        LcmState.SHUTDOWN or LcmState.SHUTDOWN_POWEROFF or LcmState.SHUTDOWN_UNDEPLOY => op is DriverOp.Shutdown or DriverOp.Cancel,
        LcmState.HOTPLUG or LcmState.HOTPLUG_PROLOG_POWEROFF or LcmState.HOTPLUG_EPILOG_POWEROFF => op is DriverOp.AttachDisk or DriverOp.DetachDisk,
        LcmState.HOTPLUG_NIC or LcmState.HOTPLUG_NIC_POWEROFF => op is DriverOp.AttachNic or DriverOp.DetachNic,
        LcmState.HOTPLUG_SNAPSHOT => op is DriverOp.SnapshotCreate or DriverOp.SnapshotRevert or DriverOp.SnapshotDelete,
        LcmState.HOTPLUG_RESIZE => op == DriverOp.Resize,
        _ when VmDiskActions.Op(lcm) is { } diskOp => diskOp(op),
        LcmState.BOOT => op is DriverOp.Deploy or DriverOp.Restore,
        _ => DefaultOp(lcm) == op,
    };

    public static Vm WithError(Vm vm, long now, string message)
    {
        var ut = vm.UserTemplate.Clone();
        var when = DateTimeOffset.FromUnixTimeSeconds(now).UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
        ut.Set("ERROR", $"{when}: {message}");
        return vm with { UserTemplate = ut };
    }

    private Vm ApplySuccessEffects(StateTransaction tx, Vm vm, DriverRequest request)
    {
        switch (request.Op)
        {
            case DriverOp.MigrateLive:
            case DriverOp.PrologMigrate:
                // The VM now lives on the new host: the previous record's host gives its capacity back,
                // and (cold migration) forgets the VM's files, which the new host has pulled.
                if (vm.History.Count >= 2)
                {
                    var prev = vm.History[^2];
                    ReleaseHost(tx, vm, prev.Hid);
                    // OpenNebula closes the old host's record when a live migration succeeds (ETIME, RETIME).
                    if (request.Op == DriverOp.MigrateLive && prev.Etime == 0)
                        vm = vm with { History = vm.History.SetItem(vm.History.Count - 2, prev with { Etime = tx.Now, Retime = prev.Retime == 0 ? tx.Now : prev.Retime }) };
                    if (request.Op == DriverOp.PrologMigrate && prev.Hid != vm.HostId)
                    {
                        var cleanup = new DriverRequest(vm.Id, DriverOp.Epilog, prev.Hid, -1, EpilogMigrated, vm.DriverActions);
                        tx.AfterCommit(() => drivers.Enqueue(cleanup));
                    }
                }
                break;
            case DriverOp.DetachDisk:
                vm = VmDevices.RemoveDisk(tx, vm, int.Parse(request.Argument, CultureInfo.InvariantCulture));
                break;
            case DriverOp.DetachNic:
                vm = VmDevices.RemoveNic(tx, this, vm, int.Parse(request.Argument, CultureInfo.InvariantCulture));
                break;
            case DriverOp.AttachDisk:
            case DriverOp.AttachNic:
                vm = VmDevices.ClearAttachFlag(vm);
                break;
            case DriverOp.SnapshotCreate:
                vm = vm with { Snapshots = vm.Snapshots.Select(s => s with { Active = false }).ToImmutableList() };
                break;
            case DriverOp.SnapshotDelete:
                var sid = int.Parse(request.Argument, CultureInfo.InvariantCulture);
                vm = vm with { Snapshots = vm.Snapshots.RemoveAll(s => s.SnapshotId == sid) };
                break;
            case DriverOp.SnapshotRevert:
                var rid = int.Parse(request.Argument, CultureInfo.InvariantCulture);
                vm = vm with { Snapshots = vm.Snapshots.Select(s => s with { Active = s.SnapshotId == rid }).ToImmutableList() };
                break;
        }
        return vm;
    }

    private Vm ApplyFailureEffects(StateTransaction tx, Vm vm, DriverRequest request, LcmState lcm)
    {
        switch (request.Op)
        {
            case DriverOp.MigrateLive:
            case DriverOp.Save when lcm == LcmState.SAVE_MIGRATE:
                // The migration did not happen: drop the new record, the VM stays where it was.
                if (vm.History.Count >= 2)
                {
                    ReleaseHost(tx, vm, vm.History[^1].Hid);
                    vm = vm with { History = vm.History.RemoveAt(vm.History.Count - 1) };
                }
                break;
            case DriverOp.AttachDisk:
                vm = VmDevices.RemoveDisk(tx, vm, VmDevices.AttachingDiskId(vm));
                break;
            case DriverOp.AttachNic:
                vm = VmDevices.RemoveNic(tx, this, vm, VmDevices.AttachingNicId(vm));
                break;
            case DriverOp.SnapshotCreate:
                var sid = int.Parse(request.Argument, CultureInfo.InvariantCulture);
                vm = vm with { Snapshots = vm.Snapshots.RemoveAll(s => s.SnapshotId == sid) };
                break;
            case DriverOp.Resize:
                vm = VmDevices.RevertResize(tx, this, vm, request.Argument);
                break;
        }
        return vm;
    }

    // ------------------------------------------------------------------ recover

    /// <summary>one.vm.recover: 0 failure, 1 success, 2 retry, 3 delete, 4 delete-recreate, 5 delete-db.</summary>
    public void Recover(StateTransaction tx, Vm vm, int operation, int uid, int gid)
    {
        var lcm = vm.State == VmState.ACTIVE ? vm.LcmState : LcmState.LCM_INIT;
        switch (operation)
        {
            case 0 or 1:
            {
                var transient = Retries.TryGetValue(lcm, out var t) ? t : lcm;
                if (!Edges.TryGetValue(transient, out var edge) || vm.State != VmState.ACTIVE)
                    throw NotAvailable("recover", vm);
                if (operation == 1)
                {
                    var op = DefaultOp(transient) ?? DriverOp.Deploy;
                    var seq = vm.LastHistory?.Seq ?? 0;
                    vm = ApplySuccessEffects(tx, vm, new DriverRequest(vm.Id, op, vm.HostId, seq, "0"));
                    Enter(tx, vm, edge.OkState, edge.OkLcm);
                }
                else if (IsFailure(lcm)) throw CloudException.Action("The VM is already in a failure state.", vm.Id);
                else Enter(tx, vm, edge.FailState, edge.FailLcm);
                break;
            }
            case 2:
                if (!Retries.TryGetValue(lcm, out var again) || vm.State != VmState.ACTIVE) throw NotAvailable("recover --retry", vm);
                Enter(tx, vm, VmState.ACTIVE, again);
                break;
            case 3 or 5:
                if (vm.State == VmState.DONE) throw NotAvailable("recover --delete", vm);
                if (vm.State == VmState.ACTIVE && vm.LcmState is not (LcmState.RUNNING or LcmState.UNKNOWN) && !IsFailure(vm.LcmState) && !IsTransient(vm.LcmState))
                    throw NotAvailable("recover --delete", vm);
                if (vm.LastHistory is { Etime: 0 } open) ReleaseHost(tx, vm, open.Hid); // CloseHistory sets ETIME, which Bookkeeping reads as "already off the host"
                vm = CloseHistory(tx, vm, VmAction.Delete);
                if (operation == 3 && vm.LastHistory is { } h && vm.State == VmState.ACTIVE)
                {
                    // Tell the driver to clean up the host; the VM is DONE whatever it answers.
                    var req = new DriverRequest(vm.Id, DriverOp.Cancel, h.Hid, -1);
                    tx.AfterCommit(() => drivers.Enqueue(req));
                }
                Enter(tx, vm, VmState.DONE, LcmState.LCM_INIT);
                break;
            case 4:
                if (vm.State is VmState.DONE or VmState.PENDING or VmState.HOLD) throw NotAvailable("recover --recreate", vm);
                vm = CloseHistory(tx, vm, VmAction.DeleteRecreate);
                if (vm.LastHistory is { } last) ReleaseHost(tx, vm, last.Hid);
                Enter(tx, vm with { DeployId = "" }, VmState.PENDING, LcmState.LCM_INIT);
                break;
            default:
                throw CloudException.Api($"Invalid recover operation {operation}: 0 failure, 1 success, 2 retry, 3 delete, 4 delete-recreate, 5 delete-db", vm.Id);
        }
    }

    public static CloudException NotAvailable(string action, Vm vm) =>
        CloudException.Action($"Error performing action \"{action}\": This action is not available for state {StateName(vm)}", vm.Id);

    public static string StateName(Vm vm) => vm.State == VmState.ACTIVE ? vm.LcmState.ToString() : vm.State.ToString();

    internal ImageLedger Images { get; } = new();

    internal LeaseLedger Leases { get; } = new();
}

