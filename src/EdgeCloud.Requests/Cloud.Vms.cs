using System.Globalization;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    private VmLifeCycle? _lifeCycle;

    /// <summary>The VM state machine (shared with the driver result path and the scheduler's dispatch).</summary>
    public VmLifeCycle LifeCycle => _lifeCycle ??= new VmLifeCycle(drivers, settings);

    // ------------------------------------------------------------------ allocation

    /// <summary>one.vm.allocate: a VM from a full template; hold=true leaves it in HOLD.</summary>
    public Task<int> VmAllocateAsync(Caller caller, string text, bool hold, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        return ExecuteLeasingAsync(tx =>
        {
            DemandCreate(tx, caller, ObjectType.Vm);
            return CreateVm(tx, caller, t.Clone(), hold, templateId: -1, name: null);
        }, msg => CloudException.Allocate(ObjectType.Vm, msg), ct);
    }

    /// <summary>
    /// Builds, checks and stores a new VM inside a command. Everything it takes (quota, images, leases)
    /// is taken here. A resource that cannot be taken fails the allocation (ALLOCATE, as oned); quota
    /// and permission refusals keep their AUTHORIZATION code.
    /// </summary>
    private int CreateVm(StateTransaction tx, Caller caller, Template submitted, bool hold, int templateId, string? name)
    {
        try
        {
            return BuildVm(tx, caller, submitted, hold, templateId, name);
        }
        catch (CloudException ex) when (ex.Code == ErrorCode.Action)
        {
            throw CloudException.Allocate(ObjectType.Vm, ex.Message);
        }
    }

    private int BuildVm(StateTransaction tx, Caller caller, Template submitted, bool hold, int templateId, string? name)
    {
        ValidateVmTemplate(submitted);
        var id = tx.NextId(ObjectType.Vm);
        name ??= submitted.Get("NAME") is { Length: > 0 } given ? given : $"one-{id}";
        if (name.Contains("%i", StringComparison.Ordinal)) name = name.Replace("%i", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        submitted.Remove("NAME");
        if (submitted.Get("VCPU") is null) submitted.Set("VCPU", "1");
        var (sys, user) = VmAttributes.Split(submitted);
        sys.Set("VMID", id);
        if (templateId >= 0) sys.Set("TEMPLATE_ID", templateId);
        if (submitted.Get("SUBMIT_ON_HOLD") is { } soh && soh.Equals("YES", StringComparison.OrdinalIgnoreCase)) hold = true;

        var vm = Stamp(new Vm { Id = id, Name = name, Template = sys, UserTemplate = user, Stime = tx.Now, State = hold ? VmState.HOLD : VmState.PENDING }, tx, caller);

        // Disks: images are taken now (state USED, running VM count), volatile disks get ids.
        var t = vm.Template.Clone();
        var disks = t.Vectors("DISK").ToList();
        var clusters = new HashSet<int>();
        var restricted = false;
        foreach (var d in disks) t.Remove(d);
        var diskId = 0;
        foreach (var d in disks)
        {
            var disk = d.CloneVector();
            disk.Set("DISK_ID", diskId++);
            var image = ResolveImage(tx, caller, disk);
            if (image is not null)
            {
                disk = LifeCycle.Images.Acquire(tx, image, vm, disk);
                LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddImage(q.Quotas, q.Defaults, image.Id, 1, q.Who, check: true));
                vm = WithImageSnapshots(vm, image, diskId - 1);
                if (tx.Get<Datastore>(ObjectType.Datastore, image.DatastoreId) is { } ds) { restricted = true; clusters.UnionWith(ds.Clusters); }
            }
            else
            {
                if (disk["TYPE"] is null) throw CloudException.Allocate(ObjectType.Vm, $"DISK {disk["DISK_ID"]} has no IMAGE, IMAGE_ID or TYPE (fs, swap) attribute.");
                if (disk.GetInt("SIZE") is not > 0) throw CloudException.Allocate(ObjectType.Vm, $"Volatile DISK {disk["DISK_ID"]} needs a positive SIZE (MiB).");
                disk.Set("TYPE", disk["TYPE"]!.ToLowerInvariant());
                disk.Set("FORMAT", disk["FORMAT"] ?? "raw");
                disk.Set("DEV_PREFIX", disk["DEV_PREFIX"] ?? "vd");
            }
            t.Add(disk);
        }
        // Targets after every disk is in, so a disk that asks for one keeps it whatever its position.
        var allDisks = t.Vectors("DISK").ToList();
        foreach (var d in allDisks.Where(d => d["TARGET"] is { Length: > 0 })) VmDevices.AssignDiskTarget(allDisks.TakeWhile(o => !ReferenceEquals(o, d)), d, m => CloudException.Allocate(ObjectType.Vm, m));
        foreach (var d in allDisks.Where(d => d["TARGET"] is not { Length: > 0 })) VmDevices.AssignDiskTarget(allDisks, d, m => CloudException.Allocate(ObjectType.Vm, m));

        // NICs: a lease from the network, charged to the owner's network quota; then the NIC_ALIASes
        // (addresses on a parent NIC, named by PARENT = its NAME). NETWORK_MODE = auto NICs get their
        // network when the VM is placed (Cloud.AutoNics).
        var nics = t.Vectors("NIC").ToList();
        var aliases = t.Vectors("NIC_ALIAS").ToList();
        foreach (var n in nics) t.Remove(n);
        foreach (var a in aliases) t.Remove(a);
        var nicId = 0;
        var placed = new List<VectorAttribute>();
        foreach (var n in nics)
        {
            if (VmNics.IsAuto(n))
            {
                var auto = VmNics.AutoNic(n, nicId++);
                var reachable = AutoNicClusters(tx, caller, auto);
                clusters = restricted ? [.. clusters.Intersect(reachable)] : reachable;
                restricted = true;
                placed.Add(auto);
                continue;
            }
            var net = ResolveNet(tx, caller, n);
            var nic = LifeCycle.Leases.Acquire(tx, net, n, id, nicId++);
            VmNics.SetName(nic);
            LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net.Id, 1, q.Who, check: true));
            if (net.Clusters.Count > 0)
            {
                clusters = restricted ? [.. clusters.Intersect(net.Clusters)] : [.. net.Clusters];
                restricted = true;
            }
            placed.Add(nic);
        }
        foreach (var a in aliases)
        {
            if (VmNics.IsAuto(a)) throw CloudException.Allocate(ObjectType.Vm, "Alias is incompatible with auto mode.");
            var parent = VmNics.ParentOf(placed, a) ?? throw CloudException.Allocate(ObjectType.Vm, $"NIC named {a["PARENT"]} not found for alias.");
            if (VmNics.IsAuto(parent)) throw CloudException.Allocate(ObjectType.Vm, "Alias is incompatible with auto mode.");
            var net = ResolveNet(tx, caller, a);
            var alias = LifeCycle.Leases.Acquire(tx, net, VmNics.AliasRequest(a, parent, placed), id, nicId++);
            VmNics.LinkAlias(parent, alias);
            LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net.Id, 1, q.Who, check: true));
            if (net.Clusters.Count > 0)
            {
                clusters = restricted ? [.. clusters.Intersect(net.Clusters)] : [.. net.Clusters];
                restricted = true;
            }
            placed.Add(alias);
        }
        foreach (var n in placed) t.Add(n);
        if (restricted)
        {
            if (clusters.Count == 0) throw CloudException.Allocate(ObjectType.Vm, "Incompatible clusters in DISK and NIC: no cluster has all of the VM's images and networks.");
            t.Set("AUTOMATIC_REQUIREMENTS", "(" + string.Join(" | ", clusters.Order().Select(c => $"CLUSTER_ID = {c}")) + ")");
        }
        vm = vm with { Template = t };
        var cloning = t.Vectors("DISK").Any(d => d.GetInt("IMAGE_ID") is int img && tx.Get<Image>(ObjectType.Image, img)?.State == ImageState.LOCKED);
        if (cloning)
        {
            // Waits in CLONING for its image copies; SUBMIT_ON_HOLD says where it goes then (as oned).
            if (hold) vm.Template.Set("SUBMIT_ON_HOLD", "YES");
            vm = vm with { State = VmState.CLONING };
        }
        JoinVmGroup(tx, caller, vm);
        LifeCycle.ChargeOwner(tx, vm, VmAttributes.VmQuotaDelta(vm, 1), check: true);
        tx.Put(vm);
        if (vm.State == VmState.PENDING) tx.Raise(new VmPending(id));
        return id;
    }

    /// <summary>VMGROUP = [ VMGROUP_ID | VMGROUP_NAME, ROLE ]: the VM joins that role of the group.</summary>
    private void JoinVmGroup(StateTransaction tx, Caller caller, Vm vm)
    {
        if (vm.Template.Vector("VMGROUP") is not { } v) return;
        VmGroup? g = null;
        if (v.GetInt("VMGROUP_ID") is int gid) g = tx.Get<VmGroup>(ObjectType.VmGroup, gid);
        else if (v["VMGROUP_NAME"] is { } gname) g = tx.All<VmGroup>(ObjectType.VmGroup).FirstOrDefault(x => x.Name == gname);
        if (g is null) throw CloudException.Allocate(ObjectType.Vm, "The VM group in VMGROUP does not exist.");
        Authorizer.Demand(caller, g, AuthOp.Use, Acls(tx));
        var roleName = v["ROLE"] ?? throw CloudException.Allocate(ObjectType.Vm, "VMGROUP needs a ROLE.");
        var role = g.Roles.FirstOrDefault(r => r.Name == roleName) ?? throw CloudException.Allocate(ObjectType.Vm, $"VM group {g.Id} has no role \"{roleName}\".");
        tx.Put(g with { Roles = g.Roles.Replace(role, role with { Vms = role.Vms.Add(vm.Id) }) });
        var vv = v.CloneVector();
        vv.Set("VMGROUP_ID", g.Id);
        vm.Template.Set(vv);
    }

    private static void ValidateVmTemplate(Template t)
    {
        if (!t.TryGetLong("MEMORY", out var mem) || mem <= 0)
            throw CloudException.Allocate(ObjectType.Vm, "MEMORY attribute must be a positive integer value.");
        if (t.Get("CPU") is { } cpu && (!double.TryParse(cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out var c) || c <= 0))
            throw CloudException.Allocate(ObjectType.Vm, "CPU attribute must be a positive float or integer value.");
        if (t.Get("CPU") is null) t.Set("CPU", "1");
        if (t.Get("VCPU") is { } vcpu && (!int.TryParse(vcpu, CultureInfo.InvariantCulture, out var v) || v <= 0))
            throw CloudException.Allocate(ObjectType.Vm, "VCPU attribute must be a positive integer value.");
    }

    private Image? ResolveImage(StateTransaction tx, Caller caller, VectorAttribute disk)
    {
        Image? image = null;
        if (disk["IMAGE_ID"] is { } sid)
        {
            if (!int.TryParse(sid, CultureInfo.InvariantCulture, out var iid)) throw CloudException.Allocate(ObjectType.Vm, $"DISK IMAGE_ID \"{sid}\" is not a number.");
            image = tx.Get<Image>(ObjectType.Image, iid) ?? throw CloudException.Allocate(ObjectType.Vm, $"Error getting image [{iid}]: it does not exist.");
        }
        else if (disk["IMAGE"] is { } iname)
        {
            var owner = disk["IMAGE_UNAME"] is { } un ? tx.All<User>(ObjectType.User).FirstOrDefault(u => u.Name == un)?.Id ?? -2 : disk.GetInt("IMAGE_UID") ?? caller.Uid;
            image = tx.All<Image>(ObjectType.Image).FirstOrDefault(i => i.Name == iname && i.Uid == owner)
                    ?? throw CloudException.Allocate(ObjectType.Vm, $"Error getting image named \"{iname}\": it does not exist.");
        }
        if (image is not null) Authorizer.Demand(caller, image, AuthOp.Use, Acls(tx));
        return image;
    }

    private VNet ResolveNet(StateTransaction tx, Caller caller, VectorAttribute nic)
    {
        VNet? net = null;
        if (nic["NETWORK_ID"] is { } sid)
        {
            if (!int.TryParse(sid, CultureInfo.InvariantCulture, out var nid)) throw CloudException.Allocate(ObjectType.Vm, $"NIC NETWORK_ID \"{sid}\" is not a number.");
            net = tx.Get<VNet>(ObjectType.VNet, nid) ?? throw CloudException.Allocate(ObjectType.Vm, $"Error getting virtual network [{nid}]: it does not exist.");
        }
        else if (nic["NETWORK"] is { } nname)
        {
            var owner = nic["NETWORK_UNAME"] is { } un ? tx.All<User>(ObjectType.User).FirstOrDefault(u => u.Name == un)?.Id ?? -2 : nic.GetInt("NETWORK_UID") ?? caller.Uid;
            net = tx.All<VNet>(ObjectType.VNet).FirstOrDefault(n => n.Name == nname && n.Uid == owner)
                  ?? throw CloudException.Allocate(ObjectType.Vm, $"Error getting virtual network named \"{nname}\": it does not exist.");
        }
        if (net is null) throw CloudException.Allocate(ObjectType.Vm, "NIC needs NETWORK_ID or NETWORK.");
        Authorizer.Demand(caller, net, AuthOp.Use, Acls(tx));
        return net;
    }

    // ------------------------------------------------------------------ reads

    public IReadOnlyList<Vm> VmPool(Caller caller, int filter, int start, int end, int state, string search)
    {
        Func<Vm, bool> byState = state switch
        {
            -2 => _ => true,
            -1 => v => v.State != VmState.DONE,
            >= 0 and <= 11 => v => (int)v.State == state,
            _ => throw CloudException.Api($"Invalid VM state filter {state}"),
        };
        var terms = ParseSearch(search);
        return Pool<Vm>(caller, ObjectType.Vm, filter, start, end, v => byState(v) && (terms.Count == 0 || Matches(v, terms)));
    }

    /// <summary>The CLI's --search: "KEY=value&amp;KEY2=value2", matched against VM.NAME, VM.UNAME and template attributes.</summary>
    private static List<(string Key, string Value)> ParseSearch(string search)
    {
        var list = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(search)) return list;
        foreach (var part in search.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw CloudException.Api($"Invalid search term \"{part}\": expected KEY=value");
            list.Add((part[..eq].Trim(), part[(eq + 1)..].Trim()));
        }
        return list;
    }

    private static bool Matches(Vm vm, List<(string Key, string Value)> terms)
    {
        foreach (var (key, value) in terms)
        {
            var k = key.StartsWith("VM.", StringComparison.OrdinalIgnoreCase) ? key[3..] : key;
            var path = k.Split('.');
            string? actual = path[0].ToUpperInvariant() switch
            {
                "NAME" => vm.Name,
                "UNAME" => vm.Uname,
                "GNAME" => vm.Gname,
                "ID" => vm.Id.ToString(CultureInfo.InvariantCulture),
                "TEMPLATE" when path.Length > 1 => vm.Template.Get(path[1]) ?? vm.Template.Vectors(path[1]).FirstOrDefault()?.Get(path.Length > 2 ? path[2] : ""),
                "USER_TEMPLATE" when path.Length > 1 => vm.UserTemplate.Get(path[1]),
                _ => vm.UserTemplate.Get(path[0]) ?? vm.Template.Get(path[0]),
            };
            if (actual is null || !Wildcard(actual, value)) return false;
        }
        return true;
    }

    private static bool Wildcard(string actual, string pattern) =>
        pattern.Contains('%', StringComparison.Ordinal) || pattern.Contains('*', StringComparison.Ordinal)
            ? System.Text.RegularExpressions.Regex.IsMatch(actual, "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("%", ".*", StringComparison.Ordinal).Replace("\\*", ".*", StringComparison.Ordinal) + "$")
            : actual == pattern;

    // ------------------------------------------------------------------ actions

    public static readonly string[] VmActions =
    [
        "terminate", "terminate-hard", "undeploy", "undeploy-hard", "hold", "release", "stop", "suspend", "resume",
        "reboot", "reboot-hard", "resched", "unresched", "poweroff", "poweroff-hard",
    ];

    /// <summary>one.vm.action: the action strings of OpenNebula, each legal only in its states.</summary>
    public Task<int> VmActionAsync(Caller caller, string action, int id, CancellationToken ct = default)
    {
        if (!VmActions.Contains(action)) throw CloudException.Action($"Action \"{action}\" is not supported", id);
        // oned's default VM_ADMIN_OPERATIONS include resched; the other actions need MANAGE.
        var op = action is "resched" or "unresched" ? AuthOp.Admin : AuthOp.Manage;
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, op);
            DoAction(tx, caller, vm, action);
            return id;
        }, ct);
    }

    private void DoAction(StateTransaction tx, Caller caller, Vm vm, string action)
    {
        var lc = LifeCycle;
        var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
        var unknown = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.UNKNOWN;
        CloudException bad() => CloudException.Action($"Error performing action \"{action}\": This action is not available for state {VmLifeCycle.StateName(vm)}", vm.Id);
        Vm close(VmAction a) => VmLifeCycle.CloseHistory(tx, vm, a);
        switch (action)
        {
            case "terminate" or "terminate-hard":
            {
                var hard = action == "terminate-hard";
                var a = hard ? VmAction.TerminateHard : VmAction.Terminate;
                if (running || unknown)
                    lc.Enter(tx, MarkAction(vm, a), VmState.ACTIVE, LcmState.SHUTDOWN, hard || unknown ? DriverOp.Cancel : DriverOp.Shutdown);
                else if (vm.State is VmState.POWEROFF or VmState.SUSPENDED)
                    lc.Enter(tx, MarkAction(vm, a), VmState.ACTIVE, LcmState.EPILOG);
                else if (vm.State is VmState.PENDING or VmState.HOLD or VmState.STOPPED or VmState.UNDEPLOYED or VmState.CLONING or VmState.CLONING_FAILURE or VmState.INIT)
                    lc.Enter(tx, vm.History.Count > 0 ? close(a) : vm, VmState.DONE, LcmState.LCM_INIT);
                else if (hard && vm.State == VmState.ACTIVE && VmLifeCycle.IsFailure(vm.LcmState))
                    lc.Recover(tx, vm, 3, caller.Uid, caller.Gid);
                else throw bad();
                break;
            }
            case "undeploy" or "undeploy-hard":
            {
                var a = action == "undeploy" ? VmAction.Undeploy : VmAction.UndeployHard;
                if (running || unknown)
                    lc.Enter(tx, MarkAction(vm, a), VmState.ACTIVE, LcmState.SHUTDOWN_UNDEPLOY, action == "undeploy-hard" || unknown ? DriverOp.Cancel : DriverOp.Shutdown);
                else if (vm.State == VmState.POWEROFF)
                    lc.Enter(tx, MarkAction(vm, a), VmState.ACTIVE, LcmState.EPILOG_UNDEPLOY);
                else throw bad();
                break;
            }
            case "poweroff" or "poweroff-hard":
                if (!(running || unknown)) throw bad();
                lc.Enter(tx, MarkAction(vm, action == "poweroff" ? VmAction.Poweroff : VmAction.PoweroffHard), VmState.ACTIVE, LcmState.SHUTDOWN_POWEROFF,
                    action == "poweroff-hard" || unknown ? DriverOp.Cancel : DriverOp.Shutdown);
                break;
            case "hold":
                if (vm.State != VmState.PENDING) throw bad();
                lc.Enter(tx, vm, VmState.HOLD, LcmState.LCM_INIT);
                break;
            case "release":
                if (vm.State != VmState.HOLD) throw bad();
                lc.Enter(tx, vm, VmState.PENDING, LcmState.LCM_INIT);
                tx.Raise(new VmPending(vm.Id));
                break;
            case "stop":
                if (running) lc.Enter(tx, MarkAction(vm, VmAction.Stop), VmState.ACTIVE, LcmState.SAVE_STOP);
                else if (vm.State == VmState.SUSPENDED) lc.Enter(tx, MarkAction(vm, VmAction.Stop), VmState.ACTIVE, LcmState.EPILOG_STOP);
                else throw bad();
                break;
            case "suspend":
                if (!running) throw bad();
                lc.Enter(tx, MarkAction(vm, VmAction.Suspend), VmState.ACTIVE, LcmState.SAVE_SUSPEND);
                break;
            case "resume":
                switch (vm.State)
                {
                    case VmState.STOPPED or VmState.UNDEPLOYED:
                        lc.Enter(tx, vm, VmState.PENDING, LcmState.LCM_INIT);
                        tx.Raise(new VmPending(vm.Id));
                        break;
                    case VmState.SUSPENDED:
                        lc.Enter(tx, MarkAction(vm, VmAction.Resume), VmState.ACTIVE, LcmState.BOOT_SUSPENDED);
                        break;
                    case VmState.POWEROFF:
                        lc.Enter(tx, MarkAction(vm, VmAction.Resume), VmState.ACTIVE, LcmState.BOOT_POWEROFF);
                        break;
                    case VmState.ACTIVE when vm.LcmState == LcmState.UNKNOWN:
                        lc.Enter(tx, MarkAction(vm, VmAction.Resume), VmState.ACTIVE, LcmState.BOOT_UNKNOWN);
                        break;
                    default:
                        throw bad();
                }
                break;
            case "reboot" or "reboot-hard":
                if (unknown) { lc.Enter(tx, vm, VmState.ACTIVE, LcmState.BOOT_UNKNOWN); break; }
                if (!running) throw bad();
                var h = vm.LastHistory!;
                var rebooted = MarkAction(vm, action == "reboot" ? VmAction.Reboot : VmAction.RebootHard);
                var rebootOp = action == "reboot" ? DriverOp.Reboot : DriverOp.Reset;
                rebooted = rebooted with { DriverActions = rebooted.DriverActions + 1, DriverOp = rebootOp, DriverArgument = "" };
                var req = new DriverRequest(vm.Id, rebootOp, h.Hid, h.Seq, "", rebooted.DriverActions);
                tx.Put(rebooted);
                tx.AfterCommit(() => drivers.Enqueue(req));
                break;
            case "resched" or "unresched":
                if (!(running || unknown || vm.State == VmState.POWEROFF)) throw bad();
                tx.Put(vm with { Resched = action == "resched" ? 1 : 0 });
                if (action == "resched") tx.Raise(new VmPending(vm.Id));
                break;
        }
    }

    private static Vm MarkAction(Vm vm, VmAction action)
    {
        if (vm.LastHistory is not { } h) return vm;
        return vm with { History = vm.History.SetItem(vm.History.Count - 1, h with { Action = (int)action }) };
    }

    /// <summary>one.vm.deploy: places a PENDING/HOLD VM on a host (admin). enforce=true checks capacity.</summary>
    public Task<int> VmDeployAsync(Caller caller, int id, int hostId, bool enforce, int dsId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Admin);
            var host = Demand<Host>(tx, caller, ObjectType.Host, hostId, AuthOp.Manage, checkLock: false);
            if (vm.State is not (VmState.PENDING or VmState.HOLD or VmState.STOPPED or VmState.UNDEPLOYED))
                throw VmLifeCycle.NotAvailable("deploy", vm);
            Deploy(tx, vm, host, dsId, enforce, caller, VmAction.Deploy);
            return id;
        }, ct);

    /// <summary>Starts a VM on a host: history record, capacity, and the first transient state (shared with the scheduler).</summary>
    public void Deploy(StateTransaction tx, Vm vm, Host host, int dsId, bool enforce, Caller by, VmAction action)
    {
        if (host.State is HostState.DISABLED or HostState.OFFLINE or HostState.ERROR && enforce)
            throw CloudException.Action($"Host {host.Id} is {host.State} and cannot run VMs.", vm.Id);
        if (enforce) CheckCapacity(vm, host);
        // NETWORK_MODE = auto NICs lease from a network of the host's cluster (Cloud.AutoNics).
        vm = LeaseAutoNics(tx, vm, host)
             ?? throw CloudException.Action($"No virtual network of cluster {host.ClusterId} matches the VM's NETWORK_MODE = auto NICs with a free address.", vm.Id);
        var ds = PickSystemDatastore(tx, host, dsId, vm.Id);
        var from = vm.State;
        vm = VmLifeCycle.AddHistory(tx, vm with { Resched = 0 }, host, ds, action, by.Uid, by.Gid);
        var lcm = (from, vm.PrevState) switch
        {
            (VmState.STOPPED, _) or (_, VmState.STOPPED) => LcmState.PROLOG_RESUME,
            (VmState.UNDEPLOYED, _) or (_, VmState.UNDEPLOYED) => LcmState.PROLOG_UNDEPLOY,
            _ => LcmState.PROLOG,
        };
        LifeCycle.Enter(tx, vm, VmState.ACTIVE, lcm);
    }

    private static void CheckCapacity(Vm vm, Host host)
    {
        var (cpu, mem, _) = VmLifeCycle.Footprint(vm);
        var s = host.Share;
        if (s.CpuUsage + cpu > s.MaxCpu || s.MemUsage + mem > s.MaxMem)
            throw CloudException.Action(
                $"Host {host.Id} does not have enough capacity: needs CPU {cpu}, MEMORY {mem} KB; free CPU {s.MaxCpu - s.CpuUsage}, MEMORY {s.MaxMem - s.MemUsage} KB.", vm.Id);
    }

    private static Datastore? PickSystemDatastore(StateTransaction tx, Host host, int dsId, int vmId)
    {
        if (dsId >= 0)
        {
            var ds = tx.Get<Datastore>(ObjectType.Datastore, dsId) ?? throw CloudException.NotFound(ObjectType.Datastore, dsId);
            if (ds.DsType != DatastoreType.SYSTEM_DS) throw CloudException.Action($"Datastore {dsId} is not a system datastore.", vmId);
            if (!ds.Clusters.Contains(host.ClusterId)) throw CloudException.Action($"Datastore {dsId} is not in the cluster of host {host.Id}.", vmId);
            return ds;
        }
        var cluster = tx.Get<Cluster>(ObjectType.Cluster, host.ClusterId);
        return cluster?.Datastores.Select(id => tx.Get<Datastore>(ObjectType.Datastore, id))
            .FirstOrDefault(d => d is { DsType: DatastoreType.SYSTEM_DS, State: DatastoreState.READY });
    }

    /// <summary>one.vm.migrate: live (MIGRATE) or cold (SAVE_MIGRATE → PROLOG_MIGRATE → BOOT); from POWEROFF a cold move.</summary>
    public Task<int> VmMigrateAsync(Caller caller, int id, int hostId, bool live, bool enforce, int dsId, int type, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Admin);
            var host = Demand<Host>(tx, caller, ObjectType.Host, hostId, AuthOp.Manage, checkLock: false);
            if (type is < 0 or > 2) throw CloudException.Api($"Invalid migration type {type}: 0 save, 1 poweroff, 2 poweroff-hard", id);
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            if (!(running || vm.State is VmState.POWEROFF or VmState.SUSPENDED)) throw VmLifeCycle.NotAvailable("migrate", vm);
            if (vm.HostId == hostId) throw CloudException.Action($"VM {id} is already running on host {hostId}.", id);
            if (live && !running) throw CloudException.Action("Live migration needs a RUNNING VM.", id);
            if (enforce) CheckCapacity(vm, host);
            var ds = PickSystemDatastore(tx, host, dsId >= 0 ? dsId : vm.LastHistory?.DsId ?? -1, id);
            vm = MarkAction(vm, live ? VmAction.LiveMigrate : VmAction.Migrate);
            vm = VmLifeCycle.AddHistory(tx, vm, host, ds, live ? VmAction.LiveMigrate : VmAction.Migrate, caller.Uid, caller.Gid);
            if (live) LifeCycle.Enter(tx, vm, VmState.ACTIVE, LcmState.MIGRATE);
            else if (vm.State == VmState.POWEROFF) LifeCycle.Enter(tx, vm, VmState.ACTIVE, LcmState.PROLOG_MIGRATE_POWEROFF);
            else if (vm.State == VmState.SUSPENDED) LifeCycle.Enter(tx, vm, VmState.ACTIVE, LcmState.PROLOG_MIGRATE_SUSPEND);
            // Every cold migration type (save, poweroff, poweroff-hard) moves a RUNNING VM through its saved state.
            else LifeCycle.Enter(tx, vm, VmState.ACTIVE, LcmState.SAVE_MIGRATE);
            return id;
        }, ct);

    /// <summary>one.vm.resize: CPU/VCPU/MEMORY; offline states change at once, a RUNNING VM hot-resizes.</summary>
    public Task<int> VmResizeAsync(Caller caller, int id, string text, bool enforce, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var offline = vm.State is VmState.POWEROFF or VmState.UNDEPLOYED or VmState.PENDING or VmState.HOLD or VmState.CLONING or VmState.STOPPED;
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            if (!offline && !running) throw VmLifeCycle.NotAvailable("resize", vm);
            var nt = vm.Template.Clone();
            foreach (var key in new[] { "CPU", "VCPU", "MEMORY" })
                if (t.Get(key) is { } v) nt.Set(key, v);
            ValidateVmTemplate(nt);
            var resized = vm with { Template = nt };
            if (enforce && vm.LastHistory is { Etime: 0 } h && tx.Get<Host>(ObjectType.Host, h.Hid) is { } host)
            {
                var (c0, m0, _) = VmLifeCycle.Footprint(vm);
                var (c1, m1, _) = VmLifeCycle.Footprint(resized);
                if (host.Share.CpuUsage - c0 + c1 > host.Share.MaxCpu || host.Share.MemUsage - m0 + m1 > host.Share.MaxMem)
                    throw CloudException.Action($"Host {host.Id} does not have enough capacity for the new size.", id);
            }
            VmDevices.MoveCapacity(tx, LifeCycle, vm, resized);
            if (offline) { tx.Put(resized); return id; }
            LifeCycle.Enter(tx, resized, VmState.ACTIVE, LcmState.HOTPLUG_RESIZE, DriverOp.Resize, VmDevices.Previous(vm));
            return id;
        }, ct);
    }

    /// <summary>one.vm.attach: a disk from an image or a volatile disk; RUNNING → HOTPLUG, POWEROFF → HOTPLUG_PROLOG_POWEROFF.</summary>
    public Task<int> VmAttachDiskAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        var disk = t.Vector("DISK") ?? throw CloudException.Action("No DISK in the attach template.", id);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            if (!running && vm.State != VmState.POWEROFF) throw VmLifeCycle.NotAvailable("disk-attach", vm);
            var d = disk.CloneVector();
            var diskId = VmDevices.NextDiskId(vm.Template);
            d.Set("DISK_ID", diskId);
            d.Set("ATTACH", "YES");
            var image = ResolveImage(tx, caller, d);
            if (image is not null)
            {
                d = LifeCycle.Images.Acquire(tx, image, vm, d);
                LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddImage(q.Quotas, q.Defaults, image.Id, 1, q.Who, check: true));
            }
            else if (d["TYPE"] is null || d.GetInt("SIZE") is not > 0)
                throw CloudException.Action("The DISK needs IMAGE_ID/IMAGE, or TYPE and a positive SIZE.", id);
            VmDevices.AssignDiskTarget(vm.Template.Vectors("DISK"), d, m => CloudException.Action(m, id));
            var nt = vm.Template.Clone();
            nt.Add(d);
            var nvm = image is null ? vm with { Template = nt } : WithImageSnapshots(vm with { Template = nt }, image, diskId);
            LifeCycle.Enter(tx, MarkAction(nvm, VmAction.DiskAttach), VmState.ACTIVE, running ? LcmState.HOTPLUG : LcmState.HOTPLUG_PROLOG_POWEROFF, DriverOp.AttachDisk, diskId.ToString(CultureInfo.InvariantCulture));
            return id;
        }, ct);
    }

    public Task<int> VmDetachDiskAsync(Caller caller, int id, int diskId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            if (!running && vm.State != VmState.POWEROFF) throw VmLifeCycle.NotAvailable("disk-detach", vm);
            if (!vm.Template.Vectors("DISK").Any(d => d.GetInt("DISK_ID") == diskId))
                throw CloudException.Action($"VM {id} has no DISK with DISK_ID {diskId}.", id);
            LifeCycle.Enter(tx, MarkAction(vm, VmAction.DiskDetach), VmState.ACTIVE, running ? LcmState.HOTPLUG : LcmState.HOTPLUG_EPILOG_POWEROFF, DriverOp.DetachDisk, diskId.ToString(CultureInfo.InvariantCulture));
            return id;
        }, ct);

    public Task<int> VmAttachNicAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        // NIC = [...] attaches an interface; NIC_ALIAS = [ NETWORK = ..., PARENT = <NIC NAME> ] an address on one.
        var nic = t.Vector("NIC") ?? t.Vector("NIC_ALIAS") ?? throw CloudException.Action("No NIC or NIC_ALIAS in the attach template.", id);
        return ExecuteLeasingAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            var offline = vm.State is VmState.POWEROFF or VmState.PENDING or VmState.HOLD or VmState.UNDEPLOYED or VmState.STOPPED;
            if (!running && !offline) throw VmLifeCycle.NotAvailable("nic-attach", vm);
            if (VmNics.IsAuto(nic)) throw CloudException.Action("NETWORK_MODE = auto is only for NICs of a new VM; attach a NIC with NETWORK or NETWORK_ID.", id);
            var nt = vm.Template.Clone();
            var nicId = VmDevices.NextNicId(vm.Template);
            var net = ResolveNet(tx, caller, nic);
            VectorAttribute n;
            if (nic.Name == "NIC_ALIAS")
            {
                var existing = nt.Vectors("NIC").ToList();
                var parent = VmNics.ParentOf(existing, nic) ?? throw CloudException.Action($"Alias not found: VM {id} has no NIC named {nic["PARENT"]}.", id);
                n = LifeCycle.Leases.Acquire(tx, net, VmNics.AliasRequest(nic, parent, [.. existing, .. nt.Vectors("NIC_ALIAS")], attaching: true), id, nicId);
                VmNics.LinkAlias(parent, n);
            }
            else
            {
                n = LifeCycle.Leases.Acquire(tx, net, nic, id, nicId);
                VmNics.SetName(n);
            }
            LifeCycle.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net.Id, 1, q.Who, check: true));
            if (running || vm.State == VmState.POWEROFF) n.Set("ATTACH", "YES");
            nt.Add(n);
            var nvm = vm with { Template = nt };
            if (running) LifeCycle.Enter(tx, MarkAction(nvm, VmAction.NicAttach), VmState.ACTIVE, LcmState.HOTPLUG_NIC, DriverOp.AttachNic, nicId.ToString(CultureInfo.InvariantCulture));
            else if (vm.State == VmState.POWEROFF) LifeCycle.Enter(tx, MarkAction(nvm, VmAction.NicAttach), VmState.ACTIVE, LcmState.HOTPLUG_NIC_POWEROFF, DriverOp.AttachNic, nicId.ToString(CultureInfo.InvariantCulture));
            else tx.Put(nvm);
            return id;
        }, msg => CloudException.Action(msg, id), ct);
    }

    public Task<int> VmDetachNicAsync(Caller caller, int id, int nicId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            var offline = vm.State is VmState.POWEROFF or VmState.PENDING or VmState.HOLD or VmState.UNDEPLOYED or VmState.STOPPED;
            if (!running && !offline) throw VmLifeCycle.NotAvailable("nic-detach", vm);
            if (!vm.Template.Vectors("NIC").Concat(vm.Template.Vectors("NIC_ALIAS")).Any(d => d.GetInt("NIC_ID") == nicId))
                throw CloudException.Action($"VM {id} has no NIC with NIC_ID {nicId}.", id);
            var arg = nicId.ToString(CultureInfo.InvariantCulture);
            if (running) LifeCycle.Enter(tx, MarkAction(vm, VmAction.NicDetach), VmState.ACTIVE, LcmState.HOTPLUG_NIC, DriverOp.DetachNic, arg);
            else if (vm.State == VmState.POWEROFF) LifeCycle.Enter(tx, MarkAction(vm, VmAction.NicDetach), VmState.ACTIVE, LcmState.HOTPLUG_NIC_POWEROFF, DriverOp.DetachNic, arg);
            else tx.Put(VmDevices.RemoveNic(tx, LifeCycle, vm, nicId));
            return id;
        }, ct);

    /// <summary>one.vm.snapshotcreate: a system snapshot of a RUNNING VM; returns the snapshot id.</summary>
    public Task<int> VmSnapshotCreateAsync(Caller caller, int id, string name, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            if (!(vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING)) throw VmLifeCycle.NotAvailable("snapshot-create", vm);
            var sid = vm.Snapshots.Count == 0 ? 0 : vm.Snapshots.Max(s => s.SnapshotId) + 1;
            var snap = new VmSnapshot(sid, string.IsNullOrEmpty(name) ? $"snapshot-{sid}" : name, tx.Now, $"snap-{sid}", true);
            var nvm = MarkAction(vm with { Snapshots = vm.Snapshots.Add(snap) }, VmAction.SnapshotCreate);
            LifeCycle.Enter(tx, nvm, VmState.ACTIVE, LcmState.HOTPLUG_SNAPSHOT, DriverOp.SnapshotCreate, sid.ToString(CultureInfo.InvariantCulture));
            return sid;
        }, ct);

    public Task<int> VmSnapshotActionAsync(Caller caller, int id, int snapId, bool revert, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            if (!(vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING)) throw VmLifeCycle.NotAvailable(revert ? "snapshot-revert" : "snapshot-delete", vm);
            if (!vm.Snapshots.Any(s => s.SnapshotId == snapId)) throw CloudException.Action($"VM {id} has no snapshot {snapId}.", id);
            LifeCycle.Enter(tx, MarkAction(vm, revert ? VmAction.SnapshotRevert : VmAction.SnapshotDelete), VmState.ACTIVE, LcmState.HOTPLUG_SNAPSHOT,
                revert ? DriverOp.SnapshotRevert : DriverOp.SnapshotDelete, snapId.ToString(CultureInfo.InvariantCulture));
            return id;
        }, ct);

    public Task<int> VmRecoverAsync(Caller caller, int id, int operation, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Admin);
            LifeCycle.Recover(tx, vm, operation, caller.Uid, caller.Gid);
            return id;
        }, ct);

    /// <summary>A VM leaves the quotas of its old owner for the new one (chown).</summary>
    private void MoveVmQuota(StateTransaction tx, Vm vm, int uid, int gid)
    {
        LifeCycle.ChargeOwner(tx, vm, VmAttributes.VmQuotaDelta(vm, -1), check: false);
        LifeCycle.ChargeOwner(tx, vm with { Uid = uid, Gid = gid }, VmAttributes.VmQuotaDelta(vm, 1), check: true);
    }

    /// <summary>A driver finished; the life cycle moves the VM on (runs as a command).</summary>
    public Task OnDriverResultAsync(DriverRequest request, DriverReply reply, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx => LifeCycle.OnDriverResult(tx, request, reply), ct);
}

