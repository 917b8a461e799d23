using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// Address arithmetic of address ranges. As in oned, a range stores only its first IP/MAC and the lease
/// offsets; every address (a lease's, the range's end, IPv6 derived by SLAAC) is computed from them.
/// Shared by the lease ledger and the XML renderer so both always agree.
/// </summary>
public static class AddressMath
{
    /// <summary>OpenNebula's default MAC_PREFIX (oned.conf): a MAC is the prefix followed by the IPv4 address.</summary>
    public const ushort DefaultMacPrefix = 0x0200;

    public static bool TryParseMac(string? text, out ulong mac)
    {
        mac = 0;
        if (text is null) return false;
        var parts = text.Split(':');
        if (parts.Length != 6) return false;
        foreach (var p in parts)
        {
            if (!byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)) return false;
            mac = (mac << 8) | b;
        }
        return true;
    }

    /// <summary>Lower-case, colon separated, as oned prints MACs.</summary>
    public static string FormatMac(ulong mac)
    {
        mac &= 0xFFFF_FFFF_FFFFUL;
        return string.Create(17, mac, static (span, m) =>
        {
            for (var i = 0; i < 6; i++)
            {
                var b = (byte)(m >> (40 - 8 * i));
                b.TryFormat(span[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
                if (i < 5) span[i * 3 + 2] = ':';
            }
        });
    }

    public static bool TryParseIPv4(string? text, out uint ip)
    {
        ip = 0;
        if (text is null || !IPAddress.TryParse(text, out var addr) || addr.AddressFamily != AddressFamily.InterNetwork) return false;
        Span<byte> b = stackalloc byte[4];
        addr.TryWriteBytes(b, out _);
        ip = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        return true;
    }

    public static string FormatIPv4(uint ip) => string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 0xFF}.{(ip >> 8) & 0xFF}.{ip & 0xFF}");

    /// <summary>The MAC oned gives an IPv4 range without one: prefix 02:00 then the four IPv4 bytes.</summary>
    public static ulong MacFromIPv4(uint ip) => ((ulong)DefaultMacPrefix << 32) | ip;

    public static bool TryParseIPv6(string? text, out UInt128 ip)
    {
        ip = 0;
        if (text is null) return false;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) text = text[..slash];
        if (!IPAddress.TryParse(text, out var addr) || addr.AddressFamily != AddressFamily.InterNetworkV6) return false;
        Span<byte> b = stackalloc byte[16];
        addr.TryWriteBytes(b, out _);
        foreach (var x in b) ip = (ip << 8) | x;
        return true;
    }

    public static string FormatIPv6(UInt128 ip)
    {
        Span<byte> b = stackalloc byte[16];
        for (var i = 15; i >= 0; i--)
        {
            b[i] = (byte)(ip & 0xFF);
            ip >>= 8;
        }
        return new IPAddress(b).ToString();
    }

    /// <summary>Modified EUI-64 interface id of a MAC (SLAAC): flip the universal/local bit, insert ff:fe.</summary>
    public static ulong Eui64(ulong mac)
    {
        var hi = (mac >> 24) & 0xFF_FFFFUL;
        var lo = mac & 0xFF_FFFFUL;
        return ((hi ^ 0x02_0000UL) << 40) | (0xFFFEUL << 24) | lo;
    }

    /// <summary>The upper 64 bits of <paramref name="prefix"/> followed by <paramref name="interfaceId"/>.</summary>
    public static bool TryCombine(string? prefix, ulong interfaceId, out string address)
    {
        address = "";
        if (!TryParseIPv6(prefix, out var p)) return false;
        var ip = (p & ((UInt128)ulong.MaxValue << 64)) | interfaceId;
        address = FormatIPv6(ip);
        return true;
    }

    /// <summary>First MAC of a range: its MAC, else the default prefix followed by its IPv4 start.</summary>
    public static ulong FirstMac(AddressRange ar)
    {
        if (TryParseMac(ar.Attributes["MAC"], out var mac)) return mac;
        if (TryParseIPv4(ar.Attributes["IP"], out var ip)) return MacFromIPv4(ip);
        return ((ulong)DefaultMacPrefix << 32) | ((ulong)(uint)ar.ArId << 16);
    }

    public static int Size(AddressRange ar) => ar.Attributes.GetInt("SIZE") ?? 0;

    /// <summary>The IPv4 address at offset <paramref name="index"/>, or null for a range without IPv4.</summary>
    public static string? IpAt(AddressRange ar, int index) =>
        TryParseIPv4(ar.Attributes["IP"], out var ip) ? FormatIPv4(ip + (uint)index) : null;

    public static string MacAt(AddressRange ar, int index) => FormatMac(FirstMac(ar) + (ulong)index);

    /// <summary>Offset of an IPv4 address inside the range, or null when it is not in it.</summary>
    public static int? IndexOfIp(AddressRange ar, string ip)
    {
        if (!TryParseIPv4(ar.Attributes["IP"], out var start) || !TryParseIPv4(ip, out var want)) return null;
        var diff = (long)want - start;
        return diff >= 0 && diff < Size(ar) ? (int)diff : null;
    }

    /// <summary>Offset of a MAC inside the range, or null when it is not in it.</summary>
    public static int? IndexOfMac(AddressRange ar, string mac)
    {
        if (!TryParseMac(mac, out var want)) return null;
        var first = FirstMac(ar);
        return want >= first && want - first < (ulong)Size(ar) ? (int)(want - first) : null;
    }
}
