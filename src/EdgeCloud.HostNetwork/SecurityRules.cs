using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork;

/// <summary>
/// Security groups as nftables rules. Layout (one transaction per NIC, see docs/networking.md):
/// <code>
/// table inet edgecloud {                    # conntrack's verdict, seen through br_netfilter
///   chain forward { type filter hook forward priority 0; policy accept;
///     ct state established,related meta mark set meta mark or 0x10000000 } }
/// table bridge edgecloud {                  # the bridge ports (taps) are only visible here
///   map nic_in  { type ifname : verdict; }  # tap → jump &lt;tap&gt;-i  (traffic to the VM)
///   map nic_out { type ifname : verdict; }  # tap → jump &lt;tap&gt;-o  (traffic from the VM)
///   chain forward { type filter hook forward priority 10; policy accept;
///     iifname vmap @nic_out; oifname vmap @nic_in }
///   chain one-5-0-i { mark established → return; arp, ND → return; rules → return; drop } ... }
/// </code>
/// A bridged packet reaches the inet forward hook only through br_netfilter, where the input and
/// output interfaces are the bridge itself, not the tap; the bridge family sees the ports but has no
/// conntrack on this kind of kernel. So the inet chain writes conntrack's answer into one mark bit
/// and the per-port chains in the bridge family read it: stateful rules, matched per tap.
/// </summary>
public static class SecurityRules
{
    public const string Table = "edgecloud";

    /// <summary>The mark bit that says "established or related" (set by the inet table).</summary>
    public const uint EstablishedMark = 0x1000_0000;

    /// <summary>Chain names of a NIC: traffic to the VM (inbound rules) and from it (outbound rules).</summary>
    public static string InChain(string target) => target + "-i";
    public static string OutChain(string target) => target + "-o";

    /// <summary>The table skeleton, idempotent (add + flush of the base chains), prepended to every NIC transaction.</summary>
    public static string Skeleton()
    {
        var m = $"0x{EstablishedMark:x8}";
        return $$"""
            add table bridge {{Table}}
            add map bridge {{Table}} nic_in { type ifname : verdict ; }
            add map bridge {{Table}} nic_out { type ifname : verdict ; }
            add chain bridge {{Table}} forward { type filter hook forward priority 10 ; policy accept ; }
            flush chain bridge {{Table}} forward
            add rule bridge {{Table}} forward iifname vmap @nic_out
            add rule bridge {{Table}} forward oifname vmap @nic_in
            add table inet {{Table}}
            add chain inet {{Table}} forward { type filter hook forward priority 0 ; policy accept ; }
            flush chain inet {{Table}} forward
            add rule inet {{Table}} forward ct state established,related meta mark set meta mark or {{m}}

            """;
    }

    /// <summary>
    /// One <c>nft -f</c> transaction that (re)writes the NIC's two chains from its rules and maps its
    /// tap to them; applied atomically, so a running VM never sees a half-updated group.
    /// </summary>
    public static string Apply(string target, IReadOnlyList<SecurityRuleSpec> rules) => Skeleton() + NicPart(target, rules);

