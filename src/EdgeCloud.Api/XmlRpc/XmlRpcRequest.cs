namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// One parsed <c>methodCall</c>. For OpenNebula methods <c>Params[0]</c> is the session string; handlers read
/// the rest by position through <see cref="XmlRpcArgs"/>.
/// </summary>
/// <param name="MethodName">The method name as sent, e.g. <c>one.vm.info</c>, with surrounding whitespace removed.</param>
/// <param name="Params">The parameters in order; never null, possibly empty.</param>
public sealed record XmlRpcRequest(string MethodName, IReadOnlyList<XmlRpcValue> Params)
{
    /// <summary>Typed positional access to <see cref="Params"/> with OpenNebula's strict type rules.</summary>
    public XmlRpcArgs Args => new(Params);
}
