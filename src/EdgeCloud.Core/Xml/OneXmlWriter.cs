using System.Buffers;
using System.Globalization;
using System.Text;

namespace EdgeCloud.Core.Xml;

/// <summary>
/// A small forward-only UTF-8 XML writer for OpenNebula's documents. Hand-written rather than
/// <see cref="System.Xml.XmlWriter"/> because one.vmpool.info renders tens of thousands of elements per call
/// and the API caches each object's bytes: appending pre-escaped UTF-8 to one growable buffer is several
/// times faster and allocates nothing per element. It writes what oned writes: no XML declaration, no
/// namespace, no indentation, element text escaped (never CDATA).
/// </summary>
/// <remarks>
/// Text is made safe for XML 1.0: the five predefined entities are escaped as oned's
/// <c>one_util::escape_xml</c> does, a carriage return is written as <c>&amp;#xD;</c> so it survives
/// parsing, and characters XML 1.0 forbids (controls other than tab/newline, lone surrogates, U+FFFE,
/// U+FFFF) are dropped, because one such character would make the whole pool document unreadable
/// for every client.
/// </remarks>
public sealed class OneXmlWriter
{
    /// <summary>Characters that can be copied into element text as they are (printable ASCII but the five escaped ones, tab, newline).</summary>
    private static readonly SearchValues<char> PlainTextChars = SearchValues.Create(
        "\t\n !#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Characters an element name may hold after its first one (ASCII subset; others take the slow path).</summary>
    private static readonly SearchValues<char> PlainNameChars = SearchValues.Create(
        "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");

    private byte[] _buffer;
    private int _length;

    public OneXmlWriter(int initialCapacity = 4096) => _buffer = new byte[Math.Max(initialCapacity, 64)];

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far; valid until the next write.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>The bytes written so far; valid until the next write.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public override string ToString() => Encoding.UTF8.GetString(_buffer, 0, _length);

    /// <summary>Forgets what was written, keeping the buffer (for rendering many objects one by one).</summary>
    public void Clear() => _length = 0;

    /// <summary><c>&lt;name&gt;</c>.</summary>
    public void Start(string name)
    {
        WriteByte((byte)'<');
        WriteName(name);
        WriteByte((byte)'>');
    }

    /// <summary><c>&lt;/name&gt;</c>.</summary>
    public void End(string name)
    {
        Ensure(3);
        _buffer[_length++] = (byte)'<';
        _buffer[_length++] = (byte)'/';
        WriteName(name);
        WriteByte((byte)'>');
    }

    /// <summary><c>&lt;name/&gt;</c>.</summary>
    public void Empty(string name)
    {
        WriteByte((byte)'<');
        WriteName(name);
        Ensure(2);
        _buffer[_length++] = (byte)'/';
        _buffer[_length++] = (byte)'>';
    }

    /// <summary><c>&lt;name&gt;escaped text&lt;/name&gt;</c>; an empty value still gets both tags, as oned writes it.</summary>
    public void Element(string name, string? value)
    {
        Start(name);
        if (!string.IsNullOrEmpty(value)) Text(value);
        End(name);
    }

    public void Element(string name, long value)
    {
        Start(name);
        Number(value);
        End(name);
    }

    public void Element(string name, int value) => Element(name, (long)value);

    /// <summary>0/1, as oned writes its booleans.</summary>
    public void Element(string name, bool value) => Element(name, value ? 1L : 0L);

    /// <summary>A number as OpenNebula prints a float: integers without decimals, others without exponent.</summary>
    public void ElementDecimal(string name, double value)
    {
        Start(name);
        Decimal(value);
        End(name);
    }

    /// <summary>Upper-case hexadecimal without prefix (the ACL encoding).</summary>
    public void ElementHex(string name, long value)
    {
        Start(name);
        Ensure(16);
        value.TryFormat(_buffer.AsSpan(_length), out var written, "X", CultureInfo.InvariantCulture);
        _length += written;
        End(name);
    }

    /// <summary>Writes already-rendered XML (a cached object body) as is.</summary>
    public void Raw(ReadOnlySpan<byte> utf8Xml)
    {
        Ensure(utf8Xml.Length);
        utf8Xml.CopyTo(_buffer.AsSpan(_length));
        _length += utf8Xml.Length;
    }

    public void Number(long value)
    {
        Ensure(20);
        value.TryFormat(_buffer.AsSpan(_length), out var written, default, CultureInfo.InvariantCulture);
        _length += written;
    }

    public void Decimal(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) value = 0;
        if (Math.Abs(value) < 9.0e15 && value == Math.Floor(value))
        {
            Number((long)value);
            return;
        }
        WriteAscii(FormatDecimal(value));
    }

