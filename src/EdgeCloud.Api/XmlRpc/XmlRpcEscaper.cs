using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// Turns text into the UTF-8 bytes that go between <c>&lt;string&gt;</c> and <c>&lt;/string&gt;</c>. The server
/// can escape an object's XML once, cache the bytes, and copy them into every listing that includes it
/// (<see cref="XmlRpcResponseWriter.WriteEscapedChunk"/>), so a 20 MB pool answer is a sequence of copies.
/// </summary>
/// <remarks>
/// Rules: <c>&amp;</c>, <c>&lt;</c> and <c>&gt;</c> become entities (escaping <c>&gt;</c> always also covers
/// <c>]]&gt;</c>); CR becomes <c>&amp;#13;</c> so the receiver's end-of-line normalisation does not turn it into
/// LF; tab and LF stay as they are. Characters that XML 1.0 cannot carry at all, not even as a character
/// reference (C0 controls other than tab/LF/CR, U+FFFE, U+FFFF), are dropped: one stray byte in a VM template
/// must not make a whole pool listing unreadable for every client. Lone surrogates and invalid UTF-8 become
/// U+FFFD, as .NET's UTF-8 encoder does.
/// </remarks>
public static class XmlRpcEscaper
{
    // Written in pieces so that GetSpan never asks a PipeWriter for one giant segment.
    private const int ByteChunk = 16 * 1024;

    // The longest replacement ("&amp;", "&#13;") is 5 bytes; a surrogate pair is 4.
    private const int MaxEscapeBytes = 8;

    // Plain characters in a row after which a vectorised search for the run's end pays off.
    private const int LongRun = 16;

    private static readonly SearchValues<char> SpecialChars = SearchValues.Create(BuildSpecialChars());

