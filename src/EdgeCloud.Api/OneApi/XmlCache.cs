using System.Runtime.CompilerServices;
using EdgeCloud.Api.XmlRpc;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Xml;

namespace EdgeCloud.Api.OneApi;

/// <summary>
/// The rendered, XML-RPC-escaped bytes of each object version. Objects are immutable, so a version's
/// XML never changes; the cache is keyed by the object instance and dies with it. Some documents embed
/// things that change on their own — hosts and VMs their live monitoring, users and groups the
/// cloud's default quotas — so their entry also remembers what it was rendered with.
/// Pool listings then only copy bytes: this is what makes one.vmpool.info fast at 10,000 VMs.
/// </summary>
public sealed class XmlCache(RenderContext context)
{
    private sealed record Entry(object? Sample, byte[] Escaped);

    private sealed record Rendering(RenderContext Context, QuotaDefaults? Defaults);

    private readonly ConditionalWeakTable<PoolObject, Entry> _full = new();
    private readonly ConditionalWeakTable<PoolObject, Entry> _pool = new();
    private volatile Rendering _rendering = new(context, null);

    public RenderContext Context => _rendering.Context;

    /// <summary>Renders with these default quotas from now on (users and groups re-render once when they change).</summary>
    public void UseDefaults(QuotaDefaults defaults)
    {
        var r = _rendering;
        if (ReferenceEquals(r.Defaults, defaults)) return;
        _rendering = new Rendering(r.Context with { DefaultUserQuotas = defaults.User, DefaultGroupQuotas = defaults.Group }, defaults);
    }

    public byte[] Escaped(PoolObject obj, RenderMode mode)
    {
        var table = mode == RenderMode.Full ? _full : _pool;
        var rendering = _rendering;
        var sample = SampleOf(obj, rendering);
        if (table.TryGetValue(obj, out var e) && ReferenceEquals(e.Sample, sample)) return e.Escaped;
        var bytes = XmlRpcEscaper.EscapeRawUtf8(ObjectXml.RenderUtf8(obj, rendering.Context, mode));
        table.AddOrUpdate(obj, new Entry(sample, bytes));
        return bytes;
    }

    private static object? SampleOf(PoolObject obj, Rendering r) => obj switch
    {
        Host h => r.Context.Monitoring.Host(h.Id),
        Vm v => r.Context.Monitoring.Vm(v.Id),
        User or Group => r.Defaults,
        _ => null,
    };
}
