using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    public static readonly string[] VnDrivers = ["dummy", "bridge", "fw", "802.1Q", "vxlan", "ovswitch", "ovswitch_vxlan", "elastic"];

    /// <summary>
    /// one.vn.allocate: the network starts in INIT and becomes READY once its driver has set it up
    /// (the dummy driver at once); only READY networks give leases.
    /// </summary>
    public async Task<int> VNetAllocateAsync(Caller caller, string text, int clusterId, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        // ARs with an external IPAM_MAD are what their IPAM answers to register_address_range (undone if the allocation fails).
        var registered = await RegisterTemplateArsAsync(t, msg => CloudException.Allocate(ObjectType.VNet, msg), ct).ConfigureAwait(false);
        return await UnregisterOnFailureAsync(registered, () =>
        {
            var spec = PrepareVNet(t);
            return bus.ExecuteAsync(tx => CreateVNet(tx, caller, spec, [clusterId < 0 ? DefaultClusterId : clusterId]), ct);
        }).ConfigureAwait(false);
    }

    /// <summary>A network template checked (NAME, VN_MAD, PHYDEV, address ranges) and split into its parts.</summary>
    private sealed record VNetSpec(string Name, string VnMad, IReadOnlyList<VectorAttribute> Ars, Template Body);

    /// <summary>The checks every new network goes through (one.vn.allocate, one.vntemplate.instantiate); takes <paramref name="t"/> over.</summary>
    private static VNetSpec PrepareVNet(Template t)
    {
        var name = t.Get("NAME");
        if (string.IsNullOrEmpty(name)) throw CloudException.Allocate(ObjectType.VNet, "No NAME in template.");
        ValidateName(ObjectType.VNet, name);
        var vnMad = CheckVnMad(ObjectType.VNet, t);
        var ars = t.Vectors("AR").ToList();
        foreach (var ar in ars) ValidateAr(ar);
        t.Remove("AR");
        t.Remove("NAME");
        if (t.Get("SECURITY_GROUPS") is null) t.Set("SECURITY_GROUPS", "0");
        return new VNetSpec(name, vnMad, ars, t);
    }

    /// <summary>VN_MAD is there and known; 802.1Q and vxlan have a PHYDEV. Errors are allocate errors of <paramref name="type"/>.</summary>
    private static string CheckVnMad(ObjectType type, Template t)
    {
        var vnMad = t.Get("VN_MAD") ?? throw CloudException.Allocate(type, "No VN_MAD in template.");
        if (!VnDrivers.Contains(vnMad)) throw CloudException.Allocate(type, $"Unknown VN_MAD \"{vnMad}\"; known drivers: {string.Join(", ", VnDrivers)}.");
        if (vnMad is "802.1Q" or "vxlan" && t.Get("PHYDEV") is null) throw CloudException.Allocate(type, $"VN_MAD {vnMad} needs PHYDEV.");
        return vnMad;
    }

    /// <summary>Writes a new network (INIT) from a checked template into the given clusters; returns its id.</summary>
    private int CreateVNet(StateTransaction tx, Caller caller, VNetSpec spec, IReadOnlyList<int> clusterIds)
    {
        var t = spec.Body;
        var clusters = clusterIds.Select(cid => tx.Get<Cluster>(ObjectType.Cluster, cid) ?? throw CloudException.NotFound(ObjectType.Cluster, cid)).ToList();
        DemandCreate(tx, caller, ObjectType.VNet);
        CheckNameFreeForAllocate(tx, ObjectType.VNet, spec.Name, caller.Uid);
        foreach (var sg in SecGroupsOf(t))
            if (tx.Get<SecGroup>(ObjectType.SecGroup, sg) is null) throw CloudException.Allocate(ObjectType.VNet, $"Security group {sg} does not exist.");
        var id = tx.NextId(ObjectType.VNet);
        var vnMad = spec.VnMad;
        var vlan = t.Get("VLAN_ID") ?? "";
        var autoVlan = vlan.Length == 0 && vnMad is "802.1Q" or "vxlan" or "ovswitch_vxlan"
                       && !(t.Get("AUTOMATIC_VLAN_ID") ?? "YES").Equals("NO", StringComparison.OrdinalIgnoreCase);
        if (autoVlan) vlan = NextVlan(tx, vnMad).ToString(CultureInfo.InvariantCulture);
        var net = Stamp(new VNet
        {
            Id = id, Name = spec.Name, Template = t, VnMad = vnMad, Bridge = t.Get("BRIDGE") ?? $"onebr{id}",
            BridgeType = t.Get("BRIDGE_TYPE") ?? (vnMad == "ovswitch" ? "openvswitch" : "linux"),
            PhyDev = t.Get("PHYDEV") ?? "", VlanId = vlan, VlanIdAutomatic = autoVlan, OuterVlanId = t.Get("OUTER_VLAN_ID") ?? "",
            State = VNetState.INIT, PrevState = VNetState.INIT, Clusters = [.. clusters.Select(c => c.Id)],
            AddressRanges = spec.Ars.Select((a, i) => new AddressRange { ArId = i, Attributes = NormalizeAr(a, i) }).ToImmutableList(),
            NextArId = spec.Ars.Count,
        }, tx, caller);
        tx.Put(net);
        foreach (var cluster in clusters) tx.Put(cluster with { VNets = cluster.VNets.Add(id) });
        tx.Raise(new VNetCreated(id));
        return id;
    }

    /// <summary>Automatic VLAN/VNI ids: the lowest not taken by another network of the same driver family, from 2.</summary>
    private static int NextVlan(StateTransaction tx, string vnMad)
    {
        var taken = tx.All<VNet>(ObjectType.VNet).Where(n => n.VnMad == vnMad && int.TryParse(n.VlanId, out _))
            .Select(n => int.Parse(n.VlanId, CultureInfo.InvariantCulture)).ToHashSet();
        var v = 2;
        while (taken.Contains(v)) v++;
        if (v > (vnMad == "vxlan" ? 16_777_215 : 4094)) throw CloudException.Allocate(ObjectType.VNet, "No free VLAN id left.");
        return v;
    }

    private static void ValidateAr(VectorAttribute ar)
    {
        var type = ar["TYPE"]?.ToUpperInvariant() ?? throw CloudException.Action("AR needs a TYPE (IP4, IP6, IP4_6, ETHER).");
        if (type is not ("IP4" or "IP6" or "IP4_6" or "ETHER" or "IP6_STATIC" or "IP4_6_STATIC"))
            throw CloudException.Action($"Unknown AR TYPE \"{ar["TYPE"]}\"; use IP4, IP6, IP6_STATIC, IP4_6, IP4_6_STATIC or ETHER.");
        if (ar.GetInt("SIZE") is not > 0) throw CloudException.Action("AR needs a positive SIZE.");
        if (type.StartsWith("IP4", StringComparison.Ordinal))
        {
            if (ar["IP"] is not { } ip || !IPAddress.TryParse(ip, out var a) || a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw CloudException.Action($"AR of type {type} needs a valid IPv4 start address in IP.");
            var start = BitConverter.ToUInt32(a.GetAddressBytes().Reverse().ToArray());
            if ((ulong)start + (ulong)ar.GetInt("SIZE")!.Value > 0xFFFFFFFFUL) throw CloudException.Action("AR runs past 255.255.255.255.");
        }
        if (ar["MAC"] is { } mac && !AddressMath.TryParseMac(mac, out _)) throw CloudException.Action($"Invalid MAC \"{mac}\" in AR.");
    }

    private static VectorAttribute NormalizeAr(VectorAttribute ar, int id)
    {
        var n = ar.CloneVector();
        n.Set("AR_ID", id);
        n.Set("TYPE", ar["TYPE"]!.ToUpperInvariant());
        return n;
    }

    /// <summary>The network driver reports whether it set the network up.</summary>
    public Task VNetReadyAsync(int id, bool ok, string error, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<VNet>(ObjectType.VNet, id) is not { State: VNetState.INIT or VNetState.LOCK_CREATE } net) return;
            var t = net.Template;
            if (!ok) { t = t.Clone(); t.Set("ERROR", error); }
            tx.Put(net with { State = ok ? VNetState.READY : VNetState.ERROR, PrevState = net.State, Template = t });
        }, ct);

    public Task<int> VNetDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var net = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Manage);
            var used = net.AddressRanges.SelectMany(a => a.Leases.Values).Where(l => l.Vm >= 0).Select(l => l.Vm).Distinct().ToList();
            if (used.Count > 0) throw CloudException.Action($"Cannot delete virtual network {id}: it has leases in use by VMs {string.Join(",", used.Take(10))}.", id);
            if (tx.All<VNet>(ObjectType.VNet).Any(n => n.ParentNetworkId == id))
                throw CloudException.Action($"Cannot delete virtual network {id}: it has reservations.", id);
            foreach (var ar in net.AddressRanges)
                if (IpamScope.ExternalMad(ar) is { } mad) tx.Raise(new IpamRangeRemoved(mad, ar.Attributes.CloneVector()));
            foreach (var cid in net.Clusters)
                if (tx.Get<Cluster>(ObjectType.Cluster, cid) is { } c) tx.Put(c with { VNets = c.VNets.Remove(id) });
            tx.Delete(ObjectType.VNet, id);
            return id;
        }, ct);

    public async Task<int> VNetAddArAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var ar = ParseTemplate(text, ErrorCode.Action).Vector("AR") ?? throw CloudException.Action("No AR in template.", id);
        if (IpamScope.ExternalMad(ar) is not null)
        {
            var net = bus.Current.Get<VNet>(ObjectType.VNet, id) ?? throw CloudException.NotFound(ObjectType.VNet, id);
            Authorizer.Demand(caller, net, AuthOp.Admin, Acls(bus.Current)); // before the IPAM is asked
        }
        var ars = new List<VectorAttribute> { ar };
        var registered = await RegisterArsAsync(ars, msg => CloudException.Action(msg, id), ct).ConfigureAwait(false);
        ar = ars[0];
        return await UnregisterOnFailureAsync(registered, () =>
        {
            ValidateAr(ar);
            return bus.ExecuteAsync(tx =>
            {
                var net = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Admin);
                var arId = net.NextArId;
                tx.Put(net with { AddressRanges = net.AddressRanges.Add(new AddressRange { ArId = arId, Attributes = NormalizeAr(ar, arId) }), NextArId = arId + 1 });
                return id;
            }, ct);
        }).ConfigureAwait(false);
    }

    public Task<int> VNetRemoveArAsync(Caller caller, int id, int arId, bool force, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var net = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Admin);
            var ar = net.AddressRanges.FirstOrDefault(a => a.ArId == arId) ?? throw CloudException.Action($"Address range {arId} does not exist.", id);
            if (!force && ar.Leases.Values.Any(l => l.Vm >= 0)) throw CloudException.Action($"Address range {arId} has leases in use.", id);
            tx.Put(net with { AddressRanges = net.AddressRanges.Remove(ar) });
            if (IpamScope.ExternalMad(ar) is { } mad) tx.Raise(new IpamRangeRemoved(mad, ar.Attributes.CloneVector()));
            return id;
        }, ct);

    /// <summary>one.vn.update_ar: changes an AR's attributes; TYPE, SIZE below the used leases and the start address stay.</summary>
    public Task<int> VNetUpdateArAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var upd = ParseTemplate(text, ErrorCode.Action).Vector("AR") ?? throw CloudException.Action("No AR in template.", id);
        var arId = upd.GetInt("AR_ID") ?? throw CloudException.Action("The AR needs AR_ID.", id);
        return bus.ExecuteAsync(tx =>
        {
            var net = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Manage);
            var ar = net.AddressRanges.FirstOrDefault(a => a.ArId == arId) ?? throw CloudException.Action($"Address range {arId} does not exist.", id);
            var attrs = ar.Attributes.CloneVector();
            foreach (var (k, v) in upd.Values)
            {
                if (k is "AR_ID" or "TYPE" or "IP" or "MAC" or "IP6" or "ULA_PREFIX" or "GLOBAL_PREFIX") continue;
                if (k == "IPAM_MAD" && v != (ar.Attributes["IPAM_MAD"] ?? ""))
                    throw CloudException.Action("IPAM_MAD of an address range cannot change (its addresses belong to its IPAM); add a new range instead.", id);
                if (k == "SIZE")
                {
                    if (!int.TryParse(v, CultureInfo.InvariantCulture, out var size) || size <= 0) throw CloudException.Action($"Invalid SIZE \"{v}\".", id);
                    if (ar.Leases.Keys.Any(i => i >= size)) throw CloudException.Action("Cannot shrink the address range below addresses in use.", id);
                }
                attrs[k] = v;
            }
            tx.Put(net with { AddressRanges = net.AddressRanges.Replace(ar, ar with { Attributes = attrs }) });
            return id;
        }, ct);
    }

    /// <summary>one.vn.hold / one.vn.release: an address set aside (lease owned by VM -1) or given back.</summary>
    public Task<int> VNetHoldAsync(Caller caller, int id, string text, bool hold, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        var lease = t.Vector("LEASES") ?? throw CloudException.Action("No LEASES in template.", id);
        return ExecuteLeasingAsync(tx =>
        {
            var net = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Manage);
            foreach (var ar in net.AddressRanges)
            {
                if (lease.GetInt("AR_ID") is int want && want != ar.ArId) continue;
                int? idx = lease["IP"] is { } ip ? AddressMath.IndexOfIp(ar, ip) : lease["MAC"] is { } mac ? AddressMath.IndexOfMac(ar, mac) : null;
                if (idx is not int i) continue;
                if (hold)
                {
                    if (ar.Leases.TryGetValue(i, out var taken)) throw CloudException.Action($"Address is already in use (VM {taken.Vm}).", id);
                    if (IpamScope.ExternalMad(ar) is { } mad && AddressMath.IpAt(ar, i) is { } heldIp)
                    {
                        // An externally managed address is held only if its IPAM agrees (allocate_address).
                        var scope = IpamScope.Current ?? throw CloudException.Action($"Address range {ar.ArId} is managed by IPAM driver \"{mad}\".", id);
                        if (scope.Discover) { scope.Needs.Add(new IpamNeed(net.Id, ar.ArId, mad, ar.Attributes.CloneVector(), heldIp, "hold")); return id; }
                        if (scope.Take(net.Id, ar.ArId, heldIp) is null) throw CloudException.Action($"Address range {ar.ArId} changed while its IPAM was asked; try again.", id);
                    }
                    tx.Put(net with { AddressRanges = net.AddressRanges.Replace(ar, ar with { Leases = ar.Leases.Add(i, new Lease(i, -1, -1)) }) });
                }
                else
                {
                    if (!ar.Leases.TryGetValue(i, out var l) || l.Vm != -1) throw CloudException.Action("Address is not on hold.", id);
                    tx.Put(net with { AddressRanges = net.AddressRanges.Replace(ar, ar with { Leases = ar.Leases.Remove(i) }) });
                    if (IpamScope.ExternalMad(ar) is { } mad && AddressMath.IpAt(ar, i) is { } freedIp)
                        tx.Raise(new IpamAddressFreed(mad, ar.Attributes.CloneVector(), freedIp));
                }
                return id;
            }
            throw CloudException.Action("The address is not in any address range of the network.", id);
        }, msg => CloudException.Action(msg, id), ct);
    }

    /// <summary>
    /// one.vn.reserve: SIZE addresses of this network (optionally from AR_ID, starting at IP/MAC) move to a
    /// new network (NAME) or to an existing reservation (NETWORK_ID), owned by the caller.
    /// </summary>
    public Task<int> VNetReserveAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text, ErrorCode.Action);
        var size = t.TryGetLong("SIZE", out var s) && s > 0 ? (int)s : throw CloudException.Action("Reservation needs a positive SIZE.", id);
        var newName = t.Get("NAME");
        var intoId = t.TryGetLong("NETWORK_ID", out var into) ? (int)into : -1;
        if (newName is null && intoId < 0) throw CloudException.Action("Reservation needs NAME (new network) or NETWORK_ID (existing reservation).", id);
        return bus.ExecuteAsync(tx =>
        {
            var parent = Demand<VNet>(tx, caller, ObjectType.VNet, id, AuthOp.Use);
            foreach (var ar in parent.AddressRanges)
            {
                if (t.TryGetLong("AR_ID", out var wantAr) && wantAr != ar.ArId) continue;
                if (IpamScope.ExternalMad(ar) is not null) continue; // the IPAM hands these out one lease at a time
                var arSize = ar.Attributes.GetInt("SIZE") ?? 0;
                var start = t.Get("IP") is { } ip ? AddressMath.IndexOfIp(ar, ip) : t.Get("MAC") is { } mac ? AddressMath.IndexOfMac(ar, mac) : null;
                int? first = null;
                for (var i = start ?? 0; i + size <= arSize; i++)
                {
                    if (Enumerable.Range(i, size).All(k => !ar.Leases.ContainsKey(k))) { first = i; break; }
                    if (start is not null) break;
                }
                if (first is not int f) continue;
                VNet target;
                if (intoId >= 0)
                {
                    target = Demand<VNet>(tx, caller, ObjectType.VNet, intoId, AuthOp.Manage);
                    if (target.ParentNetworkId != id) throw CloudException.Action($"Network {intoId} is not a reservation of {id}.", id);
                }
                else
                {
                    CheckNameFree(tx, ObjectType.VNet, newName!, caller.Uid);
                    var nid = tx.NextId(ObjectType.VNet);
                    var nt = parent.Template.Clone();
                    target = Stamp(parent with
                    {
                        Id = nid, Name = newName!, Template = nt, ParentNetworkId = id, AddressRanges = [], NextArId = 0,
                        State = VNetState.READY, PrevState = VNetState.INIT, Lock = null, VRouters = [],
                    }, tx, caller);
                }
                var attrs = ar.Attributes.CloneVector();
                attrs.Set("SIZE", size);
                attrs.Set("AR_ID", target.NextArId);
                attrs.Set("PARENT_NETWORK_AR_ID", ar.ArId);
                attrs.Set("MAC", AddressMath.MacAt(ar, f));
                if (AddressMath.IpAt(ar, f) is { } firstIp) attrs.Set("IP", firstIp);
                tx.Put(target with
                {
                    AddressRanges = target.AddressRanges.Add(new AddressRange { ArId = target.NextArId, Attributes = attrs }),
                    NextArId = target.NextArId + 1,
                });
                var leases = ar.Leases;
                for (var k = f; k < f + size; k++) leases = leases.Add(k, new Lease(k, -1, -1));
                tx.Put(Require<VNet>(tx, ObjectType.VNet, id) with { AddressRanges = parent.AddressRanges.Replace(ar, ar with { Leases = leases }) });
                return target.Id;
            }
            throw CloudException.Action($"Not enough free addresses in virtual network {id} for a reservation of {size}.", id);
        }, ct);
    }

    // ------------------------------------------------------------------ security groups

    public Task<int> SecGroupAllocateAsync(Caller caller, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        foreach (var r in t.Vectors("RULE")) ValidateRule(r);
        return AllocateOwnedAsync(caller, ObjectType.SecGroup, text, (id, name, tt) => new SecGroup { Id = id, Name = name, Template = tt }, null, ct);
    }

    internal static void ValidateRule(VectorAttribute r)
    {
        var proto = r["PROTOCOL"]?.ToUpperInvariant() ?? throw CloudException.Action("A security group RULE needs PROTOCOL (TCP, UDP, ICMP, ICMPV6, IPSEC, ALL).");
        if (proto is not ("TCP" or "UDP" or "ICMP" or "ICMPV6" or "IPSEC" or "ALL"))
            throw CloudException.Action($"Unknown PROTOCOL \"{r["PROTOCOL"]}\" in security group RULE.");
        var type = r["RULE_TYPE"]?.ToLowerInvariant() ?? throw CloudException.Action("A security group RULE needs RULE_TYPE (inbound or outbound).");
        if (type is not ("inbound" or "outbound")) throw CloudException.Action($"RULE_TYPE must be inbound or outbound, not \"{r["RULE_TYPE"]}\".");
        if (r["RANGE"] is { } range)
        {
            foreach (var part in range.Split(',', StringSplitOptions.TrimEntries))
            {
                var ends = part.Split(':');
                if (ends.Length > 2 || ends.Any(e => !int.TryParse(e, CultureInfo.InvariantCulture, out var p) || p is < 0 or > 65535))
                    throw CloudException.Action($"Invalid port RANGE \"{range}\": use ports 0-65535, \"a:b\" ranges, comma separated.");
            }
        }
        if (r["IP"] is { } ip && !IPAddress.TryParse(ip, out _)) throw CloudException.Action($"Invalid IP \"{ip}\" in security group RULE.");
    }

    public Task<int> SecGroupCloneAsync(Caller caller, int id, string name, CancellationToken ct = default)
    {
        ValidateName(ObjectType.SecGroup, name);
        return bus.ExecuteAsync(tx =>
        {
            var src = Demand<SecGroup>(tx, caller, ObjectType.SecGroup, id, AuthOp.Use, checkLock: false);
            DemandCreate(tx, caller, ObjectType.SecGroup);
            CheckNameFreeForAllocate(tx, ObjectType.SecGroup, name, caller.Uid);
            var nid = tx.NextId(ObjectType.SecGroup);
            tx.Put(Stamp(new SecGroup { Id = nid, Name = name, Template = src.Template.Clone() }, tx, caller));
            return nid;
        }, ct);
    }

    /// <summary>
    /// one.secgroup.commit: marks the VMs that use the group as outdated so their hosts re-apply it
    /// (recovery: only those not updated yet or in error).
    /// </summary>
    public Task<int> SecGroupCommitAsync(Caller caller, int id, bool recovery, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var sg = Demand<SecGroup>(tx, caller, ObjectType.SecGroup, id, AuthOp.Manage);
            var vms = recovery ? sg.OutdatedVms.Union(sg.ErrorVms).Union(sg.UpdatingVms) : [.. VmsUsingSecGroup(tx, id)];
            tx.Put(sg with { OutdatedVms = vms, UpdatedVms = recovery ? sg.UpdatedVms.Except(vms) : [], ErrorVms = [], UpdatingVms = [] });
            tx.Raise(new SecGroupOutdated(id));
            return id;
        }, ct);

    /// <summary>After a change of a group's rules: every VM using it is outdated until its host re-applies the rules.</summary>
    private static void SecGroupChanged(StateTransaction tx, SecGroup sg)
    {
        tx.Put(sg with { OutdatedVms = [.. VmsUsingSecGroup(tx, sg.Id)], UpdatedVms = [], ErrorVms = [], UpdatingVms = [] });
        tx.Raise(new SecGroupOutdated(sg.Id));
    }

    /// <summary>VMs (not DONE) with a NIC in security group <paramref name="sgId"/>.</summary>
    public static IEnumerable<int> VmsUsingSecGroup(StateTransaction tx, int sgId) =>
        tx.All<Vm>(ObjectType.Vm)
            .Where(vm => vm.State != VmState.DONE && vm.Template.Vectors("NIC").Any(n => SecGroupIds(n["SECURITY_GROUPS"]).Contains(sgId)))
            .Select(vm => vm.Id);

    /// <summary>A SECURITY_GROUPS list ("0,101"): its ids, -1 for an entry that is not a number.</summary>
    internal static IEnumerable<int> SecGroupIds(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => int.TryParse(x, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1);

    /// <summary>A host re-applied (or failed to re-apply) a group's rules to a VM: it moves to UPDATED_VMS or ERROR_VMS.</summary>
    public Task SecGroupVmDoneAsync(int sgId, int vmId, bool ok, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<SecGroup>(ObjectType.SecGroup, sgId) is not { } sg || !(sg.OutdatedVms.Contains(vmId) || sg.UpdatingVms.Contains(vmId))) return;
            tx.Put(sg with
            {
                OutdatedVms = sg.OutdatedVms.Remove(vmId),
                UpdatingVms = sg.UpdatingVms.Remove(vmId),
                UpdatedVms = ok ? sg.UpdatedVms.Add(vmId) : sg.UpdatedVms,
                ErrorVms = ok ? sg.ErrorVms : sg.ErrorVms.Add(vmId),
            });
        }, ct);

    // ------------------------------------------------------------------ VM groups

    public Task<int> VmGroupAllocateAsync(Caller caller, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        var roles = ParseRoles(t);
        return AllocateOwnedAsync(caller, ObjectType.VmGroup, text, (id, name, tt) =>
        {
            tt.Remove("ROLE");
            return new VmGroup { Id = id, Name = name, Template = tt, Roles = roles };
        }, null, ct);
    }

    private static ImmutableList<VmGroupRole> ParseRoles(Template t)
    {
        var roles = ImmutableList.CreateBuilder<VmGroupRole>();
        foreach (var r in t.Vectors("ROLE"))
            roles.Add(ParseRole(r, roles.Count, roles.Select(x => x.Name)));
        var names = roles.Select(r => r.Name).ToHashSet();
        foreach (var rule in new[] { "AFFINED", "ANTI_AFFINED" })
            foreach (var set in t.GetAll(rule).OfType<SingleAttribute>())
                foreach (var n in set.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (!names.Contains(n)) throw CloudException.Allocate(ObjectType.VmGroup, $"{rule} names role \"{n}\", which is not defined.");
        return roles.ToImmutable();
    }

    private static VmGroupRole ParseRole(VectorAttribute r, int id, IEnumerable<string> taken)
    {
        var name = r["NAME"] ?? throw CloudException.Action("A ROLE needs a NAME.");
        if (taken.Contains(name)) throw CloudException.Action($"Role \"{name}\" is defined twice.");
        var policy = (r["POLICY"] ?? "NONE").ToUpperInvariant();
        if (policy is not ("NONE" or "AFFINED" or "ANTI_AFFINED")) throw CloudException.Action($"Role POLICY must be NONE, AFFINED or ANTI_AFFINED, not \"{r["POLICY"]}\".");
        return new VmGroupRole(id, name, policy, r["HOST_AFFINED"] ?? "", r["HOST_ANTI_AFFINED"] ?? "", []);
    }

    public Task<int> VmGroupRoleAddAsync(Caller caller, int id, string text, CancellationToken ct = default)
    {
        var role = ParseTemplate(text, ErrorCode.Action).Vector("ROLE") ?? throw CloudException.Action("No ROLE in template.", id);
        return bus.ExecuteAsync(tx =>
        {
            var g = Demand<VmGroup>(tx, caller, ObjectType.VmGroup, id, AuthOp.Manage);
            var nid = g.Roles.Count == 0 ? 0 : g.Roles.Max(r => r.Id) + 1;
            tx.Put(g with { Roles = g.Roles.Add(ParseRole(role, nid, g.Roles.Select(r => r.Name))) });
            return id;
        }, ct);
    }

    public Task<int> VmGroupRoleDeleteAsync(Caller caller, int id, int roleId, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var g = Demand<VmGroup>(tx, caller, ObjectType.VmGroup, id, AuthOp.Manage);
            var role = g.Roles.FirstOrDefault(r => r.Id == roleId) ?? throw CloudException.Action($"Role {roleId} does not exist.", id);
            if (!role.Vms.IsEmpty) throw CloudException.Action($"Role {role.Name} has VMs.", id);
            tx.Put(g with { Roles = g.Roles.Remove(role) });
            return id;
        }, ct);

    public Task<int> VmGroupRoleUpdateAsync(Caller caller, int id, int roleId, string text, CancellationToken ct = default)
    {
        var upd = ParseTemplate(text, ErrorCode.Action).Vector("ROLE") ?? throw CloudException.Action("No ROLE in template.", id);
        return bus.ExecuteAsync(tx =>
        {
            var g = Demand<VmGroup>(tx, caller, ObjectType.VmGroup, id, AuthOp.Manage);
            var role = g.Roles.FirstOrDefault(r => r.Id == roleId) ?? throw CloudException.Action($"Role {roleId} does not exist.", id);
            var merged = new VectorAttribute("ROLE");
            merged.Set("NAME", role.Name);
            merged.Set("POLICY", upd["POLICY"] ?? role.Policy);
            merged.Set("HOST_AFFINED", upd["HOST_AFFINED"] ?? role.HostAffined);
            merged.Set("HOST_ANTI_AFFINED", upd["HOST_ANTI_AFFINED"] ?? role.HostAntiAffined);
            var updated = ParseRole(merged, role.Id, []) with { Vms = role.Vms };
            tx.Put(g with { Roles = g.Roles.Replace(role, updated) });
            return id;
        }, ct);
    }
}

/// <summary>A new virtual network waits for its driver to set it up.</summary>
public sealed record VNetCreated(int VNetId);
