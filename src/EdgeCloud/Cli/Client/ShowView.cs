using System.Text;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>The readable block of <c>show</c>: the object's fields, permissions, kind-specific tables and its template.</summary>
public static class ShowView
{
    private static readonly HashSet<string> Times = new(StringComparer.Ordinal)
    {
        "STIME", "ETIME", "REGTIME", "MODTIME", "LAST_POLL", "LAST_MON_TIME", "TIMESTAMP", "PSTIME", "PETIME", "RSTIME",
        "RETIME", "ESTIME", "EETIME", "LOGIN_TIME", "EXPIRATION_TIME",
    };

    private static readonly HashSet<string> Handled = new(StringComparer.Ordinal) { "PERMISSIONS", "TEMPLATE", "USER_TEMPLATE", "LOCK" };

    public static string Render(OneKind kind, XElement e, int width)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(e);
        var sections = new List<ShowSection>();
        var main = new List<(string, string)>();
        var nested = new List<ShowSection>();
        foreach (var child in e.Elements())
        {
            var name = child.Name.LocalName;
            if (kind.Skip.Contains(name) || Handled.Contains(name) || child.IsEmpty) continue;
            if (!child.HasElements)
            {
                main.Add((name, Decode(kind, name, child.Value)));
            }
            else if (child.Elements().All(x => x.Name.LocalName == "ID" && !x.HasElements))
            {
                main.Add((name, string.Join(",", child.Elements().Select(x => x.Value))));
            }
            else
            {
                nested.Add(new ShowSection(name.Replace('_', ' ')) { Rows = Flatten(kind, child, "").ToList() });
            }
        }
        sections.Add(new ShowSection($"{kind.Title} {Fmt.S(e, "ID")} INFORMATION") { Rows = main });
        if (e.Element("LOCK") is { } lk)
            sections.Add(new ShowSection("LOCK") { Rows = Flatten(kind, lk, "").ToList() });
        if (e.Element("PERMISSIONS") is { } perms)
            sections.Add(new ShowSection("PERMISSIONS") { Rows = Fmt.Permissions(perms).ToList() });
        sections.AddRange(nested.Where(s => s.Rows.Count > 0));
        if (kind.Sections is not null) sections.AddRange(kind.Sections(e));
        if (e.Element("USER_TEMPLATE") is { HasElements: true } ut)
            sections.Add(new ShowSection("USER TEMPLATE") { Text = TemplateText(ut) });
        if (e.Element("TEMPLATE") is { } t)
            sections.Add(new ShowSection(kind.TemplateTitle ?? $"{kind.Title} TEMPLATE") { Text = TemplateText(t) });
        return Render(sections, width);
    }

    public static string Render(IEnumerable<ShowSection> sections, int width)
    {
        var sb = new StringBuilder();
        foreach (var s in sections)
        {
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(s.Title).Append('\n');
            if (s.Rows.Count > 0)
            {
                var keyWidth = Math.Max(20, s.Rows.Max(r => r.Key.Length));
                foreach (var (k, v) in s.Rows) sb.Append(k.PadRight(keyWidth)).Append(": ").Append(v).Append('\n');
            }
            if (s.TableHeader is not null)
                sb.Append(Table.Render(s.TableHeader, s.TableRows, width: width));
            if (!string.IsNullOrEmpty(s.Text)) sb.Append(s.Text);
        }
        return sb.ToString();
    }

    /// <summary>A template element in OpenNebula's text form (what <c>update</c> takes back).</summary>
    public static string TemplateText(XElement template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var sb = new StringBuilder();
        foreach (var a in template.Elements())
        {
            var name = a.Name.LocalName;
            if (!a.HasElements)
            {
                sb.Append(name).Append("=\"").Append(Escape(a.Value)).Append("\"\n");
                continue;
            }
            sb.Append(name).Append("=[\n");
            var subs = a.Elements().ToList();
            for (var i = 0; i < subs.Count; i++)
            {
                sb.Append("  ").Append(subs[i].Name.LocalName).Append("=\"").Append(Escape(subs[i].Value)).Append('"');
                sb.Append(i < subs.Count - 1 ? ",\n" : " ]\n");
            }
        }
        return sb.ToString();
    }

    private static string Escape(string value) => value.Replace("\"", "\\\"", StringComparison.Ordinal);

    private static IEnumerable<(string, string)> Flatten(OneKind kind, XElement e, string prefix)
    {
        foreach (var child in e.Elements())
        {
            var name = prefix + child.Name.LocalName;
            if (child.IsEmpty) continue;
            if (!child.HasElements) yield return (name, Decode(kind, child.Name.LocalName, child.Value));
            else
                foreach (var row in Flatten(kind, child, name + "/"))
                    yield return row;
        }
    }

    private static string Decode(OneKind kind, string name, string value)
    {
        if (kind.Decoders.TryGetValue(name, out var decode)) return decode(value);
        return Times.Contains(name) ? Fmt.Date(value) : value;
    }
}
