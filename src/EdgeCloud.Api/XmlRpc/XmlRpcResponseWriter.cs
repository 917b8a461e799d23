using System.Buffers;
using System.Globalization;
using System.Text;

namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// Writes <c>methodResponse</c> documents as UTF-8 straight into an <see cref="IBufferWriter{T}"/> (ASP.NET's
/// <c>HttpResponse.BodyWriter</c>), from literal byte spans and hand-written escaping: no XmlWriter, no
/// intermediate strings. The three shapes OpenNebula clients expect:
/// <list type="bullet">
/// <item>success, <c>[true, value, 0]</c>: <see cref="WriteSuccess(IBufferWriter{byte}, int)"/> and overloads;</item>
/// <item>application error, <c>[false, message, code, resp_id, replication_index]</c> as a normal response:
/// <see cref="WriteFailure"/>;</item>
/// <item>protocol fault (unknown method, bad parameters, unparseable body): <see cref="WriteFault"/>.</item>
/// </list>
/// </summary>
/// <remarks>
/// Large string answers (pool listings of many MB) are streamed: <see cref="WriteSuccessStringStart"/>, any
/// number of <see cref="WriteEscapedChunk"/> / <see cref="WriteTextChunk"/> / <see cref="WriteUtf8TextChunk"/>,
/// then <see cref="WriteSuccessStringEnd"/>. Nothing here flushes: with a <c>PipeWriter</c> the caller may
/// <c>FlushAsync</c> between chunks to keep memory bounded. For a plain <see cref="Stream"/>, wrap it with
/// <c>PipeWriter.Create(stream)</c> or use the <c>...Async(Stream, ...)</c> overloads for the small shapes.
/// </remarks>
public static class XmlRpcResponseWriter
{
    private static ReadOnlySpan<byte> Prolog => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"u8;

    private static ReadOnlySpan<byte> SuccessHead =>
        "<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value>"u8;

    private static ReadOnlySpan<byte> FailureHead =>
        "<methodResponse><params><param><value><array><data><value><boolean>0</boolean></value><value><string>"u8;

    private static ReadOnlySpan<byte> SuccessTail =>
        "</value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>"u8;

    private static ReadOnlySpan<byte> ParamsHead => "<methodResponse><params><param>"u8;

    private static ReadOnlySpan<byte> ParamsTail => "</param></params></methodResponse>"u8;

    /// <summary>Writes <c>[true, &lt;i4&gt;value, 0]</c> (ids returned by allocate, clone, ...).</summary>
    public static void WriteSuccess(IBufferWriter<byte> output, int value)
    {
        WriteSuccessHead(output);
        Raw(output, "<i4>"u8);
        WriteNumber(output, value);
        Raw(output, "</i4>"u8);
        Raw(output, SuccessTail);
    }

    /// <summary>Writes <c>[true, &lt;i8&gt;value, 0]</c> (the Raft methods' indexes).</summary>
    public static void WriteSuccess(IBufferWriter<byte> output, long value)
    {
        WriteSuccessHead(output);
        Raw(output, "<i8>"u8);
        WriteNumber(output, value);
        Raw(output, "</i8>"u8);
        Raw(output, SuccessTail);
    }

    /// <summary>Writes <c>[true, &lt;boolean&gt;value, 0]</c>.</summary>
    public static void WriteSuccess(IBufferWriter<byte> output, bool value)
    {
        WriteSuccessHead(output);
        Raw(output, value ? "<boolean>1</boolean>"u8 : "<boolean>0</boolean>"u8);
        Raw(output, SuccessTail);
    }

    /// <summary>Writes <c>[true, &lt;string&gt;value, 0]</c>, escaping <paramref name="value"/>.</summary>
    public static void WriteSuccess(IBufferWriter<byte> output, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteSuccessStringStart(output);
        XmlRpcEscaper.WriteEscaped(output, value);
        WriteSuccessStringEnd(output);
    }

    /// <summary>Writes <c>[true, value, 0]</c> for any value; int is written as <c>&lt;i4&gt;</c>.</summary>
    public static void WriteSuccess(IBufferWriter<byte> output, XmlRpcValue value)
    {
        WriteSuccessHead(output);
        WriteValueContent(output, value);
        Raw(output, SuccessTail);
    }

