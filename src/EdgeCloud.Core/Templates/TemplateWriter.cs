namespace EdgeCloud.Core.Templates;

/// <summary>Writes the text form of a template.</summary>
internal static class TemplateWriter
{
    public static string ToText(Template template) => throw new NotImplementedException("template writer: being written");
}
