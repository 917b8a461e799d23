using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// IPAM under load through the API: 8 clients at once take all 1,000 addresses of a network with VM
/// NICs, holds and reservations mixed; no address or MAC is handed out twice, every refusal once the
/// network is full is a clear error, and a refused VM keeps no lease in its other networks.
/// </summary>
public abstract class IpamConcurrencyTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private sealed record Outcome(ConcurrentBag<int> Vms, ConcurrentBag<int> TwoNicVms, ConcurrentBag<string> Holds, ConcurrentBag<int> Reservations, ConcurrentBag<OneException> Full);

    [BackendFact]
    public async Task EightClients_TakeAThousandLeases_VmsHoldsAndReservations_NoAddressTwice_ThenAClearExhaustionError()
    {
        // 10.200.0.1 + 1,000 crosses three octet boundaries (the last address is 10.200.3.232).
        var net = await NewNetAsync(1000, "10.200.0.1");
        var side = await NewNetAsync(1000, "10.201.0.1");
        var o = new Outcome([], [], [], [], []);
        var (_, user) = await NewUserAsync();
        foreach (var n in new[] { net, side }) await Admin.CallAsync("one.vn.chmod", n, 1, 1, 0, 1, 0, 0, 1, 0, 0);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(() => ClientAsync(c, c % 2 == 0 ? Admin : user, net, side, o))));

        var parent = await Admin.InfoAsync("one.vn.info", net);
        var leases = parent.At("AR_POOL/AR/LEASES").Elements("LEASE").ToList();
        Assert.Equal(1000, parent.Int("USED_LEASES"));
        Assert.Equal(1000, leases.Count);
        Assert.Equal(1000, leases.Select(l => l.Str("IP")).Distinct().Count());
        Assert.Equal(1000, leases.Select(l => l.Str("MAC")).Distinct().Count());
        Assert.All(leases, l => Assert.InRange(Ip(l.Str("IP")), Ip("10.200.0.1"), Ip("10.200.3.232")));

        // Every VM lease belongs to a VM that was created, with the IP that VM shows, once.
        var pool = await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, -1, "");
        var vmIps = o.Vms.ToDictionary(id => id, id => pool.Entry(id).Elements("TEMPLATE").Elements("NIC").Single(n => n.Int("NETWORK_ID") == net).Str("IP"));
        var vmLeases = leases.Where(l => l.Int("VM") >= 0).ToList();
        Assert.Equal(o.Vms.Order(), vmLeases.Select(l => l.Int("VM")).Order());
        Assert.All(vmLeases, l => Assert.Equal(vmIps[l.Int("VM")], l.Str("IP")));

        // Holds and reservations are the VM -1 leases, and the reservations' ranges do not overlap.
        var reserved = new List<string>();
        foreach (var r in o.Reservations)
        {
            var ar = (await Admin.InfoAsync("one.vn.info", r)).At("AR_POOL/AR");
            reserved.AddRange(Enumerable.Range(0, ar.Int("SIZE")).Select(k => Str(Ip(ar.Str("IP")) + (uint)k)));
        }
        Assert.Equal(reserved.Count, reserved.Distinct().Count());
        var heldOrReserved = leases.Where(l => l.Int("VM") == -1).Select(l => l.Str("IP")).Order().ToList();
        Assert.Equal(o.Holds.Concat(reserved).Order(), heldOrReserved);
        Assert.NotEmpty(o.Holds);
        Assert.NotEmpty(o.Reservations);

        // Once full, every client got the clear "no free address" error, and refused two-NIC VMs kept no lease on the side network.
        Assert.NotEmpty(o.Full);
        Assert.All(o.Full, e => Assert.Contains($"virtual network {net}", e.Message, StringComparison.Ordinal));
        Assert.Equal(o.TwoNicVms.Count, (await Admin.InfoAsync("one.vn.info", side)).Int("USED_LEASES"));
    }

    private async Task ClientAsync(int c, OneClient client, int net, int side, Outcome o)
    {
        var rnd = new Random(c);
        for (var i = 0; ; i++)
        {
            try
            {
                switch (i % 12)
                {
                    case 5: // hold (needs MANAGE: oneadmin) an address another client may be taking right now
                        var ip = Str(Ip("10.200.0.1") + (uint)rnd.Next(1000));
                        try
                        {
                            await Admin.CallAsync("one.vn.hold", net, $"LEASES = [ IP = {ip} ]");
                            o.Holds.Add(ip);
                        }
                        catch (OneException e) when (e.Message.Contains("already in use", StringComparison.Ordinal)) { }
                        break;
                    case 9: // a reservation of 3 contiguous addresses
                        try { o.Reservations.Add(await client.CallIntAsync("one.vn.reserve", net, $"SIZE = 3\nNAME = \"{Unique("resv")}\"")); }
                        catch (OneException e) when (e.Message.Contains("Not enough free addresses", StringComparison.Ordinal)) { }
                        break;
                    case 2 or 7: // a VM whose second NIC is on the contested network
                        var two = await NewVmAsync($"NIC = [ NETWORK_ID = {side} ]\nNIC = [ NETWORK_ID = {net} ]\n", hold: true, client: client);
                        o.Vms.Add(two);
                        o.TwoNicVms.Add(two);
                        break;
                    default:
                        o.Vms.Add(await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true, client: client));
                        break;
                }
            }
            catch (OneException e) when (e.IsServerError && e.Message.Contains($"virtual network {net}", StringComparison.Ordinal))
            {
                o.Full.Add(e);
                return; // the network is full for this client
            }
        }
    }

    private static uint Ip(string s)
    {
        var b = IPAddress.Parse(s).GetAddressBytes();
        return (uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3];
    }

    private static string Str(uint v) => string.Create(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}");
}

public sealed class IpamConcurrencyTests_Sqlite(SqliteFrontend fixture) : IpamConcurrencyTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class IpamConcurrencyTests_Postgres(PostgresFrontend fixture) : IpamConcurrencyTests(fixture), IClassFixture<PostgresFrontend>;
