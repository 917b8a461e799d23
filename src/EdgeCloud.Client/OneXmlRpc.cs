using System.Collections;
using System.Globalization;
using System.Text;
using System.Xml;

namespace EdgeCloud.Client;

/// <summary>
/// The client's XML-RPC codec: builds <c>methodCall</c> bodies from .NET values and parses <c>methodResponse</c>
/// bodies into .NET values. Kept separate from <see cref="OneClient"/> so tests and tools can check the wire
/// form without HTTP.
/// </summary>
/// <remarks>
/// Parameter mapping: <c>null</c> → nil; <c>string</c>; <c>bool</c> → boolean; <c>int</c>/<c>short</c>/<c>byte</c>/enums that
/// fit → i4 (or int, see <see cref="OneIntegerTag"/>); <c>long</c>/<c>uint</c> → i8; <c>double</c>/<c>float</c>/<c>decimal</c>
/// → double; <c>DateTime</c>/<c>DateTimeOffset</c> → dateTime.iso8601; <c>byte[]</c> → base64; a dictionary with string
/// keys → struct; any other <see cref="IEnumerable"/> → array; <see cref="OneRawValue"/> → its XML verbatim.
/// </remarks>
public static class OneXmlRpc
{
    /// <summary>Builds the <c>methodCall</c> XML text.</summary>
    /// <exception cref="ArgumentException">A parameter has a type XML-RPC cannot carry.</exception>
    public static string FormatCall(string method, IReadOnlyList<object?> parameters, OneIntegerTag integerTag = OneIntegerTag.I4)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(parameters);
        var xml = new StringBuilder(256);
        xml.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>");
        Escape(xml, method);
        xml.Append("</methodName><params>");
        for (var i = 0; i < parameters.Count; i++)
        {
            xml.Append("<param>");
            AppendValue(xml, parameters[i], integerTag, i, 0);
            xml.Append("</param>");
        }

