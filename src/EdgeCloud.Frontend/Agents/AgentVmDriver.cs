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
