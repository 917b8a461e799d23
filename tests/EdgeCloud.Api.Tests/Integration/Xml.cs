using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Client;
using Xunit.Sdk;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>Reading OpenNebula documents in tests: the root of an answer, and typed values by element path.</summary>
public static class Xml
{
    /// <summary>Calls a method that answers an XML document and returns its root element.</summary>
    public static async Task<XElement> InfoAsync(this OneClient client, string method, params object?[] args) =>
        (await client.CallXmlAsync(method, args)).Root!;

    /// <summary>The element at a path such as "TEMPLATE/CPU"; fails when it is missing.</summary>
    public static XElement At(this XElement e, string path)
    {
        var cur = e;
        foreach (var part in path.Split('/'))
            cur = cur.Element(part) ?? throw new XunitException($"<{e.Name}> has no {path} (missing {part}):\n{e}");
        return cur;
    }

    public static bool Has(this XElement e, string path)
    {
        var cur = e;
        foreach (var part in path.Split('/'))
        {
            cur = cur.Element(part);
            if (cur is null) return false;
        }
        return true;
    }

    public static string Str(this XElement e, string path) => e.At(path).Value;

    public static int Int(this XElement e, string path) => int.Parse(e.At(path).Value, CultureInfo.InvariantCulture);

    public static long Long(this XElement e, string path) => long.Parse(e.At(path).Value, CultureInfo.InvariantCulture);

    public static double Double(this XElement e, string path) => double.Parse(e.At(path).Value, CultureInfo.InvariantCulture);

    /// <summary>The ids listed as &lt;ID&gt; children of the element at <paramref name="path"/> (USERS, VMS, HOSTS...).</summary>
    public static List<int> Ids(this XElement e, string path) =>
        e.At(path).Elements("ID").Select(x => int.Parse(x.Value, CultureInfo.InvariantCulture)).ToList();

    /// <summary>The pool's entries: its children holding an ID, except the QUOTAS blocks of user and group pools.</summary>
    public static IEnumerable<XElement> Entries(this XElement pool) =>
        pool.Elements().Where(x => x.Element("ID") is not null && x.Name.LocalName != "QUOTAS");

    /// <summary>The ids of the pool entries.</summary>
    public static List<int> EntryIds(this XElement pool) =>
        pool.Entries().Select(x => int.Parse(x.Element("ID")!.Value, CultureInfo.InvariantCulture)).ToList();

    /// <summary>The pool entry with that ID.</summary>
    public static XElement Entry(this XElement pool, int id) =>
        pool.Entries().FirstOrDefault(x => x.Element("ID")?.Value == id.ToString(CultureInfo.InvariantCulture))
        ?? throw new XunitException($"<{pool.Name}> has no entry {id}:\n{pool}");

    /// <summary>The permission bits as OpenNebula's octal string, e.g. "640".</summary>
    public static string Octal(this XElement obj)
    {
        var p = obj.At("PERMISSIONS");
        int Digit(string who) => (p.Int(who + "_U") << 2) | (p.Int(who + "_M") << 1) | p.Int(who + "_A");
        return $"{Digit("OWNER")}{Digit("GROUP")}{Digit("OTHER")}";
    }
}
