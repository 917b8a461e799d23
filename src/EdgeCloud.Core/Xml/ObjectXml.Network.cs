using System.Collections.Frozen;
using System.Globalization;
using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>AR sub-elements that come from the range's own attributes, in vnet.xsd / vnet_pool.xsd order.</summary>
    private static readonly string[] ArHeadKeys =
    [
        "AR_ID", "CVLANS", "GLOBAL_PREFIX", "IP", "MAC", "NEXT_INDEX", "PARENT_NETWORK_AR_ID", "SHARED", "SIZE", "TYPE",
        "VLAN_ID", "ULA_PREFIX", "VN_MAD",
    ];

    /// <summary>AR sub-elements placed after the head in vnet.xsd (computed ones and a few attributes), plus oned's internal ALLOCATED map.</summary>
    private static readonly FrozenSet<string> ArTailKeys = FrozenSet.Create(StringComparer.Ordinal,
        "MAC_END", "IP_END", "IP6_ULA", "IP6_ULA_END", "IP6_GLOBAL", "IP6_GLOBAL_END", "IP6", "IP6_END", "PORT_START",
        "PORT_SIZE", "USED_LEASES", "LEASES", "ALLOCATED");

    private static readonly FrozenSet<string> ArHeadSet = FrozenSet.Create(StringComparer.Ordinal, ArHeadKeys);

    /// <summary>
    /// VNET (vnet.xsd). VLAN_ID and OUTER_VLAN_ID are always written, empty or not (<c>onevnet show</c> reads
    /// them unconditionally). PARENT_NETWORK_ID is empty for a network that is not a reservation, as oned.
    /// The pool entry lists address ranges without leases (vnet_pool.xsd).
    /// </summary>
    private static void WriteVNet(OneXmlWriter w, VNet n, RenderMode mode)
    {
        w.Start("VNET");
        WriteOwnedHead(w, n);
        WriteLock(w, n.Lock);
        WritePermissions(w, n.Permissions);
        WriteIds(w, "CLUSTERS", n.Clusters);
        w.Element("BRIDGE", n.Bridge);
        w.Element("BRIDGE_TYPE", n.BridgeType);
        w.Element("STATE", (int)n.State);
        w.Element("PREV_STATE", (int)n.PrevState);
        if (n.ParentNetworkId >= 0) w.Element("PARENT_NETWORK_ID", n.ParentNetworkId);
        else w.Empty("PARENT_NETWORK_ID");
        w.Element("TEMPLATE_ID", -1); // virtual network templates are not modelled: oned's "not instantiated"
        w.Element("VN_MAD", n.VnMad);
        w.Element("PHYDEV", n.PhyDev);
        w.Element("VLAN_ID", n.VlanId);
        w.Element("OUTER_VLAN_ID", n.OuterVlanId);
        w.Element("VLAN_ID_AUTOMATIC", n.VlanIdAutomatic);
        w.Element("OUTER_VLAN_ID_AUTOMATIC", n.OuterVlanIdAutomatic);
        w.Element("USED_LEASES", n.UsedLeases);
        WriteIds(w, "VROUTERS", n.VRouters);
        // Per-VM update tracking of a network's attributes is not modelled: all four lists are empty.
        w.Empty("UPDATED_VMS");
        w.Empty("OUTDATED_VMS");
        w.Empty("UPDATING_VMS");
        w.Empty("ERROR_VMS");
        TemplateXml.Write(w, n.Template);
        if (n.AddressRanges.Count == 0)
        {
            w.Empty("AR_POOL");
        }
        else
        {
            w.Start("AR_POOL");
            foreach (var ar in n.AddressRanges) WriteAddressRange(w, ar, full: mode == RenderMode.Full);
            w.End("AR_POOL");
        }
        w.End("VNET");
    }

    /// <summary>
    /// One AR. oned writes the range's attribute vector (sorted) and, in one.vn.info, the derived
    /// MAC_END/IP_END/IPv6 ranges, USED_LEASES and LEASES. We write the attributes vnet.xsd knows in its
    /// order, then any other attribute the user gave the range (GATEWAY, DNS, PREFIX_LENGTH...: oned keeps
    /// and writes them too, the closed XSD sequence does not know them — a known oned deviation), then the
    /// derived elements. ALLOCATED (oned's internal lease map) is never written.
    /// </summary>
    private static void WriteAddressRange(OneXmlWriter w, AddressRange ar, bool full)
    {
        var attrs = ar.Attributes.Values;
        var type = attrs.GetValueOrDefault("TYPE", "");
        var isIPv4 = type is "IP4" or "IP4_6" or "IP4_6_STATIC";
        var isSlaac = type is "IP6" or "IP4_6";
        var isStatic6 = type is "IP6_STATIC" or "IP4_6_STATIC";
        _ = long.TryParse(attrs.GetValueOrDefault("SIZE"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var size);
        var hasIp4 = AddressMath.TryParseIPv4(attrs.GetValueOrDefault("IP"), out var ip4);
        var hasMac = AddressMath.TryParseMac(attrs.GetValueOrDefault("MAC"), out var mac);
        if (!hasMac && hasIp4)
        {
            mac = AddressMath.MacFromIPv4(ip4);
            hasMac = true;
        }

        w.Start("AR");
        foreach (var key in ArHeadKeys)
        {
            switch (key)
            {
                case "AR_ID":
                    w.Element("AR_ID", ar.ArId);
                    break;
                case "MAC":
                    if (attrs.TryGetValue("MAC", out var macText)) w.Element("MAC", macText);
                    else if (hasMac) w.Element("MAC", AddressMath.FormatMac(mac));
                    break;
                case "NEXT_INDEX":
                    if (attrs.TryGetValue("NEXT_INDEX", out var next)) w.Element("NEXT_INDEX", next);
                    else w.Element("NEXT_INDEX", NextIndex(ar, size));
                    break;
                default:
                    if (attrs.TryGetValue(key, out var value)) w.Element(key, value);
                    break;
            }
        }
        foreach (var (k, v) in attrs)
        {
            if (ArHeadSet.Contains(k) || ArTailKeys.Contains(k)) continue;
            w.Element(k, v);
        }
        if (!full)
        {
            // vnet_pool.xsd's AR stops at VN_MAD; the remaining user attributes (IP6, PORT_*) follow as in oned's vector.
            foreach (var (k, v) in attrs)
                if (ArTailKeys.Contains(k) && k is not ("ALLOCATED" or "USED_LEASES" or "LEASES" or "MAC_END" or "IP_END")) w.Element(k, v);
            w.End("AR");
            return;
        }

        var last = Math.Max(size - 1, 0);
        if (hasMac) w.Element("MAC_END", AddressMath.FormatMac(mac + (ulong)last));
        if (isIPv4 && hasIp4) w.Element("IP_END", AddressMath.FormatIPv4(ip4 + (uint)last));
        if (isSlaac && hasMac)
        {
            var ula = attrs.GetValueOrDefault("ULA_PREFIX");
            if (AddressMath.TryCombine(ula, AddressMath.Eui64(mac), out var ulaStart)
                && AddressMath.TryCombine(ula, AddressMath.Eui64(mac + (ulong)last), out var ulaEnd))
            {
                w.Element("IP6_ULA", ulaStart);
                w.Element("IP6_ULA_END", ulaEnd);
            }
            var global = attrs.GetValueOrDefault("GLOBAL_PREFIX");
            if (AddressMath.TryCombine(global, AddressMath.Eui64(mac), out var globalStart)
                && AddressMath.TryCombine(global, AddressMath.Eui64(mac + (ulong)last), out var globalEnd))
            {
                w.Element("IP6_GLOBAL", globalStart);
                w.Element("IP6_GLOBAL_END", globalEnd);
            }
        }
        var hasIp6 = AddressMath.TryParseIPv6(attrs.GetValueOrDefault("IP6"), out var ip6);
        if (attrs.TryGetValue("IP6", out var ip6Text)) w.Element("IP6", ip6Text);
        if (isStatic6 && hasIp6) w.Element("IP6_END", AddressMath.FormatIPv6(ip6 + (UInt128)(ulong)last));
        if (attrs.TryGetValue("PORT_START", out var portStart)) w.Element("PORT_START", portStart);
        if (attrs.TryGetValue("PORT_SIZE", out var portSize)) w.Element("PORT_SIZE", portSize);
        w.Element("USED_LEASES", ar.Leases.Count);

        if (ar.Leases.Count > 0)
        {
            w.Start("LEASES");
            foreach (var lease in ar.Leases.Values)
            {
                var offset = (ulong)Math.Max(lease.Index, 0);
                var leaseMac = mac + offset;
                w.Start("LEASE");
                if (isIPv4 && hasIp4) w.Element("IP", AddressMath.FormatIPv4(ip4 + (uint)offset));
                if (isStatic6 && hasIp6) w.Element("IP6", AddressMath.FormatIPv6(ip6 + (UInt128)offset));
                if (isSlaac && hasMac)
                {
                    var iid = AddressMath.Eui64(leaseMac);
                    if (AddressMath.TryCombine(attrs.GetValueOrDefault("GLOBAL_PREFIX"), iid, out var g)) w.Element("IP6_GLOBAL", g);
                    if (AddressMath.TryCombine("fe80::", iid, out var link)) w.Element("IP6_LINK", link);
                    if (AddressMath.TryCombine(attrs.GetValueOrDefault("ULA_PREFIX"), iid, out var u)) w.Element("IP6_ULA", u);
                }
                if (hasMac) w.Element("MAC", AddressMath.FormatMac(leaseMac));
                w.Element("VM", lease.Vm);
                w.End("LEASE");
            }
            w.End("LEASES");
        }
        w.End("AR");
    }

    /// <summary>Where oned would look for the next free address: after the highest lease, wrapping at SIZE.</summary>
    private static long NextIndex(AddressRange ar, long size)
    {
        if (ar.Leases.Count == 0 || size <= 0) return 0;
        return (ar.Leases.Keys.Max() + 1L) % size;
    }

    /// <summary>
    /// SECURITY_GROUP (security_group.xsd). Its TEMPLATE is a closed sequence of DESCRIPTION and RULE with
    /// PROTOCOL and RULE_TYPE only, but OpenNebula rules also carry RANGE, IP, SIZE, NETWORK_ID, ICMP_TYPE...
    /// which oned writes inside RULE: we write the template as oned does (a known oned deviation).
    /// </summary>
    /// <summary>VNTEMPLATE (vntemplate.xsd).</summary>
    private static void WriteVNTemplate(OneXmlWriter w, VNTemplate t)
    {
        w.Start("VNTEMPLATE");
        WriteOwnedHead(w, t);
        WriteLock(w, t.Lock);
        WritePermissions(w, t.Permissions);
        w.Element("REGTIME", t.RegTime);
        TemplateXml.Write(w, t.Template);
        w.End("VNTEMPLATE");
    }

    private static void WriteSecGroup(OneXmlWriter w, SecGroup g)
    {
        w.Start("SECURITY_GROUP");
        WriteOwnedHead(w, g);
        WritePermissions(w, g.Permissions);
        WriteIds(w, "UPDATED_VMS", g.UpdatedVms);
        WriteIds(w, "OUTDATED_VMS", g.OutdatedVms);
        WriteIds(w, "UPDATING_VMS", g.UpdatingVms);
        WriteIds(w, "ERROR_VMS", g.ErrorVms);
        TemplateXml.Write(w, g.Template);
        w.End("SECURITY_GROUP");
    }

    /// <summary>VM_GROUP (vm_group.xsd): LOCK comes after PERMISSIONS here; a role's VMS is a comma-separated list.</summary>
    private static void WriteVmGroup(OneXmlWriter w, VmGroup g)
    {
        w.Start("VM_GROUP");
        WriteOwnedHead(w, g);
        WritePermissions(w, g.Permissions);
        WriteLock(w, g.Lock);
        if (g.Roles.Count == 0)
        {
            w.Empty("ROLES");
        }
        else
        {
            w.Start("ROLES");
            foreach (var r in g.Roles)
            {
                w.Start("ROLE");
                if (r.HostAffined.Length > 0) w.Element("HOST_AFFINED", r.HostAffined);
                if (r.HostAntiAffined.Length > 0) w.Element("HOST_ANTI_AFFINED", r.HostAntiAffined);
                w.Element("ID", r.Id);
                w.Element("NAME", r.Name);
                if (r.Policy.Length > 0) w.Element("POLICY", r.Policy);
                if (r.Vms.Count > 0) w.Element("VMS", string.Join(',', r.Vms));
                w.End("ROLE");
            }
            w.End("ROLES");
        }
        TemplateXml.Write(w, g.Template);
        w.End("VM_GROUP");
    }
}
