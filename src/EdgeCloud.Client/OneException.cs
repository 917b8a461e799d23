namespace EdgeCloud.Client;

/// <summary>
/// A call that did not succeed: either the server's application error (<see cref="Code"/> from
/// <see cref="OneErrorCodes"/>, <see cref="Exception.Message"/> as the server wrote it, e.g.
/// <c>[one.vm.info] Error getting virtual machine [5].</c>), or a client-side failure with
/// <see cref="OneErrorCodes.XmlRpcCall"/> / <see cref="OneErrorCodes.Timeout"/> as the Ruby OCA reports them.
/// </summary>
public sealed class OneException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The OpenNebula or client-side error code.</param>
    /// <param name="message">The message; for server errors exactly the server's text.</param>
    /// <param name="innerException">The transport or parse exception behind a client-side failure.</param>
    public OneException(int code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The error code (see <see cref="OneErrorCodes"/>).</summary>
    public int Code { get; }

    /// <summary>The object id the server named in a failed answer (its 4th element), or -1.</summary>
    public int ResponseId { get; init; } = -1;

    /// <summary>The server's replication index (5th element of a failed answer), 0 when absent.</summary>
    public long ReplicationIndex { get; init; }

    /// <summary>The XML-RPC <c>faultCode</c> when the server answered with a protocol fault, else null.</summary>
    public int? FaultCode { get; init; }

    /// <summary>The method called, when known.</summary>
    public string? Method { get; init; }

    /// <summary>True when the server answered with an application error (not a fault, not a transport failure).</summary>
    public bool IsServerError => Code < OneErrorCodes.NotDefined && FaultCode is null;
}
