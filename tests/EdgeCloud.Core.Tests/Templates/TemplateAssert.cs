using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Tests.Templates;

/// <summary>Structural comparison of templates (the model has no value equality), with readable failures.</summary>
internal static class TemplateAssert
{
    public static void Equal(Template expected, Template actual)
    {
        Assert.Equal(Describe(expected), Describe(actual));
    }

    /// <summary>One line per attribute, values escaped so any difference shows (including \r and type).</summary>
    public static string Describe(Template template) =>
        string.Join("\n", template.Attributes.Select(a => a switch
        {
            SingleAttribute s => $"S {s.Name} = {Escape(s.Value)}",
            VectorAttribute v => $"V {v.Name} = [{string.Join(", ", v.Values.Select(kv => kv.Key + " = " + Escape(kv.Value)))}]",
            _ => throw new InvalidOperationException(a.GetType().Name),
        }));

    private static string Escape(string value) =>
        "<" + string.Concat(value.Select(c => c is < ' ' or '\\' or '<' or '>' || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString())) + ">";

    public static VectorAttribute Vector(string name, params (string Key, string Value)[] values) =>
        new(name, values.Select(v => new KeyValuePair<string, string>(v.Key, v.Value)));

    public static SingleAttribute Single(TemplateAttribute attribute) => Assert.IsType<SingleAttribute>(attribute);

    public static VectorAttribute AsVector(TemplateAttribute attribute) => Assert.IsType<VectorAttribute>(attribute);
}
