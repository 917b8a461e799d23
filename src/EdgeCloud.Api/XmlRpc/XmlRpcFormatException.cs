namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// The request body is not an XML-RPC call we accept: malformed XML, a DTD, a wrong element structure,
/// an unknown type tag, a bad number, or a document over the size/nesting limits.
/// </summary>
public sealed class XmlRpcFormatException : XmlRpcException
{
    /// <summary>Creates the exception with <see cref="XmlRpcFaultCodes.ParseError"/> unless another code is given.</summary>
    /// <param name="message">What is wrong, for the fault string; it reaches the client verbatim.</param>
    /// <param name="faultCode">The fault code; <see cref="XmlRpcFaultCodes.LimitExceededError"/> for limits.</param>
    /// <param name="innerException">The <see cref="System.Xml.XmlException"/> behind it, if any.</param>
    public XmlRpcFormatException(string message, int faultCode = XmlRpcFaultCodes.ParseError, Exception? innerException = null)
        : base(message, faultCode, innerException)
    {
    }
}
