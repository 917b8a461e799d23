using System.Buffers;
using System.Globalization;
using System.Text;
using System.Xml;

namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// Reads an XML-RPC <c>methodCall</c> strictly. The body arrives before the caller is authenticated, so the
/// reader refuses DTDs (no entity expansion, no billion laughs), resolves nothing external and bounds size
/// and nesting. Anything that is not a well-formed call in the XML-RPC spec's shape is refused with an
/// <see cref="XmlRpcFormatException"/> whose message says what and where, because that message becomes the
/// fault string the client's user sees.
/// </summary>
/// <remarks>
/// Whitespace: a <c>&lt;value&gt;</c> holding only text (no type element) is a string and keeps its text
/// exactly, whitespace included, as the spec says; whitespace between structural elements and around a
/// type element is ignored; numbers and booleans may be surrounded by whitespace. XML's own end-of-line
/// normalisation still applies (a raw CR LF arrives as LF; <c>&amp;#13;</c> keeps a CR).
/// </remarks>
public static class XmlRpcRequestParser
{
    private const int InitialBufferSize = 16 * 1024;

    /// <summary>Parses a UTF-8 (or BOM/declaration-encoded) body held in memory.</summary>
    /// <exception cref="XmlRpcFormatException">The body is not an acceptable XML-RPC call.</exception>
    public static XmlRpcRequest Parse(byte[] body, XmlRpcParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= XmlRpcParserOptions.Default;
        CheckSize(body.Length, options);
        using var stream = new MemoryStream(body, writable: false);
        return ParseCore(stream, options);
    }

    /// <summary>Parses a body held in memory; the span is copied to a pooled buffer for the XML reader.</summary>
    /// <exception cref="XmlRpcFormatException">The body is not an acceptable XML-RPC call.</exception>
    public static XmlRpcRequest Parse(ReadOnlySpan<byte> body, XmlRpcParserOptions? options = null)
    {
        options ??= XmlRpcParserOptions.Default;
        CheckSize(body.Length, options);
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(body.Length, 1));
        try
        {
            body.CopyTo(rented);
            using var stream = new MemoryStream(rented, 0, body.Length, writable: false);
            return ParseCore(stream, options);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Parses a body given as text (tests, tools); the encoding declaration is ignored.</summary>
    /// <exception cref="XmlRpcFormatException">The body is not an acceptable XML-RPC call.</exception>
    public static XmlRpcRequest Parse(string body, XmlRpcParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= XmlRpcParserOptions.Default;
        CheckSize(body.Length, options);
        using var reader = XmlReader.Create(new StringReader(body), CreateSettings(options));
        return ParseWith(reader, options);
    }

    /// <summary>
    /// Parses a body read synchronously from <paramref name="body"/>. Do not pass an ASP.NET request stream
    /// (synchronous reads are disabled there); use <see cref="ParseAsync"/>.
    /// </summary>
    /// <exception cref="XmlRpcFormatException">The body is not an acceptable XML-RPC call.</exception>
    public static XmlRpcRequest Parse(Stream body, XmlRpcParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ParseCore(body, options ?? XmlRpcParserOptions.Default);
    }

    /// <summary>
    /// Reads the whole body asynchronously into a pooled buffer (refusing it as soon as it passes
    /// <see cref="XmlRpcParserOptions.MaxDocumentSize"/>), then parses it. Buffering first keeps the XML
    /// reader synchronous, which is much faster than its async mode, and never blocks a thread on the network.
    /// </summary>
    /// <exception cref="XmlRpcFormatException">The body is not an acceptable XML-RPC call or is too large.</exception>
    public static async Task<XmlRpcRequest> ParseAsync(Stream body, XmlRpcParserOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= XmlRpcParserOptions.Default;
        var pool = ArrayPool<byte>.Shared;
        var buffer = pool.Rent(InitialBufferSize);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = pool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    pool.Return(buffer);
                    buffer = bigger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                CheckSize(length, options);
            }

            using var stream = new MemoryStream(buffer, 0, length, writable: false);
            return ParseCore(stream, options);
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    private static void CheckSize(long length, XmlRpcParserOptions options)
    {
        if (length > options.MaxDocumentSize)
        {
            throw new XmlRpcFormatException(
                $"XML-RPC call is larger than the limit of {options.MaxDocumentSize} bytes.", XmlRpcFaultCodes.LimitExceededError);
        }
    }

    private static XmlReaderSettings CreateSettings(XmlRpcParserOptions options) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = options.MaxDocumentSize,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = false,
        CheckCharacters = true,
        ConformanceLevel = ConformanceLevel.Document,
        CloseInput = false,
    };

    private static XmlRpcRequest ParseCore(Stream stream, XmlRpcParserOptions options)
    {
        using var reader = XmlReader.Create(stream, CreateSettings(options));
        return ParseWith(reader, options);
    }

