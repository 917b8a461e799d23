using System.Text.Json;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Frontend.Monitoring;
using EdgeCloud.Requests;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Agents;

/// <summary>
/// The VM driver of hosts run by an agent (VM_MAD kvm, qemu or lxc): the action goes down the host's
/// stream with the VM's spec, and the agent's result comes back as the driver reply. The command id
/// is the request's (<see cref="DriverRequest.CommandId"/>), so a resend is never executed twice.
/// </summary>
public sealed class AgentVmDriver(string name, AgentHub hub, Func<Cloud> cloud, TimeSpan actionTimeout) : IVmDriver
{
    public string Name { get; } = name;

    public async Task<DriverReply> ExecuteAsync(DriverRequest request, Vm vm, Host host, CancellationToken cancellationToken)
    {
        var state = cloud().State;
        var spec = VmSpecs.Build(state, vm);
        var argument = request.Argument;
        if (request.Op == DriverOp.PrologMigrate && vm.History.Count >= 2)
        {
            // The new host pulls the VM's files from the one it leaves: tell it where that host's agent listens.
            var from = state.Get<Host>(ObjectType.Host, vm.History[^2].Hid);
            argument = from?.Template.Get("AGENT_ENDPOINT") ?? "";
            if (argument.Length == 0 && from is not null && from.Id != host.Id)
                return new DriverReply(false, $"Host {from.Id} ({from.Name}) has not reported its agent endpoint: the VM's files cannot be moved from it.");
        }
        if (request.Op == DriverOp.MigrateLive)
            return await MigrateLiveAsync(request, vm, host, JsonSerializer.Serialize(spec, AgentHub.Json), cancellationToken).ConfigureAwait(false);
        var command = new Command
        {
            CommandId = request.CommandId,
            VmId = request.VmId,
            Op = request.Op.ToString(),
            Argument = argument,
            SpecJson = JsonSerializer.Serialize(spec, AgentHub.Json),
        };
        var result = await hub.ExecuteAsync(host.Id, command, actionTimeout, cancellationToken).ConfigureAwait(false);
        return new DriverReply(result.Success, result.Message, result.DeployId, result.DataJson);
    }

    /// <summary>
    /// Live migration from the VM's previous host to <paramref name="host"/> (both agent hosts, kvm), in the steps of
    /// <see cref="LiveMigrationSteps"/>; each step's id derives from the action's, so a resent action repeats none.
    /// A failure leaves the VM running on the old host (the life cycle puts it back to RUNNING there, the reason in
    /// its log) and the new host removes what it had prepared.
    /// </summary>
    private async Task<DriverReply> MigrateLiveAsync(DriverRequest request, Vm vm, Host host, string specJson, CancellationToken ct)
    {
        var state = cloud().State;
        if (vm.History.Count < 2 || state.Get<Host>(ObjectType.Host, vm.History[^2].Hid) is not { } from)
            return new DriverReply(false, "Live migration: the VM has no previous host to leave.");
        if (from.Id == host.Id) return new DriverReply(false, $"Live migration: the VM already runs on host {host.Id} ({host.Name}).");
        var uri = host.Template.Get("LIBVIRT_MIGRATION_URI") ?? "";
        if (uri.Length == 0)
            return new DriverReply(false, $"Host {host.Id} ({host.Name}) has not reported a libvirt migration URI (LIBVIRT_MIGRATION_URI; is its agent a kvm agent?).");
        Command Step(string id, string op, string argument = "") =>
            new() { CommandId = id, VmId = request.VmId, Op = op, Argument = argument, SpecJson = specJson };

        // 1. The new host makes the disks (overlays on its own cached base), the context CD and the network (pre).
        var prepared = await hub.ExecuteAsync(host.Id, Step(request.CommandId + LiveMigrationSteps.InSuffix, LiveMigrationSteps.MigrateLiveIn), actionTimeout, ct).ConfigureAwait(false);
        if (!prepared.Success)
            return await AbortAsync(request, host, specJson, $"host {host.Name} could not prepare the VM: {prepared.Message}", ct).ConfigureAwait(false);
        LiveMigrationTarget target;
        try
        {
            var there = JsonSerializer.Deserialize<LiveMigrationTarget>(prepared.DataJson, AgentHub.Json) ?? throw new JsonException("empty");
            target = there with { LibvirtUri = uri };
        }
        catch (JsonException ex)
        {
            return await AbortAsync(request, host, specJson, $"host {host.Name} answered the preparation with \"{prepared.DataJson}\": {ex.Message}", ct).ConfigureAwait(false);
        }

        // 2. The old host migrates the running domain (disks copied by QEMU) and forgets the VM.
        var moved = await hub.ExecuteAsync(from.Id, Step(request.CommandId, DriverOp.MigrateLive.ToString(), JsonSerializer.Serialize(target, AgentHub.Json)), actionTimeout, ct).ConfigureAwait(false);
        if (!moved.Success)
            return await AbortAsync(request, host, specJson, moved.Message, ct).ConfigureAwait(false);

        // 3. The new host keeps the VM as running (network post steps: security groups on its NICs).
        var adopted = await hub.ExecuteAsync(host.Id, Step(request.CommandId + LiveMigrationSteps.AdoptSuffix, LiveMigrationSteps.MigrateLiveAdopt), actionTimeout, ct).ConfigureAwait(false);
        // The domain runs on the new host whatever this step says: the migration is done.
        return new DriverReply(true, adopted.Success ? "" : $"host {host.Name} did not record the VM: {adopted.Message}", adopted.Success ? adopted.DeployId : moved.DeployId);
    }

