using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.HostNetwork;

/// <summary>
/// The pure part of the driver: from a NIC and a snapshot of the host's links, the commands that
/// bring the host to the wanted state. Nothing here runs anything, so the same plan can be executed
/// on the host, inside a namespace, or typed into a guest's console.
/// </summary>
public static class NetworkPlan
{
    /// <summary>Linux interface names are at most 15 characters (IFNAMSIZ - 1).</summary>
    public const int MaxIfName = 15;

    /// <summary>OpenNebula's default VXLAN_MC: the group of VNI n is this address + n.</summary>
    public const string DefaultVxlanMcBase = "239.0.0.0";

    /// <summary>IANA's VXLAN port (the Linux default is 8472).</summary>
    public const int VxlanPort = 4789;

    /// <summary>Multicast TTL of VXLAN devices (OpenNebula's vxlan_ttl default).</summary>
    public const int VxlanTtl = 16;

    /// <summary>The VN_MAD in lower case, checked: bridge, 802.1q, vxlan, fw, dummy.</summary>
    public static string Mad(NicSpec nic)
    {
        var mad = (nic.VnMad.Length == 0 ? "bridge" : nic.VnMad).ToLowerInvariant();
        return mad switch
        {
            "bridge" or "802.1q" or "vxlan" or "fw" or "dummy" => mad,
            _ => throw new HostDriverException($"NIC {nic.NicId}: VN_MAD \"{nic.VnMad}\" is not supported by the Linux host network driver (bridge, 802.1Q, vxlan, fw, dummy)"),
        };
    }

    /// <summary>The bridge of a NIC: BRIDGE, or OpenNebula's default <c>onebr.&lt;VLAN_ID&gt;</c> for 802.1Q and VXLAN.</summary>
    public static string BridgeName(NicSpec nic)
    {
        var name = nic.Bridge;
        if (name.Length == 0)
        {
            if (Mad(nic) is "802.1q" or "vxlan" && nic.VlanId.Length > 0) name = $"onebr.{nic.VlanId}";
            else throw new HostDriverException($"NIC {nic.NicId}: no BRIDGE");
        }
        CheckIfName(name, "BRIDGE");
        return name;
    }

    /// <summary>The VLAN or VXLAN device of a NIC: <c>&lt;PHYDEV&gt;.&lt;VLAN_ID&gt;</c> as OpenNebula names it; null for bridge/fw/dummy.</summary>
    public static string? DeviceName(NicSpec nic)
    {
        var mad = Mad(nic);
        if (mad is not ("802.1q" or "vxlan")) return null;
        if (nic.PhyDev.Length == 0) throw new HostDriverException($"NIC {nic.NicId}: VN_MAD {nic.VnMad} needs PHYDEV");
        var id = VlanNumber(nic);
        var name = $"{nic.PhyDev}.{id}";
        CheckIfName(name, mad == "vxlan" ? "the VXLAN device (PHYDEV.VLAN_ID)" : "the VLAN device (PHYDEV.VLAN_ID)");
        return name;
    }

    /// <summary>The host-side interface of the VM's NIC: TARGET, or <c>one-&lt;VMID&gt;-&lt;NICID&gt;</c>.</summary>
    public static string TargetName(int vmId, NicSpec nic)
    {
        var t = nic.Target.Length > 0 ? nic.Target : $"one-{vmId}-{nic.NicId}";
        CheckIfName(t, "TARGET");
        return t;
    }

