namespace EdgeCloud.Api.XmlRpc;

/// <summary>
/// Limits for <see cref="XmlRpcRequestParser"/>. They bound what an unauthenticated caller can make the
/// server allocate: the body is parsed before the session is checked.
/// </summary>
public sealed record XmlRpcParserOptions
{
    /// <summary>The defaults: 64 MiB documents, nesting depth 64.</summary>
    public static XmlRpcParserOptions Default { get; } = new();

    /// <summary>
    /// Largest accepted document, in bytes for byte/stream input buffered by <see cref="XmlRpcRequestParser.ParseAsync"/>
    /// and in characters for the XML reader. 64 MiB by default: VM templates with embedded files can be large,
    /// but nothing a client sends comes near that.
    /// </summary>
    public long MaxDocumentSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Deepest accepted nesting of arrays and structs (1 = an array of scalars). 64 by default; OpenNebula
    /// methods take at most a flat array, and a limit keeps the recursive reader off the stack's edge.
    /// </summary>
    public int MaxDepth { get; init; } = 64;
}
