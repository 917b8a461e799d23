namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// A handler asked for an argument that is missing or has another XML-RPC type. OpenNebula reads its
/// arguments by position with strict types, so this becomes a protocol fault, not an application error.
/// </summary>
public sealed class XmlRpcArgumentException : XmlRpcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Names the parameter position and the expected and actual types.</param>
    /// <param name="parameterIndex">The 0-based position in the call (the session is position 0).</param>
    /// <param name="faultCode"><see cref="XmlRpcFaultCodes.TypeError"/> or <see cref="XmlRpcFaultCodes.IndexError"/>.</param>
    public XmlRpcArgumentException(string message, int parameterIndex, int faultCode = XmlRpcFaultCodes.TypeError)
        : base(message, faultCode, null)
    {
        ParameterIndex = parameterIndex;
    }

    /// <summary>The 0-based position of the offending parameter (the session is position 0).</summary>
    public int ParameterIndex { get; }
}