    /// <summary>OpenNebula's VXLAN group: the VXLAN_MC base address plus the VNI (239.0.0.0 + 100 = 239.0.0.100).</summary>
    public static string VxlanGroup(string mcBase, int vni)
    {
        if (!IPAddress.TryParse(mcBase, out var b) || b.AddressFamily != AddressFamily.InterNetwork)
            throw new HostDriverException($"VXLAN_MC \"{mcBase}\" is not an IPv4 address");
        var bytes = b.GetAddressBytes();
        var v = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) + (uint)vni;
        return $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}";
    }

    public static int VlanNumber(NicSpec nic)
    {
        var mad = Mad(nic);
        var max = mad == "vxlan" ? 16_777_215 : 4094;
        if (!int.TryParse(nic.VlanId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1 || id > max)
            throw new HostDriverException($"NIC {nic.NicId}: VLAN_ID \"{nic.VlanId}\" is not a valid {(mad == "vxlan" ? "VNI (1..16777215)" : "802.1Q VLAN id (1..4094)")}");
        return id;
    }

    private static void CheckIfName(string name, string what)
    {
        if (name.Length > MaxIfName || name.Any(c => c is '/' or ' ' or ':' or '\'' or '"' || char.IsControl(c)))
            throw new HostDriverException($"{what} \"{name}\" is not a valid Linux interface name (at most {MaxIfName} characters, no '/', ':', spaces or quotes)");
    }

    /// <summary>
    /// The commands that make the NIC's network exist on a host whose links are <paramref name="links"/>:
    /// the bridge (created and marked if missing, MTU, up), the VLAN or VXLAN device in it, and for
    /// unicast VXLAN the flood entries toward the peers. Empty when everything is already in place.
    /// <paramref name="floodDestinations"/> are the device's current all-zeros FDB destinations (unicast VXLAN).
    /// <paramref name="localTep"/> is the PHYDEV's address when VXLAN_TEP=local_ip asks for it.
    /// </summary>
    public static IReadOnlyList<HostCommand> Pre(NicSpec nic, HostLinks links, IReadOnlyList<string>? floodDestinations = null, string? localTep = null)
    {
        var mad = Mad(nic);
        var cmds = new List<HostCommand>();
        if (mad == "dummy") return cmds;
        var br = BridgeName(nic);
        var mtu = nic.Mtu > 0 ? nic.Mtu.ToString(CultureInfo.InvariantCulture) : null;

        var bridge = links[br];
        if (bridge is null)
        {
            cmds.Add(HostCommand.Ip([.. "link add name".Split(' '), br, .. Mtu(mtu), "up", "type", "bridge"]));
            cmds.Add(HostCommand.Ip("link", "set", "dev", br, "alias", LinuxHostNetwork.AliasPrefix + "bridge"));
        }
        else
        {
            if (bridge.Kind != "bridge")
                throw new HostDriverException($"NIC {nic.NicId}: \"{br}\" exists on the host but is not a bridge (it is a {(bridge.Kind.Length > 0 ? bridge.Kind : "plain")} device)");
            if (mtu is not null && bridge.Mtu != nic.Mtu) cmds.Add(HostCommand.Ip("link", "set", "dev", br, "mtu", mtu));
            if (!bridge.Up) cmds.Add(HostCommand.Ip("link", "set", "dev", br, "up"));
        }

        if (DeviceName(nic) is not { } dev) return cmds;
        var id = VlanNumber(nic).ToString(CultureInfo.InvariantCulture);
        if (!links.Has(nic.PhyDev))
            throw new HostDriverException($"NIC {nic.NicId}: PHYDEV \"{nic.PhyDev}\" does not exist on this host");
        // A VLAN device cannot come up on a parent that is down ("Network is down"), nor a VXLAN carry traffic.
        if (links[nic.PhyDev] is { Up: false }) cmds.Add(HostCommand.Ip("link", "set", "dev", nic.PhyDev, "up"));
        var existing = links[dev];
        var unicast = mad == "vxlan" && IsUnicast(nic);
        if (existing is not null && existing.Kind != (mad == "vxlan" ? "vxlan" : "vlan"))
            throw new HostDriverException($"NIC {nic.NicId}: \"{dev}\" exists on the host but is a {(existing.Kind.Length > 0 ? existing.Kind : "plain")} device, not a {(mad == "vxlan" ? "VXLAN" : "VLAN")} device");
        if (existing is not null && mad == "vxlan" && existing.Ours && (existing.Id.ToString(CultureInfo.InvariantCulture) != id || existing.Learning == unicast))
        {
            // The network changed mode (multicast <-> unicast) or VNI under a device we made: rebuild it.
            cmds.Add(HostCommand.Ip("link", "del", "dev", dev));
            existing = null;
        }
        if (existing is null)
        {
            if (mad == "802.1q")
            {
                cmds.Add(HostCommand.Ip([.. "link add link".Split(' '), nic.PhyDev, "name", dev, .. Mtu(mtu), "master", br, "up", "type", "vlan", "id", id]));
            }
            else
            {
                var args = new List<string> { "link", "add", "name", dev };
                args.AddRange(Mtu(mtu));
                args.AddRange(["master", br, "up", "type", "vxlan", "id", id]);
                if (unicast)
                {
                    args.AddRange(["dev", nic.PhyDev, "nolearning"]);
                }
                else
                {
                    var group = nic.VxlanGroup.Length > 0 ? nic.VxlanGroup : VxlanGroup(DefaultVxlanMcBase, VlanNumber(nic));
                    args.AddRange(["group", group, "dev", nic.PhyDev, "ttl", VxlanTtl.ToString(CultureInfo.InvariantCulture)]);
                }
                if (localTep is { Length: > 0 }) args.AddRange(["local", localTep]);
                args.AddRange(["dstport", VxlanPort.ToString(CultureInfo.InvariantCulture)]);
                cmds.Add(HostCommand.Ip([.. args]));
            }
            cmds.Add(HostCommand.Ip("link", "set", "dev", dev, "alias", LinuxHostNetwork.AliasPrefix + (mad == "vxlan" ? "vxlan" : "vlan")));
            floodDestinations = [];
        }
        else
        {
            if (existing.Master != br) cmds.Add(HostCommand.Ip("link", "set", "dev", dev, "master", br));
            if (mtu is not null && existing.Mtu != nic.Mtu) cmds.Add(HostCommand.Ip("link", "set", "dev", dev, "mtu", mtu));
            if (!existing.Up) cmds.Add(HostCommand.Ip("link", "set", "dev", dev, "up"));
        }
        if (unicast) cmds.AddRange(Fdb(dev, nic.VxlanPeers, floodDestinations ?? [], localTep));
        return cmds;
    }

    /// <summary>
    /// The addresses the guest puts on its interface <paramref name="dev"/> for this NIC, as OpenNebula's
    /// contextualization does from ETHn_IP/ETHn_MASK and ETHn_ALIASm_IP/ETHn_ALIASm_MASK: the NIC's address,
    /// then every alias's, except aliases with EXTERNAL = YES (mapped to the VM from outside, never on
    /// the interface). A host-side stand-in for the guest (a namespace endpoint) runs exactly these.
    /// </summary>
    public static IReadOnlyList<HostCommand> GuestAddresses(NicSpec nic, string dev)
    {
        var cmds = new List<HostCommand>();
        static string Cidr(string ip, int prefix) => prefix is > 0 and <= 32 ? $"{ip}/{prefix.ToString(CultureInfo.InvariantCulture)}" : $"{ip}/32";
        if (nic.Ip.Length > 0) cmds.Add(HostCommand.Ip("addr", "replace", Cidr(nic.Ip, nic.PrefixLength), "dev", dev));
        foreach (var a in nic.Aliases.OrderBy(a => a.AliasId))
            if (!a.External && a.Ip.Length > 0) cmds.Add(HostCommand.Ip("addr", "replace", Cidr(a.Ip, a.PrefixLength), "dev", dev));
        cmds.Add(HostCommand.Ip("link", "set", "dev", dev, "up"));
        return cmds;
    }

    /// <summary>VXLAN_MODE=unicast (case-insensitive); anything else is multicast as OpenNebula's default.</summary>
    public static bool IsUnicast(NicSpec nic) => string.Equals(nic.VxlanMode, "unicast", StringComparison.OrdinalIgnoreCase);

    /// <summary>The FDB changes that make the device flood exactly to <paramref name="peers"/>: appends for new peers, deletes for stale ones.</summary>
    public static IReadOnlyList<HostCommand> Fdb(string dev, IReadOnlyList<string> peers, IReadOnlyList<string> current, string? localTep = null)
    {
        var want = peers.Select(p => p.Trim()).Where(p => p.Length > 0 && p != localTep).Distinct(StringComparer.Ordinal).ToList();
        foreach (var p in want)
            if (!IPAddress.TryParse(p, out _)) throw new HostDriverException($"VXLAN peer \"{p}\" is not an IP address");
        var cmds = new List<HostCommand>();
        foreach (var p in want.Where(p => !current.Contains(p)))
            cmds.Add(HostCommand.Bridge("fdb", "append", LinuxHostNetwork.FloodMac, "dev", dev, "dst", p));
        foreach (var p in current.Where(p => !want.Contains(p)).Distinct())
            cmds.Add(HostCommand.Bridge("fdb", "del", LinuxHostNetwork.FloodMac, "dev", dev, "dst", p));
        return cmds;
    }

    /// <summary>
    /// The commands that remove what the NICs in <paramref name="removed"/> needed and nothing in
    /// <paramref name="stillInUse"/> needs: our VLAN/VXLAN devices, then our bridges once no other
    /// port (a tap, a device we did not make) is left in them. Devices without our mark are never touched.
    /// </summary>
    public static IReadOnlyList<HostCommand> Clean(IReadOnlyList<NicSpec> removed, IReadOnlyList<NicSpec> stillInUse, HostLinks links)
    {
        var keepBridges = new HashSet<string>(StringComparer.Ordinal);
        var keepDevices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in stillInUse)
        {
            if (Mad(n) == "dummy") continue;
            keepBridges.Add(BridgeName(n));
            if (DeviceName(n) is { } d) keepDevices.Add(d);
        }
        var cmds = new List<HostCommand>();
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in removed)
        {
            if (Mad(n) == "dummy") continue;
            var br = BridgeName(n);
            var dev = DeviceName(n);
            if (dev is not null && !keepDevices.Contains(dev) && links[dev] is { Ours: true } && deleted.Add(dev))
                cmds.Add(HostCommand.Ip("link", "del", "dev", dev));
            if (keepBridges.Contains(br) || links[br] is not { Ours: true, Kind: "bridge" } || deleted.Contains(br)) continue;
            var others = links.PortsOf(br).Where(p => !deleted.Contains(p.Name)).ToList();
            if (others.Count > 0) continue; // a VM or something we did not make still uses it
            deleted.Add(br);
            cmds.Add(HostCommand.Ip("link", "del", "dev", br));
        }
        return cmds;
    }

    private static string[] Mtu(string? mtu) => mtu is null ? [] : ["mtu", mtu];
}
