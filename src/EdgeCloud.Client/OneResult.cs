using System.Xml;
using System.Xml.Linq;

namespace EdgeCloud.Client;

/// <summary>
/// A successful OpenNebula answer, <c>[true, value, code]</c>. The typed accessors turn an unexpected value type
/// into a <see cref="OneException"/> (<see cref="OneErrorCodes.XmlRpcCall"/>) naming the method, so a caller that
/// expects an id gets a clear error rather than an <see cref="InvalidCastException"/>.
/// </summary>
public sealed class OneResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="method">The method that was called.</param>
    /// <param name="value">The second element of the answer.</param>
    /// <param name="code">The third element (0 in every answer OpenNebula sends).</param>
    public OneResult(string method, object? value, int code = 0)
    {
        Method = method;
        Value = value;
        Code = code;
    }

    /// <summary>The method that was called.</summary>
    public string Method { get; }

    /// <summary>The value: <c>int</c>, <c>long</c>, <c>string</c> or <c>bool</c> for OpenNebula methods (see <see cref="OneXmlRpcResponse"/>).</summary>
    public object? Value { get; }

    /// <summary>The answer's third element, 0 on success.</summary>
    public int Code { get; }

    /// <summary>The value as an int (object ids).</summary>
    /// <exception cref="OneException">The value is not an int.</exception>
    public int AsInt() => Value is int i ? i : throw Unexpected("int");

    /// <summary>The value as a long; accepts i8 and i4.</summary>
    /// <exception cref="OneException">The value is neither.</exception>
    public long AsLong() => Value switch
    {
        long l => l,
        int i => i,
        _ => throw Unexpected("i8"),
    };

    /// <summary>The value as a bool.</summary>
    /// <exception cref="OneException">The value is not a boolean.</exception>
    public bool AsBool() => Value is bool b ? b : throw Unexpected("boolean");

    /// <summary>The value as a string (XML documents, tokens, version strings).</summary>
    /// <exception cref="OneException">The value is not a string.</exception>
    public string AsString() => Value as string ?? throw Unexpected("string");

    /// <summary>The string value parsed as an XML document (DTDs refused, whitespace not preserved).</summary>
    /// <exception cref="OneException">The value is not a string, or not well-formed XML.</exception>
    public XDocument AsXml()
    {
        var text = AsString();
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
            using var reader = XmlReader.Create(new StringReader(text), settings);
            return XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new OneException(OneErrorCodes.XmlRpcCall, $"{Method} returned a string that is not well-formed XML: {ex.Message}", ex)
            {
                Method = Method,
            };
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Method} -> {OneXmlRpc.Describe(Value)}";

    private OneException Unexpected(string expected) =>
        new(OneErrorCodes.XmlRpcCall, $"{Method} returned {OneXmlRpc.TypeName(Value)}, expected {expected}.") { Method = Method };
}
