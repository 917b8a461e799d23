using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>Disks and NICs of a VM: ids, the ATTACH flag while a hotplug runs, removal with its bookkeeping.</summary>
internal static class VmDevices
{
    public static int NextDiskId(Template t) => t.Vectors("DISK").Select(d => d.GetInt("DISK_ID") ?? -1).DefaultIfEmpty(-1).Max() + 1;

    /// <summary>
    /// Gives <paramref name="disk"/> its TARGET device as oned does: the one it asks for, or the first
    /// letter of its DEV_PREFIX (hd for a CDROM without one, else vd) that no disk in <paramref name="used"/>
    /// holds. Two disks on one target are refused, naming it.
    /// </summary>
    public static void AssignDiskTarget(IEnumerable<VectorAttribute> used, VectorAttribute disk, Func<string, Exception> refuse)
    {
        var taken = used.Where(d => !ReferenceEquals(d, disk)).Select(d => d["TARGET"]).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (disk["TARGET"] is { Length: > 0 } given)
        {
            if (taken.Contains(given)) throw refuse($"Target {given} of DISK {disk["DISK_ID"]} is already in use.");
            return;
        }
        var prefix = DevPrefix(disk);
        var max = prefix == "hd" ? 'd' : 'z';
        for (var c = 'a'; c <= max; c++)
        {
            if (taken.Contains(prefix + c)) continue;
            disk.Set("TARGET", prefix + c);
            return;
        }
        throw refuse($"No free target left for DISK {disk["DISK_ID"]} with DEV_PREFIX {prefix}.");
    }

    public static bool IsCdrom(VectorAttribute disk) => (disk["TYPE"] ?? "").Equals("CDROM", StringComparison.OrdinalIgnoreCase);

    /// <summary>The disk's device prefix (its bus): DEV_PREFIX, else hd for a CD-ROM and vd for any other disk.</summary>
    public static string DevPrefix(VectorAttribute disk) => (disk["DEV_PREFIX"] ?? (IsCdrom(disk) ? "hd" : "vd")).ToLowerInvariant();

    public static int NextNicId(Template t) =>
        t.Vectors("NIC").Concat(t.Vectors("NIC_ALIAS")).Select(d => d.GetInt("NIC_ID") ?? -1).DefaultIfEmpty(-1).Max() + 1;

    public static int AttachingDiskId(Vm vm) =>
        vm.Template.Vectors("DISK").FirstOrDefault(d => d["ATTACH"] == "YES")?.GetInt("DISK_ID") ?? -1;

    public static int AttachingNicId(Vm vm) =>
        vm.Template.Vectors("NIC").Concat(vm.Template.Vectors("NIC_ALIAS")).FirstOrDefault(d => d["ATTACH"] == "YES")?.GetInt("NIC_ID") ?? -1;

    public static Vm ClearAttachFlag(Vm vm)
    {
        var t = vm.Template.Clone();
        foreach (var v in t.Vectors("DISK").Concat(t.Vectors("NIC")).Concat(t.Vectors("NIC_ALIAS"))) v.Remove("ATTACH");
        return vm with { Template = t };
    }

    public static Vm RemoveDisk(StateTransaction tx, Vm vm, int diskId)
    {
        var t = vm.Template.Clone();
        var disk = t.Vectors("DISK").FirstOrDefault(d => d.GetInt("DISK_ID") == diskId);
        if (disk is null) return vm;
        t.Remove(disk);
        if (disk.GetInt("IMAGE_ID") is int imageId && tx.Get<Image>(ObjectType.Image, imageId) is { } image && image.Vms.Contains(vm.Id))
        {
            var users = Math.Max(0, image.RunningVms - 1);
            tx.Put(image with
            {
                RunningVms = users, Vms = image.Vms.Remove(vm.Id),
                State = users == 0 && image.State is ImageState.USED or ImageState.USED_PERS ? ImageState.READY : image.State,
            });
        }
        return vm with { Template = t };
    }

