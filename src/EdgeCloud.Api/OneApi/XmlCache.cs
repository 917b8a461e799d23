using System.Runtime.CompilerServices;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;

namespace EdgeCloud.Api.OneApi;

/// <summary>
/// The rendered, XML-RPC-escaped bytes of each object version. Objects are immutable, so a version's
/// XML never changes; the cache is keyed by the object instance and dies with it. Hosts and VMs embed
/// live monitoring, so their entry also remembers which sample it was rendered with.
/// Pool listings then only copy bytes: this is what makes one.vmpool.info fast at 10,000 VMs.
/// </summary>
public sealed class XmlCache(RenderContext context)
{
    private sealed record Entry(object? Sample, byte[] Escaped);

    private readonly ConditionalWeakTable<PoolObject, Entry> _full = new();
    private readonly ConditionalWeakTable<PoolObject, Entry> _pool = new();

    public RenderContext Context => context;

    public byte[] Escaped(PoolObject obj, RenderMode mode)
    {
        var table = mode == RenderMode.Full ? _full : _pool;
        var sample = SampleOf(obj);
        if (table.TryGetValue(obj, out var e) && ReferenceEquals(e.Sample, sample)) return e.Escaped;
        var bytes = XmlRpcEscaper.EscapeRawUtf8(ObjectXml.RenderUtf8(obj, context, mode));
        table.AddOrUpdate(obj, new Entry(sample, bytes));
        return bytes;
    }

    private object? SampleOf(PoolObject obj) => obj switch
    {
        Host h => context.Monitoring.Host(h.Id),
        Vm v => context.Monitoring.Vm(v.Id),
        _ => null,
    };
}
