using System.Globalization;
using System.Xml;

namespace EdgeCloud.Core.Templates;

/// <summary>
/// Reads OpenNebula's template text form (the language of <c>src/parsers/template_syntax.y</c> and
/// <c>template_parser.l</c>) and its XML form. A hand-written single-pass scanner: templates are parsed on
/// every allocate/update, so there are no regular expressions and no exceptions except for the one error
/// that ends a parse.
/// </summary>
/// <remarks>
/// Decisions where oned's flex/bison parser is ambiguous or undefined (it echoes unmatched characters to
/// stdout and carries on), documented so callers and tests can rely on them:
/// <list type="bullet">
/// <item>Quoted values: the only escape is <c>\"</c> (other backslashes are literal). A quoted value closes at
/// the first <c>"</c> not preceded by a backslash; if there is none, it closes at the last <c>"</c> of the
/// input, which is what flex's longest match does (so <c>A = "C:\"</c> at the end reads <c>C:\</c>).</item>
/// <item>Bare values stop at blanks, newline, <c>= # , [ ]</c>; a bare value may contain <c>"</c> after its
/// first character (as oned's <c>STRING</c> token). A quoted value directly followed by a bare-word character
/// (<c>A="x"y</c>) is an error.</item>
/// <item><c>NAME =</c> followed by end of line, a comment or end of input is an empty value at top level.
/// Inside a vector a sub-attribute needs a value (oned rejects <c>A =</c> there too); use <c>A = ""</c>.</item>
/// <item>A trailing comma before <c>]</c> is rejected, as oned's grammar
/// (<c>array_val COMMA VARIABLE EQUAL STRING</c>) does.</item>
/// <item>Carriage returns outside quoted values count as blanks, so CRLF text parses like LF text.</item>
/// <item>Any value containing <c>]]&gt;</c> fails the parse (oned aborts on its <c>CCDATA</c> token); the XML
/// form has no such restriction since there the value is unambiguous.</item>
/// <item>XML: an element with child elements is a vector; a self-closing element (<c>&lt;A/&gt;</c>) is an
/// empty vector and <c>&lt;A&gt;&lt;/A&gt;</c> an empty single value (oned drops both; the distinction lets
/// <see cref="EdgeCloud.Core.Xml.TemplateXml"/> output and <see cref="TemplateWriter"/>'s XML fallback read
/// back losslessly).</item>
/// </list>
/// </remarks>
internal static class TemplateParser
{
    /// <summary>Parses <paramref name="text"/>; XML when its first non-blank character is '&lt;'.</summary>
    /// <exception cref="TemplateParseException">Syntax error; the message starts with "Parse error: " and names line and column.</exception>
    public static Template Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var start = 0;
        while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
        if (start < text.Length && text[start] == '<') return XmlForm.Parse(text, start);
        var scanner = new Scanner(text);
        return scanner.ParseTemplate();
    }

    /// <summary>True for the characters OpenNebula allows in names (<c>[[:alnum:]_]</c>, ASCII).</summary>
    internal static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    /// <summary>Blanks separate tokens but not lines; '\r' is one so CRLF input behaves like LF.</summary>
    internal static bool IsBlank(char c) => c is ' ' or '\t' or '\r';

    /// <summary>Characters that end a bare (unquoted) value.</summary>
    internal static bool EndsBareWord(char c) => c is ' ' or '\t' or '\r' or '\n' or '=' or '#' or ',' or '[' or ']';

    internal static string Describe(string text, int pos)
    {
        if (pos >= text.Length) return "end of input";
        var c = text[pos];
        return c switch
        {
            '\n' => "newline",
            '\'' => "\"'\"",
            _ when char.IsControl(c) || char.IsSurrogate(c) => "'\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + "'",
            _ => "'" + c + "'",
        };
    }

    internal static TemplateParseException Error(string detail, int line, int column, int endColumn) =>
        new($"Parse error: {detail} at line {line}, columns {column}:{endColumn}", line, column);

    /// <summary>Scanner and recursive-descent parser over the text form in one pass.</summary>
    private ref struct Scanner(string text)
    {
        private readonly string _s = text;
        private int _pos;
        private int _line = 1;
        private int _lineStart;

        public Template ParseTemplate()
        {
            var template = new Template();
            SkipTrivia();
            while (_pos < _s.Length)
            {
                var name = ReadName(inVector: false);
                ExpectEquals();
                SkipBlanks();
                var c = _pos < _s.Length ? _s[_pos] : '\n';
                if (c is '\n' or '#')
                {
                    template.Add(new SingleAttribute(name, string.Empty));
                }
                else if (c == '[')
                {
                    template.Add(ReadVector(name));
                }
                else
                {
                    template.Add(new SingleAttribute(name, ReadValue()));
                }
                SkipTrivia();
            }
            return template;
        }

        private VectorAttribute ReadVector(string name)
        {
            int openLine = _line, openColumn = Column(_pos);
            _pos++; // '['
            SkipTrivia();
            if (_pos < _s.Length && _s[_pos] == ']')
            {
                _pos++;
                return new VectorAttribute(name);
            }
            var values = new List<KeyValuePair<string, string>>(8);
            while (true)
            {
                var sub = ReadName(inVector: true);
                ExpectEquals();
                SkipBlanks();
                values.Add(new(sub, ReadValue()));
                SkipTrivia();
                if (_pos < _s.Length && _s[_pos] == ',')
                {
                    _pos++;
                    SkipTrivia();
                    if (_pos < _s.Length && _s[_pos] == ']')
                        throw Here("syntax error, unexpected ']' after ',', expecting attribute name (trailing commas are not allowed)");
                    continue;
                }
                if (_pos < _s.Length && _s[_pos] == ']')
                {
                    _pos++;
                    return new VectorAttribute(name, values);
                }
                throw Here($"syntax error, unexpected {Describe(_s, _pos)}, expecting ',' or ']' to close vector {name} opened at line {openLine}, column {openColumn}");
            }
        }

        /// <summary>A quoted or bare value; the caller has skipped the blanks after '='.</summary>
        private string ReadValue()
        {
            if (_pos >= _s.Length || EndsBareWord(_s[_pos]))
            {
                if (_pos < _s.Length && _s[_pos] == '[')
                    throw Here("syntax error, unexpected '[', vectors cannot nest");
                throw Here($"syntax error, unexpected {Describe(_s, _pos)}, expecting value");
            }
            int startLine = _line, startColumn = Column(_pos);
            string value;
            if (_s[_pos] == '"')
            {
                value = ReadQuoted();
                if (_pos < _s.Length && !EndsBareWord(_s[_pos]))
                    throw Here($"syntax error, unexpected {Describe(_s, _pos)} after quoted value");
            }
            else
            {
                var start = _pos;
                while (_pos < _s.Length && !EndsBareWord(_s[_pos])) _pos++;
                value = _s.Substring(start, _pos - start);
            }
            if (value.Contains("]]>", StringComparison.Ordinal))
                throw Error("syntax error, value contains ']]>'", startLine, startColumn, startLine == _line ? Column(_pos) : startColumn + 1);
            return value;
        }

        private string ReadQuoted()
        {
            var open = _pos;
            // Close at the first '"' not preceded by '\'; without one, flex's longest match ends at the last '"'.
            var close = -1;
            var i = open + 1;
            while (true)
            {
                var q = _s.IndexOf('"', i);
                if (q < 0) break;
                if (_s[q - 1] != '\\')
                {
                    close = q;
                    break;
                }
                i = q + 1;
            }
            if (close < 0)
            {
                close = _s.LastIndexOf('"');
                if (close <= open) throw Here("syntax error, unterminated quoted string");
            }
            var content = _s.AsSpan(open + 1, close - open - 1);
            // Keep line/column right for what follows a multi-line value.
            var nl = content.LastIndexOf('\n');
            if (nl >= 0)
            {
                _line += content.Count('\n');
                _lineStart = open + 1 + nl + 1;
            }
            _pos = close + 1;
            return content.Contains("\\\"", StringComparison.Ordinal)
                ? content.ToString().Replace("\\\"", "\"", StringComparison.Ordinal)
                : content.ToString();
        }

        private string ReadName(bool inVector)
        {
            var start = _pos;
            while (_pos < _s.Length && IsNameChar(_s[_pos])) _pos++;
            if (_pos == start)
            {
                if (inVector && _pos < _s.Length && _s[_pos] == '[')
                    throw Here("syntax error, unexpected '[', vectors cannot nest");
                throw Here($"syntax error, unexpected {Describe(_s, _pos)}, expecting attribute name");
            }
            if (_pos < _s.Length && !EndsBareWord(_s[_pos]))
                throw Here($"syntax error, invalid character {Describe(_s, _pos)} in attribute name");
            return _s.Substring(start, _pos - start);
        }

        /// <summary>Newlines and comments may separate a name from its '=' (oned skips them there).</summary>
        private void ExpectEquals()
        {
            SkipTrivia();
            if (_pos < _s.Length && _s[_pos] == '=')
            {
                _pos++;
                return;
            }
            throw Here($"syntax error, unexpected {Describe(_s, _pos)}, expecting '='");
        }

        private void SkipBlanks()
        {
            while (_pos < _s.Length && IsBlank(_s[_pos])) _pos++;
        }

        /// <summary>Blanks, newlines and '#' comments.</summary>
        private void SkipTrivia()
        {
            while (_pos < _s.Length)
            {
                var c = _s[_pos];
                if (IsBlank(c))
                {
                    _pos++;
                }
                else if (c == '\n')
                {
                    _pos++;
                    _line++;
                    _lineStart = _pos;
                }
                else if (c == '#')
                {
                    var nl = _s.IndexOf('\n', _pos);
                    _pos = nl < 0 ? _s.Length : nl;
                }
                else
                {
                    return;
                }
            }
        }

        private readonly int Column(int pos) => pos - _lineStart + 1;

        private readonly TemplateParseException Here(string detail)
        {
            var column = Column(_pos);
            return Error(detail, _line, column, _pos < _s.Length ? column + 1 : column);
        }
    }

    /// <summary>The XML form: <c>&lt;ROOT&gt;&lt;NAME&gt;v&lt;/NAME&gt;&lt;VEC&gt;&lt;SUB&gt;v&lt;/SUB&gt;&lt;/VEC&gt;&lt;/ROOT&gt;</c>.</summary>
    private sealed class XmlForm
    {
        private static readonly XmlReaderSettings Settings = new()
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = false,
            CloseInput = true,
        };

        private readonly int _lineOffset;
        private readonly int _columnOffset;

        private XmlForm(int lineOffset, int columnOffset)
        {
            _lineOffset = lineOffset;
            _columnOffset = columnOffset;
        }

        public static Template Parse(string text, int start)
        {
            // Report positions in the caller's text although the reader starts at the first '<'.
            var lineOffset = 0;
            var columnOffset = start;
            for (var i = 0; i < start; i++)
            {
                if (text[i] == '\n')
                {
                    lineOffset++;
                    columnOffset = start - i - 1;
                }
            }
            var form = new XmlForm(lineOffset, columnOffset);
            try
            {
                using var reader = XmlReader.Create(new StringReader(start == 0 ? text : text[start..]), Settings);
                return form.Read(reader);
            }
            catch (XmlException ex)
            {
                var reason = ex.Message;
                var cut = reason.LastIndexOf(" Line ", StringComparison.Ordinal);
                if (cut > 0) reason = reason[..cut];
                throw form.At("malformed XML template: " + reason.TrimEnd(), ex.LineNumber, ex.LinePosition);
            }
        }

        private Template Read(XmlReader reader)
        {
            var template = new Template();
            if (reader.MoveToContent() != XmlNodeType.Element) throw Fail(reader, "syntax error, expecting a root element");
            if (reader.IsEmptyElement)
            {
                while (reader.Read()) { } // let the reader reject trailing garbage
                return template;
            }
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element) template.Add(ReadAttribute(reader));
                else if (reader.NodeType == XmlNodeType.EndElement) break; // end of root; text under the root is ignored, as oned does
            }
            while (reader.Read()) { }
            return template;
        }

        private TemplateAttribute ReadAttribute(XmlReader reader)
        {
            var name = reader.Name;
            if (reader.IsEmptyElement) return new VectorAttribute(name);
            string? text = null;
            List<KeyValuePair<string, string>>? subs = null;
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                        text = text is null ? reader.Value : text + reader.Value;
                        break;
                    case XmlNodeType.Element:
                        subs ??= new(8);
                        var sub = reader.Name;
                        subs.Add(new(sub, ReadLeaf(reader)));
                        break;
                    case XmlNodeType.EndElement:
                        // Text beside child elements is layout (oned ignores it too).
                        return subs is null ? new SingleAttribute(name, text ?? string.Empty) : new VectorAttribute(name, subs);
                }
            }
            throw Fail(reader, "syntax error, unexpected end of input inside " + name);
        }

        private string ReadLeaf(XmlReader reader)
        {
            if (reader.IsEmptyElement) return string.Empty;
            string? text = null;
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                        text = text is null ? reader.Value : text + reader.Value;
                        break;
                    case XmlNodeType.Element:
                        throw Fail(reader, $"syntax error, unexpected element {reader.Name}, vectors cannot nest");
                    case XmlNodeType.EndElement:
                        return text ?? string.Empty;
                }
            }
            throw Fail(reader, "syntax error, unexpected end of input");
        }

        private TemplateParseException Fail(XmlReader reader, string detail) =>
            reader is IXmlLineInfo info && info.HasLineInfo()
                ? At(detail, info.LineNumber, info.LinePosition)
                : At(detail, 0, 0);

        private TemplateParseException At(string detail, int line, int column)
        {
            if (line <= 0) line = 1;
            if (column <= 0) column = 1;
            if (line == 1) column += _columnOffset;
            line += _lineOffset;
            return Error(detail, line, column, column + 1);
        }
    }
}
