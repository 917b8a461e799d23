using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    /// <summary>The external IPAM drivers (IPAM_MAD); null = only the built-in IPAM (address ranges naming another driver are refused).</summary>
    public IIpamDrivers? Ipam { get; set; }

    /// <summary>Whether any address range of the state names an external IPAM (else commands run in one pass).</summary>
    private static bool AnyExternalIpam(StateSnapshot s) =>
        s.All<VNet>(ObjectType.VNet).Any(n => n.AddressRanges.Any(a => IpamScope.ExternalMad(a) is not null));

    private IIpamDriver IpamDriver(string mad, Func<string, CloudException> fault) =>
        Ipam?.Find(mad) ?? throw fault(
            $"IPAM driver \"{mad}\" is not configured on the front-end (IPAM_MAD); configured: {(Ipam is null || Ipam.Names.Count == 0 ? "none" : string.Join(", ", Ipam.Names))}.");

    private static CloudException InternalFault(string message) => CloudException.Internal(message);

    /// <summary>
    /// Runs a command that may lease addresses, asking external IPAMs for them first (see <see cref="IpamScope"/>).
    /// IPAM failures become <paramref name="fault"/>s; nothing stays leased, in the state or in the IPAM, when anything fails.
    /// </summary>
    private async Task<T> ExecuteLeasingAsync<T>(Func<StateTransaction, T> decide, Func<string, CloudException> fault, CancellationToken ct)
    {
        var snapshot = bus.Current;
        if (!AnyExternalIpam(snapshot)) return await bus.ExecuteAsync(decide, ct).ConfigureAwait(false);
        var discovery = IpamScope.ForDiscovery();
        using (discovery.Enter())
            decide(new StateTransaction(snapshot, time.GetUtcNow().ToUnixTimeSeconds())); // refusals surface here, before any IPAM call
        if (discovery.Needs.Count == 0) return await bus.ExecuteAsync(decide, ct).ConfigureAwait(false);

        var grants = new List<IpamGrant>();
        try
        {
            foreach (var need in discovery.Needs)
            {
                var driver = IpamDriver(need.IpamMad, fault);
                string ip;
                try
                {
                    if (need.WantIp is { } want)
                    {
                        await driver.AllocateAddressAsync(need.Ar, new IpamAddress(want), ct).ConfigureAwait(false);
                        ip = want;
                    }
                    else ip = (await driver.GetAddressAsync(need.Ar, 1, ct).ConfigureAwait(false)).Ip;
                }
                catch (IpamException e)
                {
                    throw fault($"IPAM driver \"{need.IpamMad}\" could not give an address of address range {need.ArId} of virtual network {need.NetId} ({need.What}): {e.Message}");
                }
                grants.Add(new IpamGrant(need, ip));
            }
            var scope = IpamScope.WithGrants(grants);
            var result = await bus.ExecuteAsync(tx =>
            {
                using (scope.Enter()) return decide(tx);
            }, ct).ConfigureAwait(false);
            await FreeGrantsAsync(grants.Where(g => !g.Used)).ConfigureAwait(false);
            return result;
        }
        catch
        {
            await FreeGrantsAsync(grants).ConfigureAwait(false);
            throw;
        }
    }

    private async Task FreeGrantsAsync(IEnumerable<IpamGrant> grants)
    {
        foreach (var g in grants.ToList())
        {
            try { await IpamDriver(g.Need.IpamMad, InternalFault).FreeAddressAsync(g.Need.Ar, new IpamAddress(g.Ip), CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is IpamException or CloudException) { IpamFreeFailed?.Invoke(g.Need.IpamMad, g.Ip, e.Message); }
        }
    }

    /// <summary>Called when giving an address back to an IPAM failed (the front-end logs it).</summary>
    public Action<string, string, string>? IpamFreeFailed { get; set; }

    /// <summary>
    /// register_address_range for every AR of <paramref name="ars"/> with an external IPAM_MAD: the AR
    /// becomes what the IPAM answered (IPAM_MAD kept). Returns the registered ones, to unregister if the
    /// request fails later. A failure unregisters what was registered and is a <paramref name="fault"/>.
    /// </summary>
    private async Task<List<VectorAttribute>> RegisterArsAsync(List<VectorAttribute> ars, Func<string, CloudException> fault, CancellationToken ct)
    {
        var registered = new List<VectorAttribute>();
        for (var i = 0; i < ars.Count; i++)
        {
            if (IpamScope.ExternalMad(ars[i]) is not { } mad) continue;
            var driver = IpamDriver(mad, fault);
            VectorAttribute answer;
            try
            {
                if (ars[i]["TYPE"] is null || ars[i].GetInt("SIZE") is not > 0)
                    throw new IpamException("the AR needs TYPE and a positive SIZE");
                answer = await driver.RegisterAddressRangeAsync(ars[i], ct).ConfigureAwait(false);
            }
            catch (IpamException e)
            {
                await UnregisterAsync(registered).ConfigureAwait(false);
                throw fault($"IPAM driver \"{mad}\" could not register the address range: {e.Message}");
            }
            var ar = new VectorAttribute("AR", answer.Values);
            ar.Set("IPAM_MAD", mad);
            ars[i] = ar;
            registered.Add(ar);
        }
        return registered;
    }

    private async Task UnregisterAsync(IEnumerable<VectorAttribute> ars)
    {
        foreach (var ar in ars)
        {
            try { await IpamDriver(IpamScope.ExternalMad(ar)!, InternalFault).UnregisterAddressRangeAsync(ar, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is IpamException or CloudException) { IpamFreeFailed?.Invoke(ar["IPAM_MAD"] ?? "", ar["IP"] ?? "", e.Message); }
        }
    }

    /// <summary>A network template with its external ARs registered (one.vn.allocate); the ARs are replaced in <paramref name="t"/>.</summary>
    private async Task<List<VectorAttribute>> RegisterTemplateArsAsync(Template t, Func<string, CloudException> fault, CancellationToken ct)
    {
        var ars = t.Vectors("AR").ToList();
        if (!ars.Any(a => IpamScope.ExternalMad(a) is not null)) return [];
        var registered = await RegisterArsAsync(ars, fault, ct).ConfigureAwait(false);
        t.Remove("AR");
        foreach (var ar in ars) t.Add(ar);
        return registered;
    }

    /// <summary>Runs <paramref name="action"/>; unregisters <paramref name="registered"/> if it fails.</summary>
    private async Task<T> UnregisterOnFailureAsync<T>(List<VectorAttribute> registered, Func<Task<T>> action)
    {
        try { return await action().ConfigureAwait(false); }
        catch
        {
            await UnregisterAsync(registered).ConfigureAwait(false);
            throw;
        }
    }
}

public sealed partial class Cloud
{
    /// <summary>A network-side failure for a VM (e.g. an elastic-IP hook): USER_TEMPLATE/ERROR, as driver failures; leases are untouched.</summary>
    public Task VmNetworkErrorAsync(int vmId, string message, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Vm>(ObjectType.Vm, vmId) is { } vm) tx.Put(VmLifeCycle.WithError(vm, tx.Now, message));
        }, ct);
}
