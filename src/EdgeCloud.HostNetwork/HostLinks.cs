using System.Text.Json;

namespace EdgeCloud.HostNetwork;

/// <summary>One network interface of the host, as <c>ip -j -d link show</c> reports it.</summary>
public sealed record HostLink
{
    public required string Name { get; init; }
    /// <summary>linkinfo kind: "bridge", "vlan", "vxlan", "veth", "tun"... empty for plain devices.</summary>
    public string Kind { get; init; } = "";
    public string Master { get; init; } = "";
    public string Alias { get; init; } = "";
    public int Mtu { get; init; }
    public bool Up { get; init; }
    /// <summary>vlan/vxlan: the id (VLAN id, VNI), -1 otherwise.</summary>
    public int Id { get; init; } = -1;
    /// <summary>vlan: the parent device; vxlan: the underlay device ("link"/"dev").</summary>
    public string Parent { get; init; } = "";
    /// <summary>vxlan: multicast group, empty for unicast.</summary>
    public string Group { get; init; } = "";
    /// <summary>vxlan: the local TEP address, empty when the kernel picks it.</summary>
    public string Local { get; init; } = "";
    /// <summary>vxlan: whether the device learns remote MACs (false = <c>nolearning</c>).</summary>
    public bool Learning { get; init; } = true;
    /// <summary>True when this driver created the device (its ifalias starts with <see cref="LinuxHostNetwork.AliasPrefix"/>).</summary>
    public bool Ours => Alias.StartsWith(LinuxHostNetwork.AliasPrefix, StringComparison.Ordinal);
}

/// <summary>A snapshot of the host's interfaces, the input of every plan.</summary>
public sealed class HostLinks
{
    private readonly Dictionary<string, HostLink> _links;

    public HostLinks(IEnumerable<HostLink> links) => _links = links.ToDictionary(l => l.Name, StringComparer.Ordinal);

    public static HostLinks Empty { get; } = new([]);

    public IReadOnlyCollection<HostLink> All => _links.Values;
    public HostLink? this[string name] => _links.GetValueOrDefault(name);
    public bool Has(string name) => _links.ContainsKey(name);
    public IEnumerable<HostLink> PortsOf(string bridge) => _links.Values.Where(l => l.Master == bridge);

    /// <summary>Parses <c>ip -j -d link show</c>.</summary>
    public static HostLinks Parse(string json)
    {
        var list = new List<HostLink>();
        using var doc = JsonDocument.Parse(json.Length == 0 ? "[]" : json);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var name = Str(e, "ifname");
            if (name.Length == 0) continue;
            var flags = e.TryGetProperty("flags", out var f) && f.ValueKind == JsonValueKind.Array
                ? f.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet() : [];
            string kind = "", group = "", local = "", parent = Str(e, "link");
            int id = -1;
            var learning = true;
            if (e.TryGetProperty("linkinfo", out var li))
            {
                kind = Str(li, "info_kind");
                if (li.TryGetProperty("info_data", out var d) && d.ValueKind == JsonValueKind.Object)
                {
                    if (d.TryGetProperty("id", out var idv) && idv.ValueKind == JsonValueKind.Number) id = idv.GetInt32();
                    group = Str(d, "group");
                    local = Str(d, "local");
                    if (Str(d, "link") is { Length: > 0 } l) parent = l;
                    if (d.TryGetProperty("learning", out var lv) && lv.ValueKind is JsonValueKind.False) learning = false;
                }
            }
            list.Add(new HostLink
            {
                Name = name,
                Kind = kind,
                Master = Str(e, "master"),
                Alias = Str(e, "ifalias"),
                Mtu = e.TryGetProperty("mtu", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 0,
                Up = flags.Contains("UP"),
                Id = id,
                Parent = parent,
                Group = group,
                Local = local,
                Learning = learning,
            });
        }
        return new HostLinks(list);
    }

    private static string Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    internal static async Task<HostLinks> ReadAsync(ICommandRunner runner, CancellationToken ct) =>
        Parse(await runner.RunCheckedAsync(HostCommand.Ip("-j", "-d", "link", "show"), ct));

    /// <summary>Parses <c>bridge -j fdb show dev DEV</c>: the remote TEPs of the all-zeros (flood) entries.</summary>
    public static IReadOnlyList<string> ParseFloodDestinations(string json)
    {
        var result = new List<string>();
        if (json.Trim().Length == 0) return result;
        using var doc = JsonDocument.Parse(json);
        foreach (var e in doc.RootElement.EnumerateArray())
            if (Str(e, "mac") == LinuxHostNetwork.FloodMac && Str(e, "dst") is { Length: > 0 } dst)
                result.Add(dst);
        return result;
    }
}
