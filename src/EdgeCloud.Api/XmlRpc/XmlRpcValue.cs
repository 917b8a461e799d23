using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// One immutable XML-RPC value. It is a small struct (a tag, 8 bytes of payload and one reference) so that
/// parsing a call with a handful of scalar parameters allocates nothing per scalar but its string text.
/// <c>default</c> is <see cref="Nil"/>.
/// </summary>
/// <remarks>
/// Equality is structural (arrays and structs compare element by element, base64 byte by byte), which
/// makes values usable as expected results in tests and as dictionary keys.
/// </remarks>
public readonly struct XmlRpcValue : IEquatable<XmlRpcValue>
{
    // Boxed once: an empty array or struct then costs no allocation.
    private static readonly object EmptyItems = ImmutableArray<XmlRpcValue>.Empty;
    private static readonly object EmptyMembers = ImmutableArray<KeyValuePair<string, XmlRpcValue>>.Empty;

    // Int, I8, Boolean: the number; Double: its bits; DateTime: DateTime.ToBinary().
    private readonly long _bits;

    // String: string; Base64: byte[]; Array: boxed ImmutableArray<XmlRpcValue>;
    // Struct: boxed ImmutableArray<KeyValuePair<string, XmlRpcValue>>. Boxing once here means the
    // IReadOnlyList views handed out later cost nothing.
    private readonly object? _ref;

    private XmlRpcValue(XmlRpcType type, long bits, object? reference)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
    }

    /// <summary>The kind of value.</summary>
    public XmlRpcType Type { get; }

    /// <summary>The nil value (same as <c>default</c>).</summary>
    public static XmlRpcValue Nil => default;

    /// <summary>True for <see cref="XmlRpcType.Nil"/>.</summary>
    public bool IsNil => Type == XmlRpcType.Nil;

    /// <summary>
    /// The XML-RPC name of the type as used in fault messages: <c>int</c>, <c>i8</c>, <c>boolean</c>, <c>string</c>,
    /// <c>double</c>, <c>dateTime.iso8601</c>, <c>base64</c>, <c>array</c>, <c>struct</c> or <c>nil</c>.
    /// </summary>
    public string TypeName => NameOf(Type);

    /// <summary>Creates an <c>&lt;i4&gt;</c>/<c>&lt;int&gt;</c> value.</summary>
    public static XmlRpcValue FromInt(int value) => new(XmlRpcType.Int, value, null);

    /// <summary>Creates an <c>&lt;i8&gt;</c> value (always written as i8, even when it would fit an int).</summary>
    public static XmlRpcValue FromI8(long value) => new(XmlRpcType.I8, value, null);

    /// <summary>Creates a <c>&lt;boolean&gt;</c> value.</summary>
    public static XmlRpcValue FromBool(bool value) => new(XmlRpcType.Boolean, value ? 1 : 0, null);

    /// <summary>Creates a <c>&lt;string&gt;</c> value.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null (XML-RPC has no null string; use <see cref="Nil"/>).</exception>
    public static XmlRpcValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(XmlRpcType.String, 0, value);
    }

    /// <summary>Creates a <c>&lt;double&gt;</c> value.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite, which XML-RPC cannot carry.</exception>
    public static XmlRpcValue FromDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "XML-RPC doubles must be finite.");
        }

        return new(XmlRpcType.Double, BitConverter.DoubleToInt64Bits(value), null);
    }

    /// <summary>Creates a <c>&lt;dateTime.iso8601&gt;</c> value. The wire format has no zone; the kind is kept only in memory.</summary>
    public static XmlRpcValue FromDateTime(DateTime value) => new(XmlRpcType.DateTime, value.ToBinary(), null);

    /// <summary>Creates a <c>&lt;base64&gt;</c> value from a copy of <paramref name="bytes"/>.</summary>
    public static XmlRpcValue FromBase64(ReadOnlySpan<byte> bytes) => new(XmlRpcType.Base64, 0, bytes.ToArray());

    /// <summary>Creates an <c>&lt;array&gt;</c> from a copy of <paramref name="items"/>.</summary>
    public static XmlRpcValue FromArray(params XmlRpcValue[] items) =>
        items is null || items.Length == 0 ? new(XmlRpcType.Array, 0, EmptyItems) : new(XmlRpcType.Array, 0, ImmutableArray.Create(items));

    /// <summary>Creates an <c>&lt;array&gt;</c> from <paramref name="items"/>.</summary>
    public static XmlRpcValue FromArray(IEnumerable<XmlRpcValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new(XmlRpcType.Array, 0, items.ToImmutableArray());
    }

    /// <summary>Creates an <c>&lt;array&gt;</c> of <c>&lt;i4&gt;</c> values, the shape of OpenNebula's group lists.</summary>
    public static XmlRpcValue FromIntArray(IEnumerable<int> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return FromArray(items.Select(FromInt));
    }

    /// <summary>Creates a <c>&lt;struct&gt;</c>; members keep their order.</summary>
    /// <exception cref="ArgumentException">Two members have the same name.</exception>
    public static XmlRpcValue FromStruct(IEnumerable<KeyValuePair<string, XmlRpcValue>> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var array = members.ToImmutableArray();
        if (array.Length > 1)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in array)
            {
                ArgumentNullException.ThrowIfNull(member.Key, nameof(members));
                if (!seen.Add(member.Key))
                {
                    throw new ArgumentException($"Duplicate struct member '{member.Key}'.", nameof(members));
                }
            }
        }

        return new(XmlRpcType.Struct, 0, array.IsEmpty ? EmptyMembers : array);
    }

    /// <summary>Wraps an already-built array without copying; the parser owns its buffer so no defensive copy is needed.</summary>
    internal static XmlRpcValue WrapArray(XmlRpcValue[] items) =>
        new(XmlRpcType.Array, 0, items.Length == 0 ? EmptyItems : ImmutableCollectionsMarshal.AsImmutableArray(items));

    /// <summary>Wraps already-checked struct members without copying.</summary>
    internal static XmlRpcValue WrapStruct(KeyValuePair<string, XmlRpcValue>[] members) =>
        new(XmlRpcType.Struct, 0, members.Length == 0 ? EmptyMembers : ImmutableCollectionsMarshal.AsImmutableArray(members));

    /// <summary>Wraps a decoded base64 buffer without copying.</summary>
    internal static XmlRpcValue WrapBase64(byte[] bytes) => new(XmlRpcType.Base64, 0, bytes);

    /// <summary>Converts an int to an <c>&lt;i4&gt;</c> value.</summary>
    public static implicit operator XmlRpcValue(int value) => FromInt(value);

    /// <summary>Converts a long to an <c>&lt;i8&gt;</c> value.</summary>
    public static implicit operator XmlRpcValue(long value) => FromI8(value);

    /// <summary>Converts a bool to a <c>&lt;boolean&gt;</c> value.</summary>
    public static implicit operator XmlRpcValue(bool value) => FromBool(value);

    /// <summary>Converts a string to a <c>&lt;string&gt;</c> value.</summary>
    public static implicit operator XmlRpcValue(string value) => FromString(value);

    /// <summary>Converts a double to a <c>&lt;double&gt;</c> value.</summary>
    public static implicit operator XmlRpcValue(double value) => FromDouble(value);

    /// <summary>The int of an <see cref="XmlRpcType.Int"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public int AsInt()
    {
        Expect(XmlRpcType.Int);
        return (int)_bits;
    }

    /// <summary>The number of an <see cref="XmlRpcType.Int"/> or <see cref="XmlRpcType.I8"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public long AsLong()
    {
        if (Type is not (XmlRpcType.Int or XmlRpcType.I8))
        {
            throw WrongType("int or i8");
        }

        return _bits;
    }

    /// <summary>The bool of a <see cref="XmlRpcType.Boolean"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public bool AsBool()
    {
        Expect(XmlRpcType.Boolean);
        return _bits != 0;
    }

    /// <summary>The text of a <see cref="XmlRpcType.String"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public string AsString()
    {
        Expect(XmlRpcType.String);
        return (string)_ref!;
    }

    /// <summary>The number of a <see cref="XmlRpcType.Double"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public double AsDouble()
    {
        Expect(XmlRpcType.Double);
        return BitConverter.Int64BitsToDouble(_bits);
    }

    /// <summary>The time of a <see cref="XmlRpcType.DateTime"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public DateTime AsDateTime()
    {
        Expect(XmlRpcType.DateTime);
        return DateTime.FromBinary(_bits);
    }

    /// <summary>The bytes of a <see cref="XmlRpcType.Base64"/> value (read-only view, no copy).</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public ReadOnlyMemory<byte> AsBase64()
    {
        Expect(XmlRpcType.Base64);
        return (byte[])_ref!;
    }

    /// <summary>The items of an <see cref="XmlRpcType.Array"/> value.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public IReadOnlyList<XmlRpcValue> AsArray()
    {
        Expect(XmlRpcType.Array);
        return (IReadOnlyList<XmlRpcValue>)_ref!;
    }

    /// <summary>The members of a <see cref="XmlRpcType.Struct"/> value, in document order.</summary>
    /// <exception cref="InvalidOperationException">The value is of another type.</exception>
    public IReadOnlyList<KeyValuePair<string, XmlRpcValue>> AsStruct()
    {
        Expect(XmlRpcType.Struct);
        return (IReadOnlyList<KeyValuePair<string, XmlRpcValue>>)_ref!;
    }

    /// <summary>Looks up a struct member by exact (ordinal) name; false for a missing member or a non-struct.</summary>
    public bool TryGetMember(string name, out XmlRpcValue value)
    {
        if (Type == XmlRpcType.Struct)
        {
            foreach (var member in (ImmutableArray<KeyValuePair<string, XmlRpcValue>>)_ref!)
            {
                if (string.Equals(member.Key, name, StringComparison.Ordinal))
                {
                    value = member.Value;
                    return true;
                }
            }
        }

        value = default;
        return false;
    }

    /// <inheritdoc/>
    public bool Equals(XmlRpcValue other)
    {
        if (Type != other.Type)
        {
            return false;
        }

        switch (Type)
        {
            case XmlRpcType.Nil:
                return true;
            case XmlRpcType.Int:
            case XmlRpcType.I8:
            case XmlRpcType.Boolean:
            case XmlRpcType.Double:
            case XmlRpcType.DateTime:
                return _bits == other._bits;
            case XmlRpcType.String:
                return string.Equals((string)_ref!, (string)other._ref!, StringComparison.Ordinal);
            case XmlRpcType.Base64:
                return ((byte[])_ref!).AsSpan().SequenceEqual((byte[])other._ref!);
            case XmlRpcType.Array:
                return ((ImmutableArray<XmlRpcValue>)_ref!).AsSpan().SequenceEqual(((ImmutableArray<XmlRpcValue>)other._ref!).AsSpan());
            case XmlRpcType.Struct:
                var mine = (ImmutableArray<KeyValuePair<string, XmlRpcValue>>)_ref!;
                var theirs = (ImmutableArray<KeyValuePair<string, XmlRpcValue>>)other._ref!;
                if (mine.Length != theirs.Length)
                {
                    return false;
                }

                for (var i = 0; i < mine.Length; i++)
                {
                    if (!string.Equals(mine[i].Key, theirs[i].Key, StringComparison.Ordinal) || !mine[i].Value.Equals(theirs[i].Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is XmlRpcValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Type switch
    {
        XmlRpcType.String => HashCode.Combine(Type, StringComparer.Ordinal.GetHashCode((string)_ref!)),
        XmlRpcType.Base64 => HashCode.Combine(Type, ((byte[])_ref!).Length),
        XmlRpcType.Array => HashCode.Combine(Type, ((ImmutableArray<XmlRpcValue>)_ref!).Length),
        XmlRpcType.Struct => HashCode.Combine(Type, ((ImmutableArray<KeyValuePair<string, XmlRpcValue>>)_ref!).Length),
        _ => HashCode.Combine(Type, _bits),
    };

    /// <summary>Structural equality.</summary>
    public static bool operator ==(XmlRpcValue left, XmlRpcValue right) => left.Equals(right);

    /// <summary>Structural inequality.</summary>
    public static bool operator !=(XmlRpcValue left, XmlRpcValue right) => !left.Equals(right);

    /// <summary>
    /// A short human form in the style of the wire captures (<c>i4 5</c>, <c>string "x"</c>, <c>array [i4 1]</c>),
    /// meant for logs and test failure messages, not for the wire.
    /// </summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        Describe(builder);
        return builder.ToString();
    }

    /// <summary>The XML-RPC name of <paramref name="type"/>, as in <see cref="TypeName"/>.</summary>
    public static string NameOf(XmlRpcType type) => type switch
    {
        XmlRpcType.Int => "int",
        XmlRpcType.I8 => "i8",
        XmlRpcType.Boolean => "boolean",
        XmlRpcType.String => "string",
        XmlRpcType.Double => "double",
        XmlRpcType.DateTime => "dateTime.iso8601",
        XmlRpcType.Base64 => "base64",
        XmlRpcType.Array => "array",
        XmlRpcType.Struct => "struct",
        _ => "nil",
    };

    private void Describe(StringBuilder builder)
    {
        switch (Type)
        {
            case XmlRpcType.Int:
                builder.Append("i4 ").Append((int)_bits);
                break;
            case XmlRpcType.I8:
                builder.Append("i8 ").Append(_bits);
                break;
            case XmlRpcType.Boolean:
                builder.Append("boolean ").Append(_bits != 0 ? "true" : "false");
                break;
            case XmlRpcType.String:
                var text = (string)_ref!;
                builder.Append("string \"").Append(text.Length > 70 ? text[..70] + "..." : text).Append('"');
                break;
            case XmlRpcType.Double:
                builder.Append("double ").Append(AsDouble().ToString("R", CultureInfo.InvariantCulture));
                break;
            case XmlRpcType.DateTime:
                builder.Append("dateTime.iso8601 ").Append(AsDateTime().ToString("yyyyMMdd'T'HH':'mm':'ss", CultureInfo.InvariantCulture));
                break;
            case XmlRpcType.Base64:
                builder.Append("base64 (").Append(((byte[])_ref!).Length).Append(" bytes)");
                break;
            case XmlRpcType.Array:
                builder.Append("array [");
                var first = true;
                foreach (var item in (ImmutableArray<XmlRpcValue>)_ref!)
                {
                    builder.Append(first ? string.Empty : ", ");
                    item.Describe(builder);
                    first = false;
                }

                builder.Append(']');
                break;
            case XmlRpcType.Struct:
                builder.Append("struct {");
                var firstMember = true;
                foreach (var member in (ImmutableArray<KeyValuePair<string, XmlRpcValue>>)_ref!)
                {
                    builder.Append(firstMember ? string.Empty : ", ").Append(member.Key).Append(": ");
                    member.Value.Describe(builder);
                    firstMember = false;
                }

                builder.Append('}');
                break;
            default:
                builder.Append("nil");
                break;
        }
    }

    private void Expect(XmlRpcType type)
    {
        if (Type != type)
        {
            throw WrongType(NameOf(type));
        }
    }

    private InvalidOperationException WrongType(string expected) =>
        new($"XML-RPC value is {TypeName}, not {expected}.");
}
