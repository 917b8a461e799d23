namespace EdgeCloud.Core.Templates;

/// <summary>Reads OpenNebula's template text form and its XML form.</summary>
internal static class TemplateParser
{
    public static Template Parse(string text) => throw new NotImplementedException("template parser: being written");
}
