using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// <c>--json</c>: the XML document as JSON the way OpenNebula's CLI converts it — an element with children is an
/// object, a repeated element an array, a leaf a string — e.g. <c>{"VM": {"ID": "3", ...}}</c>. In pool documents the
/// objects are always an array (<c>{"VM_POOL": {"VM": [...]}}</c>), even with one or none.
/// </summary>
public static class XmlJson
{
    public static string Convert(XElement root, string? arrayElement = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WritePropertyName(root.Name.LocalName);
            WriteElement(w, root, arrayElement);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteElement(Utf8JsonWriter w, XElement e, string? arrayElement)
    {
        if (!e.HasElements && arrayElement is null)
        {
            w.WriteStringValue(e.Value);
            return;
        }
        w.WriteStartObject();
        var groups = e.Elements().GroupBy(c => c.Name.LocalName).ToList();
        foreach (var group in groups)
        {
            w.WritePropertyName(group.Key);
            var items = group.ToList();
            if (items.Count == 1 && group.Key != arrayElement)
            {
                WriteElement(w, items[0], null);
                continue;
            }
            w.WriteStartArray();
            foreach (var item in items) WriteElement(w, item, null);
            w.WriteEndArray();
        }
        if (arrayElement is not null && groups.TrueForAll(g => g.Key != arrayElement))
        {
            w.WritePropertyName(arrayElement);
            w.WriteStartArray();
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
