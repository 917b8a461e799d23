using System.Text;

namespace EdgeCloud.Core.Templates;

/// <summary>
/// Writes the text form of a template so that <see cref="TemplateParser.Parse"/> reads it back to an equal
/// template: one attribute per line, <c>NAME="value"</c> for singles and
/// <c>NAME=[\n  A="1",\n  B="2" ]</c> for vectors (<c>NAME=[ ]</c> when empty).
/// </summary>
/// <remarks>
/// OpenNebula's text syntax cannot carry every string, so the writer picks, per template:
/// <list type="bullet">
/// <item>Quoted values escape <c>"</c> as <c>\"</c> and leave every other character (backslashes, newlines,
/// <c># = , [ ]</c>) as is. The parser's unescape (<c>\"</c> → <c>"</c>) exactly undoes this: every <c>\"</c>
/// in the output is one the writer inserted, because an original backslash is never directly followed by a
/// quote once quotes are escaped.</item>
/// <item>A value ending in a backslash cannot be quoted: its closing quote would read as an escaped quote,
/// and the syntax has no escape for the backslash itself. Such a value is written as a bare word
/// (<c>NAME=C:\dir\</c>) when it has no blank, newline, <c>" = # , [ ]</c> and is not empty.</item>
/// <item>A value that still cannot be written (ends in a backslash and is not a bare word, or contains
/// <c>]]&gt;</c>, which the text parser rejects as oned does) makes the whole output the XML form
/// <c>&lt;TEMPLATE&gt;...&lt;/TEMPLATE&gt;</c>, which <see cref="Template.Parse"/> (and oned's allocate and
/// update calls) also accept. Carriage returns are written as <c>&amp;#13;</c> so XML line-end normalisation
/// keeps them. Characters XML 1.0 cannot carry at all (controls other than tab, LF, CR; unpaired surrogates;
/// U+FFFE, U+FFFF) are dropped in that form only: the single lossy case, needing both kinds of trouble in one
/// template.</item>
/// </list>
/// Names are written as stored; the model normalises them and the parser only produces valid ones.
/// </remarks>
internal static class TemplateWriter
{
    public static string ToText(Template template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var attributes = template.Attributes;
        if (attributes.Count == 0) return string.Empty;
        if (NeedsXml(attributes)) return ToXml(attributes);

        var sb = new StringBuilder(attributes.Count * 32);
        foreach (var attribute in attributes)
        {
            sb.Append(attribute.Name).Append('=');
            switch (attribute)
            {
                case SingleAttribute s:
                    AppendValue(sb, s.Value);
                    break;
                case VectorAttribute v when v.Values.Count == 0:
                    sb.Append("[ ]");
                    break;
                case VectorAttribute v:
                    sb.Append('[');
                    var first = true;
                    foreach (var (key, value) in v.Values)
                    {
                        sb.Append(first ? "\n  " : ",\n  ").Append(key).Append('=');
                        AppendValue(sb, value);
                        first = false;
                    }
                    sb.Append(" ]");
                    break;
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void AppendValue(StringBuilder sb, string value)
    {
        if (value.EndsWith('\\'))
        {
            sb.Append(value); // a bare word: NeedsXml has checked it is one
            return;
        }
        sb.Append('"');
        if (value.Contains('"', StringComparison.Ordinal))
        {
            var start = 0;
            int q;
            while ((q = value.IndexOf('"', start)) >= 0)
            {
                sb.Append(value, start, q - start).Append("\\\"");
                start = q + 1;
            }
            sb.Append(value, start, value.Length - start);
        }
        else
        {
            sb.Append(value);
        }
        sb.Append('"');
    }

    /// <summary>True when some value has no text form (see the class remarks).</summary>
    private static bool NeedsXml(IReadOnlyList<TemplateAttribute> attributes)
    {
        foreach (var attribute in attributes)
        {
            switch (attribute)
            {
                case SingleAttribute s when !HasTextForm(s.Value):
                    return true;
                case VectorAttribute v:
                    foreach (var value in v.Values.Values)
                        if (!HasTextForm(value)) return true;
                    break;
            }
        }
        return false;
    }

    private static bool HasTextForm(string value)
    {
        if (value.Contains("]]>", StringComparison.Ordinal)) return false;
        if (!value.EndsWith('\\')) return true;
        foreach (var c in value)
            if (c == '"' || TemplateParser.EndsBareWord(c)) return false;
        return true;
    }

    private static string ToXml(IReadOnlyList<TemplateAttribute> attributes)
    {
        var sb = new StringBuilder(attributes.Count * 48);
        sb.Append("<TEMPLATE>");
        foreach (var attribute in attributes)
        {
            switch (attribute)
            {
                case SingleAttribute s:
                    // <A></A>, not <A/>: the parser reads a self-closing element as an empty vector.
                    sb.Append('<').Append(s.Name).Append('>');
                    AppendXmlText(sb, s.Value);
                    sb.Append("</").Append(s.Name).Append('>');
                    break;
                case VectorAttribute v when v.Values.Count == 0:
                    sb.Append('<').Append(v.Name).Append("/>");
                    break;
                case VectorAttribute v:
                    sb.Append('<').Append(v.Name).Append('>');
                    foreach (var (key, value) in v.Values)
                    {
                        sb.Append('<').Append(key).Append('>');
                        AppendXmlText(sb, value);
                        sb.Append("</").Append(key).Append('>');
                    }
                    sb.Append("</").Append(v.Name).Append('>');
                    break;
            }
        }
        sb.Append("</TEMPLATE>");
        return sb.ToString();
    }

    private static void AppendXmlText(StringBuilder sb, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '\r': sb.Append("&#13;"); break;
                case '\t' or '\n': sb.Append(c); break;
                case < ' ' or '\uFFFE' or '\uFFFF': break; // not an XML 1.0 character: dropped
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[i + 1]);
                        i++;
                    }
                    else if (!char.IsSurrogate(c))
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
    }
}
