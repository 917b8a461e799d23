using System.Collections.Concurrent;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Frontend.Monitoring;

/// <summary>
/// Latest monitoring samples per host and VM, in memory. Monitoring is frequent and disposable, so it
/// is not replicated state; a restarted front-end simply waits for the next probe.
/// </summary>
public sealed class MonitoringStore : IMonitoringSource
{
    private readonly ConcurrentDictionary<int, HostMonitoring> _hosts = new();
    private readonly ConcurrentDictionary<int, VmMonitoring> _vms = new();

    public HostMonitoring? Host(int hostId) => _hosts.TryGetValue(hostId, out var m) ? m : null;

    public VmMonitoring? Vm(int vmId) => _vms.TryGetValue(vmId, out var m) ? m : null;

    public void SetHost(int hostId, HostMonitoring sample) => _hosts[hostId] = sample;

    public void SetVm(int vmId, VmMonitoring sample) => _vms[vmId] = sample;

    public void Forget(int hostId) => _hosts.TryRemove(hostId, out _);
}
