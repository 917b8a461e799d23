using System.Text;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>Plain-text tables like OpenNebula's CLI prints, cut to the terminal's width.</summary>
public static class Table
{
    private const int MinShrunk = 6;

    /// <summary>
    /// The usable width: the terminal's when standard output is one, else <c>$COLUMNS</c>, else unlimited (so
    /// redirected output is never cut).
    /// </summary>
    public static int Width()
    {
        if (!Console.IsOutputRedirected)
        {
            try
            {
                if (Console.WindowWidth > 0) return Console.WindowWidth;
            }
            catch (IOException)
            {
            }
        }
        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var cols) && cols > 0 ? cols : int.MaxValue;
    }

    /// <summary>The columns --list names (any case), or the default ones.</summary>
    public static IReadOnlyList<Column> Select(IReadOnlyList<Column> all, string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return all.Where(c => c.Default).ToList();
        var chosen = new List<Column>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            chosen.Add(Find(all, name));
        }
        return chosen;
    }

    /// <summary>Keeps the rows that match every <c>COL=value</c> / <c>COL!=value</c> filter (case-insensitive; <c>*</c> wildcards).</summary>
    public static IEnumerable<XElement> Filter(IReadOnlyList<Column> all, IEnumerable<XElement> rows, IReadOnlyList<string>? filters)
    {
        if (filters is null || filters.Count == 0) return rows;
        var tests = new List<Func<XElement, bool>>();
        foreach (var f in filters.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var eq = f.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new CliException($"bad filter \"{f}\": use COLUMN=value or COLUMN!=value");
            var negate = f[eq - 1] == '!';
            var column = Find(all, f[..(negate ? eq - 1 : eq)].Trim());
            var pattern = f[(eq + 1)..].Trim();
            tests.Add(e => Matches(column.Value(e), pattern) != negate);
        }
        return rows.Where(e => tests.TrueForAll(t => t(e)));
    }

    /// <summary>Renders rows of pool elements under the given columns.</summary>
    public static string Render(IReadOnlyList<Column> columns, IEnumerable<XElement> rows, int width) =>
        Render(
            columns.Select(c => c.Name).ToList(),
            rows.Select(r => (IReadOnlyList<string>)columns.Select(c => c.Value(r)).ToList()).ToList(),
            columns.Select(c => c.Right).ToList(),
            columns.Select(c => c.Shrink).ToList(),
            width);

    /// <summary>Renders a table of text cells; shrinkable columns give way first when it does not fit.</summary>
    public static string Render(
        IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, IReadOnlyList<bool>? right = null, IReadOnlyList<bool>? shrink = null, int width = int.MaxValue)
    {
        var n = headers.Count;
        var widths = new int[n];
        for (var i = 0; i < n; i++)
        {
            widths[i] = headers[i].Length;
            foreach (var row in rows) widths[i] = Math.Max(widths[i], Clean(row[i]).Length);
        }
        Fit(widths, headers, shrink, width);

        var sb = new StringBuilder();
        AppendRow(sb, headers, widths, right);
        foreach (var row in rows) AppendRow(sb, row, widths, right);
        return sb.ToString();
    }

    private static void Fit(int[] widths, IReadOnlyList<string> headers, IReadOnlyList<bool>? shrink, int width)
    {
        var total = widths.Sum() + widths.Length - 1;
        if (total <= width || shrink is null) return;
        // Take from the widest shrinkable column, one character at a time, down to a floor.
        while (total > width)
        {
            var best = -1;
            for (var i = 0; i < widths.Length; i++)
            {
                var floor = Math.Max(MinShrunk, headers[i].Length);
                if (shrink[i] && widths[i] > floor && (best < 0 || widths[i] > widths[best])) best = i;
            }
            if (best < 0) return;
            widths[best]--;
            total--;
        }
    }

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> cells, int[] widths, IReadOnlyList<bool>? right)
    {
        var line = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            if (i > 0) line.Append(' ');
            var text = Clean(cells[i]);
            if (text.Length > widths[i]) text = text[..(widths[i] - 1)] + "…";
            var last = i == widths.Length - 1;
            if (right is not null && right[i]) line.Append(text.PadLeft(widths[i]));
            else line.Append(last ? text : text.PadRight(widths[i]));
        }
        sb.Append(line.ToString().TrimEnd()).Append('\n');
    }

    private static string Clean(string text) => text.Contains('\n', StringComparison.Ordinal) || text.Contains('\t', StringComparison.Ordinal)
        ? CliErrors.OneLine(text)
        : text;

    private static Column Find(IReadOnlyList<Column> all, string name) =>
        all.FirstOrDefault(c => c.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new CliException($"unknown column \"{name}\"; columns are {string.Join(",", all.Select(c => c.Name))}");

    private static bool Matches(string value, string pattern)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal)) return value.Equals(pattern, StringComparison.OrdinalIgnoreCase);
        var parts = pattern.Split('*');
        var pos = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0) continue;
            var at = value.IndexOf(part, pos, StringComparison.OrdinalIgnoreCase);
            if (at < 0 || (i == 0 && at != 0)) return false;
            pos = at + part.Length;
        }
        return parts[^1].Length == 0 || value.EndsWith(parts[^1], StringComparison.OrdinalIgnoreCase);
    }
}
