using System.Collections.Immutable;
using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>Images used by VM disks: running VM counts and USED / USED_PERS states.</summary>
internal sealed class ImageLedger
{
    /// <summary>Takes an image for a VM disk; returns the DISK attributes oned sets from the image.</summary>
    public VectorAttribute Acquire(StateTransaction tx, Image image, Vm vm, VectorAttribute disk)
    {
        var cloning = image.State == ImageState.LOCKED && image.CloningId >= 0;
        if (image.State is not (ImageState.READY or ImageState.USED) && !cloning)
            throw CloudException.Action($"Image {image.Id} is not ready to be used (state {image.State}).", vm.Id);
        if (image.Persistent && image.RunningVms > 0)
            throw CloudException.Action($"Image {image.Id} is persistent and already in use by VM {string.Join(",", image.Vms)}.", vm.Id);
        if (image.ImageType is ImageType.KERNEL or ImageType.RAMDISK or ImageType.CONTEXT or ImageType.BACKUP)
            throw CloudException.Action($"Image {image.Id} of type {image.ImageType} cannot be used as a disk{(image.ImageType == ImageType.BACKUP ? " (restore it first: one.image.restore)" : "")}.", vm.Id);
        var ds = tx.Get<Datastore>(ObjectType.Datastore, image.DatastoreId);
        var d = disk.CloneVector();
        d.Set("IMAGE", image.Name);
        d.Set("IMAGE_ID", image.Id);
        d.Set("IMAGE_UNAME", image.Uname);
        d.Set("IMAGE_STATE", (int)image.State);
        d.Set("DATASTORE", image.Datastore);
        d.Set("DATASTORE_ID", image.DatastoreId);
        d.Set("SOURCE", image.Source);
        d.Set("SIZE", image.Size);
        d.Set("ORIGINAL_SIZE", image.Size);
        d.Set("FORMAT", image.Format.Length > 0 ? image.Format : "raw");
        d.Set("TM_MAD", ds?.TmMad ?? "dummy");
        d.Set("PERSISTENT", image.Persistent ? "YES" : "NO");
        d.Set("CLONE", image.Persistent ? "NO" : "YES");
        d.Set("SAVE", image.Persistent ? "YES" : "NO");
        d.Set("CLONE_TARGET", image.Persistent ? "SYSTEM" : "SYSTEM");
        d.Set("LN_TARGET", "NONE");
        d.Set("DISK_TYPE", "FILE");
        d.Set("TYPE", image.ImageType == ImageType.CDROM ? "CDROM" : "FILE");
        d.Set("READONLY", image.ImageType == ImageType.CDROM ? "YES" : d["READONLY"] ?? "NO");
        d.Set("DEV_PREFIX", d["DEV_PREFIX"] ?? image.Template.Get("DEV_PREFIX") ?? "vd");
        var users = image.RunningVms + 1;
        tx.Put(image with
        {
            RunningVms = users,
            Vms = image.Vms.Add(vm.Id),
            // A copy still being made stays LOCKED; it becomes USED when the copy lands (Cloud.ImageReadyAsync).
            State = cloning ? image.State : image.Persistent ? ImageState.USED_PERS : ImageState.USED,
        });
        return d;
    }

    public void Release(StateTransaction tx, int imageId, int vmId)
    {
        if (tx.Get<Image>(ObjectType.Image, imageId) is not { } image || !image.Vms.Contains(vmId)) return;
        var users = Math.Max(0, image.RunningVms - 1);
        tx.Put(image with
        {
            RunningVms = users,
            Vms = image.Vms.Remove(vmId),
            State = users == 0 && image.State is ImageState.USED or ImageState.USED_PERS ? ImageState.READY : image.State,
        });
    }
}

