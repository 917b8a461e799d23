namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// Typed, positional access to a call's parameters with OpenNebula's (xmlrpc-c's) rules: the type must match
/// exactly (an int where a bool is expected is an error and vice versa; <c>&lt;i4&gt;</c> and <c>&lt;int&gt;</c>
/// are the same type), a missing required parameter is an error, and extra trailing parameters are ignored
/// (the Ruby OCA sends a 4th int to pools that take 3).
/// </summary>
/// <remarks>
/// Indexes are 0-based positions in the call, so the session is index 0 and a method's first real argument is
/// index 1; error messages use the same numbering. A struct wrapper around the list, so handlers can take it
/// by value without an allocation per request.
/// </remarks>
public readonly struct XmlRpcArgs
{
    private readonly IReadOnlyList<XmlRpcValue> _values;
    private readonly int _offset;

    /// <param name="values">The parameters in call order.</param>
    public XmlRpcArgs(IReadOnlyList<XmlRpcValue> values) : this(values, 0)
    {
    }

    private XmlRpcArgs(IReadOnlyList<XmlRpcValue> values, int offset)
    {
        _values = values ?? [];
        _offset = offset;
    }

    /// <summary>
    /// A view whose index 0 is this view's index <paramref name="count"/> (e.g. the arguments after the
    /// session string); error messages keep the call's own positions.
    /// </summary>
    public XmlRpcArgs Skip(int count) => new(_values, _offset + count);

    /// <summary>How many parameters this view holds (the whole call, including the session, unless skipped).</summary>
    public int Count => Math.Max(0, (_values ?? []).Count - _offset);

    /// <summary>The raw parameter at <paramref name="index"/>.</summary>
    /// <exception cref="XmlRpcArgumentException">There is no such parameter.</exception>
    public XmlRpcValue this[int index] => Get(index, "a value");

    /// <summary>True when a parameter was sent at <paramref name="index"/>.</summary>
    public bool Has(int index) => index >= 0 && index < Count;

    /// <summary>A required <c>&lt;i4&gt;</c>/<c>&lt;int&gt;</c> parameter.</summary>
    /// <exception cref="XmlRpcArgumentException">Missing, or not an int (an i8 or a boolean is refused too).</exception>
    public int Int(int index) => Expect(index, XmlRpcType.Int).AsInt();

    /// <summary>An optional int parameter: <paramref name="defaultIfMissing"/> when not sent, an error when sent with another type.</summary>
    /// <exception cref="XmlRpcArgumentException">Sent, but not an int.</exception>
    public int Int(int index, int defaultIfMissing) => Has(index) ? Int(index) : defaultIfMissing;

    /// <summary>A required 64-bit integer; accepts <c>&lt;i8&gt;</c> and, since every int fits, <c>&lt;i4&gt;</c>.</summary>
    /// <exception cref="XmlRpcArgumentException">Missing, or neither int nor i8.</exception>
    public long Long(int index)
    {
        var value = Get(index, "i8");
        return value.Type is XmlRpcType.Int or XmlRpcType.I8 ? value.AsLong() : throw Mismatch(index + _offset, "i8", value);
    }

    /// <summary>An optional 64-bit integer (<c>&lt;i8&gt;</c> or <c>&lt;i4&gt;</c>).</summary>
    /// <exception cref="XmlRpcArgumentException">Sent, but neither int nor i8.</exception>
    public long Long(int index, long defaultIfMissing) => Has(index) ? Long(index) : defaultIfMissing;

    /// <summary>A required <c>&lt;boolean&gt;</c> parameter.</summary>
    /// <exception cref="XmlRpcArgumentException">Missing, or not a boolean (an int 0/1 is refused, as OpenNebula does).</exception>
    public bool Bool(int index) => Expect(index, XmlRpcType.Boolean).AsBool();

    /// <summary>An optional boolean parameter.</summary>
    /// <exception cref="XmlRpcArgumentException">Sent, but not a boolean.</exception>
    public bool Bool(int index, bool defaultIfMissing) => Has(index) ? Bool(index) : defaultIfMissing;

    /// <summary>A required <c>&lt;string&gt;</c> parameter (bare text in <c>&lt;value&gt;</c> counts as a string).</summary>
    /// <exception cref="XmlRpcArgumentException">Missing, or not a string.</exception>
    public string Str(int index) => Expect(index, XmlRpcType.String).AsString();

    /// <summary>An optional string parameter.</summary>
    /// <exception cref="XmlRpcArgumentException">Sent, but not a string.</exception>
    public string Str(int index, string defaultIfMissing) => Has(index) ? Str(index) : defaultIfMissing;

    /// <summary>A required <c>&lt;array&gt;</c> whose items are all ints (OpenNebula's group lists).</summary>
    /// <exception cref="XmlRpcArgumentException">Missing, not an array, or an item is not an int.</exception>
    public IReadOnlyList<int> IntArray(int index)
    {
        var items = Expect(index, XmlRpcType.Array, "array of int").AsArray();
        if (items.Count == 0)
        {
            return [];
        }

        var result = new int[items.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var item = items[i];
            if (item.Type != XmlRpcType.Int)
            {
                throw new XmlRpcArgumentException(
                    $"Type mismatch: expected array of int at parameter {index + _offset}, element {i} is {item.TypeName}", index + _offset);
            }

            result[i] = item.AsInt();
        }

        return result;
    }

    /// <summary>An optional int array.</summary>
    /// <exception cref="XmlRpcArgumentException">Sent, but not an array of ints.</exception>
    public IReadOnlyList<int> IntArray(int index, IReadOnlyList<int> defaultIfMissing) => Has(index) ? IntArray(index) : defaultIfMissing;

    private XmlRpcValue Expect(int index, XmlRpcType type, string? expected = null)
    {
        expected ??= XmlRpcValue.NameOf(type);
        var value = Get(index, expected);
        return value.Type == type ? value : throw Mismatch(index + _offset, expected, value);
    }

    private XmlRpcValue Get(int index, string expected)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var list = _values ?? [];
        var position = index + _offset;
        if (position >= list.Count)
        {
            throw new XmlRpcArgumentException(
                $"Missing parameter {position}: expected {expected}, but the call has only {list.Count} parameter{(list.Count == 1 ? string.Empty : "s")}",
                position,
                XmlRpcFaultCodes.IndexError);
        }

        return list[position];
    }

    private static XmlRpcArgumentException Mismatch(int index, string expected, XmlRpcValue actual) =>
        new($"Type mismatch: expected {expected} at parameter {index}, got {actual.TypeName}", index);
}
