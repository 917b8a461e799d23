using System.Globalization;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>
/// A PCI device a host offers (host TEMPLATE <c>PCI = [ VENDOR, DEVICE, CLASS, SHORT_ADDRESS, VMID ]</c>).
/// A device with a VMID other than -1 is already attached to a VM.
/// </summary>
internal sealed class PciDevice
{
    public int? Vendor { get; init; }
    public int? Device { get; init; }
    public int? Class { get; init; }
    public string Address { get; init; } = "";
    public bool Used { get; set; }

    public static PciDevice[] FromHost(Template template)
    {
        List<PciDevice>? list = null;
        var i = 0;
        foreach (var v in template.Vectors("PCI"))
        {
            var vmid = v["VMID"];
            (list ??= []).Add(new PciDevice
            {
                Vendor = PciRequest.Hex(v["VENDOR"]),
                Device = PciRequest.Hex(v["DEVICE"]),
                Class = PciRequest.Hex(v["CLASS"]),
                Address = v["SHORT_ADDRESS"] ?? v["ADDRESS"] ?? $"PCI[{i}]",
                Used = !(string.IsNullOrWhiteSpace(vmid) || vmid.Trim() == "-1"),
            });
            i++;
        }
        return list is null ? [] : [.. list];
    }
}

/// <summary>
/// A PCI device a VM asks for (VM TEMPLATE <c>PCI = [ VENDOR, DEVICE, CLASS ]</c> or a
/// <c>SHORT_ADDRESS</c>): absent fields match anything. Hex values compare numerically, so
/// "10DE", "10de" and "0x10de" are the same vendor.
/// </summary>
internal sealed record PciRequest(int? Vendor, int? Device, int? Class, string? Address, bool Invalid)
{
    public static PciRequest[] FromVectors(IEnumerable<VectorAttribute> vectors)
    {
        List<PciRequest>? list = null;
        foreach (var v in vectors)
        {
            var vendor = v["VENDOR"];
            var device = v["DEVICE"];
            var cls = v["CLASS"];
            var invalid = (vendor is not null && Hex(vendor) is null) || (device is not null && Hex(device) is null) ||
                          (cls is not null && Hex(cls) is null);
            (list ??= []).Add(new PciRequest(Hex(vendor), Hex(device), Hex(cls), v["SHORT_ADDRESS"], invalid));
        }
        return list is null ? [] : [.. list];
    }

    public static int? Hex(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return null;
        var t = s.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        return int.TryParse(t, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    public bool Matches(PciDevice d) =>
        !Invalid && !d.Used &&
        (Address is null || string.Equals(Address, d.Address, StringComparison.OrdinalIgnoreCase)) &&
        (Vendor is null || Vendor == d.Vendor) && (Device is null || Device == d.Device) && (Class is null || Class == d.Class);

    public string Key => $"{Vendor}:{Device}:{Class}:{Address}:{Invalid}";

    /// <summary>
    /// Assigns one distinct free device to each request (bipartite matching by augmenting paths:
    /// a greedy first-fit could give a generic request the only device a specific one can use).
    /// </summary>
    public static bool TryMatch(PciRequest[] requests, PciDevice[] devices, int[]? assignment)
    {
        if (requests.Length == 0) return true;
        if (devices.Length < requests.Length) return false;
        var owner = new int[devices.Length];
        Array.Fill(owner, -1);
        for (var r = 0; r < requests.Length; r++)
        {
            var seen = new bool[devices.Length];
            if (!Augment(r, requests, devices, owner, seen)) return false;
        }
        if (assignment is not null)
            for (var d = 0; d < devices.Length; d++)
                if (owner[d] >= 0) assignment[owner[d]] = d;
        return true;
    }

    private static bool Augment(int r, PciRequest[] requests, PciDevice[] devices, int[] owner, bool[] seen)
    {
        for (var d = 0; d < devices.Length; d++)
        {
            if (seen[d] || !requests[r].Matches(devices[d])) continue;
            seen[d] = true;
            if (owner[d] < 0 || Augment(owner[d], requests, devices, owner, seen))
            {
                owner[d] = r;
                return true;
            }
        }
        return false;
    }
}
