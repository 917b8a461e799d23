using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Networking;

/// <summary>
/// Elastic IPs: an address range (or its network) with ELASTIC_IP_HOOK = NAME has the executable
/// <c>ElasticIpHooks/NAME</c> called whenever one of its leases is bound to a VM on a host
/// (<c>attach</c>: the VM is ACTIVE on that host, from boot on) or released from it (<c>detach</c>:
/// the VM left the host, the NIC or alias was detached, the VM ended). A migration is a detach from
/// the old host and an attach on the new one. The hook is how a cloud provider's API moves a public
/// address to the host the VM runs on. Hooks run one at a time, in commit order; a failing hook is
/// reported in the VM's USER_TEMPLATE/ERROR and leaves the lease as it is.
/// The binder remembers each VM's bindings from the committed change sets. At start-up, and when a whole
/// state snapshot is installed (Raft), it re-reads them from the state without calling hooks: the bindings
/// that changed in between were committed, and their hooks called, by the leader of that time.
/// </summary>
public sealed class ElasticIpBinder(Func<Cloud> cloud, IElasticIpHooks hooks, ILogger<ElasticIpBinder> logger) : BackgroundService, IStateObserver
{
    private sealed record Binding(string Hook, string Ip, int NicId, int HostId, string HostName, int NetworkId, int ArId);

    private readonly Dictionary<int, List<Binding>> _bound = [];
    private readonly Channel<(string Action, int VmId, Binding B)> _calls = Channel.CreateUnbounded<(string, int, Binding)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private bool _running; // only while this front-end runs the hooks (the leader)
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the binder has first seeded its memory and follows commits (ExecuteAsync runs on its own task).</summary>
    internal Task Started => _started.Task;

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        if (changeSets.Count == 0 && events.Count == 0)
        {
            // A whole snapshot installed: what changed in between is not known VM by VM.
            lock (_lock)
                if (_running) Seed(snapshot);
            return;
        }
        var vms = changeSets.SelectMany(c => c.Changes).Where(c => c.Type == ObjectType.Vm).Select(c => c.Id).ToHashSet();
        if (vms.Count == 0) return;
        lock (_lock)
        {
            if (!_running) return;
            foreach (var vmId in vms) Reconcile(snapshot, vmId);
        }
    }

    /// <summary>Queues detach/attach calls so the hooks' view follows the VM's bindings in <paramref name="s"/>.</summary>
    private void Reconcile(StateSnapshot s, int vmId)
    {
        var want = Desired(s, s.Get<Vm>(ObjectType.Vm, vmId));
        var have = _bound.GetValueOrDefault(vmId) ?? [];
        foreach (var b in have.Except(want)) _calls.Writer.TryWrite(("detach", vmId, b));
        foreach (var b in want.Except(have)) _calls.Writer.TryWrite(("attach", vmId, b));
        if (want.Count == 0) _bound.Remove(vmId);
        else _bound[vmId] = want;
    }

    /// <summary>Remembers every VM's bindings in <paramref name="s"/> as attached, without calling hooks.</summary>
    private void Seed(StateSnapshot s)
    {
        _bound.Clear();
        foreach (var vm in s.All<Vm>(ObjectType.Vm))
            if (Desired(s, vm) is { Count: > 0 } b) _bound[vm.Id] = b;
    }

    private static List<Binding> Desired(StateSnapshot s, Vm? vm)
    {
        if (vm is not { State: VmState.ACTIVE } || vm.HostId < 0
            || vm.LcmState is LcmState.LCM_INIT or LcmState.PROLOG or LcmState.BOOT or LcmState.PROLOG_FAILURE or LcmState.BOOT_FAILURE)
            return [];
        var host = s.Get<Host>(ObjectType.Host, vm.HostId);
        var result = new List<Binding>();
        foreach (var n in vm.Template.Vectors("NIC").Concat(vm.Template.Vectors("NIC_ALIAS")))
        {
            if (n.GetInt("NETWORK_ID") is not int netId || n.GetInt("AR_ID") is not int arId || n["IP"] is not { Length: > 0 } ip) continue;
            if (s.Get<VNet>(ObjectType.VNet, netId) is not { } net) continue;
            var ar = net.AddressRanges.FirstOrDefault(a => a.ArId == arId);
            var hook = ar?.Attributes["ELASTIC_IP_HOOK"] ?? net.Template.Get("ELASTIC_IP_HOOK");
            if (string.IsNullOrEmpty(hook)) continue;
            result.Add(new Binding(hook, ip, n.GetInt("NIC_ID") ?? -1, vm.HostId, host?.Name ?? "", netId, arId));
        }
        return result;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Leases bound before this front-end (or leader) started are taken as attached: hooks are not re-run for them.
        lock (_lock)
        {
            Seed(cloud().State);
            _running = true;
        }
        _started.TrySetResult();
        try { await RunHooksAsync(stoppingToken).ConfigureAwait(false); }
        finally
        {
            lock (_lock)
            {
                _running = false;
                _bound.Clear();
                while (_calls.Reader.TryRead(out _)) { }
            }
        }
    }

    private async Task RunHooksAsync(CancellationToken stoppingToken)
    {
        await foreach (var (action, vmId, b) in _calls.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var e = new ElasticIpEvent(action, b.Ip, vmId, b.NicId, b.HostId, b.HostName, b.NetworkId, b.ArId);
            try
            {
                await hooks.RunAsync(b.Hook, e, stoppingToken).ConfigureAwait(false);
                logger.LogInformation("Elastic IP hook {Hook}: {Action} {Ip} VM {VmId} host {Host}", b.Hook, action, b.Ip, vmId, b.HostName);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (IpamException ex)
            {
                logger.LogWarning("Elastic IP hook {Hook}: {Action} {Ip} VM {VmId} failed: {Reason}", b.Hook, action, b.Ip, vmId, ex.Message);
                try { await cloud().VmNetworkErrorAsync(vmId, $"Elastic IP hook {b.Hook} could not {action} {b.Ip} (NIC {b.NicId}, host {b.HostName}): {ex.Message}", stoppingToken).ConfigureAwait(false); }
                catch (CloudException) { }
            }
        }
    }
}

