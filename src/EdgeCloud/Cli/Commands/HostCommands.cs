using System.CommandLine;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud host</c>: hypervisor hosts (OpenNebula's <c>onehost</c>).</summary>
public static class HostCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "host",
        Noun = "host",
        Prefix = "host",
        PoolMethod = "one.hostpool.info",
        Element = "HOST",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("CLUSTER", e => S(e, "CLUSTER")) { Shrink = true },
            new("TVM", e => S(e, "HOST_SHARE/RUNNING_VMS")) { Right = true },
            new("ALLOCATED_CPU", e =>
                $"{N(L(e, "HOST_SHARE/CPU_USAGE"))} / {N(L(e, "HOST_SHARE/MAX_CPU"))} ({Percent(L(e, "HOST_SHARE/CPU_USAGE"), L(e, "HOST_SHARE/MAX_CPU"))})") { Right = true },
            new("ALLOCATED_MEM", e =>
                $"{Kb(L(e, "HOST_SHARE/MEM_USAGE"))} / {Kb(L(e, "HOST_SHARE/MAX_MEM"))} ({Percent(L(e, "HOST_SHARE/MEM_USAGE"), L(e, "HOST_SHARE/MAX_MEM"))})") { Right = true },
            new("STAT", e => Short(S(e, "STATE"))),
            new("IM_MAD", e => S(e, "IM_MAD")) { Default = false },
            new("VM_MAD", e => S(e, "VM_MAD")) { Default = false },
            new("STATE", e => EnumName<HostState>(S(e, "STATE"))) { Default = false },
        ],
        Decoders = new Dictionary<string, Func<string, string>>
        {
            ["STATE"] = EnumName<HostState>,
            ["PREV_STATE"] = EnumName<HostState>,
            ["MEM_USAGE"] = KbText,
            ["TOTAL_MEM"] = KbText,
            ["MAX_MEM"] = KbText,
        },
        Skip = new HashSet<string> { "MONITORING" },
    };

    /// <summary>The STAT column: OpenNebula's short host states.</summary>
    private static string Short(string state) => EnumName<HostState>(state) switch
    {
        "INIT" or "MONITORING_INIT" => "init",
        "MONITORING_MONITORED" => "update",
        "MONITORED" => "on",
        "ERROR" => "err",
        "DISABLED" or "MONITORING_DISABLED" => "dsbl",
        "MONITORING_ERROR" => "retry",
        "OFFLINE" => "off",
        var other => other,
    };

    public static Command Build() => Verbs.Object(Kind, "Hosts: add, list, enable, disable, take offline",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        Verbs.Call(Kind, "enable", "Enable hosts (the scheduler may place VMs there)", "status", 0),
        Verbs.Call(Kind, "disable", "Disable hosts (no new VMs; monitoring goes on)", "status", 1),
        Verbs.Call(Kind, "offline", "Take hosts offline (no new VMs, no monitoring)", "status", 2),
        JoinToken(),
    ]);

    private static Option<int?> TtlOption() => new("--ttl") { Description = "Seconds the join token stays valid (default 3600)", HelpName = "SECONDS" };

    /// <summary><c>host join-token HOST</c>: a one-time token for <c>edgecloud agent --join-token</c>.</summary>
    private static Command JoinToken()
    {
        var host = new Argument<string>("HOST") { Description = "Host name or id" };
        var ttl = TtlOption();
        return Verbs.Make("join-token", "Print a one-time token that lets the host's agent join (edgecloud agent --join-token)", [host, ttl], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(host)!).ConfigureAwait(false);
            CliContext.Out.WriteLine(await c.Client.CallStringAsync("one.host.jointoken", [id, c.Get(ttl) ?? 3600], c.Ct).ConfigureAwait(false));
        });
    }

    private static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Host name (how the front-end reaches it)" };
        var im = Verbs.Text("--im", "Information (monitoring) driver, e.g. dummy or kvm", "DRIVER", "-i");
        var vm = Verbs.Text("--vm", "Virtualization driver, e.g. dummy or kvm", "DRIVER", "-v");
        var cluster = Verbs.Text("--cluster", "Cluster to add it to (default: the default cluster)", "CLUSTER", "-c");
        var join = Verbs.Flag("--join-token", "Also print a one-time join token for the host's agent");
        var ttl = TtlOption();
        im.Required = true;
        vm.Required = true;
        return Verbs.Make("create", "Add a host", [name, im, vm, cluster, join, ttl], async c =>
        {
            var cid = c.Get(cluster) is { } cl ? await c.ResolveAsync(ClusterCommands.Kind, cl).ConfigureAwait(false) : -1;
            var id = await c.CallIntAsync("one.host.allocate", c.Get(name)!, c.Get(im)!, c.Get(vm)!, cid).ConfigureAwait(false);
            Verbs.PrintId(id);
            if (c.Get(join))
                CliContext.Out.WriteLine("JOIN TOKEN: " + await c.Client.CallStringAsync("one.host.jointoken", [id, c.Get(ttl) ?? 3600], c.Ct).ConfigureAwait(false));
        });
    }
}
