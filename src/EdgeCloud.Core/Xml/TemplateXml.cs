using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// Writes a <see cref="Template"/> the way oned's <c>Template::to_xml</c> does: one element per
/// attribute in the template's order (the model keeps attributes sorted by name, repeats in their
/// order, which is what oned's multimap gives), a single attribute as <c>&lt;NAME&gt;value&lt;/NAME&gt;</c>,
/// a vector as <c>&lt;NAME&gt;&lt;SUB&gt;v&lt;/SUB&gt;...&lt;/NAME&gt;</c> with sub-attributes sorted.
/// Values are escaped text, never CDATA (clients such as pyone's bindings treat both alike, and escaped
/// text is what current oned versions send).
/// </summary>
public static class TemplateXml
{
    /// <summary>The template as a string whose root element is <paramref name="elementName"/>.</summary>
    public static string ToXml(Template template, string elementName = "TEMPLATE")
    {
        var w = new OneXmlWriter(256);
        Write(w, template, elementName);
        return w.ToString();
    }

    /// <summary>Writes <c>&lt;elementName&gt;attributes&lt;/elementName&gt;</c> (<c>&lt;elementName/&gt;</c> when empty, as oned).</summary>
    public static void Write(OneXmlWriter writer, Template template, string elementName = "TEMPLATE")
    {
        if (template.IsEmpty)
        {
            writer.Empty(elementName);
            return;
        }
        writer.Start(elementName);
        WriteAttributes(writer, template);
        writer.End(elementName);
    }

    /// <summary>Writes the attributes only (for documents that add elements of their own inside the same parent).</summary>
    public static void WriteAttributes(OneXmlWriter writer, Template template)
    {
        foreach (var a in template.Attributes) WriteAttribute(writer, a);
    }

    public static void WriteAttribute(OneXmlWriter writer, TemplateAttribute attribute)
    {
        switch (attribute)
        {
            case SingleAttribute s:
                writer.Element(s.Name, s.Value);
                break;
            case VectorAttribute v:
                WriteVector(writer, v);
                break;
        }
    }

    public static void WriteVector(OneXmlWriter writer, VectorAttribute vector) => WriteVector(writer, vector.Name, vector);

    /// <summary>Writes a vector under another element name (e.g. an AR rendered as AR, a role as ROLE).</summary>
    public static void WriteVector(OneXmlWriter writer, string elementName, VectorAttribute vector)
    {
        if (vector.Values.Count == 0)
        {
            writer.Empty(elementName);
            return;
        }
        writer.Start(elementName);
        foreach (var (k, v) in vector.Values) writer.Element(k, v);
        writer.End(elementName);
    }
}
