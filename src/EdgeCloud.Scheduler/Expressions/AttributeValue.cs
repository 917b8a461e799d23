using System.Globalization;

namespace EdgeCloud.Scheduler.Expressions;

/// <summary>What kind of value an <see cref="IAttributeSource"/> answered with.</summary>
public enum AttributeKind : byte
{
    /// <summary>A number the source holds natively (HOST_SHARE counters, ids): no parsing needed.</summary>
    Number,
    /// <summary>Template text; compared as a number when it parses as one.</summary>
    Text,
    /// <summary>A list of integers (CURRENT_VMS, CLUSTERS/ID) for the <c>@&gt;</c> operator.</summary>
    IntegerList,
    /// <summary>A list of strings (sub-attributes of repeated vectors) for <c>@&gt;</c>.</summary>
    TextList,
}

/// <summary>
/// One attribute value as seen by an expression. A struct so that numeric attributes (the hot path:
/// RUNNING_VMS, FREE_CPU...) are read without formatting and re-parsing strings.
/// </summary>
public readonly struct AttributeValue
{
    private readonly object? _ref;
    private readonly double _number;

    private AttributeValue(AttributeKind kind, double number, object? reference)
    {
        Kind = kind;
        _number = number;
        _ref = reference;
    }

    public AttributeKind Kind { get; }

    public static AttributeValue FromNumber(double value) => new(AttributeKind.Number, value, null);

    public static AttributeValue FromText(string value) => new(AttributeKind.Text, 0, value);

    public static AttributeValue FromIntegers(IReadOnlyList<int> values) => new(AttributeKind.IntegerList, 0, values);

    public static AttributeValue FromTexts(IReadOnlyList<string> values) => new(AttributeKind.TextList, 0, values);

    /// <summary>
    /// The value as a number: native numbers, text that parses as one, or the first item of a list
    /// (OpenNebula's scalar search also takes the first match).
    /// </summary>
    public bool TryGetNumber(out double value)
    {
        switch (Kind)
        {
            case AttributeKind.Number:
                value = _number;
                return true;
            case AttributeKind.Text:
                return TryParseNumber(((string)_ref!).AsSpan(), out value);
            case AttributeKind.IntegerList:
                var ints = (IReadOnlyList<int>)_ref!;
                value = ints.Count > 0 ? ints[0] : 0;
                return ints.Count > 0;
            default:
                var texts = (IReadOnlyList<string>)_ref!;
                value = 0;
                return texts.Count > 0 && TryParseNumber(texts[0].AsSpan(), out value);
        }
    }

    /// <summary>The value as text: numbers in invariant form, lists joined by commas.</summary>
    public string AsText() => Kind switch
    {
        AttributeKind.Number => _number.ToString(CultureInfo.InvariantCulture),
        AttributeKind.Text => (string)_ref!,
        AttributeKind.IntegerList => string.Join(',', (IReadOnlyList<int>)_ref!),
        _ => string.Join(',', (IReadOnlyList<string>)_ref!),
    };

    /// <summary><c>@&gt;</c> with a number: some item of the list equals it (text lists split on commas).</summary>
    public bool ContainsNumber(double operand)
    {
        switch (Kind)
        {
            case AttributeKind.Number:
                return _number == operand;
            case AttributeKind.IntegerList:
                foreach (var i in (IReadOnlyList<int>)_ref!)
                    if (i == operand) return true;
                return false;
            case AttributeKind.Text:
                return TextItemsContain((string)_ref!, operand, null);
            default:
                foreach (var t in (IReadOnlyList<string>)_ref!)
                    if (TextItemsContain(t, operand, null)) return true;
                return false;
        }
    }

    /// <summary><c>@&gt;</c> with a string: some item of the list matches the (wildcard) pattern.</summary>
    internal bool ContainsMatch(WildcardPattern pattern)
    {
        switch (Kind)
        {
            case AttributeKind.Number:
                return pattern.IsMatch(_number.ToString(CultureInfo.InvariantCulture));
            case AttributeKind.IntegerList:
                foreach (var i in (IReadOnlyList<int>)_ref!)
                    if (pattern.IsMatch(i.ToString(CultureInfo.InvariantCulture))) return true;
                return false;
            case AttributeKind.Text:
                return TextItemsContain((string)_ref!, 0, pattern);
            default:
                foreach (var t in (IReadOnlyList<string>)_ref!)
                    if (TextItemsContain(t, 0, pattern)) return true;
                return false;
        }
    }

    /// <summary>Walks the comma-separated items of a text value without allocating.</summary>
    private static bool TextItemsContain(string text, double number, WildcardPattern? pattern)
    {
        var rest = text.AsSpan();
        while (true)
        {
            var comma = rest.IndexOf(',');
            var item = (comma < 0 ? rest : rest[..comma]).Trim();
            if (pattern is null)
            {
                if (TryParseNumber(item, out var v) && v == number) return true;
            }
            else if (pattern.IsMatch(item))
            {
                return true;
            }
            if (comma < 0) return false;
            rest = rest[(comma + 1)..];
        }
    }

    internal static bool TryParseNumber(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public override string ToString() => AsText();
}

/// <summary>
/// Where expressions read attributes from: a host (its TEMPLATE, HOST_SHARE, MONITORING, ID,
/// NAME, CLUSTER_ID...), a datastore, or a test dictionary. Names arrive upper-cased.
/// </summary>
public interface IAttributeSource
{
    /// <summary>Looks an attribute up; false when the object has no attribute of that name.</summary>
    bool TryGetValue(string name, out AttributeValue value);
}

/// <summary>An attribute source over a plain dictionary (tests, tools, previews of an expression).</summary>
public sealed class DictionaryAttributeSource : IAttributeSource
{
    private readonly Dictionary<string, AttributeValue> _values = new(StringComparer.Ordinal);

    public DictionaryAttributeSource() { }

    public DictionaryAttributeSource(IEnumerable<KeyValuePair<string, string>> values)
    {
        foreach (var (k, v) in values) Set(k, v);
    }

    public DictionaryAttributeSource Set(string name, string value)
    {
        _values[name.ToUpperInvariant()] = AttributeValue.FromText(value);
        return this;
    }

    public DictionaryAttributeSource Set(string name, double value)
    {
        _values[name.ToUpperInvariant()] = AttributeValue.FromNumber(value);
        return this;
    }

    public DictionaryAttributeSource Set(string name, AttributeValue value)
    {
        _values[name.ToUpperInvariant()] = value;
        return this;
    }

    public bool TryGetValue(string name, out AttributeValue value) => _values.TryGetValue(name, out value);
}
