using System.Collections.Concurrent;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Agent;

/// <summary>
/// A hypervisor that runs nothing: domains are entries in memory. For exercising the agent protocol and
/// many agents at scale (`edgecloud agent --hypervisor dummy`); never a substitute for kvm/lxc tests.
/// Domains do not survive an agent restart (as if the host had rebooted).
/// </summary>
public sealed class DummyHypervisor : IHypervisor
{
    private readonly ConcurrentDictionary<string, (DomainState State, VmSpec Spec)> _domains = new(StringComparer.Ordinal);
    private readonly TimeSpan _delay;

    /// <param name="delay">How long every action takes (to test what happens while one is under way).</param>
    public DummyHypervisor(TimeSpan delay = default) => _delay = delay;

    public string Name => "dummy";

    public Task<string> DeployAsync(VmSpec spec, CancellationToken ct)
    {
        _domains[spec.DomainName] = (DomainState.Running, spec);
        return Task.FromResult(spec.DomainName);
    }

    public async Task ShutdownAsync(string domain, TimeSpan timeout, CancellationToken ct)
    {
        if (_delay > TimeSpan.Zero) await Task.Delay(_delay, ct).ConfigureAwait(false);
        await Remove(domain).ConfigureAwait(false);
    }

    public Task DestroyAsync(string domain, CancellationToken ct) => Remove(domain);
    public Task RebootAsync(string domain, CancellationToken ct) => Require(domain);
    public Task ResetAsync(string domain, CancellationToken ct) => Require(domain);

    public async Task SaveAsync(string domain, string checkpointPath, CancellationToken ct)
    {
        await Require(domain).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(checkpointPath)!);
        await File.WriteAllTextAsync(checkpointPath, domain, ct).ConfigureAwait(false);
        _domains.TryRemove(domain, out _);
    }

    public Task RestoreAsync(VmSpec spec, string checkpointPath, CancellationToken ct)
    {
        if (!File.Exists(checkpointPath)) throw new HostDriverException($"No checkpoint at {checkpointPath}.");
        _domains[spec.DomainName] = (DomainState.Running, spec);
        return Task.CompletedTask;
    }

    public Task AttachDiskAsync(string domain, DiskSpec disk, CancellationToken ct) => Require(domain);
    public Task DetachDiskAsync(string domain, DiskSpec disk, CancellationToken ct) => Require(domain);
    public Task AttachNicAsync(string domain, NicSpec nic, CancellationToken ct) => Require(domain);
    public Task DetachNicAsync(string domain, NicSpec nic, CancellationToken ct) => Require(domain);
    public Task SnapshotCreateAsync(string domain, string snapshot, CancellationToken ct) => Require(domain);
    public Task SnapshotRevertAsync(string domain, string snapshot, CancellationToken ct) => Require(domain);
    public Task SnapshotDeleteAsync(string domain, string snapshot, CancellationToken ct) => Require(domain);
    public Task ResizeAsync(string domain, int vcpu, long memoryMb, CancellationToken ct) => Require(domain);

    public Task MigrateAsync(string domain, string destinationUri, bool live, CancellationToken ct) =>
        throw new HostDriverException("The dummy hypervisor cannot migrate.");

    public Task<IReadOnlyList<DomainStatus>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<DomainStatus>>(_domains.Select(kv => new DomainStatus
        {
            Name = kv.Key, State = kv.Value.State, MemoryKb = kv.Value.Spec.MemoryMb * 1024,
        }).ToList());

    public Task<IReadOnlyDictionary<string, string>> FactsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["HYPERVISOR"] = "dummy" });

    private Task Remove(string domain)
    {
        _domains.TryRemove(domain, out _);
        return Task.CompletedTask;
    }

    private Task Require(string domain) =>
        _domains.ContainsKey(domain) ? Task.CompletedTask : throw new HostDriverException($"Domain {domain} is not running.");
}
