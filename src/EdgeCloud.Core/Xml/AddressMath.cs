using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// The address arithmetic an address range's XML needs: oned stores only the first IP/MAC of a range and
/// the lease offsets, and derives the end addresses and each lease's addresses when it writes the VNET.
/// </summary>
internal static class AddressMath
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
}
