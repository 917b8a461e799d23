namespace EdgeCloud.Client;

/// <summary>
/// OpenNebula's error codes as the OCA (<c>OpenNebula::Error</c>) defines them: the server's codes from the
/// third element of a failed answer, plus the client-side ones for failures that never reached a handler.
/// </summary>
public static class OneErrorCodes
{
    /// <summary>No error.</summary>
    public const int Success = 0x0000;

    /// <summary>The session did not authenticate.</summary>
    public const int Authentication = 0x0100;

    /// <summary>The user may not perform the action.</summary>
    public const int Authorization = 0x0200;

    /// <summary>The object does not exist.</summary>
    public const int NoExists = 0x0400;

    /// <summary>The action is not possible in the object's state.</summary>
    public const int Action = 0x0800;

    /// <summary>A bad argument value.</summary>
    public const int RpcApi = 0x1000;

    /// <summary>A server-side failure.</summary>
    public const int Internal = 0x2000;

    /// <summary>The object could not be created.</summary>
    public const int Allocate = 0x4000;

    /// <summary>The object is locked.</summary>
    public const int Locked = 0x8000;

    /// <summary>An HA replication failure.</summary>
    public const int Replication = 0x10000;

    /// <summary>Client side: something the client needed is not defined.</summary>
    public const int NotDefined = 0xF001;

    /// <summary>Client side: transport failure, HTTP error, malformed answer or XML-RPC fault.</summary>
    public const int XmlRpcCall = 0xF002;

    /// <summary>Client side: the call timed out.</summary>
    public const int Timeout = 0xF008;
}
