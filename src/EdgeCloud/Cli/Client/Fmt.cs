using System.Globalization;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>Reading pool documents and formatting values the way OpenNebula's CLI prints them.</summary>
public static class Fmt
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The text at a slash path below <paramref name="e"/> ("" when absent).</summary>
    public static string S(XElement e, string path)
    {
        ArgumentNullException.ThrowIfNull(e);
        XElement? cur = e;
        foreach (var part in path.Split('/'))
        {
            cur = cur.Element(part);
            if (cur is null) return "";
        }
        return cur.Value;
    }

    /// <summary>The number at a path (0 when absent or not a number).</summary>
    public static long L(XElement e, string path) => long.TryParse(S(e, path), NumberStyles.AllowLeadingSign, Inv, out var v) ? v : 0;

    public static double D(XElement e, string path) => double.TryParse(S(e, path), NumberStyles.Float, Inv, out var v) ? v : 0;

    /// <summary>IDs listed as <c>&lt;X&gt;&lt;ID&gt;..&lt;/ID&gt;...&lt;/X&gt;</c>, comma separated.</summary>
    public static string Ids(XElement e, string path)
    {
        var list = e.Element(path);
        return list is null ? "" : string.Join(",", list.Elements("ID").Select(x => x.Value));
    }

    public static int Count(XElement e, string path) => e.Element(path)?.Elements("ID").Count() ?? 0;

    public static string N(long v) => v.ToString(Inv);

    public static string N(double v) => v.ToString("0.##", Inv);

    /// <summary>A size given in MB as OpenNebula prints it: <c>512M</c>, <c>1.5G</c>, <c>2T</c>.</summary>
    public static string Mb(double mb)
    {
        if (mb < 0) return "-";
        if (mb < 1024) return N(Math.Round(mb, 1)) + "M";
        if (mb < 1024 * 1024) return (mb / 1024).ToString("0.#", Inv) + "G";
        return (mb / (1024 * 1024)).ToString("0.#", Inv) + "T";
    }

    /// <summary>A size given in KB (host memory).</summary>
    public static string Kb(double kb) => Mb(kb / 1024);

    /// <summary>A KB size given as text (show decoders).</summary>
    public static string KbText(string kb) => double.TryParse(kb, NumberStyles.Float, Inv, out var v) ? Kb(v) : kb;

    /// <summary>An MB size given as text (show decoders).</summary>
    public static string MbText(string mb) => double.TryParse(mb, NumberStyles.Float, Inv, out var v) ? Mb(v) : mb;

    public static string Percent(double part, double total) => total <= 0 ? "-" : N(Math.Round(100 * part / total)) + "%";

    /// <summary>Epoch seconds as local date and time, "-" for 0.</summary>
    public static string Date(long epoch) =>
        epoch <= 0 ? "-" : DateTimeOffset.FromUnixTimeSeconds(epoch).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Inv);

    public static string Date(string epoch) => long.TryParse(epoch, NumberStyles.AllowLeadingSign, Inv, out var v) ? Date(v) : epoch;

    /// <summary>An elapsed time the way <c>onevm list</c> shows TIME: <c>0d 03h12</c>.</summary>
    public static string Elapsed(long start, long end)
    {
        if (start <= 0) return "-";
        var stop = end > 0 ? end : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var span = TimeSpan.FromSeconds(Math.Max(0, stop - start));
        return string.Create(Inv, $"{(int)span.TotalDays}d {span.Hours:00}h{span.Minutes:00}");
    }

    /// <summary>PERMISSIONS as the three <c>um-</c> triplets of <c>show</c>.</summary>
    public static IEnumerable<(string, string)> Permissions(XElement perms)
    {
        foreach (var (who, tag) in new[] { ("OWNER", "OWNER"), ("GROUP", "GROUP"), ("OTHER", "OTHER") })
        {
            var u = S(perms, tag + "_U") == "1" ? "u" : "-";
            var m = S(perms, tag + "_M") == "1" ? "m" : "-";
            var a = S(perms, tag + "_A") == "1" ? "a" : "-";
            yield return (who, u + m + a);
        }
    }

    /// <summary>The octal form (<c>640</c>) of PERMISSIONS, as list columns show it.</summary>
    public static string Octal(XElement e)
    {
        var p = e.Element("PERMISSIONS");
        if (p is null) return "";
        int Digit(string t) => (S(p, t + "_U") == "1" ? 4 : 0) + (S(p, t + "_M") == "1" ? 2 : 0) + (S(p, t + "_A") == "1" ? 1 : 0);
        return string.Create(Inv, $"{Digit("OWNER")}{Digit("GROUP")}{Digit("OTHER")}");
    }

    /// <summary>Maps an enum number to its name (the number itself when unknown).</summary>
    public static string EnumName<T>(string value) where T : struct, Enum =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, Inv, out var n) && Enum.IsDefined(typeof(T), n) ? ((T)(object)n).ToString() : value;

    public static string YesNo(string value) => value == "1" ? "Yes" : value == "0" ? "No" : value;
}
