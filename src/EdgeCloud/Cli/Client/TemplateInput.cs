using System.Globalization;
using System.Text;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Cli.Client;

/// <summary>Templates given on the command line: a file (or <c>-</c> for standard input), checked before it is sent.</summary>
public static class TemplateInput
{
    /// <summary>
    /// Reads a template file and checks its syntax with the server's own parser, so a mistake is reported with the file
    /// name, line and column without a round trip. The text is sent verbatim, as OpenNebula's CLI does.
    /// </summary>
    public static string Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        if (path == "-")
        {
            text = Console.In.ReadToEnd();
        }
        else
        {
            if (!File.Exists(path)) throw new CliException($"{path}: no such file");
            text = File.ReadAllText(path);
        }
        Check(text, path == "-" ? "standard input" : path);
        return text;
    }

    /// <summary>Throws a one-line error naming <paramref name="source"/> when <paramref name="text"/> does not parse.</summary>
    public static void Check(string text, string source)
    {
        try
        {
            Template.Parse(text);
        }
        catch (TemplateParseException ex)
        {
            throw new CliException($"{source}: {ex.Message}");
        }
    }

    /// <summary>A double-quoted template value (only <c>"</c> needs escaping).</summary>
    public static string Quote(string value) => "\"" + value.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>A vector attribute <c>NAME=[ A="x", B="y" ]</c>.</summary>
    public static string Vector(string name, IEnumerable<(string Key, string Value)> values) =>
        $"{name}=[ {string.Join(", ", values.Select(v => $"{v.Key.ToUpperInvariant()}={Quote(v.Value)}"))} ]";

    /// <summary>Splits <c>KEY=VALUE</c>; the key must be a template name.</summary>
    public static (string Key, string Value) KeyValue(string text, string what)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new CliException($"bad {what} \"{text}\": use KEY=VALUE");
        var key = text[..eq].Trim();
        if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) throw new CliException($"bad {what} name \"{key}\": use letters, digits and _");
        return (key.ToUpperInvariant(), text[(eq + 1)..]);
    }

    /// <summary>A memory size in MB from <c>512</c>, <c>512M</c>, <c>1.5G</c> or <c>1T</c>.</summary>
    public static long MemoryMb(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        if (t.EndsWith('B')) t = t[..^1];
        double factor = 1;
        if (t.EndsWith('M')) t = t[..^1];
        else if (t.EndsWith('G')) { t = t[..^1]; factor = 1024; }
        else if (t.EndsWith('T')) { t = t[..^1]; factor = 1024 * 1024; }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v <= 0)
            throw new CliException($"bad memory size \"{text}\": use MB (512) or a unit (512M, 2G)");
        return (long)Math.Round(v * factor);
    }

    /// <summary>Joins template lines, one attribute per line.</summary>
    public static string Join(IEnumerable<string> lines)
    {
        var sb = new StringBuilder();
        foreach (var l in lines) sb.Append(l).Append('\n');
        return sb.ToString();
    }
}