    /// <summary>
    /// Removes a NIC or a NIC_ALIAS and frees its lease. A NIC takes its aliases with it (as oned); an
    /// alias leaves its parent's ALIAS_IDS.
    /// </summary>
    public static Vm RemoveNic(StateTransaction tx, VmLifeCycle lc, Vm vm, int nicId)
    {
        var t = vm.Template.Clone();
        var nic = t.Vectors("NIC").Concat(t.Vectors("NIC_ALIAS")).FirstOrDefault(d => d.GetInt("NIC_ID") == nicId);
        if (nic is null) return vm;
        var gone = new List<VectorAttribute> { nic };
        if (nic.Name == "NIC_ALIAS")
        {
            if (t.Vectors("NIC").FirstOrDefault(p => p["NIC_ID"] == nic["PARENT_ID"]) is { } parent) VmNics.UnlinkAlias(parent, nicId);
        }
        else gone.AddRange(t.Vectors("NIC_ALIAS").Where(a => a["PARENT_ID"] == nic["NIC_ID"]));
        foreach (var n in gone)
        {
            t.Remove(n);
            lc.Leases.Release(tx, n, vm.Id);
            if (n.GetInt("NETWORK_ID") is int net)
                lc.ChargeOwnerQuota(tx, vm.Uid, vm.Gid, q => QuotaEngine.AddNetwork(q.Quotas, q.Defaults, net, -1, q.Who, check: false));
        }
        return vm with { Template = t };
    }

    /// <summary>
    /// A hot resize failed: back to the previous size. Capacity and quotas moved when the resize was
    /// asked for, so they move back here (success needs no bookkeeping).
    /// </summary>
    public static Vm RevertResize(StateTransaction tx, VmLifeCycle lc, Vm vm, string previous)
    {
        // previous = "CPU;MEMORY;VCPU" as they were before the hot resize.
        var parts = previous.Split(';');
        if (parts.Length != 3) return vm;
        var resized = vm;
        var t = vm.Template.Clone();
        t.Set("CPU", parts[0]);
        t.Set("MEMORY", parts[1]);
        if (parts[2].Length > 0) t.Set("VCPU", parts[2]);
        var restored = vm with { Template = t };
        MoveCapacity(tx, lc, resized, restored);
        return restored;
    }

    /// <summary>Moves host capacity and CPU/MEMORY quotas from one footprint of a VM to another.</summary>
    public static void MoveCapacity(StateTransaction tx, VmLifeCycle lc, Vm from, Vm to)
    {
        if (from.LastHistory is { Etime: 0 } h && tx.Get<Host>(ObjectType.Host, h.Hid) is { } host && host.Vms.Contains(from.Id))
        {
            var (c0, m0, _) = VmLifeCycle.Footprint(from);
            var (c1, m1, _) = VmLifeCycle.Footprint(to);
            tx.Put(host with { Share = host.Share with { CpuUsage = host.Share.CpuUsage - c0 + c1, MemUsage = host.Share.MemUsage - m0 + m1 } });
        }
        var delta = new Dictionary<string, double>
        {
            ["CPU"] = VmAttributes.Cpu(to.Template) - VmAttributes.Cpu(from.Template),
            ["MEMORY"] = VmAttributes.MemoryMb(to.Template) - VmAttributes.MemoryMb(from.Template),
        };
        if (VmAttributes.CountsAsRunning(from.State))
        {
            delta["RUNNING_CPU"] = delta["CPU"];
            delta["RUNNING_MEMORY"] = delta["MEMORY"];
        }
        lc.ChargeOwner(tx, to, delta, check: true);
    }

    public static string Previous(Vm vm) =>
        string.Join(";", vm.Template.Get("CPU") ?? "0", vm.Template.Get("MEMORY") ?? "0", vm.Template.Get("VCPU") ?? "");

    public static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
}
