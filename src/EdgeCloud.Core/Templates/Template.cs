using System.Globalization;

namespace EdgeCloud.Core.Templates;

/// <summary>
/// An OpenNebula template: attributes kept sorted by name, repeats of one name in their order.
/// Objects in the committed state treat their templates as immutable: change a <see cref="Clone"/>.
/// Text and XML forms: <see cref="Parse"/>, <see cref="ToText"/>, <see cref="TemplateXml"/>.
/// </summary>
public sealed class Template
{
    private readonly List<TemplateAttribute> _attributes = [];

    public Template() { }

    public Template(IEnumerable<TemplateAttribute> attributes)
    {
        foreach (var a in attributes) Add(a);
    }

    /// <summary>Attributes sorted by name (stable for repeats).</summary>
    public IReadOnlyList<TemplateAttribute> Attributes => _attributes;

    public bool IsEmpty => _attributes.Count == 0;

    /// <summary>Parses the text form, or the XML form when the text starts with '&lt;'.</summary>
    /// <exception cref="TemplateParseException">The text does not parse; the message names line and column.</exception>
    public static Template Parse(string text) => TemplateParser.Parse(text);

    /// <summary>The text form, which <see cref="Parse"/> reads back to an equal template.</summary>
    public string ToText() => TemplateWriter.ToText(this);

    public override string ToString() => ToText();

    /// <summary>Inserts keeping the name order; after any existing attributes of the same name.</summary>
    public void Add(TemplateAttribute attribute)
    {
        var i = _attributes.Count;
        while (i > 0 && string.CompareOrdinal(_attributes[i - 1].Name, attribute.Name) > 0) i--;
        _attributes.Insert(i, attribute);
    }

    public void Add(string name, string value) => Add(new SingleAttribute(name, value));

    public bool Contains(string name) => _attributes.Exists(a => a.Name == TemplateNames.Normalize(name));

    /// <summary>The value of the first single attribute of that name, or null.</summary>
    public string? Get(string name)
    {
        var n = TemplateNames.Normalize(name);
        foreach (var a in _attributes)
            if (a.Name == n && a is SingleAttribute s) return s.Value;
        return null;
    }

    public bool TryGetDouble(string name, out double value)
    {
        value = 0;
        var s = Get(name);
        return s is not null && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    public bool TryGetLong(string name, out long value)
    {
        value = 0;
        var s = Get(name);
        return s is not null && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    public IEnumerable<TemplateAttribute> GetAll(string name)
    {
        var n = TemplateNames.Normalize(name);
        return _attributes.Where(a => a.Name == n);
    }

    public IEnumerable<VectorAttribute> Vectors(string name) => GetAll(name).OfType<VectorAttribute>();

    public VectorAttribute? Vector(string name) => Vectors(name).FirstOrDefault();

    /// <summary>Replaces every attribute of that name by one single attribute.</summary>
    public void Set(string name, string value)
    {
        Remove(name);
        Add(new SingleAttribute(name, value));
    }

    public void Set(string name, long value) => Set(name, value.ToString(CultureInfo.InvariantCulture));

    public void Set(string name, double value) => Set(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Replaces every attribute of that name by one vector.</summary>
    public void Set(VectorAttribute vector)
    {
        Remove(vector.Name);
        Add(vector);
    }

    public int Remove(string name)
    {
        var n = TemplateNames.Normalize(name);
        return _attributes.RemoveAll(a => a.Name == n);
    }

    public bool Remove(TemplateAttribute attribute) => _attributes.Remove(attribute);

    public Template Clone() => new(_attributes.Select(a => a.Clone()));

    /// <summary>
    /// OpenNebula's merge (<c>update</c> with append=1): every name present in <paramref name="other"/>
    /// replaces all attributes of that name here; other names are kept.
    /// </summary>
    public void Merge(Template other)
    {
        foreach (var name in other._attributes.Select(a => a.Name).Distinct().ToList())
        {
            Remove(name);
            foreach (var a in other.GetAll(name)) Add(a.Clone());
        }
    }
}

/// <summary>A template that does not parse. <see cref="Exception.Message"/> names line and column.</summary>
public sealed class TemplateParseException(string message, int line, int column)
    : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
}