    // 0xEF starts U+FFFE/U+FFFF (EF BF BE / EF BF BF); other 0xEF sequences are copied unchanged.
    private static readonly SearchValues<byte> SpecialBytes = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
         (byte)'&', (byte)'<', (byte)'>', 0xEF]);

    /// <summary>Escapes <paramref name="text"/> into a new array, ready to cache and copy into responses.</summary>
    public static byte[] EscapeUtf8(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EscapeUtf8(text.AsSpan());
    }

    /// <summary>Escapes <paramref name="text"/> into a new array.</summary>
    public static byte[] EscapeUtf8(ReadOnlySpan<char> text)
    {
        if (!text.ContainsAny(SpecialChars))
        {
            var plain = new byte[Encoding.UTF8.GetByteCount(text)];
            Encoding.UTF8.GetBytes(text, plain);
            return plain;
        }

        var output = new ArrayBufferWriter<byte>(text.Length + 64);
        WriteEscaped(output, text);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Escapes text that is already UTF-8 (for example an XML serializer's output) into a new array, without decoding it.</summary>
    public static byte[] EscapeRawUtf8(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.ContainsAny(SpecialBytes) && Utf8.IsValid(utf8))
        {
            return utf8.ToArray();
        }

        var output = new ArrayBufferWriter<byte>(utf8.Length + 64);
        WriteEscapedUtf8(output, utf8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the escaped UTF-8 form of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (!text.IsEmpty)
        {
            // Ask for room for the whole rest when it is small, else for a bounded piece; the core fills what it gets.
            var span = output.GetSpan((int)Math.Min(((long)text.Length * 3) + MaxEscapeBytes, ByteChunk));
            var written = EscapeInto(text, span, out var consumed);
            output.Advance(written);
            text = text[consumed..];
        }
    }

    /// <summary>
    /// Escapes as much of <paramref name="text"/> as fits in <paramref name="destination"/>. XML is markup-dense
    /// (a special character every few characters), so the loop works character by character, writing entities
    /// straight into the span, and switches to a vectorised search only inside long plain runs.
    /// </summary>
    private static int EscapeInto(ReadOnlySpan<char> text, Span<byte> destination, out int consumed)
    {
        var read = 0;
        var written = 0;
        var plainStreak = 0;
        while (read < text.Length && destination.Length - written >= MaxEscapeBytes)
        {
            var c = text[read];
            if (c < 0x80 && !IsSpecialAscii(c))
            {
                destination[written++] = (byte)c;
                read++;
                if (++plainStreak >= LongRun)
                {
                    // A long plain run: find its end in one vectorised search and convert it in bulk.
                    plainStreak = 0;
                    var rest = text[read..];
                    var next = rest.IndexOfAny(SpecialChars);
                    var run = next < 0 ? rest : rest[..next];

                    // No surrogates in a plain run (they are special), so a partial conversion never splits a pair.
                    Utf8.FromUtf16(run, destination[written..], out var charsRead, out var bytesWritten);
                    read += charsRead;
                    written += bytesWritten;
                }

                continue;
            }

            plainStreak = 0;
            read++;
            switch (c)
            {
                case '&':
                    "&amp;"u8.CopyTo(destination[written..]);
                    written += 5;
                    break;
                case '<':
                    "&lt;"u8.CopyTo(destination[written..]);
                    written += 4;
                    break;
                case '>':
                    "&gt;"u8.CopyTo(destination[written..]);
                    written += 4;
                    break;
                case '\r':
                    "&#13;"u8.CopyTo(destination[written..]);
                    written += 5;
                    break;
                case < '\u0080':
                    break; // other C0 control: XML 1.0 cannot carry it, dropped
                case < '\u0800':
                    destination[written++] = (byte)(0xC0 | (c >> 6));
                    destination[written++] = (byte)(0x80 | (c & 0x3F));
                    break;
                case '\uFFFE' or '\uFFFF':
                    break; // not XML characters: dropped
                default:
                    if (!char.IsSurrogate(c))
                    {
                        destination[written++] = (byte)(0xE0 | (c >> 12));
                        destination[written++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                        destination[written++] = (byte)(0x80 | (c & 0x3F));
                    }
                    else if (char.IsHighSurrogate(c) && read < text.Length && char.IsLowSurrogate(text[read]))
                    {
                        var scalar = char.ConvertToUtf32(c, text[read]);
                        read++;
                        destination[written++] = (byte)(0xF0 | (scalar >> 18));
                        destination[written++] = (byte)(0x80 | ((scalar >> 12) & 0x3F));
                        destination[written++] = (byte)(0x80 | ((scalar >> 6) & 0x3F));
                        destination[written++] = (byte)(0x80 | (scalar & 0x3F));
                    }
                    else
                    {
                        "\uFFFD"u8.CopyTo(destination[written..]); // lone surrogate
                        written += 3;
                    }

                    break;
            }
        }

        consumed = read;
        return written;
    }

    private static bool IsSpecialAscii(char c) => c < ' ' ? c is not ('\t' or '\n') : c is '&' or '<' or '>';

    private static bool IsSpecialByte(byte b) => b < 0x20 ? b is not ((byte)'\t' or (byte)'\n') : b is (byte)'&' or (byte)'<' or (byte)'>' or 0xEF;

    /// <summary>Writes the escaped form of already-UTF-8 text; invalid UTF-8 is repaired with U+FFFD first.</summary>
    public static void WriteEscapedUtf8(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!Utf8.IsValid(utf8))
        {
            WriteEscaped(output, Encoding.UTF8.GetString(utf8));
            return;
        }

        while (!utf8.IsEmpty)
        {
            var span = output.GetSpan((int)Math.Min((long)utf8.Length + MaxEscapeBytes, ByteChunk));
            var written = EscapeUtf8Into(utf8, span, out var consumed);
            output.Advance(written);
            utf8 = utf8[consumed..];
        }
    }

    /// <summary>The byte-level twin of <see cref="EscapeInto"/>, for input already validated as UTF-8.</summary>
    private static int EscapeUtf8Into(ReadOnlySpan<byte> utf8, Span<byte> destination, out int consumed)
    {
        var read = 0;
        var written = 0;
        var plainStreak = 0;
        while (read < utf8.Length && destination.Length - written >= MaxEscapeBytes)
        {
            var b = utf8[read];
            if (!IsSpecialByte(b))
            {
                destination[written++] = b;
                read++;
                if (++plainStreak >= LongRun)
                {
                    // Splitting a multi-byte sequence here is harmless: the bytes are copied through unchanged.
                    plainStreak = 0;
                    var rest = utf8[read..];
                    var next = rest.IndexOfAny(SpecialBytes);
                    var run = next < 0 ? rest : rest[..next];
                    var count = Math.Min(run.Length, destination.Length - written);
                    run[..count].CopyTo(destination[written..]);
                    read += count;
                    written += count;
                }

                continue;
            }

            plainStreak = 0;
            read++;
            switch (b)
            {
                case (byte)'&':
                    "&amp;"u8.CopyTo(destination[written..]);
                    written += 5;
                    break;
                case (byte)'<':
                    "&lt;"u8.CopyTo(destination[written..]);
                    written += 4;
                    break;
                case (byte)'>':
                    "&gt;"u8.CopyTo(destination[written..]);
                    written += 4;
                    break;
                case (byte)'\r':
                    "&#13;"u8.CopyTo(destination[written..]);
                    written += 5;
                    break;
                case 0xEF:
                    // Valid UTF-8, so two continuation bytes follow. U+FFFE / U+FFFF are dropped, the rest copied.
                    if (!(utf8[read] == 0xBF && utf8[read + 1] is 0xBE or 0xBF))
                    {
                        destination[written++] = 0xEF;
                        destination[written++] = utf8[read];
                        destination[written++] = utf8[read + 1];
                    }

                    read += 2;
                    break;
                default:
                    break; // C0 control: dropped
            }
        }

        consumed = read;
        return written;
    }

    /// <summary>Copies bytes to the writer in bounded pieces.</summary>
    internal static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = output.GetSpan(Math.Min(bytes.Length, ByteChunk));
            var count = Math.Min(span.Length, bytes.Length);
            bytes[..count].CopyTo(span);
            output.Advance(count);
            bytes = bytes[count..];
        }
    }

    private static string BuildSpecialChars()
    {
        var builder = new StringBuilder();
        for (var c = '\0'; c < ' '; c++)
        {
            if (c is not ('\t' or '\n'))
            {
                builder.Append(c); // includes CR, which is escaped rather than dropped
            }
        }

        builder.Append("&<>");
        for (var c = '\uD800'; c <= '\uDFFF'; c++)
        {
            builder.Append(c);
        }

        builder.Append('\uFFFE').Append('\uFFFF');
        return builder.ToString();
    }
}