/// <summary>Address leases of virtual networks: handed out once, freed on detach or termination.</summary>
internal sealed class LeaseLedger
{
    /// <summary>
    /// Leases an address of <paramref name="net"/> for a NIC (a requested IP or MAC, or the first free one)
    /// and returns the NIC attributes oned sets. A full network is an error and leases nothing.
    /// </summary>
    public VectorAttribute Acquire(StateTransaction tx, VNet net, VectorAttribute nic, int vmId, int nicId)
    {
        if (net.State != VNetState.READY)
            throw CloudException.Action($"Virtual network {net.Id} is not ready (state {net.State}).", vmId);
        var wantIp = nic["IP"];
        var wantMac = nic["MAC"];
        string? externalRefusal = null;
        foreach (var ar in net.AddressRanges)
        {
            var size = ar.Attributes.GetInt("SIZE") ?? 0;
            int? index = null;
            if (IpamScope.ExternalMad(ar) is { } mad)
            {
                // An external IPAM decides this range's addresses (see IpamScope).
                if (wantMac is not null && wantIp is null) continue;
                if (wantIp is not null && (AddressMath.IndexOfIp(ar, wantIp) is not int w || ar.Leases.ContainsKey(w))) continue;
                var scope = IpamScope.Current;
                if (scope is null)
                {
                    externalRefusal = $"Address range {ar.ArId} of virtual network {net.Id} is managed by IPAM driver \"{mad}\", which this operation cannot use.";
                    continue;
                }
                if (scope.Discover)
                {
                    scope.Needs.Add(new IpamNeed(net.Id, ar.ArId, mad, ar.Attributes.CloneVector(), wantIp, $"VM {vmId} NIC {nicId}"));
                    return Describe(net, ar, nic, vmId, nicId, -1);
                }
                var grant = scope.Take(net.Id, ar.ArId, wantIp)
                            ?? throw CloudException.Action($"Address range {ar.ArId} of virtual network {net.Id} changed while IPAM driver \"{mad}\" was asked for an address; try again.", vmId);
                index = AddressMath.IndexOfIp(ar, grant.Ip)
                        ?? throw CloudException.Action($"IPAM driver \"{mad}\" gave address {grant.Ip}, which is outside address range {ar.ArId} of virtual network {net.Id}.", vmId);
                if (ar.Leases.TryGetValue(index.Value, out var taken))
                    throw CloudException.Action($"IPAM driver \"{mad}\" gave address {grant.Ip}, which is already leased (VM {taken.Vm}) in virtual network {net.Id}.", vmId);
            }
            else if (wantIp is not null)
            {
                if (AddressMath.IndexOfIp(ar, wantIp) is int i && !ar.Leases.ContainsKey(i)) index = i;
                else continue;
            }
            else if (wantMac is not null)
            {
                if (AddressMath.IndexOfMac(ar, wantMac) is int i && !ar.Leases.ContainsKey(i)) index = i;
                else continue;
            }
            else
            {
                for (var i = 0; i < size; i++)
                    if (!ar.Leases.ContainsKey(i)) { index = i; break; }
            }
            if (index is not int idx) continue;
            var nar = ar with { Leases = ar.Leases.Add(idx, new Lease(idx, vmId, nicId)) };
            tx.Put(net with { AddressRanges = net.AddressRanges.Replace(ar, nar) });
            return Describe(net, ar, nic, vmId, nicId, idx);
        }
        if (externalRefusal is not null) throw CloudException.Action(externalRefusal, vmId);
        var what = wantIp is not null ? $"IP {wantIp} is not free in" : wantMac is not null ? $"MAC {wantMac} is not free in" : "No free addresses in";
        throw CloudException.Action($"{what} virtual network {net.Id}.", vmId);
    }

    /// <summary>The NIC attributes oned sets from a lease at <paramref name="idx"/> of <paramref name="ar"/> (-1: no address yet, IPAM discovery).</summary>
    private static VectorAttribute Describe(VNet net, AddressRange ar, VectorAttribute nic, int vmId, int nicId, int idx)
    {
        var n = nic.CloneVector();
        n.Set("AR_ID", ar.ArId);
        n.Set("NETWORK", net.Name);
        n.Set("NETWORK_ID", net.Id);
        n.Set("NETWORK_UNAME", net.Uname);
        n.Set("NIC_ID", nicId);
        n.Set("BRIDGE", net.Bridge);
        n.Set("BRIDGE_TYPE", net.BridgeType.Length > 0 ? net.BridgeType : "linux");
        n.Set("VN_MAD", net.VnMad);
        if (nic.Name != "NIC_ALIAS") n.Set("TARGET", $"one-{vmId}-{nicId}"); // an alias is an address on its parent's interface
        if (idx >= 0)
        {
            n.Set("MAC", AddressMath.MacAt(ar, idx));
            if (AddressMath.IpAt(ar, idx) is { } ip) n.Set("IP", ip);
        }
        if (net.VlanId.Length > 0) n.Set("VLAN_ID", net.VlanId);
        if (net.PhyDev.Length > 0) n.Set("PHYDEV", net.PhyDev);
        if (net.Clusters.Count > 0) n.Set("CLUSTER_ID", string.Join(",", net.Clusters));
        var sgs = net.Template.Get("SECURITY_GROUPS") ?? "0";
        n.Set("SECURITY_GROUPS", sgs);
        foreach (var key in new[] { "GATEWAY", "DNS", "NETWORK_MASK", "NETWORK_ADDRESS", "MTU" })
            if (n[key] is null && (ar.Attributes[key] ?? net.Template.Get(key)) is { } v) n.Set(key, v);
        return n;
    }

    public void Release(StateTransaction tx, VectorAttribute nic, int vmId)
    {
        if (nic.GetInt("NETWORK_ID") is not int netId || nic.GetInt("AR_ID") is not int arId) return;
        if (tx.Get<VNet>(ObjectType.VNet, netId) is not { } net) return;
        var ar = net.AddressRanges.FirstOrDefault(a => a.ArId == arId);
        if (ar is null) return;
        var lease = ar.Leases.Values.FirstOrDefault(l => l.Vm == vmId && (nic.GetInt("NIC_ID") is not int nid || l.NicId == nid));
        if (lease is null) return;
        tx.Put(net with { AddressRanges = net.AddressRanges.Replace(ar, ar with { Leases = ar.Leases.Remove(lease.Index) }) });
        if (IpamScope.ExternalMad(ar) is { } mad && AddressMath.IpAt(ar, lease.Index) is { } ip)
            tx.Raise(new IpamAddressFreed(mad, ar.Attributes.CloneVector(), ip));
    }
}
