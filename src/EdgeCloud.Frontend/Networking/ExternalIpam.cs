using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.Networking;

/// <summary>
/// External IPAM drivers as OpenNebula runs them: IPAM_MAD = NAME selects the directory
/// <c>IpamDrivers/NAME</c>, holding one executable per action (register_address_range,
/// unregister_address_range, get_address, allocate_address, free_address). Each is started with a
/// request id as its argument and, on stdin, the base64 of
/// <c>&lt;IPAM_DRIVER_ACTION_DATA&gt;&lt;AR&gt;…&lt;/AR&gt;[&lt;ADDRESS&gt;&lt;IP/&gt;&lt;SIZE/&gt;&lt;/ADDRESS&gt;]&lt;/IPAM_DRIVER_ACTION_DATA&gt;</c>.
/// Exit 0 is success; register answers <c>AR = [ … ]</c>, get_address <c>ADDRESS = [ IP = …, SIZE = … ]</c>
/// on stdout. Anything else is an <see cref="IpamException"/> with the driver's stderr.
/// </summary>
public sealed partial class ExternalIpamDrivers(string directory, TimeSpan timeout) : IIpamDrivers
{
    private readonly Dictionary<string, ExternalIpamDriver> _drivers = [];
    private readonly Lock _lock = new();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    internal static partial Regex SafeName();

    public IIpamDriver? Find(string ipamMad)
    {
        if (!SafeName().IsMatch(ipamMad) || !Directory.Exists(Path.Combine(directory, ipamMad))) return null;
        lock (_lock)
        {
            if (!_drivers.TryGetValue(ipamMad, out var d)) _drivers[ipamMad] = d = new ExternalIpamDriver(ipamMad, Path.Combine(directory, ipamMad), timeout);
            return d;
        }
    }

    public IReadOnlyCollection<string> Names =>
        Directory.Exists(directory) ? Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>().Where(n => SafeName().IsMatch(n)).Order().ToList() : [];
}

/// <summary>One external IPAM driver directory (see <see cref="ExternalIpamDrivers"/>).</summary>
public sealed class ExternalIpamDriver(string name, string directory, TimeSpan timeout) : IIpamDriver
{
    private static long _requests;

    public string Name => name;

    public async Task<VectorAttribute> RegisterAddressRangeAsync(VectorAttribute ar, CancellationToken ct)
    {
        var output = await RunAsync("register_address_range", ar, null, ct).ConfigureAwait(false);
        return Parse(output, "AR", "register_address_range");
    }

    public Task UnregisterAddressRangeAsync(VectorAttribute ar, CancellationToken ct) => RunAsync("unregister_address_range", ar, null, ct);

    public async Task<IpamAddress> GetAddressAsync(VectorAttribute ar, int size, CancellationToken ct)
    {
        var output = await RunAsync("get_address", ar, new IpamAddress("", size), ct).ConfigureAwait(false);
        var a = Parse(output, "ADDRESS", "get_address");
        var ip = a["IP"] ?? throw new IpamException("get_address answered an ADDRESS without IP");
        return new IpamAddress(ip, a.GetInt("SIZE") ?? size);
    }

    public Task AllocateAddressAsync(VectorAttribute ar, IpamAddress address, CancellationToken ct) => RunAsync("allocate_address", ar, address, ct);

    public Task FreeAddressAsync(VectorAttribute ar, IpamAddress address, CancellationToken ct) => RunAsync("free_address", ar, address, ct);

    /// <summary>The base64 document an action reads on stdin.</summary>
    public static string ActionData(VectorAttribute ar, IpamAddress? address)
    {
        var arXml = new XElement("AR", ar.Values.Where(kv => !kv.Key.Contains('/', StringComparison.Ordinal)).Select(kv => new XElement(kv.Key, kv.Value)));
        var doc = new XElement("IPAM_DRIVER_ACTION_DATA", arXml);
        if (address is not null)
        {
            var a = new XElement("ADDRESS");
            if (address.Ip.Length > 0) a.Add(new XElement("IP", address.Ip));
            a.Add(new XElement("SIZE", address.Size));
            doc.Add(a);
        }
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(doc.ToString(SaveOptions.DisableFormatting)));
    }

    private static VectorAttribute Parse(string output, string vector, string action)
    {
        Template t;
        try { t = Template.Parse(output); }
        catch (TemplateParseException e) { throw new IpamException($"{action} answered something that is not a template ({e.Message}): {Short(output)}"); }
        return t.Vector(vector) ?? throw new IpamException($"{action} answered no {vector} = [ ... ]: {Short(output)}");
    }

    private async Task<string> RunAsync(string action, VectorAttribute ar, IpamAddress? address, CancellationToken ct)
    {
        var exe = Path.Combine(directory, action);
        if (!File.Exists(exe)) throw new IpamException($"driver \"{name}\" has no {action} action");
        var psi = new ProcessStartInfo(exe, Interlocked.Increment(ref _requests).ToString(System.Globalization.CultureInfo.InvariantCulture)) { WorkingDirectory = directory };
        var (exit, output, error) = await DriverExecutable.RunAsync(psi, ActionData(ar, address), timeout, $"{action} of driver \"{name}\"", ct).ConfigureAwait(false);
        if (exit != 0)
            throw new IpamException($"{action} failed (exit {exit}): {(error.Length > 0 ? Short(error) : Short(output.Trim()))}");
        return output;
    }

    private static string Short(string s) => DriverExecutable.Short(s);
}

/// <summary>
/// After a commit: tells external IPAMs about addresses that were freed (free_address) and ranges that
/// were removed (unregister_address_range). The state is already changed; a failure is logged.
/// </summary>
public sealed class IpamReleaser(Func<Cloud> cloud, ILogger<IpamReleaser> logger) : IStateObserver
{
    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case IpamAddressFreed f:
                    _ = Run(f.IpamMad, $"free_address {f.Ip}", d => d.FreeAddressAsync(f.Ar, new IpamAddress(f.Ip), CancellationToken.None));
                    break;
                case IpamRangeRemoved r:
                    _ = Run(r.IpamMad, $"unregister_address_range {r.Ar["IP"]}", d => d.UnregisterAddressRangeAsync(r.Ar, CancellationToken.None));
                    break;
            }
        }
    }

    private async Task Run(string mad, string what, Func<IIpamDriver, Task> action)
    {
        await Task.Yield();
        try
        {
            var driver = cloud().Ipam?.Find(mad) ?? throw new IpamException($"driver \"{mad}\" is not configured");
            await action(driver).ConfigureAwait(false);
        }
        catch (IpamException ex)
        {
            logger.LogWarning("IPAM {Driver}: {What} failed: {Reason}", mad, what, ex.Message);
        }
    }
}
