namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// A protocol-level problem with an XML-RPC call. The API edge answers these with a standard
/// <c>&lt;fault&gt;</c> (carrying <see cref="FaultCode"/> and the message), as xmlrpc-c does for OpenNebula,
/// instead of OpenNebula's <c>[false, message, code, ...]</c> application-error array.
/// </summary>
public abstract class XmlRpcException : Exception
{
    /// <summary>Creates the exception; only the subclasses in this folder say which fault it is.</summary>
    private protected XmlRpcException(string message, int faultCode, Exception? innerException)
        : base(message, innerException)
    {
        FaultCode = faultCode;
    }

    /// <summary>The <c>faultCode</c> to send, one of <see cref="XmlRpcFaultCodes"/>.</summary>
    public int FaultCode { get; }
}
