using System.CommandLine;
using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud vm</c>: virtual machines and their life cycle (OpenNebula's <c>onevm</c>).</summary>
public static class VmCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "vm",
        Noun = "virtual machine",
        Prefix = "vm",
        PoolMethod = "one.vmpool.info",
        PoolArgs = [-2, -1, -1, -1, ""],
        Element = "VM",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("STAT", e => StateNames.Short(State(e), Lcm(e))),
            new("CPU", e => S(e, "TEMPLATE/CPU")) { Right = true },
            new("MEM", e => Mb(D(e, "TEMPLATE/MEMORY"))) { Right = true },
            new("HOST", LastHost) { Shrink = true },
            new("TIME", e => Elapsed(L(e, "STIME"), L(e, "ETIME"))) { Right = true },
            new("STATE", e => VmWait.Name(State(e), Lcm(e))) { Default = false },
            new("VCPU", e => S(e, "TEMPLATE/VCPU")) { Right = true, Default = false },
            new("IP", e => string.Join(",", e.Elements("TEMPLATE").Elements("NIC").Select(n => S(n, "IP")).Where(ip => ip.Length > 0))) { Default = false, Shrink = true },
            new("UID", e => S(e, "UID")) { Right = true, Default = false },
            new("GID", e => S(e, "GID")) { Right = true, Default = false },
        ],
        Decoders = new Dictionary<string, Func<string, string>>
        {
            ["STATE"] = EnumName<VmState>,
            ["PREV_STATE"] = EnumName<VmState>,
            ["LCM_STATE"] = EnumName<LcmState>,
            ["PREV_LCM_STATE"] = EnumName<LcmState>,
            ["RESCHED"] = YesNo,
        },
        Skip = new HashSet<string> { "HISTORY_RECORDS", "BACKUPS", "SCHED_ACTIONS" },
        Sections = Sections,
    };

    private static VmState State(XElement e) => (VmState)(int)L(e, "STATE");

    private static LcmState Lcm(XElement e) => (LcmState)(int)L(e, "LCM_STATE");

    private static string LastHost(XElement e) =>
        e.Element("HISTORY_RECORDS")?.Elements("HISTORY").LastOrDefault() is { } h ? S(h, "HOSTNAME") : "";

    private static IEnumerable<ShowSection> Sections(XElement e)
    {
        var t = e.Element("TEMPLATE");
        var disks = t?.Elements("DISK").ToList() ?? [];
        if (disks.Count > 0)
        {
            yield return new ShowSection("VM DISKS")
            {
                TableHeader = ["ID", "DATASTORE", "TARGET", "IMAGE", "SIZE", "TYPE", "SAVE"],
                TableRows = disks.Select(d => (IReadOnlyList<string>)
                    [S(d, "DISK_ID"), S(d, "DATASTORE"), S(d, "TARGET"), S(d, "IMAGE"), Mb(D(d, "SIZE")), S(d, "TYPE"), S(d, "SAVE")]).ToList(),
            };
        }
        var nics = t?.Elements("NIC").ToList() ?? [];
        if (nics.Count > 0)
        {
            yield return new ShowSection("VM NICS")
            {
                TableHeader = ["ID", "NETWORK", "BRIDGE", "IP", "MAC"],
                TableRows = nics.Select(n => (IReadOnlyList<string>)[S(n, "NIC_ID"), S(n, "NETWORK"), S(n, "BRIDGE"), S(n, "IP"), S(n, "MAC")]).ToList(),
            };
        }
        var snaps = t?.Elements("SNAPSHOT").ToList() ?? [];
        if (snaps.Count > 0)
        {
            yield return new ShowSection("SNAPSHOTS")
            {
                TableHeader = ["ID", "TIME", "NAME"],
                TableRows = snaps.Select(s => (IReadOnlyList<string>)[S(s, "SNAPSHOT_ID"), Date(S(s, "TIME")), S(s, "NAME")]).ToList(),
            };
        }
        var history = e.Element("HISTORY_RECORDS")?.Elements("HISTORY").ToList() ?? [];
        if (history.Count > 0)
        {
            yield return new ShowSection("VIRTUAL MACHINE HISTORY")
            {
                TableHeader = ["SEQ", "HOST", "ACTION", "START", "TIME"],
                TableRows = history.Select(h => (IReadOnlyList<string>)
                    [S(h, "SEQ"), S(h, "HOSTNAME"), ActionName(S(h, "ACTION")), Date(S(h, "STIME")), Elapsed(L(h, "STIME"), L(h, "ETIME"))]).ToList(),
            };
        }
    }

    /// <summary>OpenNebula's names of the VM actions recorded in HISTORY/ACTION (VMActions::Action), as onevm shows them.</summary>
    private static readonly string[] HistoryActions =
    [
        "none", "migrate", "live-migrate", "shutdown", "shutdown-hard", "undeploy", "undeploy-hard", "hold", "release",
        "stop", "suspend", "resume", "boot", "delete", "delete-recreate", "reboot", "reboot-hard", "resched", "unresched",
        "poweroff", "poweroff-hard", "disk-attach", "disk-detach", "nic-attach", "nic-detach", "disk-snapshot-create",
        "disk-snapshot-delete", "terminate", "terminate-hard", "disk-resize", "deploy", "chown", "chmod", "updateconf",
        "rename", "resize", "update", "snapshot-create", "snapshot-delete", "snapshot-revert", "disk-saveas",
        "disk-snapshot-revert", "recover", "retry", "monitor", "disk-snapshot-rename", "alias-attach", "alias-detach",
        "poweroff-migrate", "poweroff-hard-migrate", "backup",
    ];

    private static string ActionName(string number) =>
        int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 && n < HistoryActions.Length
            ? HistoryActions[n] : number;

    public static Command Build()
    {
        var users = UserCommands.Kind;
        var groups = GroupCommands.Kind;
        return Verbs.Object(Kind, "Virtual machines: create, list, and drive their life cycle",
        [
            Create(),
            Verbs.List(Kind, "List virtual machines (not DONE ones)"),
            Verbs.Show(Kind),
            Verbs.Update(Kind),
            Verbs.Rename(Kind),
            Action("terminate", "Terminate VMs (shut down and delete; --hard: at once)", "terminate", hard: true, "delete"),
            Action("poweroff", "Power VMs off (--hard: pull the plug)", "poweroff", hard: true),
            Action("resume", "Resume stopped, suspended, powered-off or undeployed VMs", "resume"),
            Action("suspend", "Suspend VMs (save their memory on the host)", "suspend"),
            Action("stop", "Stop VMs (save their state and free the host)", "stop"),
            Action("undeploy", "Undeploy VMs (shut down and free the host, keep the disks)", "undeploy", hard: true),
            Action("reboot", "Reboot VMs (--hard: reset)", "reboot", hard: true),
            Action("hold", "Hold pending VMs (the scheduler skips them)", "hold"),
            Action("release", "Release held VMs", "release"),
            Action("resched", "Mark VMs for rescheduling to another host", "resched"),
            Action("unresched", "Clear the rescheduling mark", "unresched"),
            Deploy(),
            Migrate(),
            Resize(),
            DiskAttach(),
            DiskDetach(),
            NicAttach(),
            NicDetach(),
            SnapshotCreate(),
            SnapshotUse("snapshot-revert", "Revert a VM to a snapshot", "snapshotrevert"),
            SnapshotUse("snapshot-delete", "Delete a VM snapshot", "snapshotdelete"),
            .. DiskCommands.VmVerbs(),
            Recover(),
            .. Verbs.Locking(Kind),
            .. Verbs.Ownership(Kind, users, groups),
        ]);
    }

    private static Command Create()
    {
        var file = new Argument<string?>("FILE") { Description = "Template file ('-': standard input); or use the flags", Arity = ArgumentArity.ZeroOrOne };
        var flags = new VmTemplateFlags("Name of the VM");
        var hold = Verbs.Flag("--hold", "Create it on hold (the scheduler leaves it alone until released)");
        var wait = new VmWait();
        return Verbs.Make("create", "Create a VM from a template file or from flags (--cpu 1 --memory 512 --disk IMAGE --nic VNET)",
            [file, .. flags.Symbols, hold, .. wait.Symbols], async c =>
            {
                wait.Check(c);
                var text = "";
                if (c.Get(file) is { } f) text = TemplateInput.Read(f);
                else if (!flags.Any(c)) throw new CliException("give a template file or flags such as --cpu 1 --memory 512 --disk IMAGE --nic VNET");
                if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
                text += await flags.BuildAsync(c, withName: true).ConfigureAwait(false);
                var id = await c.CallIntAsync("one.vm.allocate", text, c.Get(hold)).ConfigureAwait(false);
                Verbs.PrintId(id);
                await wait.RunAsync(c, id).ConfigureAwait(false);
            });
    }

    /// <summary>A <c>one.vm.action</c> verb on a list of VMs, with --hard (the <c>-hard</c> action) and --wait.</summary>
    private static Command Action(string verb, string description, string action, bool hard = false, params string[] aliases)
    {
        var ids = Verbs.Ids(Kind, "VM");
        var hardFlag = Verbs.Flag("--hard", "Do it at once, without the guest's cooperation");
        var wait = new VmWait();
        List<Symbol> symbols = [ids, .. wait.Symbols];
        if (hard) symbols.Insert(1, hardFlag);
        return Verbs.Make(verb, description, symbols, async c =>
        {
            wait.Check(c);
            var list = await c.ResolveManyAsync(Kind, c.Get(ids)!).ConfigureAwait(false);
            var name = hard && c.Get(hardFlag) ? action + "-hard" : action;
            foreach (var id in list) await c.CallAsync("one.vm.action", name, id).ConfigureAwait(false);
            await wait.RunAsync(c, list).ConfigureAwait(false);
        }, aliases);
    }

    private static Command Deploy()
    {
        var vm = Verbs.Ids(Kind, "VM");
        var host = Verbs.Id(HostCommands.Kind, "HOST");
        var ds = Verbs.Text("--datastore", "System datastore to deploy to (default: the scheduler's choice)", "DATASTORE");
        var enforce = Verbs.Flag("--enforce", "Deploy even if the host lacks capacity");
        var wait = new VmWait();
        return Verbs.Make("deploy", "Deploy pending or held VMs to a host", [vm, host, ds, enforce, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var ids = await c.ResolveManyAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            var hid = await c.ResolveAsync(HostCommands.Kind, c.Get(host)!).ConfigureAwait(false);
            var dsid = c.Get(ds) is { } d ? await c.ResolveAsync(DatastoreCommands.Kind, d).ConfigureAwait(false) : -1;
            foreach (var id in ids) await c.CallAsync("one.vm.deploy", id, hid, c.Get(enforce), dsid, "").ConfigureAwait(false);
            await wait.RunAsync(c, ids).ConfigureAwait(false);
        });
    }

    private static Command Migrate()
    {
        var vm = Verbs.Ids(Kind, "VM");
        var host = Verbs.Id(HostCommands.Kind, "HOST");
        var live = Verbs.Flag("--live", "Live migration (the VM keeps running)");
        var enforce = Verbs.Flag("--enforce", "Migrate even if the host lacks capacity");
        var ds = Verbs.Text("--datastore", "System datastore on the new host", "DATASTORE");
        var poweroff = Verbs.Flag("--poweroff", "Power off the VM before migrating (instead of saving it)");
        var poweroffHard = Verbs.Flag("--poweroff-hard", "Power off the VM hard before migrating");
        var wait = new VmWait();
        return Verbs.Make("migrate", "Migrate running VMs to another host", [vm, host, live, enforce, ds, poweroff, poweroffHard, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var ids = await c.ResolveManyAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            var hid = await c.ResolveAsync(HostCommands.Kind, c.Get(host)!).ConfigureAwait(false);
            var dsid = c.Get(ds) is { } d ? await c.ResolveAsync(DatastoreCommands.Kind, d).ConfigureAwait(false) : -1;
            var type = c.Get(poweroffHard) ? 2 : c.Get(poweroff) ? 1 : 0;
            foreach (var id in ids) await c.CallAsync("one.vm.migrate", id, hid, c.Get(live), c.Get(enforce), dsid, type).ConfigureAwait(false);
            await wait.RunAsync(c, ids).ConfigureAwait(false);
        });
    }

    private static Command Resize()
    {
        var vm = Verbs.Id(Kind, "VM");
        var cpu = Verbs.Text("--cpu", "New physical CPU share", "CPU");
        var vcpu = Verbs.Text("--vcpu", "New number of virtual CPUs", "N");
        var memory = Verbs.Text("--memory", "New memory in MB, or with a unit (512M, 2G)", "SIZE");
        var enforce = Verbs.Flag("--enforce", "Resize even if the host lacks capacity");
        var wait = new VmWait();
        return Verbs.Make("resize", "Change the CPU, VCPU and memory of a VM", [vm, cpu, vcpu, memory, enforce, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var lines = new List<string>();
            if (c.Get(cpu) is { } cp)
            {
                if (!double.TryParse(cp, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) || v <= 0)
                    throw new CliException($"bad --cpu \"{cp}\": use a positive number");
                lines.Add($"CPU = {cp}");
            }
            if (c.Get(vcpu) is { } vc)
            {
                if (!int.TryParse(vc, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v <= 0)
                    throw new CliException($"bad --vcpu \"{vc}\": use a positive whole number");
                lines.Add($"VCPU = {vc}");
            }
            if (c.Get(memory) is { } m) lines.Add(string.Create(CultureInfo.InvariantCulture, $"MEMORY = {TemplateInput.MemoryMb(m)}"));
            if (lines.Count == 0) throw new CliException("give --cpu, --vcpu or --memory");
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.resize", id, TemplateInput.Join(lines), c.Get(enforce)).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command DiskAttach()
    {
        var vm = Verbs.Id(Kind, "VM");
        var image = Verbs.Text("--image", "Image to attach (name or id)", "IMAGE");
        var target = Verbs.Text("--target", "Device target, e.g. vdb", "TARGET");
        var prefix = Verbs.Text("--prefix", "Device prefix, e.g. vd or sd", "PREFIX");
        var file = Verbs.Text("--file", "A file with the DISK attribute to attach instead", "FILE");
        var wait = new VmWait();
        return Verbs.Make("disk-attach", "Attach a disk to a VM (hot-plug when running)", [vm, image, target, prefix, file, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            string text;
            if (c.Get(file) is { } f) text = TemplateInput.Read(f);
            else if (c.Get(image) is { } img)
            {
                var attrs = new List<(string, string)> { ("IMAGE_ID", (await c.ResolveAsync(ImageCommands.Kind, img).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture)) };
                if (c.Get(target) is { } t) attrs.Add(("TARGET", t));
                if (c.Get(prefix) is { } p) attrs.Add(("DEV_PREFIX", p));
                text = TemplateInput.Vector("DISK", attrs);
            }
            else throw new CliException("give --image IMAGE or --file FILE");
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.attach", id, text).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command DiskDetach()
    {
        var vm = Verbs.Id(Kind, "VM");
        var disk = new Argument<int>("DISK_ID") { Description = "The disk's id (see vm show)" };
        var wait = new VmWait();
        return Verbs.Make("disk-detach", "Detach a disk from a VM", [vm, disk, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.detach", id, c.Get(disk)).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command NicAttach()
    {
        var vm = Verbs.Id(Kind, "VM");
        var network = Verbs.Text("--network", "Virtual network to attach to (name or id)", "VNET");
        var ip = Verbs.Text("--ip", "Ask for this IP address", "IP");
        var file = Verbs.Text("--file", "A file with the NIC attribute to attach instead", "FILE");
        var alias = Verbs.Text("--alias", "Attach an alias (NIC_ALIAS) of the VM's NIC with this NAME (NIC0...) instead of an interface", "NIC_NAME");
        var wait = new VmWait();
        return Verbs.Make("nic-attach", "Attach a network interface (or, with --alias, an address on one) to a VM", [vm, network, ip, file, alias, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            string text;
            if (c.Get(file) is { } f) text = TemplateInput.Read(f);
            else if (c.Get(network) is { } net)
            {
                var attrs = new List<(string, string)> { ("NETWORK_ID", (await c.ResolveAsync(VNetCommands.Kind, net).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture)) };
                if (c.Get(ip) is { } address) attrs.Add(("IP", address));
                if (c.Get(alias) is { } parent) attrs.Add(("PARENT", parent));
                text = TemplateInput.Vector(c.Get(alias) is null ? "NIC" : "NIC_ALIAS", attrs);
            }
            else throw new CliException("give --network VNET or --file FILE");
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.attachnic", id, text).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command NicDetach()
    {
        var vm = Verbs.Id(Kind, "VM");
        var nic = new Argument<int>("NIC_ID") { Description = "The interface's id (see vm show)" };
        var wait = new VmWait();
        return Verbs.Make("nic-detach", "Detach a network interface from a VM", [vm, nic, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.detachnic", id, c.Get(nic)).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command SnapshotCreate()
    {
        var vm = Verbs.Id(Kind, "VM");
        var name = new Argument<string?>("NAME") { Description = "Snapshot name", Arity = ArgumentArity.ZeroOrOne };
        var wait = new VmWait();
        return Verbs.Make("snapshot-create", "Take a snapshot of a running VM", [vm, name, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.vm.snapshotcreate", id, c.Get(name) ?? "").ConfigureAwait(false), "SNAPSHOT ID");
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command SnapshotUse(string verb, string description, string method)
    {
        var vm = Verbs.Id(Kind, "VM");
        var snap = new Argument<string>("SNAPSHOT") { Description = "Snapshot id or name (see vm show)" };
        var wait = new VmWait();
        return Verbs.Make(verb, description, [vm, snap, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            var text = c.Get(snap)!;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sid))
            {
                var info = await c.InfoAsync(Kind, id).ConfigureAwait(false);
                var match = info.Element("TEMPLATE")?.Elements("SNAPSHOT").Where(s => S(s, "NAME") == text).ToList() ?? [];
                if (match.Count != 1) throw new CliException($"VM {id} has {(match.Count == 0 ? "no" : "several")} snapshots named \"{text}\"", CliExit.Server);
                sid = (int)L(match[0], "SNAPSHOT_ID");
            }
            await c.CallAsync($"one.vm.{method}", id, sid).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command Recover()
    {
        var vm = Verbs.Ids(Kind, "VM");
        (string Flag, int Op, string Text)[] ops =
        [
            ("--success", 1, "The pending driver operation succeeded: move on"),
            ("--failure", 0, "The pending driver operation failed: go back"),
            ("--retry", 2, "Retry the failed driver operation"),
            ("--delete", 3, "Delete the VM and free its resources"),
            ("--recreate", 4, "Delete the VM and create it again as PENDING"),
            ("--delete-db", 5, "Delete the VM from the database only"),
        ];
        var flags = ops.Select(o => (Option: Verbs.Flag(o.Flag, o.Text), o.Op)).ToList();
        var wait = new VmWait();
        return Verbs.Make("recover", "Recover stuck or failed VMs (exactly one of the flags)", [vm, .. flags.Select(f => f.Option), .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var chosen = flags.Where(f => c.Get(f.Option)).ToList();
            if (chosen.Count != 1) throw new CliException("give exactly one of --success, --failure, --retry, --delete, --recreate, --delete-db");
            var ids = await c.ResolveManyAsync(Kind, c.Get(vm)!).ConfigureAwait(false);
            foreach (var id in ids) await c.CallAsync("one.vm.recover", id, chosen[0].Op).ConfigureAwait(false);
            await wait.RunAsync(c, ids).ConfigureAwait(false);
        });
    }
}
