using System.Security.Cryptography;
using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>What a host agent saw of one VM: its domain state (running, paused, shutoff, crashed, missing).</summary>
public sealed record VmObservation(int VmId, string State);

public sealed partial class Cloud
{
    /// <summary>
    /// Makes a one-time join secret for a host's agent (valid for <paramref name="ttl"/>). Only its hash
    /// is kept in the state; the secret itself is returned once. A new secret replaces a pending one.
    /// </summary>
    public async Task<string> HostJoinSecretAsync(Caller caller, int hostId, TimeSpan ttl, CancellationToken ct = default)
    {
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromDays(30)) throw CloudException.Action("The join token lifetime must be between 1 second and 30 days.", hostId);
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await bus.ExecuteAsync(tx =>
        {
            var h = Demand<Host>(tx, caller, ObjectType.Host, hostId, AuthOp.Admin);
            tx.Put(h with { JoinSecretHash = HashSecret(secret), JoinSecretExpires = tx.Now + (long)ttl.TotalSeconds });
            return hostId;
        }, ct).ConfigureAwait(false);
        return secret;
    }

    /// <summary>
    /// Spends a join secret: when it matches the host's pending one and has not expired, it is cleared
    /// (it cannot be used again) and <paramref name="certificateSerial"/> is recorded as the agent's.
    /// </summary>
    public Task<Host> HostJoinAsync(int hostId, string secret, string certificateSerial, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var h = tx.Get<Host>(ObjectType.Host, hostId) ?? throw CloudException.Authentication("Invalid join token: no such host.");
            if (h.JoinSecretHash.Length == 0) throw CloudException.Authentication($"Invalid join token: host {hostId} has no pending join token (it is used once).");
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(h.JoinSecretHash), Encoding.ASCII.GetBytes(HashSecret(secret))))
                throw CloudException.Authentication("Invalid join token.");
            if (tx.Now > h.JoinSecretExpires) throw CloudException.Authentication($"The join token of host {hostId} has expired; create a new one.");
            var joined = h with { JoinSecretHash = "", JoinSecretExpires = 0, AgentCertificate = certificateSerial };
            tx.Put(joined);
            return joined;
        }, ct);

    private static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>
    /// Applies what a host's agent reports of its VMs, as OpenNebula's monitor does: a RUNNING VM whose
    /// domain is gone, shut off or crashed outside the front-end's control goes to POWEROFF (the reason in
    /// its log); a POWEROFF or UNKNOWN VM found running again goes back to RUNNING. VMs in a transient
    /// state are left to their driver action. Writes only when something changed.
    /// </summary>
    public Task VmsObservedAsync(int hostId, IReadOnlyList<VmObservation> observations, CancellationToken ct = default)
    {
        if (observations.Count == 0) return Task.CompletedTask;
        var snapshot = State;
        if (!observations.Any(o => snapshot.Get<Vm>(ObjectType.Vm, o.VmId) is { } vm && NeedsChange(vm, hostId, o.State)))
            return Task.CompletedTask;
        return bus.ExecuteAsync(tx =>
        {
            var lc = LifeCycle;
            foreach (var o in observations)
            {
                if (tx.Get<Vm>(ObjectType.Vm, o.VmId) is not { } vm || !NeedsChange(vm, hostId, o.State)) continue;
                if (o.State is "running" or "paused")
                {
                    lc.Enter(tx, vm, VmState.ACTIVE, LcmState.RUNNING);
                }
                else
                {
                    var why = o.State switch
                    {
                        "crashed" => "the VM crashed on the host",
                        "missing" => "the VM disappeared from the host",
                        _ => "the VM was powered off outside EdgeCloud",
                    };
                    vm = VmLifeCycle.WithError(vm, tx.Now, $"Monitoring: {why}; it is now POWEROFF.");
                    lc.Enter(tx, vm, VmState.POWEROFF, LcmState.LCM_INIT);
                }
            }
            return 0;
        }, ct);
    }

    private static bool NeedsChange(Vm vm, int hostId, string observed)
    {
        if (vm.HostId != hostId) return false;
        var up = observed is "running" or "paused";
        return (vm.State, vm.LcmState, up) switch
        {
            (VmState.ACTIVE, LcmState.RUNNING, false) => true,
            (VmState.POWEROFF, _, true) => true,
            (VmState.ACTIVE, LcmState.UNKNOWN, true) => true,
            _ => false,
        };
    }
}
