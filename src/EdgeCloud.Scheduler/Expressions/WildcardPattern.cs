namespace EdgeCloud.Scheduler.Expressions;

/// <summary>
/// A shell wildcard as OpenNebula's <c>fnmatch(pattern, value, 0)</c> reads it: <c>*</c> any run of
/// characters (slashes and leading dots included), <c>?</c> one character, <c>[a-z]</c> /
/// <c>[!0-9]</c> / <c>[^x]</c> classes, <c>\</c> escapes the next character. Case-sensitive.
/// Compiled once per expression; a pattern without wildcards is a plain ordinal comparison.
/// </summary>
internal sealed class WildcardPattern
{
    private readonly Element[]? _elements;
    private readonly string _literal;

    public WildcardPattern(string pattern)
    {
        Text = pattern;
        if (pattern.AsSpan().IndexOfAny("*?[\\") < 0)
        {
            _literal = pattern;
            return;
        }
        _literal = "";
        _elements = Compile(pattern);
    }

    public string Text { get; }

    public bool IsLiteral => _elements is null;

    public bool IsMatch(string value) => IsMatch(value.AsSpan());

    public bool IsMatch(ReadOnlySpan<char> value)
    {
        if (_elements is null) return value.SequenceEqual(_literal);
        var els = _elements;
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < value.Length)
        {
            if (p < els.Length && els[p].Kind == ElementKind.Star)
            {
                starP = p++;
                starT = t;
                continue;
            }
            if (p < els.Length && els[p].Matches(value[t]))
            {
                p++;
                t++;
                continue;
            }
            if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
                continue;
            }
            return false;
        }
        while (p < els.Length && els[p].Kind == ElementKind.Star) p++;
        return p == els.Length;
    }

    private static Element[] Compile(string pattern)
    {
        var list = new List<Element>();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    if (list.Count == 0 || list[^1].Kind != ElementKind.Star) list.Add(new Element(ElementKind.Star));
                    break;
                case '?':
                    list.Add(new Element(ElementKind.Any));
                    break;
                case '\\' when i + 1 < pattern.Length:
                    list.Add(Element.Literal(pattern[++i]));
                    break;
                case '[':
                    var cls = TryClass(pattern, i, out var end);
                    if (cls is null)
                    {
                        list.Add(Element.Literal('['));
                    }
                    else
                    {
                        list.Add(cls);
                        i = end;
                    }
                    break;
                default:
                    list.Add(Element.Literal(c));
                    break;
            }
        }
        return [.. list];
    }

    /// <summary>Reads a bracket expression starting at <paramref name="start"/>; null when unterminated (then '[' is literal).</summary>
    private static Element? TryClass(string p, int start, out int end)
    {
        end = start;
        var i = start + 1;
        var negate = false;
        if (i < p.Length && (p[i] == '!' || p[i] == '^'))
        {
            negate = true;
            i++;
        }
        var ranges = new List<(char Lo, char Hi)>();
        var first = true;
        while (i < p.Length && (p[i] != ']' || first))
        {
            first = false;
            var lo = p[i];
            if (lo == '\\' && i + 1 < p.Length) lo = p[++i];
            var hi = lo;
            if (i + 2 < p.Length && p[i + 1] == '-' && p[i + 2] != ']')
            {
                hi = p[i + 2];
                if (hi == '\\' && i + 3 < p.Length)
                {
                    hi = p[i + 3];
                    i++;
                }
                i += 2;
            }
            ranges.Add((lo, hi));
            i++;
        }
        if (i >= p.Length) return null;
        end = i;
        return new Element(ElementKind.Class) { Negate = negate, Ranges = [.. ranges] };
    }

    private enum ElementKind : byte { Literal, Any, Star, Class }

    private sealed class Element(ElementKind kind)
    {
        public ElementKind Kind { get; } = kind;
        public char Char { get; private init; }
        public bool Negate { get; init; }
        public (char Lo, char Hi)[] Ranges { get; init; } = [];

        public static Element Literal(char c) => new(ElementKind.Literal) { Char = c };

        public bool Matches(char c)
        {
            switch (Kind)
            {
                case ElementKind.Literal: return c == Char;
                case ElementKind.Any: return true;
                case ElementKind.Class:
                    var inSet = false;
                    foreach (var (lo, hi) in Ranges)
                    {
                        if (c >= lo && c <= hi)
                        {
                            inSet = true;
                            break;
                        }
                    }
                    return inSet != Negate;
                default: return false;
            }
        }
    }
}