    /// <summary>The per-NIC half of <see cref="Apply"/> (several NICs share one skeleton in a batch).</summary>
    public static string NicPart(string target, IReadOnlyList<SecurityRuleSpec> rules)
    {
        var sb = new StringBuilder();
        foreach (var (chain, type, map) in new[] { (InChain(target), "INBOUND", "nic_in"), (OutChain(target), "OUTBOUND", "nic_out") })
        {
            sb.Append($"add chain bridge {Table} {chain}\n");
            sb.Append($"flush chain bridge {Table} {chain}\n");
            void Rule(string body) => sb.Append($"add rule bridge {Table} {chain} {body}\n");
            Rule($"meta mark & 0x{EstablishedMark:x8} == 0x{EstablishedMark:x8} return");
            Rule("ether type arp return");
            Rule("icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } return");
            foreach (var r in rules.Where(r => string.Equals(r.RuleType.Trim(), type, StringComparison.OrdinalIgnoreCase)))
                foreach (var body in Translate(r, inbound: type == "INBOUND"))
                    Rule(body + " return");
            Rule("counter drop");
            sb.Append($"add element bridge {Table} {map} {{ \"{target}\" : jump {chain} }}\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Removes a NIC's chains and map entries. The objects are added first in the same transaction,
    /// so the removal is idempotent (nothing fails when they are already gone).
    /// </summary>
    public static string Remove(string target, bool dropTables)
    {
        if (dropTables) return $"add table bridge {Table}\ndelete table bridge {Table}\nadd table inet {Table}\ndelete table inet {Table}\n";
        var sb = new StringBuilder(Skeleton());
        foreach (var (chain, map) in new[] { (InChain(target), "nic_in"), (OutChain(target), "nic_out") })
        {
            sb.Append($"add chain bridge {Table} {chain}\n");
            sb.Append($"add element bridge {Table} {map} {{ \"{target}\" : jump {chain} }}\n");
            sb.Append($"delete element bridge {Table} {map} {{ \"{target}\" }}\n");
            sb.Append($"delete chain bridge {Table} {chain}\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The match part of one rule (without its verdict); several when the remote networks mix IPv4
    /// and IPv6. For INBOUND the remote side is the source, for OUTBOUND the destination; the port
    /// range is always the destination port (the VM's service inbound, the remote service outbound).
    /// </summary>
    public static IReadOnlyList<string> Translate(SecurityRuleSpec rule, bool inbound)
    {
        var proto = rule.Protocol.Trim().ToUpperInvariant();
        var l4 = proto switch
        {
            "TCP" => "meta l4proto tcp",
            "UDP" => "meta l4proto udp",
            "ICMP" => "meta l4proto icmp",
            "ICMPV6" => "meta l4proto ipv6-icmp",
            "IPSEC" => "meta l4proto { esp, ah }",
            "ALL" or "" => "",
            _ => throw new HostDriverException($"security group {rule.SecurityGroupId}: PROTOCOL \"{rule.Protocol}\" is not one of TCP, UDP, ICMP, ICMPv6, IPSEC, ALL"),
        };
        var parts = new List<string>();
        if (l4.Length > 0) parts.Add(l4);
        if (proto is "TCP" or "UDP" && rule.Range.Trim().Length > 0) parts.Add("th dport " + Ports(rule.Range, rule.SecurityGroupId));
        if (proto == "ICMP" && rule.IcmpType >= 0) parts.Add($"icmp type {rule.IcmpType.ToString(CultureInfo.InvariantCulture)}");
        if (proto == "ICMPV6" && rule.IcmpType >= 0) parts.Add($"icmpv6 type {rule.IcmpType.ToString(CultureInfo.InvariantCulture)}");
        var head = string.Join(' ', parts);

        var (v4, v6) = Networks(rule.Networks, rule.SecurityGroupId);
        if (v4.Count == 0 && v6.Count == 0) return [head];
        var dir = inbound ? "saddr" : "daddr";
        var result = new List<string>();
        // ICMP only exists over IPv4 and ICMPv6 over IPv6: skip the family that cannot match.
        if (v4.Count > 0 && proto != "ICMPV6") result.Add(Join(head, $"ip {dir} {Set(v4)}"));
        if (v6.Count > 0 && proto != "ICMP") result.Add(Join(head, $"ip6 {dir} {Set(v6)}"));
        return result;
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + " " + b;
    private static string Set(List<string> items) => items.Count == 1 ? items[0] : "{ " + string.Join(", ", items) + " }";

    /// <summary>"22" → 22, "1000:2000" → 1000-2000, "22,80,1000:2000" → { 22, 80, 1000-2000 }.</summary>
    public static string Ports(string range, int sg = -1)
    {
        var items = new List<string>();
        foreach (var raw in range.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = raw.Split(':', StringSplitOptions.TrimEntries);
            if (ends.Length > 2 || !ends.All(e => ushort.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
                throw new HostDriverException($"security group {sg}: RANGE \"{range}\" is not a port list (\"22\", \"1000:2000\", \"22,80\")");
            if (ends.Length == 2 && int.Parse(ends[0], CultureInfo.InvariantCulture) > int.Parse(ends[1], CultureInfo.InvariantCulture))
                throw new HostDriverException($"security group {sg}: RANGE \"{raw}\" ends before it starts");
            items.Add(ends.Length == 2 ? $"{ends[0]}-{ends[1]}" : ends[0]);
        }
        if (items.Count == 0) throw new HostDriverException($"security group {sg}: RANGE \"{range}\" is empty");
        return Set(items);
    }

    /// <summary>
    /// Remote networks: "10.0.0.0/24" (CIDR), "10.0.0.5+10" (OpenNebula's IP + SIZE: ten addresses
    /// from 10.0.0.5), "10.0.0.5-10.0.0.9" (range), "10.0.0.5" (one address); IPv6 alike.
    /// </summary>
    public static (List<string> V4, List<string> V6) Networks(IReadOnlyList<string> networks, int sg = -1)
    {
        List<string> v4 = [], v6 = [];
        foreach (var raw in networks.Select(n => n.Trim()).Where(n => n.Length > 0))
        {
            string text;
            AddressFamily fam;
            if (raw.Contains('+'))
            {
                var (ip, size) = (raw[..raw.IndexOf('+')], raw[(raw.IndexOf('+') + 1)..]);
                if (!IPAddress.TryParse(ip, out var a) || !System.Numerics.BigInteger.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                    throw Bad(raw, sg);
                var bits = a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                var first = ToBig(a);
                var last = first + n - 1;
                if (last >= System.Numerics.BigInteger.One << bits) throw Bad(raw, sg);
                text = n == 1 ? a.ToString() : $"{a}-{FromBig(last, a.AddressFamily)}";
                fam = a.AddressFamily;
            }
            else if (raw.Contains('/'))
            {
                if (!IPNetwork.TryParse(raw, out var net))
                {
                    // A CIDR with host bits set ("10.0.0.5/24"): keep its network, as nft would refuse it.
                    var slash = raw.IndexOf('/');
                    if (!IPAddress.TryParse(raw[..slash], out var ha) || !int.TryParse(raw[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var len))
                        throw Bad(raw, sg);
                    var hbits = ha.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                    if (len > hbits) throw Bad(raw, sg);
                    var mask = ((System.Numerics.BigInteger.One << len) - 1) << (hbits - len);
                    net = new IPNetwork(FromBigAddr(ToBig(ha) & mask, ha.AddressFamily), len);
                }
                text = net.ToString();
                fam = net.BaseAddress.AddressFamily;
            }
            else if (raw.Contains('-'))
            {
                var ends = raw.Split('-', StringSplitOptions.TrimEntries);
                if (ends.Length != 2 || !IPAddress.TryParse(ends[0], out var a) || !IPAddress.TryParse(ends[1], out var b) || a.AddressFamily != b.AddressFamily || ToBig(a) > ToBig(b))
                    throw Bad(raw, sg);
                text = $"{a}-{b}";
                fam = a.AddressFamily;
            }
            else
            {
                if (!IPAddress.TryParse(raw, out var a)) throw Bad(raw, sg);
                text = a.ToString();
                fam = a.AddressFamily;
            }
            (fam == AddressFamily.InterNetwork ? v4 : v6).Add(text);
        }
        return (v4, v6);
    }

    private static HostDriverException Bad(string raw, int sg) =>
        new($"security group {sg}: \"{raw}\" is not an address, a CIDR, a range A-B or OpenNebula's IP+SIZE");

    private static System.Numerics.BigInteger ToBig(IPAddress a) => new(a.GetAddressBytes(), isUnsigned: true, isBigEndian: true);

    private static IPAddress FromBigAddr(System.Numerics.BigInteger v, AddressFamily fam)
    {
        var len = fam == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = v.ToByteArray(isUnsigned: true, isBigEndian: true);
        var full = new byte[len];
        bytes.CopyTo(full, len - bytes.Length);
        return new IPAddress(full);
    }

    private static string FromBig(System.Numerics.BigInteger v, AddressFamily fam) => FromBigAddr(v, fam).ToString();
}
