using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;

namespace EdgeCloud.Api.OneApi;

/// <summary>What a method answers on success, before it is written in the wire format.</summary>
public abstract record Reply
{
    public static Reply Of(int v) => new IntReply(v);
    public static Reply Of(string v) => new StringReply(v);
    public static Reply Of(long v) => new LongReply(v);
    public static Reply Of(bool v) => new BoolReply(v);
}

public sealed record IntReply(int Value) : Reply;
public sealed record LongReply(long Value) : Reply;
public sealed record BoolReply(bool Value) : Reply;
public sealed record StringReply(string Value) : Reply;

/// <summary>One object's XML document (a *.info answer), rendered from the per-object cache.</summary>
public sealed record ObjectReply(PoolObject Object, RenderMode Mode = RenderMode.Full) : Reply;

/// <summary>A pool document: root element, each object's cached body, the trailer (quotas of user/group pools).</summary>
public sealed record PoolReply(ObjectType Type, IReadOnlyList<PoolObject> Objects, RenderMode Mode = RenderMode.PoolEntry) : Reply;