    private async Task<DriverReply> AbortAsync(DriverRequest request, Host host, string specJson, string reason, CancellationToken ct)
    {
        var abort = new Command
        {
            CommandId = request.CommandId + LiveMigrationSteps.AbortSuffix,
            VmId = request.VmId,
            Op = LiveMigrationSteps.MigrateLiveAbort,
            SpecJson = specJson,
        };
        var r = await hub.ExecuteAsync(host.Id, abort, actionTimeout, ct).ConfigureAwait(false);
        return new DriverReply(false, r.Success ? reason : $"{reason} (and host {host.Name} could not remove what it had prepared: {r.Message})");
    }
}

/// <summary>
/// Host monitoring for agent hosts: agents push their facts; a probe reads the latest. A host whose
/// agent is not connected, or has not reported for three intervals, fails the probe with the reason —
/// except during the grace period after this front-end started leading (<see cref="AgentHub.GraceLeft"/>):
/// the agents are then still reconnecting from the previous leader, and the host keeps its state.
/// </summary>
public sealed class AgentHostProbe(string name, AgentHub hub, FrontendOptions options, TimeProvider time) : IHostProbe
{
    public string Name { get; } = name;

    public Task<HostProbeResult?> ProbeAsync(Host host, CancellationToken cancellationToken)
    {
        var fresh = hub.Facts(host.Id) is { } f0 && hub.IsConnected(host.Id)
                    && time.GetUtcNow().ToUnixTimeSeconds() - f0.At <= 3 * Math.Max(1, options.MonitorInterval) + 5;
        if (!fresh && hub.GraceLeft() is var left and > 0)
            throw new HostProbeDeferredException($"Waiting up to {left} s more for the host's agent to connect to this front-end (it started leading recently).");
        if (hub.Facts(host.Id) is not { } latest)
            throw new HostDriverException(hub.IsConnected(host.Id)
                ? "The host's agent is connected but has not reported yet."
                : "No agent has connected for this host yet (join it with `edgecloud agent --join-token`).");
        var age = time.GetUtcNow().ToUnixTimeSeconds() - latest.At;
        if (!hub.IsConnected(host.Id) || age > 3 * Math.Max(1, options.MonitorInterval) + 5)
            throw new HostDriverException($"The host's agent is not connected (last report {age} s ago).");
        var f = latest.Facts;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["HYPERVISOR"] = f.Hypervisor,
            ["HOSTNAME"] = f.Hostname,
            ["MODELNAME"] = f.CpuModel,
            ["CPUSPEED"] = f.CpuMhz.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["KERNEL"] = f.Kernel,
            ["ARCH"] = f.Arch,
        };
        foreach (var (k, v) in f.Extra) attributes[k] = v;
        foreach (var k in attributes.Where(kv => kv.Value.Length == 0).Select(kv => kv.Key).ToList()) attributes.Remove(k);
        return Task.FromResult<HostProbeResult?>(new HostProbeResult(f.TotalCpu, f.TotalMemoryKb, f.TotalDiskMb, f.UsedCpu, f.UsedMemoryKb, f.FreeDiskMb, attributes));
    }
}