    /// <summary>The text form <see cref="Decimal(double)"/> writes.</summary>
    public static string FormatDecimal(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return "0";
        if (Math.Abs(value) < 9.0e15 && value == Math.Floor(value))
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        // "R" is the shortest round-trip form but switches to exponent notation, which xs:decimal rejects.
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        return r.Contains('E', StringComparison.Ordinal)
            ? value.ToString("0.############################", CultureInfo.InvariantCulture)
            : r;
    }

    /// <summary>Escaped element text.</summary>
    public void Text(string value)
    {
        // Most values are plain ASCII: find the first character needing care (vectorised) and narrow-copy
        // everything before it in one go.
        var span = value.AsSpan();
        var plain = span.IndexOfAnyExcept(PlainTextChars);
        if (plain < 0) plain = span.Length;
        Ensure(plain);
        Ascii.FromUtf16(span[..plain], _buffer.AsSpan(_length), out var copied);
        _length += copied;
        if (plain == span.Length) return;

        // Worst case per UTF-16 char: 6 bytes ("&quot;"), surrogate pairs 4 bytes for 2 chars.
        Ensure((value.Length - plain) * 6);
        var buf = _buffer;
        var n = _length;
        for (var i = plain; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80)
            {
                switch (c)
                {
                    case '&': n = Put(buf, n, "&amp;"u8); break;
                    case '<': n = Put(buf, n, "&lt;"u8); break;
                    case '>': n = Put(buf, n, "&gt;"u8); break;
                    case '"': n = Put(buf, n, "&quot;"u8); break;
                    case '\'': n = Put(buf, n, "&apos;"u8); break;
                    case '\r': n = Put(buf, n, "&#xD;"u8); break;
                    case '\t' or '\n': buf[n++] = (byte)c; break;
                    default:
                        if (c >= 0x20) buf[n++] = (byte)c;
                        break; // other C0 controls are illegal in XML 1.0: dropped
                }
            }
            else if (c < 0x800)
            {
                buf[n++] = (byte)(0xC0 | (c >> 6));
                buf[n++] = (byte)(0x80 | (c & 0x3F));
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    var cp = char.ConvertToUtf32(c, value[++i]);
                    buf[n++] = (byte)(0xF0 | (cp >> 18));
                    buf[n++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                    buf[n++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                    buf[n++] = (byte)(0x80 | (cp & 0x3F));
                }
                // a lone high surrogate is dropped
            }
            else if (char.IsLowSurrogate(c) || c == '\uFFFE' || c == '\uFFFF')
            {
                // lone low surrogate / non-characters: illegal in XML 1.0, dropped
            }
            else
            {
                buf[n++] = (byte)(0xE0 | (c >> 12));
                buf[n++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                buf[n++] = (byte)(0x80 | (c & 0x3F));
            }
        }
        _length = n;
    }

    /// <summary>Plain ASCII that needs no escaping (numbers, fixed words).</summary>
    public void WriteAscii(string value)
    {
        Ensure(value.Length);
        foreach (var c in value) _buffer[_length++] = (byte)c;
    }

    /// <summary>
    /// Writes an element name. Names come from our own constants or from template attribute names, which
    /// the model normalises (upper case, starting with a letter or '_'); anything else that could not
    /// appear in an XML name is replaced by '_' so a strange name cannot break the document.
    /// </summary>
    private void WriteName(string name)
    {
        Ensure(name.Length * 3 + 5);
        if (name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && !name.AsSpan().ContainsAnyExcept(PlainNameChars))
        {
            Ascii.FromUtf16(name, _buffer.AsSpan(_length), out var copied);
            _length += copied;
            return;
        }
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_' || (name[0] >= 0x80 && char.IsLetter(name[0]))))
        {
            // XML names cannot start with a digit or punctuation: oned prefixes ONE_ (the model normalises the same way).
            "ONE_"u8.CopyTo(_buffer.AsSpan(_length));
            _length += 4;
            if (name.Length == 0) return;
        }
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            {
                _buffer[_length++] = (byte)c;
            }
            else if (c >= 0x80 && char.IsLetter(c))
            {
                _length += Encoding.UTF8.GetBytes([c], _buffer.AsSpan(_length));
            }
            else
            {
                _buffer[_length++] = (byte)'_';
            }
        }
    }

    private static int Put(byte[] buf, int n, ReadOnlySpan<byte> s)
    {
        s.CopyTo(buf.AsSpan(n));
        return n + s.Length;
    }

    private void WriteByte(byte b)
    {
        Ensure(1);
        _buffer[_length++] = b;
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        var size = Math.Max(_buffer.Length * 2, _length + extra);
        Array.Resize(ref _buffer, size);
    }
}