        xml.Append("</params></methodCall>");
        return xml.ToString();
    }

    /// <summary>Builds the <c>methodCall</c> body as UTF-8 bytes.</summary>
    /// <exception cref="ArgumentException">A parameter has a type XML-RPC cannot carry.</exception>
    public static byte[] EncodeCall(string method, IReadOnlyList<object?> parameters, OneIntegerTag integerTag = OneIntegerTag.I4) =>
        Encoding.UTF8.GetBytes(FormatCall(method, parameters, integerTag));

    /// <summary>Parses a <c>methodResponse</c> from bytes.</summary>
    /// <exception cref="FormatException">The body is not a well-formed XML-RPC response.</exception>
    public static OneXmlRpcResponse ParseResponse(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var stream = new MemoryStream(body, writable: false);
        return ParseResponse(stream);
    }

    /// <summary>Parses a <c>methodResponse</c> from text.</summary>
    /// <exception cref="FormatException">The body is not a well-formed XML-RPC response.</exception>
    public static OneXmlRpcResponse ParseResponse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var reader = XmlReader.Create(new StringReader(body), Settings());
        return Parse(reader);
    }

    /// <summary>Parses a <c>methodResponse</c> read synchronously from a stream.</summary>
    /// <exception cref="FormatException">The body is not a well-formed XML-RPC response.</exception>
    public static OneXmlRpcResponse ParseResponse(Stream body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var reader = XmlReader.Create(body, Settings());
        return Parse(reader);
    }

    /// <summary>A short human form of a parsed value, in the style of the wire captures (<c>i4 5</c>, <c>string "x"</c>).</summary>
    public static string Describe(object? value) => value switch
    {
        null => "nil",
        int i => $"i4 {i.ToString(CultureInfo.InvariantCulture)}",
        long l => $"i8 {l.ToString(CultureInfo.InvariantCulture)}",
        bool b => b ? "boolean true" : "boolean false",
        string s => $"string \"{(s.Length > 70 ? s[..70] + "..." : s)}\"",
        double d => $"double {d.ToString("R", CultureInfo.InvariantCulture)}",
        DateTime t => $"dateTime.iso8601 {t.ToString("yyyyMMdd'T'HH':'mm':'ss", CultureInfo.InvariantCulture)}",
        byte[] bytes => $"base64 ({bytes.Length} bytes)",
        object?[] items => $"array [{string.Join(", ", items.Select(Describe))}]",
        IReadOnlyDictionary<string, object?> members => $"struct {{{string.Join(", ", members.Select(m => $"{m.Key}: {Describe(m.Value)}"))}}}",
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>The XML-RPC type name of a parsed value, for error messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "nil",
        int => "int",
        long => "i8",
        bool => "boolean",
        string => "string",
        double => "double",
        DateTime => "dateTime.iso8601",
        byte[] => "base64",
        object?[] => "array",
        IReadOnlyDictionary<string, object?> => "struct",
        _ => value.GetType().Name,
    };

    private static XmlReaderSettings Settings() => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = false,
    };

    private static void AppendValue(StringBuilder xml, object? value, OneIntegerTag integerTag, int position, int depth)
    {
        if (depth > 64)
        {
            throw new ArgumentException($"Parameter {position} nests deeper than 64 levels (a cycle?).", nameof(value));
        }

        xml.Append("<value>");
        switch (value)
        {
            case null:
                xml.Append("<nil/>");
                break;
            case OneRawValue raw:
                xml.Append(raw.Xml);
                break;
            case string s:
                xml.Append("<string>");
                Escape(xml, s);
                xml.Append("</string>");
                break;
            case bool b:
                xml.Append(b ? "<boolean>1</boolean>" : "<boolean>0</boolean>");
                break;
            case int or short or byte or sbyte or ushort:
                AppendInt(xml, Convert.ToInt32(value, CultureInfo.InvariantCulture), integerTag);
                break;
            case long or uint:
                xml.Append("<i8>").Append(Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)).Append("</i8>");
                break;
            case ulong u when u <= long.MaxValue:
                xml.Append("<i8>").Append(u.ToString(CultureInfo.InvariantCulture)).Append("</i8>");
                break;
            case Enum e:
                var number = Convert.ToInt64(e, CultureInfo.InvariantCulture);
                if (number is < int.MinValue or > int.MaxValue)
                {
                    throw new ArgumentException($"Parameter {position}: enum value {e} does not fit an i4.", nameof(value));
                }

                AppendInt(xml, (int)number, integerTag);
                break;
            case double or float or decimal:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (!double.IsFinite(d))
                {
                    throw new ArgumentException($"Parameter {position}: XML-RPC cannot carry {d}.", nameof(value));
                }

                xml.Append("<double>").Append(FormatDouble(d)).Append("</double>");
                break;
            case DateTime t:
                xml.Append("<dateTime.iso8601>").Append(t.ToString("yyyyMMdd'T'HH':'mm':'ss", CultureInfo.InvariantCulture)).Append("</dateTime.iso8601>");
                break;
            case DateTimeOffset o:
                xml.Append("<dateTime.iso8601>").Append(o.UtcDateTime.ToString("yyyyMMdd'T'HH':'mm':'ss", CultureInfo.InvariantCulture)).Append("</dateTime.iso8601>");
                break;
            case byte[] bytes:
                xml.Append("<base64>").Append(Convert.ToBase64String(bytes)).Append("</base64>");
                break;
            case CancellationToken:
                throw new ArgumentException(
                    $"Parameter {position} is a CancellationToken; pass it through the CallAsync(method, [args], cancellationToken) overload instead.",
                    nameof(value));
            case IDictionary dictionary:
                xml.Append("<struct>");
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Key is not string name)
                    {
                        throw new ArgumentException($"Parameter {position}: struct member names must be strings.", nameof(value));
                    }

                    xml.Append("<member><name>");
                    Escape(xml, name);
                    xml.Append("</name>");
                    AppendValue(xml, entry.Value, integerTag, position, depth + 1);
                    xml.Append("</member>");
                }

                xml.Append("</struct>");
                break;
            case IEnumerable<KeyValuePair<string, object?>> members:
                xml.Append("<struct>");
                foreach (var member in members)
                {
                    xml.Append("<member><name>");
                    Escape(xml, member.Key);
                    xml.Append("</name>");
                    AppendValue(xml, member.Value, integerTag, position, depth + 1);
                    xml.Append("</member>");
                }

                xml.Append("</struct>");
                break;
            case IEnumerable items:
                xml.Append("<array><data>");
                foreach (var item in items)
                {
                    AppendValue(xml, item, integerTag, position, depth + 1);
                }

                xml.Append("</data></array>");
                break;
            default:
                throw new ArgumentException($"Parameter {position}: a {value.GetType().Name} cannot be sent over XML-RPC.", nameof(value));
        }

        xml.Append("</value>");
    }

    private static void AppendInt(StringBuilder xml, int value, OneIntegerTag integerTag)
    {
        var tag = integerTag == OneIntegerTag.Int ? "int" : "i4";
        xml.Append('<').Append(tag).Append('>').Append(value.ToString(CultureInfo.InvariantCulture)).Append("</").Append(tag).Append('>');
    }

    private static string FormatDouble(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('E', StringComparison.Ordinal))
        {
            return text;
        }

        return Math.Abs(value) >= 1
            ? value.ToString("F0", CultureInfo.InvariantCulture)
            : value.ToString("0." + new string('#', 340), CultureInfo.InvariantCulture);
    }

    /// <summary>Escapes text content; CR is kept as a character reference so the server's XML parser does not turn it into LF.</summary>
    private static void Escape(StringBuilder xml, string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var replacement = text[i] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\r' => "&#13;",
                _ => null,
            };
            if (replacement is not null)
            {
                xml.Append(text, start, i - start).Append(replacement);
                start = i + 1;
            }
        }

        xml.Append(text, start, text.Length - start);
    }

    private static OneXmlRpcResponse Parse(XmlReader reader)
    {
        try
        {
            return new ResponseReader(reader).Read();
        }
        catch (XmlException ex)
        {
            throw new FormatException($"Malformed XML: {ex.Message}", ex);
        }
    }

    /// <summary>Reads one <c>methodResponse</c>; positions are always "on the next node".</summary>
    private readonly struct ResponseReader(XmlReader r)
    {
        public OneXmlRpcResponse Read()
        {
            if (r.MoveToContent() != XmlNodeType.Element || r.LocalName != "methodResponse")
            {
                throw Error($"expected <methodResponse>, found {Describe()}");
            }

            Enter("methodResponse");
            OneXmlRpcResponse response;
            if (IsStart("params"))
            {
                Enter("params");
                ExpectStart("param");
                Enter("param");
                ExpectStart("value");
                response = OneXmlRpcResponse.Success(ReadValue(0));
                Leave("param");
                Leave("params");
            }
            else if (IsStart("fault"))
            {
                Enter("fault");
                ExpectStart("value");
                var fault = ReadValue(0) as IReadOnlyDictionary<string, object?>
                    ?? throw Error("<fault> must hold a struct");
                if (!fault.TryGetValue("faultCode", out var code) || code is not int faultCode)
                {
                    throw Error("<fault> struct lacks an int faultCode");
                }

                if (!fault.TryGetValue("faultString", out var text) || text is not string faultString)
                {
                    throw Error("<fault> struct lacks a string faultString");
                }

                response = OneXmlRpcResponse.Fault(faultCode, faultString);
                Leave("fault");
            }
            else
            {
                throw Error($"expected <params> or <fault>, found {Describe()}");
            }

            Leave("methodResponse");
            while (r.Read())
            {
            }

            return response;
        }

        private object? ReadValue(int depth)
        {
            if (depth > 256)
            {
                throw Error("values nest too deeply");
            }

            if (r.IsEmptyElement)
            {
                r.Read();
                return string.Empty;
            }

            r.Read();
            var text = new StringBuilder();
            var hasText = false;
            object? typed = null;
            var hasTyped = false;
            while (true)
            {
                switch (r.NodeType)
                {
                    case XmlNodeType.Text or XmlNodeType.CDATA:
                        if (hasTyped)
                        {
                            throw Error("text after the type element in <value>");
                        }

                        hasText = true;
                        text.Append(r.Value);
                        r.Read();
                        break;
                    case XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                        if (!hasTyped)
                        {
                            text.Append(r.Value);
                        }

                        r.Read();
                        break;
                    case XmlNodeType.Element:
                        if (hasTyped || hasText)
                        {
                            throw Error("<value> must hold bare text or exactly one type element");
                        }

                        typed = ReadTyped(depth);
                        hasTyped = true;
                        break;
                    case XmlNodeType.EndElement:
                        r.Read();
                        return hasTyped ? typed : text.ToString();
                    default:
                        throw Error($"unexpected {Describe()} in <value>");
                }
            }
        }

        private object? ReadTyped(int depth)
        {
            var tag = r.LocalName;
            switch (tag)
            {
                case "i4" or "int":
                    var intText = ReadText(tag).Trim();
                    return int.TryParse(intText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)
                        ? i
                        : throw Error($"invalid <{tag}> '{intText}'");
                case "i8":
                    var longText = ReadText(tag).Trim();
                    return long.TryParse(longText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                        ? l
                        : throw Error($"invalid <i8> '{longText}'");
                case "boolean":
                    return ReadText(tag).Trim() switch
                    {
                        "1" => true,
                        "0" => false,
                        var other => throw Error($"invalid <boolean> '{other}'"),
                    };
                case "string":
                    return ReadText(tag);
                case "double":
                    var doubleText = ReadText(tag).Trim();
                    return double.TryParse(doubleText, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                        ? d
                        : throw Error($"invalid <double> '{doubleText}'");
                case "dateTime.iso8601":
                    var timeText = ReadText(tag).Trim();
                    string[] formats = ["yyyyMMdd'T'HH':'mm':'ss", "yyyy'-'MM'-'dd'T'HH':'mm':'ss", "yyyyMMdd'T'HH':'mm':'ssK", "yyyy'-'MM'-'dd'T'HH':'mm':'ssK"];
                    return DateTime.TryParseExact(timeText, formats, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)
                        ? t
                        : throw Error($"invalid <dateTime.iso8601> '{timeText}'");
                case "base64":
                    try
                    {
                        return Convert.FromBase64String(ReadText(tag));
                    }
                    catch (FormatException)
                    {
                        throw Error("invalid <base64>");
                    }

                case "nil":
                    ReadText(tag);
                    return null;
                case "array":
                    return ReadArray(depth + 1);
                case "struct":
                    return ReadStruct(depth + 1);
                default:
                    throw Error($"unknown XML-RPC type <{tag}>");
            }
        }

        private object?[] ReadArray(int depth)
        {
            var items = new List<object?>();
            if (r.IsEmptyElement)
            {
                throw Error("<array> must contain <data>");
            }

            Enter("array");
            ExpectStart("data");
            if (r.IsEmptyElement)
            {
                r.Read();
            }
            else
            {
                Enter("data");
                while (true)
                {
                    SkipWhitespace();
                    if (r.NodeType == XmlNodeType.EndElement)
                    {
                        r.Read();
                        break;
                    }

                    ExpectStart("value");
                    items.Add(ReadValue(depth));
                }
            }

            Leave("array");
            return items.ToArray();
        }

        private Dictionary<string, object?> ReadStruct(int depth)
        {
            var members = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (r.IsEmptyElement)
            {
                r.Read();
                return members;
            }

            Enter("struct");
            while (true)
            {
                SkipWhitespace();
                if (r.NodeType == XmlNodeType.EndElement)
                {
                    r.Read();
                    return members;
                }

                ExpectStart("member");
                Enter("member");
                ExpectStart("name");
                var name = ReadText("name");
                SkipWhitespace();
                ExpectStart("value");
                members[name] = ReadValue(depth);
                Leave("member");
            }
        }

        private string ReadText(string tag)
        {
            if (r.IsEmptyElement)
            {
                r.Read();
                return string.Empty;
            }

            r.Read();
            string? first = null;
            StringBuilder? more = null;
            while (r.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                if (first is null)
                {
                    first = r.Value;
                }
                else
                {
                    (more ??= new StringBuilder(first)).Append(r.Value);
                }

                r.Read();
            }

            if (r.NodeType != XmlNodeType.EndElement)
            {
                throw Error($"<{tag}> must hold only text, found {Describe()}");
            }

            r.Read();
            return more?.ToString() ?? first ?? string.Empty;
        }

        /// <summary>On a start tag that must have children: moves inside it, past whitespace.</summary>
        private void Enter(string name)
        {
            if (r.IsEmptyElement)
            {
                throw Error($"<{name}> is empty");
            }

            r.Read();
            SkipWhitespace();
        }

        /// <summary>Expects the end tag of the element being left (after optional whitespace) and moves past it.</summary>
        private void Leave(string name)
        {
            SkipWhitespace();
            if (r.NodeType != XmlNodeType.EndElement)
            {
                throw Error($"unexpected {Describe()} before </{name}>");
            }

            r.Read();
            SkipWhitespace();
        }

        private void SkipWhitespace()
        {
            while (r.NodeType is XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                r.Read();
            }

            if (r.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                throw Error($"unexpected text '{Clip(r.Value)}'");
            }
        }

        private bool IsStart(string name) => r.NodeType == XmlNodeType.Element && r.LocalName == name;

        private void ExpectStart(string name)
        {
            SkipWhitespace();
            if (!IsStart(name))
            {
                throw Error($"expected <{name}>, found {Describe()}");
            }
        }

        private string Describe() => r.NodeType switch
        {
            XmlNodeType.Element => $"<{r.Name}>",
            XmlNodeType.EndElement => $"</{r.Name}>",
            XmlNodeType.None => "end of document",
            XmlNodeType.Text or XmlNodeType.CDATA => $"text '{Clip(r.Value)}'",
            _ => r.NodeType.ToString(),
        };

        private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

        private FormatException Error(string what)
        {
            var where = r is IXmlLineInfo info && info.HasLineInfo() ? $" (line {info.LineNumber}, position {info.LinePosition})" : string.Empty;
            return new FormatException($"Invalid XML-RPC response: {what}{where}.");
        }
    }
}