/// <summary>A VM became PENDING (or asked to be rescheduled): the scheduler runs a cycle at once.</summary>
public sealed record VmPending(int VmId);

public sealed partial class Cloud
{
    /// <summary>Sections one.vm.updateconf may change, as oned allows them.</summary>
    private static readonly string[] UpdateConfSections = ["OS", "FEATURES", "INPUT", "GRAPHICS", "RAW", "CONTEXT", "CPU_MODEL", "VIDEO", "BACKUP_CONFIG"];

    /// <summary>
    /// one.vm.updateconf: replaces (append 0) or merges (append 1) the VM's OS, FEATURES, INPUT, GRAPHICS,
    /// RAW, CONTEXT, CPU_MODEL, VIDEO and BACKUP_CONFIG sections. Allowed while the VM is not on a
    /// hypervisor (PENDING, HOLD, POWEROFF, UNDEPLOYED, STOPPED); on a RUNNING VM only CONTEXT may change.
    /// Any other attribute in the template is refused, so nothing is silently ignored.
    /// </summary>
    public Task<int> VmUpdateConfAsync(Caller caller, int id, string text, int append, CancellationToken ct = default)
    {
        if (append is not (0 or 1)) throw CloudException.Api($"Invalid append value {append}, must be 0 (replace) or 1 (merge)", id);
        var t = ParseTemplate(text, ErrorCode.Action);
        var unknown = t.Attributes.Select(a => a.Name).Where(n => !UpdateConfSections.Contains(n)).Distinct().ToList();
        if (unknown.Count > 0)
            throw CloudException.Action($"Attributes {string.Join(", ", unknown)} cannot be changed with updateconf; allowed: {string.Join(", ", UpdateConfSections)}.", id);
        return bus.ExecuteAsync(tx =>
        {
            var vm = Demand<Vm>(tx, caller, ObjectType.Vm, id, AuthOp.Manage);
            var offline = vm.State is VmState.PENDING or VmState.HOLD or VmState.POWEROFF or VmState.UNDEPLOYED or VmState.STOPPED
                          or VmState.CLONING or VmState.CLONING_FAILURE;
            var running = vm.State == VmState.ACTIVE && vm.LcmState == LcmState.RUNNING;
            if (!offline && !(running && t.Attributes.All(a => a.Name == "CONTEXT"))) throw VmLifeCycle.NotAvailable("updateconf", vm);
            var nt = vm.Template.Clone();
            foreach (var section in t.Attributes.Select(a => a.Name).Distinct().ToList())
            {
                var incoming = t.Vector(section);
                var current = nt.Vector(section);
                if (append == 1 && current is not null && incoming is not null)
                {
                    var merged = current.CloneVector();
                    foreach (var (k, v) in incoming.Values) merged[k] = v;
                    nt.Set(merged);
                }
                else
                {
                    nt.Remove(section);
                    foreach (var a in t.GetAll(section)) nt.Add(a.Clone());
                }
            }
            if (append == 0)
                foreach (var section in UpdateConfSections.Where(s => !t.Contains(s) && s != "CONTEXT" && nt.Contains(s)))
                    nt.Remove(section);
            tx.Put(vm with { Template = nt });
            return id;
        }, ct);
    }

    /// <summary>
    /// A persistent image's snapshots are in its file (written back from the VM that took them): the VM's disk
    /// starts with them, as OpenNebula gives a persistent image's SNAPSHOTS to the disk.
    /// </summary>
    internal static Vm WithImageSnapshots(Vm vm, Image image, int diskId) =>
        image.Persistent && image.Snapshots.Snapshots.Count > 0
            ? VmDiskActions.WithSnapshots(vm, diskId, image.Snapshots with { DiskId = diskId })
            : vm;
}
