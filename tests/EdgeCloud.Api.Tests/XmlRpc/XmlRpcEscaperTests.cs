using System.Buffers;
using System.Text;
using System.Xml;
using EdgeCloud.Api.XmlRpc;

namespace EdgeCloud.Api.Tests.XmlRpc;

public sealed class XmlRpcEscaperTests
{
    private static string Escape(string text) => Encoding.UTF8.GetString(XmlRpcEscaper.EscapeUtf8(text));

    private static string EscapeRaw(byte[] utf8) => Encoding.UTF8.GetString(XmlRpcEscaper.EscapeRawUtf8(utf8));

    /// <summary>What a conforming XML parser reads back from escaped text inside an element.</summary>
    private static string ReadBack(byte[] escaped)
    {
        var xml = Encoding.UTF8.GetBytes("<s>").Concat(escaped).Concat(Encoding.UTF8.GetBytes("</s>")).ToArray();
        using var reader = XmlReader.Create(new MemoryStream(xml));
        reader.MoveToContent();
        return reader.ReadElementContentAsString();
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("a<b>&c", "a&lt;b&gt;&amp;c")]
    [InlineData("<![CDATA[x]]>", "&lt;![CDATA[x]]&gt;")]
    [InlineData("\"quotes' stay\"", "\"quotes' stay\"")]
    [InlineData("tab\tand\nnewline", "tab\tand\nnewline")]
    [InlineData("cr\r\nlf", "cr&#13;\nlf")]
    [InlineData("", "")]
    public void EscapeUtf8_SpecialCharacters_AreEscaped(string input, string expected)
    {
        Assert.Equal(expected, Escape(input));
    }

    [Fact]
    public void EscapeUtf8_IllegalControlCharacters_AreDropped()
    {
        Assert.Equal("abcd", Escape("a\u0000b\u0001c\u001Fd\u000B\u000C"));
        Assert.Equal("xy", Escape("x\uFFFEy\uFFFF"));
    }

    [Fact]
    public void EscapeUtf8_LoneSurrogates_BecomeReplacementCharacter()
    {
        Assert.Equal("a\uFFFDb\uFFFD", Escape("a\uD800b\uDC00"));
    }

    [Fact]
    public void EscapeUtf8_SurrogatePairsAndNonAscii_AreEncodedAsUtf8()
    {
        var text = "héllo ✓ 🚀 <tag>";

        var escaped = XmlRpcEscaper.EscapeUtf8(text);

        Assert.Equal("héllo ✓ 🚀 &lt;tag&gt;", Encoding.UTF8.GetString(escaped));
        Assert.Equal(text, ReadBack(escaped));
    }

    [Fact]
    public void EscapeUtf8_TextWithEverything_ReadsBackAsLegalSubset()
    {
        var text = "<VM><NAME>a&b]]>\r\n\t\u0001x</NAME></VM>";

        Assert.Equal("<VM><NAME>a&b]]>\r\n\tx</NAME></VM>", ReadBack(XmlRpcEscaper.EscapeUtf8(text)));
    }

    [Fact]
    public void EscapeUtf8_LargeTextWithSpecials_MatchesCharByCharExpectation()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            builder.Append("<A>").Append(i).Append("&amp;é</A>\n");
        }

        var text = builder.ToString();

        var escaped = XmlRpcEscaper.EscapeUtf8(text);

        Assert.Equal(text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal), Encoding.UTF8.GetString(escaped));
    }

    [Fact]
    public void EscapeRawUtf8_MatchesStringEscaping()
    {
        var text = "a<b>&c\r\n✓🚀\u0001\uFFFE\uFFFFz ]]>";

        Assert.Equal(Escape(text), EscapeRaw(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void EscapeRawUtf8_OtherEfSequences_AreKept()
    {
        // U+FFFD (EF BF BD) and U+F8FF (EF A3 BF) start with 0xEF but are legal.
        Assert.Equal("\uFFFD\uF8FF", EscapeRaw(Encoding.UTF8.GetBytes("\uFFFD\uF8FF")));
    }

    [Fact]
    public void EscapeRawUtf8_InvalidUtf8_IsRepairedWithReplacementCharacter()
    {
        Assert.Equal("a\uFFFDb&lt;", EscapeRaw([(byte)'a', 0xFF, (byte)'b', (byte)'<']));
    }

    [Fact]
    public void EscapeRawUtf8_CleanInput_ReturnsEqualCopy()
    {
        var bytes = Encoding.UTF8.GetBytes("clean ✓");

        var escaped = XmlRpcEscaper.EscapeRawUtf8(bytes);

        Assert.Equal(bytes, escaped);
        Assert.NotSame(bytes, escaped);
    }

    [Fact]
    public void WriteEscaped_ToSmallSegmentWriter_ProducesSameBytes()
    {
        var text = string.Concat(Enumerable.Repeat("<x>é&🚀\r", 5000)) + new string('a', 50_000);
        var writer = new ArrayBufferWriter<byte>(1);

        XmlRpcEscaper.WriteEscaped(writer, text);

        Assert.Equal(XmlRpcEscaper.EscapeUtf8(text), writer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EscapeUtf8_RandomText_MatchesReferenceAtEverySegmentSize(int seed)
    {
        var random = new Random(seed);
        char[] alphabet = ['a', 'Z', ' ', '<', '>', '&', '\r', '\n', '\t', '\u0001', '\u001F', 'é', '✓', '\uFFFE', '\uFFFF', '\uD83D', '\uDE80', '\u07FF', '\u0800', '\uFFFD'];
        for (var round = 0; round < 200; round++)
        {
            var length = random.Next(0, round < 100 ? 40 : 3000);
            var text = new string(Enumerable.Range(0, length).Select(_ => random.Next(3) == 0 ? 'x' : alphabet[random.Next(alphabet.Length)]).ToArray());
            var expected = ReferenceEscape(text);

            Assert.Equal(expected, XmlRpcEscaper.EscapeUtf8(text));
            var chunky = new ExactSizeBufferWriter();
            XmlRpcEscaper.WriteEscaped(chunky, text);
            Assert.Equal(expected, chunky.ToArray());

            // Raw UTF-8 input: .NET's encoder already turned lone surrogates into U+FFFD, as the char path does.
            var rawChunky = new ExactSizeBufferWriter();
            XmlRpcEscaper.WriteEscapedUtf8(rawChunky, Encoding.UTF8.GetBytes(text));
            Assert.Equal(expected, rawChunky.ToArray());
        }
    }

    /// <summary>The escaping rules written the slow, obvious way.</summary>
    private static byte[] ReferenceEscape(string text)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
                continue;
            }

            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\r' => "&#13;",
                '\t' or '\n' => c.ToString(),
                < ' ' or '\uFFFE' or '\uFFFF' => string.Empty,
                _ when char.IsSurrogate(c) => "\uFFFD",
                _ => c.ToString(),
            });
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>Hands out spans of exactly the requested size, so every chunk boundary in the escaper gets hit.</summary>
    private sealed class ExactSizeBufferWriter : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public void Advance(int count) => _written.AddRange(_current.AsSpan(0, count).ToArray());

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 1)];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public byte[] ToArray() => [.. _written];
    }
}
