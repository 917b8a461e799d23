namespace EdgeCloud.Client;

/// <summary>
/// A parsed <c>methodResponse</c> before any OpenNebula interpretation: either one value or a fault.
/// Values are plain .NET objects: <c>int</c> (i4/int), <c>long</c> (i8), <c>bool</c>, <c>string</c>, <c>double</c>,
/// <c>DateTime</c> (dateTime.iso8601), <c>byte[]</c> (base64), <c>object?[]</c> (array),
/// <c>IReadOnlyDictionary&lt;string, object?&gt;</c> (struct) and <c>null</c> (nil).
/// </summary>
public sealed class OneXmlRpcResponse
{
    private OneXmlRpcResponse(bool isFault, object? value, int faultCode, string faultString)
    {
        IsFault = isFault;
        Value = value;
        FaultCode = faultCode;
        FaultString = faultString;
    }

    /// <summary>True when the server answered with a <c>&lt;fault&gt;</c>.</summary>
    public bool IsFault { get; }

    /// <summary>The answer's single value (for OpenNebula, the <c>[ok, value, code, ...]</c> array); null for a fault.</summary>
    public object? Value { get; }

    /// <summary>The fault's <c>faultCode</c>; 0 when not a fault.</summary>
    public int FaultCode { get; }

    /// <summary>The fault's <c>faultString</c>; empty when not a fault.</summary>
    public string FaultString { get; }

    /// <summary>Creates a normal answer.</summary>
    public static OneXmlRpcResponse Success(object? value) => new(false, value, 0, string.Empty);

    /// <summary>Creates a fault answer.</summary>
    public static OneXmlRpcResponse Fault(int faultCode, string faultString) => new(true, null, faultCode, faultString ?? string.Empty);

    /// <summary>The value as the items of an array, or null when it is not one (OpenNebula answers are always arrays).</summary>
    public IReadOnlyList<object?>? Items => Value as object?[];

    /// <inheritdoc/>
    public override string ToString() => IsFault ? $"fault {FaultCode}: {FaultString}" : OneXmlRpc.Describe(Value);
}
