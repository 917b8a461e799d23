namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// The <c>faultCode</c> numbers that OpenNebula's XML-RPC library (xmlrpc-c) uses for protocol-level
/// problems. We send the same numbers so that clients which branch on them behave as with the real server.
/// </summary>
public static class XmlRpcFaultCodes
{
    /// <summary>A failure inside the server that is not the caller's fault.</summary>
    public const int InternalError = -500;

    /// <summary>An argument has the wrong XML-RPC type.</summary>
    public const int TypeError = -501;

    /// <summary>A required argument is missing.</summary>
    public const int IndexError = -502;

    /// <summary>The body is not a well-formed XML-RPC call.</summary>
    public const int ParseError = -503;

    /// <summary>The method name is not known.</summary>
    public const int NoSuchMethodError = -506;

    /// <summary>The server refuses the call (for example while shutting down).</summary>
    public const int RequestRefusedError = -507;

    /// <summary>The call is larger or more deeply nested than the server accepts.</summary>
    public const int LimitExceededError = -509;
}
