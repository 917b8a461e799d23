using System.Globalization;
using System.Reflection;
using EdgeCloud.Frontend;
using YamlDotNet.RepresentationModel;

namespace EdgeCloud.Cli;

/// <summary>
/// Reads a YAML mapping of setting name → value onto <see cref="FrontendOptions"/>. Names match the
/// option properties, case-insensitively, with or without '-'/'_' (e.g. scheduler-interval: 2).
/// Every unknown name or bad value is reported, not just the first.
/// </summary>
public static class ConfigFile
{
    public static FrontendOptions Apply(FrontendOptions options, string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path)) yaml.Load(reader);
        if (yaml.Documents.Count == 0) return options;
        if (yaml.Documents[0].RootNode is not YamlMappingNode map)
            throw new InvalidDataException($"{path}: expected a mapping of setting: value");
        var props = typeof(FrontendOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => Key(p.Name), StringComparer.Ordinal);
        var errors = new List<string>();
        var copy = options with { };
        foreach (var (k, v) in map.Children)
        {
            var name = ((YamlScalarNode)k).Value ?? "";
            if (!props.TryGetValue(Key(name), out var prop)) { errors.Add($"unknown setting \"{name}\""); continue; }
            // A list (e.g. peers: [a, b, c]) is the comma-separated value.
            var text = v is YamlSequenceNode seq && prop.PropertyType == typeof(string)
                ? string.Join(',', seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? ""))
                : (v as YamlScalarNode)?.Value ?? "";
            try
            {
                object value = prop.PropertyType == typeof(string) ? text
                    : prop.PropertyType == typeof(int) ? int.Parse(text, CultureInfo.InvariantCulture)
                    : prop.PropertyType == typeof(long) ? long.Parse(text, CultureInfo.InvariantCulture)
                    : prop.PropertyType == typeof(double) ? double.Parse(text, CultureInfo.InvariantCulture)
                    : prop.PropertyType == typeof(bool) ? bool.Parse(text)
                    : throw new FormatException($"unsupported type {prop.PropertyType.Name}");
                prop.SetValue(copy, value);
            }
            catch (FormatException) { errors.Add($"setting \"{name}\": \"{text}\" is not a valid {prop.PropertyType.Name}"); }
            catch (OverflowException) { errors.Add($"setting \"{name}\": \"{text}\" is out of range"); }
        }
        if (errors.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", errors)}");
        return copy;
    }

    private static string Key(string name) => name.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