    private static XmlRpcRequest ParseWith(XmlReader reader, XmlRpcParserOptions options)
    {
        try
        {
            return new Reader(reader, options.MaxDepth).ReadCall();
        }
        catch (XmlException ex) when (ex.Message.Contains("MaxCharactersInDocument", StringComparison.Ordinal))
        {
            throw new XmlRpcFormatException(
                $"XML-RPC call is larger than the limit of {options.MaxDocumentSize} characters.", XmlRpcFaultCodes.LimitExceededError, ex);
        }
        catch (XmlException ex)
        {
            throw new XmlRpcFormatException($"Malformed XML in XML-RPC call: {ex.Message}", XmlRpcFaultCodes.ParseError, ex);
        }
        catch (DecoderFallbackException ex)
        {
            throw new XmlRpcFormatException($"Invalid character encoding in XML-RPC call: {ex.Message}", XmlRpcFaultCodes.ParseError, ex);
        }
    }

    /// <summary>The recursive-descent reader over one document; positions are always "on the next node".</summary>
    private readonly struct Reader(XmlReader r, int maxDepth)
    {
        public XmlRpcRequest ReadCall()
        {
            if (r.MoveToContent() != XmlNodeType.Element || !Is("methodCall"))
            {
                throw Error($"expected <methodCall> as the document element, found {Describe()}");
            }

            if (r.IsEmptyElement)
            {
                throw Error("<methodCall> has no <methodName>");
            }

            r.Read();
            SkipWhitespace("in <methodCall>");
            ExpectStart("methodName", "as the first child of <methodCall>");
            var methodName = ReadText("methodName").Trim();
            if (methodName.Length == 0)
            {
                throw Error("<methodName> is empty");
            }

            SkipWhitespace("in <methodCall>");
            IReadOnlyList<XmlRpcValue> parameters = [];
            if (r.NodeType == XmlNodeType.Element && Is("params"))
            {
                parameters = ReadParams();
                SkipWhitespace("in <methodCall>");
            }

            if (r.NodeType != XmlNodeType.EndElement)
            {
                throw Error($"unexpected {Describe()} in <methodCall>; only <methodName> and <params> are allowed");
            }

            // Past </methodCall>: the XML reader itself refuses a second root or trailing text.
            while (r.Read())
            {
            }

            return new XmlRpcRequest(methodName, parameters);
        }

        private IReadOnlyList<XmlRpcValue> ReadParams()
        {
            if (r.IsEmptyElement)
            {
                r.Read();
                return [];
            }

            r.Read();
            var list = new List<XmlRpcValue>(6);
            while (true)
            {
                SkipWhitespace("in <params>");
                if (r.NodeType == XmlNodeType.EndElement)
                {
                    r.Read();
                    return list.ToArray();
                }

                ExpectStart("param", "in <params>");
                var position = list.Count;
                if (r.IsEmptyElement)
                {
                    throw Error($"<param> {position} has no <value>");
                }

                r.Read();
                SkipWhitespace("in <param>");
                ExpectStart("value", $"in <param> {position}");
                list.Add(ReadValue(0));
                SkipWhitespace("in <param>");
                if (r.NodeType != XmlNodeType.EndElement)
                {
                    throw Error($"<param> {position} must hold exactly one <value>, found {Describe()}");
                }

                r.Read();
            }
        }

        /// <summary>On &lt;value&gt;: either bare text (a string, whitespace kept) or one type element.</summary>
        private XmlRpcValue ReadValue(int depth)
        {
            if (r.IsEmptyElement)
            {
                r.Read();
                return XmlRpcValue.FromString(string.Empty);
            }

            r.Read();
            string? text = null;
            StringBuilder? more = null;
            var hasText = false;
            var hasTyped = false;
            var typed = default(XmlRpcValue);
            while (true)
            {
                switch (r.NodeType)
                {
                    case XmlNodeType.Text:
                    case XmlNodeType.CDATA:
                        if (hasTyped)
                        {
                            throw Error($"text after the <{NameOfTyped(typed)}> element in <value>");
                        }

                        hasText = true;
                        Append(ref text, ref more, r.Value);
                        r.Read();
                        break;
                    case XmlNodeType.Whitespace:
                    case XmlNodeType.SignificantWhitespace:
                        if (!hasTyped)
                        {
                            Append(ref text, ref more, r.Value);
                        }

                        r.Read();
                        break;
                    case XmlNodeType.Element:
                        if (hasTyped)
                        {
                            throw Error($"<value> holds more than one type element (<{NameOfTyped(typed)}> then <{r.Name}>)");
                        }

                        if (hasText)
                        {
                            throw Error($"<value> mixes text with a <{r.Name}> element");
                        }

                        typed = ReadTyped(depth);
                        hasTyped = true;
                        break;
                    case XmlNodeType.EndElement:
                        r.Read();
                        return hasTyped ? typed : XmlRpcValue.FromString(more?.ToString() ?? text ?? string.Empty);
                    default:
                        throw Error($"unexpected {Describe()} in <value>");
                }
            }
        }

        private XmlRpcValue ReadTyped(int depth)
        {
            if (r.NamespaceURI.Length != 0)
            {
                throw Error($"unknown XML-RPC type <{r.Name}> (namespaced type elements are not supported)");
            }

            var tag = r.LocalName;
            switch (tag)
            {
                case "i4":
                case "int":
                    return XmlRpcValue.FromInt(ParseInt(ReadText(tag), tag));
                case "i8":
                    return XmlRpcValue.FromI8(ParseLong(ReadText(tag)));
                case "boolean":
                    return ReadText(tag).AsSpan().Trim() switch
                    {
                        "1" => XmlRpcValue.FromBool(true),
                        "0" => XmlRpcValue.FromBool(false),
                        var other => throw Error($"invalid <boolean> value '{Clip(other)}': must be 0 or 1"),
                    };
                case "string":
                    return XmlRpcValue.FromString(ReadText(tag));
                case "double":
                    return XmlRpcValue.FromDouble(ParseDouble(ReadText(tag)));
                case "dateTime.iso8601":
                    return XmlRpcValue.FromDateTime(ParseDateTime(ReadText(tag)));
                case "base64":
                    return XmlRpcValue.WrapBase64(ParseBase64(ReadText(tag)));
                case "nil":
                    if (!ReadText(tag).AsSpan().IsWhiteSpace())
                    {
                        throw Error("<nil> must be empty");
                    }

                    return XmlRpcValue.Nil;
                case "array":
                    CheckDepth(depth);
                    return ReadArray(depth + 1);
                case "struct":
                    CheckDepth(depth);
                    return ReadStruct(depth + 1);
                default:
                    throw Error($"unknown XML-RPC type <{tag}>");
            }
        }

        private XmlRpcValue ReadArray(int depth)
        {
            if (r.IsEmptyElement)
            {
                throw Error("<array> must contain a <data> element");
            }

            r.Read();
            SkipWhitespace("in <array>");
            ExpectStart("data", "in <array>");
            var items = new List<XmlRpcValue>();
            if (r.IsEmptyElement)
            {
                r.Read();
            }
            else
            {
                r.Read();
                while (true)
                {
                    SkipWhitespace("in <data>");
                    if (r.NodeType == XmlNodeType.EndElement)
                    {
                        r.Read();
                        break;
                    }

                    ExpectStart("value", "in <data>");
                    items.Add(ReadValue(depth));
                }
            }

            SkipWhitespace("in <array>");
            if (r.NodeType != XmlNodeType.EndElement)
            {
                throw Error($"<array> must hold exactly one <data>, found {Describe()}");
            }

            r.Read();
            return XmlRpcValue.WrapArray(items.ToArray());
        }

        private XmlRpcValue ReadStruct(int depth)
        {
            if (r.IsEmptyElement)
            {
                r.Read();
                return XmlRpcValue.WrapStruct([]);
            }

            r.Read();
            var members = new List<KeyValuePair<string, XmlRpcValue>>();
            HashSet<string>? names = null;
            while (true)
            {
                SkipWhitespace("in <struct>");
                if (r.NodeType == XmlNodeType.EndElement)
                {
                    r.Read();
                    return XmlRpcValue.WrapStruct(members.ToArray());
                }

                ExpectStart("member", "in <struct>");
                if (r.IsEmptyElement)
                {
                    throw Error("<member> must hold a <name> and a <value>");
                }

                r.Read();
                SkipWhitespace("in <member>");
                ExpectStart("name", "as the first child of <member>");
                var name = ReadText("name");
                SkipWhitespace("in <member>");
                ExpectStart("value", $"after <name>{Clip(name)}</name> in <member>");
                var value = ReadValue(depth);
                SkipWhitespace("in <member>");
                if (r.NodeType != XmlNodeType.EndElement)
                {
                    throw Error($"<member> '{Clip(name)}' must hold exactly one <name> and one <value>, found {Describe()}");
                }

                r.Read();
                names ??= new HashSet<string>(StringComparer.Ordinal);
                if (!names.Add(name))
                {
                    throw Error($"duplicate struct member '{Clip(name)}'");
                }

                members.Add(new(name, value));
            }
        }

        private void CheckDepth(int depth)
        {
            if (depth >= maxDepth)
            {
                throw new XmlRpcFormatException(
                    $"XML-RPC call nests arrays/structs deeper than the limit of {maxDepth}.", XmlRpcFaultCodes.LimitExceededError);
            }
        }

        /// <summary>On a leaf element: returns its text content and moves past its end tag; child elements are refused.</summary>
        private string ReadText(string tag)
        {
            if (r.IsEmptyElement)
            {
                r.Read();
                return string.Empty;
            }

            r.Read();
            string? text = null;
            StringBuilder? more = null;
            while (true)
            {
                switch (r.NodeType)
                {
                    case XmlNodeType.Text:
                    case XmlNodeType.CDATA:
                    case XmlNodeType.Whitespace:
                    case XmlNodeType.SignificantWhitespace:
                        Append(ref text, ref more, r.Value);
                        r.Read();
                        break;
                    case XmlNodeType.EndElement:
                        r.Read();
                        return more?.ToString() ?? text ?? string.Empty;
                    default:
                        throw Error($"<{tag}> must hold only text, found {Describe()}");
                }
            }
        }

        private void SkipWhitespace(string where)
        {
            while (r.NodeType is XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                r.Read();
            }

            if (r.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                throw Error($"unexpected text '{Clip(r.Value)}' {where}");
            }

            if (r.NodeType == XmlNodeType.None)
            {
                throw Error($"unexpected end of document {where}");
            }
        }

        private void ExpectStart(string name, string where)
        {
            if (r.NodeType != XmlNodeType.Element || !Is(name))
            {
                throw Error($"expected <{name}> {where}, found {Describe()}");
            }
        }

        private bool Is(string name) => r.NamespaceURI.Length == 0 && string.Equals(r.LocalName, name, StringComparison.Ordinal);

        private string Describe() => r.NodeType switch
        {
            XmlNodeType.Element => $"<{r.Name}>",
            XmlNodeType.EndElement => $"</{r.Name}>",
            XmlNodeType.Text or XmlNodeType.CDATA => $"text '{Clip(r.Value)}'",
            XmlNodeType.None => "end of document",
            _ => r.NodeType.ToString(),
        };

        private XmlRpcFormatException Error(string what)
        {
            var where = r is IXmlLineInfo info && info.HasLineInfo() ? $" (line {info.LineNumber}, position {info.LinePosition})" : string.Empty;
            return new XmlRpcFormatException($"Invalid XML-RPC call: {what}{where}.");
        }

        private int ParseInt(string text, string tag)
        {
            var span = text.AsSpan().Trim();
            if (!IsIntegerSyntax(span))
            {
                throw Error($"invalid <{tag}> value '{Clip(text)}': not an integer");
            }

            if (!int.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw Error($"<{tag}> value '{Clip(text)}' is out of the 32-bit range ({int.MinValue} to {int.MaxValue})");
            }

            return value;
        }

        private long ParseLong(string text)
        {
            var span = text.AsSpan().Trim();
            if (!IsIntegerSyntax(span))
            {
                throw Error($"invalid <i8> value '{Clip(text)}': not an integer");
            }

            if (!long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw Error($"<i8> value '{Clip(text)}' is out of the 64-bit range");
            }

            return value;
        }

        private double ParseDouble(string text)
        {
            var span = text.AsSpan().Trim();
            if (span.IsEmpty || !double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw Error($"invalid <double> value '{Clip(text)}'");
            }

            return value;
        }

        private DateTime ParseDateTime(string text)
        {
            string[] formats =
            [
                "yyyyMMdd'T'HH':'mm':'ss",
                "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
                "yyyyMMdd'T'HH':'mm':'ssK",
                "yyyy'-'MM'-'dd'T'HH':'mm':'ssK",
                "yyyyMMdd'T'HHmmss",
            ];
            if (!DateTime.TryParseExact(text.AsSpan().Trim(), formats, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value))
            {
                throw Error($"invalid <dateTime.iso8601> value '{Clip(text)}'");
            }

            return value;
        }

        private byte[] ParseBase64(string text)
        {
            try
            {
                return Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw Error($"invalid <base64> value '{Clip(text)}'");
            }
        }

        private static bool IsIntegerSyntax(ReadOnlySpan<char> span)
        {
            if (!span.IsEmpty && span[0] is '+' or '-')
            {
                span = span[1..];
            }

            return !span.IsEmpty && !span.ContainsAnyExceptInRange('0', '9');
        }

        private static string NameOfTyped(XmlRpcValue value) => value.Type == XmlRpcType.Int ? "i4" : value.TypeName;

        private static void Append(ref string? text, ref StringBuilder? more, string piece)
        {
            if (more is not null)
            {
                more.Append(piece);
            }
            else if (text is null)
            {
                text = piece;
            }
            else
            {
                more = new StringBuilder(text.Length + piece.Length + 16).Append(text).Append(piece);
                text = null;
            }
        }

        private static string Clip(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "...");
    }
}