/// <summary>
/// Elastic-IP hook executables in one directory: ELASTIC_IP_HOOK = NAME runs <c>DIR/NAME ACTION IP VM_ID HOST</c>
/// with the lease also in the environment (ELASTIC_IP_ACTION, ELASTIC_IP, VM_ID, NIC_ID, HOST_ID, HOST,
/// NETWORK_ID, AR_ID). Exit 0 is success; otherwise its stderr is the error.
/// </summary>
public sealed class ElasticIpHookDirectory(string directory, TimeSpan timeout) : IElasticIpHooks
{
    public bool Exists(string hook) => ExternalIpamDrivers.SafeName().IsMatch(hook) && File.Exists(Path.Combine(directory, hook));

    public async Task RunAsync(string hook, ElasticIpEvent e, CancellationToken ct)
    {
        if (!Exists(hook)) throw new IpamException($"no elastic-IP hook named \"{hook}\" is configured on the front-end");
        var inv = CultureInfo.InvariantCulture;
        var psi = new ProcessStartInfo(Path.Combine(directory, hook)) { WorkingDirectory = directory };
        foreach (var a in new[] { e.Action, e.Ip, e.VmId.ToString(inv), e.HostName }) psi.ArgumentList.Add(a);
        psi.Environment["ELASTIC_IP_ACTION"] = e.Action;
        psi.Environment["ELASTIC_IP"] = e.Ip;
        psi.Environment["VM_ID"] = e.VmId.ToString(inv);
        psi.Environment["NIC_ID"] = e.NicId.ToString(inv);
        psi.Environment["HOST_ID"] = e.HostId.ToString(inv);
        psi.Environment["HOST"] = e.HostName;
        psi.Environment["NETWORK_ID"] = e.NetworkId.ToString(inv);
        psi.Environment["AR_ID"] = e.ArId.ToString(inv);
        var (exit, _, err) = await DriverExecutable.RunAsync(psi, null, timeout, "hook", ct).ConfigureAwait(false);
        if (exit != 0) throw new IpamException($"exit {exit}{(err.Length > 0 ? ": " + DriverExecutable.Short(err) : "")}");
    }
}
