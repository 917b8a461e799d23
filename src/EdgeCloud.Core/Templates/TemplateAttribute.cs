namespace EdgeCloud.Core.Templates;

/// <summary>One attribute of an OpenNebula template: a single value or a vector of sub-attributes.</summary>
public abstract class TemplateAttribute
{
    protected TemplateAttribute(string name) => Name = TemplateNames.Normalize(name);

    /// <summary>Upper-cased attribute name (OpenNebula upper-cases names on parse).</summary>
    public string Name { get; }

    /// <summary>A deep copy.</summary>
    public abstract TemplateAttribute Clone();
}

/// <summary><c>NAME = "value"</c>.</summary>
public sealed class SingleAttribute(string name, string value) : TemplateAttribute(name)
{
    public string Value { get; set; } = value;

    public override TemplateAttribute Clone() => new SingleAttribute(Name, Value);

    public override string ToString() => $"{Name}={Value}";
}

/// <summary>
/// <c>NAME = [ A = "b", C = "d" ]</c>. Sub-attributes are unique by name and kept sorted by name,
/// as OpenNebula stores them; vectors do not nest.
/// </summary>
public sealed class VectorAttribute : TemplateAttribute
{
    private readonly SortedDictionary<string, string> _values;

    public VectorAttribute(string name) : base(name) => _values = new(StringComparer.Ordinal);

    public VectorAttribute(string name, IEnumerable<KeyValuePair<string, string>> values) : this(name)
    {
        foreach (var (k, v) in values) _values.TryAdd(TemplateNames.Normalize(k), v); // first wins
    }

    /// <summary>Sub-attributes sorted by name.</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    public string? this[string key]
    {
        get => _values.TryGetValue(key, out var v) ? v : null;
        set
        {
            if (value is null) _values.Remove(TemplateNames.Normalize(key));
            else _values[TemplateNames.Normalize(key)] = value;
        }
    }

    public string? Get(string key) => this[key];

    public int? GetInt(string key) => int.TryParse(this[key], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    public void Set(string key, string value) => this[key] = value;

    public void Set(string key, long value) => this[key] = value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public bool Remove(string key) => _values.Remove(TemplateNames.Normalize(key));

    public override TemplateAttribute Clone() => new VectorAttribute(Name, _values);

    public VectorAttribute CloneVector() => new(Name, _values);

    public override string ToString() => $"{Name}=[{string.Join(",", _values.Select(kv => kv.Key + "=" + kv.Value))}]";
}

/// <summary>Name rules shared by the parser and the model.</summary>
public static class TemplateNames
{
    /// <summary>
    /// Upper-cases a name; a name that does not start with a letter or '_', or that starts with
    /// "XML", is prefixed with "ONE_" (OpenNebula does the same so the XML stays valid).
    /// </summary>
    public static string Normalize(string name)
    {
        var upper = name.ToUpperInvariant();
        if (upper.Length == 0) return upper;
        if (!(char.IsAsciiLetter(upper[0]) || upper[0] == '_') || upper.StartsWith("XML", StringComparison.Ordinal))
            return "ONE_" + upper;
        return upper;
    }
}