    /// <summary>Starts a success answer whose value is a string; everything written next is its escaped text.</summary>
    public static void WriteSuccessStringStart(IBufferWriter<byte> output)
    {
        WriteSuccessHead(output);
        Raw(output, "<string>"u8);
    }

    /// <summary>
    /// Copies bytes that are already escaped text (from <see cref="XmlRpcEscaper.EscapeUtf8(string)"/>, typically cached per
    /// object) into the string started by <see cref="WriteSuccessStringStart"/>. They are not checked: unescaped
    /// markup here corrupts the answer.
    /// </summary>
    public static void WriteEscapedChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> escapedUtf8)
    {
        ArgumentNullException.ThrowIfNull(output);
        XmlRpcEscaper.Write(output, escapedUtf8);
    }

    /// <summary>Escapes and writes a piece of the string started by <see cref="WriteSuccessStringStart"/>.</summary>
    public static void WriteTextChunk(IBufferWriter<byte> output, ReadOnlySpan<char> text) => XmlRpcEscaper.WriteEscaped(output, text);

    /// <summary>Escapes and writes a piece of UTF-8 text (not yet escaped) into the string started by <see cref="WriteSuccessStringStart"/>.</summary>
    public static void WriteUtf8TextChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8Text) => XmlRpcEscaper.WriteEscapedUtf8(output, utf8Text);

    /// <summary>Ends the string started by <see cref="WriteSuccessStringStart"/> and the whole answer.</summary>
    public static void WriteSuccessStringEnd(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Raw(output, "</string>"u8);
        Raw(output, SuccessTail);
    }

    /// <summary>
    /// Writes OpenNebula's application error, a normal response (not a fault):
    /// <c>[false, message, code (i4), resp_id (i4), replication_index (i8)]</c>.
    /// </summary>
    /// <param name="output">Where to write.</param>
    /// <param name="message">The full message, already prefixed with <c>[method] </c> by the caller.</param>
    /// <param name="errorCode">OpenNebula's error code (0x0100 authentication, 0x0400 no exists, ...).</param>
    /// <param name="responseId">The object id involved, or -1.</param>
    /// <param name="replicationIndex">Only meaningful for HA replication errors; 0 otherwise.</param>
    public static void WriteFailure(IBufferWriter<byte> output, string message, int errorCode, int responseId = -1, long replicationIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(message);
        Raw(output, Prolog);
        Raw(output, FailureHead);
        XmlRpcEscaper.WriteEscaped(output, message);
        Raw(output, "</string></value><value><i4>"u8);
        WriteNumber(output, errorCode);
        Raw(output, "</i4></value><value><i4>"u8);
        WriteNumber(output, responseId);
        Raw(output, "</i4></value><value><i8>"u8);
        WriteNumber(output, replicationIndex);
        Raw(output, "</i8></value></data></array></value></param></params></methodResponse>"u8);
    }

    /// <summary>Writes a standard XML-RPC fault (faultCode as <c>&lt;int&gt;</c>, faultString), for protocol-level problems.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="faultCode">Usually one of <see cref="XmlRpcFaultCodes"/>.</param>
    /// <param name="faultString">The text the client shows.</param>
    public static void WriteFault(IBufferWriter<byte> output, int faultCode, string faultString)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(faultString);
        Raw(output, Prolog);
        Raw(output, "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>"u8);
        WriteNumber(output, faultCode);
        Raw(output, "</int></value></member><member><name>faultString</name><value><string>"u8);
        XmlRpcEscaper.WriteEscaped(output, faultString);
        Raw(output, "</string></value></member></struct></value></fault></methodResponse>"u8);
    }

    /// <summary>Writes a fault for a protocol exception (its <see cref="XmlRpcException.FaultCode"/> and message).</summary>
    public static void WriteFault(IBufferWriter<byte> output, XmlRpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        WriteFault(output, exception.FaultCode, exception.Message);
    }

    /// <summary>Writes a plain XML-RPC response with one parameter, <paramref name="value"/>, in no OpenNebula envelope.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, XmlRpcValue value)
    {
        ArgumentNullException.ThrowIfNull(output);
        Raw(output, Prolog);
        Raw(output, ParamsHead);
        WriteValue(output, value);
        Raw(output, ParamsTail);
    }

    /// <summary>Writes one <c>&lt;value&gt;...&lt;/value&gt;</c> element, recursively for arrays and structs.</summary>
    public static void WriteValue(IBufferWriter<byte> output, XmlRpcValue value)
    {
        ArgumentNullException.ThrowIfNull(output);
        Raw(output, "<value>"u8);
        WriteValueContent(output, value);
        Raw(output, "</value>"u8);
    }

    /// <summary>Writes a success answer to a stream (the answer is small; it is built in memory first).</summary>
    public static Task WriteSuccessAsync(Stream stream, XmlRpcValue value, CancellationToken cancellationToken = default) =>
        WriteToStreamAsync(stream, output => WriteSuccess(output, value), cancellationToken);

    /// <summary>Writes an application error answer to a stream.</summary>
    public static Task WriteFailureAsync(
        Stream stream, string message, int errorCode, int responseId = -1, long replicationIndex = 0, CancellationToken cancellationToken = default) =>
        WriteToStreamAsync(stream, output => WriteFailure(output, message, errorCode, responseId, replicationIndex), cancellationToken);

    /// <summary>Writes a fault answer to a stream.</summary>
    public static Task WriteFaultAsync(Stream stream, int faultCode, string faultString, CancellationToken cancellationToken = default) =>
        WriteToStreamAsync(stream, output => WriteFault(output, faultCode, faultString), cancellationToken);

    private static async Task WriteToStreamAsync(Stream stream, Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new ArrayBufferWriter<byte>(512);
        write(buffer);
        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    private static void WriteSuccessHead(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Raw(output, Prolog);
        Raw(output, SuccessHead);
    }

    private static void WriteValueContent(IBufferWriter<byte> output, XmlRpcValue value)
    {
        switch (value.Type)
        {
            case XmlRpcType.Int:
                Raw(output, "<i4>"u8);
                WriteNumber(output, value.AsInt());
                Raw(output, "</i4>"u8);
                break;
            case XmlRpcType.I8:
                Raw(output, "<i8>"u8);
                WriteNumber(output, value.AsLong());
                Raw(output, "</i8>"u8);
                break;
            case XmlRpcType.Boolean:
                Raw(output, value.AsBool() ? "<boolean>1</boolean>"u8 : "<boolean>0</boolean>"u8);
                break;
            case XmlRpcType.String:
                Raw(output, "<string>"u8);
                XmlRpcEscaper.WriteEscaped(output, value.AsString());
                Raw(output, "</string>"u8);
                break;
            case XmlRpcType.Double:
                Raw(output, "<double>"u8);
                Ascii(output, FormatDouble(value.AsDouble()));
                Raw(output, "</double>"u8);
                break;
            case XmlRpcType.DateTime:
                Raw(output, "<dateTime.iso8601>"u8);
                Ascii(output, value.AsDateTime().ToString("yyyyMMdd'T'HH':'mm':'ss", CultureInfo.InvariantCulture));
                Raw(output, "</dateTime.iso8601>"u8);
                break;
            case XmlRpcType.Base64:
                Raw(output, "<base64>"u8);
                Ascii(output, Convert.ToBase64String(value.AsBase64().Span));
                Raw(output, "</base64>"u8);
                break;
            case XmlRpcType.Array:
                Raw(output, "<array><data>"u8);
                foreach (var item in value.AsArray())
                {
                    WriteValue(output, item);
                }

                Raw(output, "</data></array>"u8);
                break;
            case XmlRpcType.Struct:
                Raw(output, "<struct>"u8);
                foreach (var member in value.AsStruct())
                {
                    Raw(output, "<member><name>"u8);
                    XmlRpcEscaper.WriteEscaped(output, member.Key);
                    Raw(output, "</name>"u8);
                    WriteValue(output, member.Value);
                    Raw(output, "</member>"u8);
                }

                Raw(output, "</struct>"u8);
                break;
            default:
                Raw(output, "<nil/>"u8);
                break;
        }
    }

    /// <summary>XML-RPC doubles have no exponent; "R" gives the shortest round-trip digits, expanded if it used one.</summary>
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

    private static void WriteNumber<T>(IBufferWriter<byte> output, T value)
        where T : IUtf8SpanFormattable
    {
        var span = output.GetSpan(24);
        if (!value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Number did not fit its buffer.");
        }

        output.Advance(written);
    }

    private static void Ascii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        output.Advance(written);
    }

    private static void Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => XmlRpcEscaper.Write(output, bytes);
}
