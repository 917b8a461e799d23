using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>
/// Turns a VM of the state into the <see cref="VmSpec"/> its host runs: disks with their targets,
/// NICs with their network's driver settings and security group rules, OS, features and the expanded
/// CONTEXT. Paths are relative to the agent's data directory (the agent resolves them): the VM's
/// directory is <c>datastores/&lt;system ds&gt;/&lt;vmid&gt;</c>, its disks <c>disk.&lt;id&gt;</c> in it.
/// </summary>
public static partial class VmSpecs
{
    public static VmSpec Build(StateSnapshot state, Vm vm)
    {
        var t = vm.Template;
        var dsId = vm.LastHistory?.DsId ?? 0;
        var vmDir = $"datastores/{dsId}/{vm.Id}";
        var os = t.Vector("OS");
        var features = t.Vector("FEATURES");
        var graphics = t.Vector("GRAPHICS");
        var cpuModel = t.Vector("CPU_MODEL");
        var raw = t.Vectors("RAW").FirstOrDefault(r => (r["TYPE"] ?? "kvm").Equals("kvm", StringComparison.OrdinalIgnoreCase));
        var nics = t.Vectors("NIC").Select(n => Nic(state, vm, n)).ToList();
        var checkpointReplica = ReplicaEndpoint(state, vm, evenOnIt: true);
        return new VmSpec
        {
            VmId = vm.Id,
            Name = vm.Name,
            VmDir = vmDir,
            Cpu = VmAttributes.Cpu(t) is var c && c > 0 ? c : 1,
            Vcpu = t.TryGetLong("VCPU", out var vcpu) && vcpu > 0 ? (int)vcpu : 1,
            VcpuMax = t.TryGetLong("VCPU_MAX", out var vcpuMax) && vcpuMax > 0 ? (int)vcpuMax : 0,
            MemoryMb = VmAttributes.MemoryMb(t) is var m && m > 0 ? m : 128,
            MemoryMaxMb = t.TryGetLong("MEMORY_MAX", out var memMax) && memMax > 0 ? memMax : 0,
            Os = new OsSpec
            {
                Arch = os?["ARCH"] ?? "x86_64",
                Machine = os?["MACHINE"] ?? "",
                Kernel = os?["KERNEL"] ?? "",
                Initrd = os?["INITRD"] ?? "",
                KernelCmd = os?["KERNEL_CMD"] ?? "",
                Boot = os?["BOOT"] ?? "",
                Firmware = os?["FIRMWARE"] ?? "",
            },
            CpuModel = cpuModel?["MODEL"] ?? "",
            Features = features?.Values.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal) ?? new Dictionary<string, string>(),
            Disks = Disks(t),
            Nics = nics,
            Graphics = graphics?["TYPE"]?.ToLowerInvariant() ?? "",
            GraphicsPort = graphics?.GetInt("PORT") ?? -1,
            GraphicsListen = graphics?["LISTEN"] ?? "127.0.0.1",
            Context = Context(state, vm, nics),
            RawData = raw?["DATA"] ?? "",
            ImageReplica = ReplicaEndpoint(state, vm, evenOnIt: false),
            CheckpointInterval = CheckpointInterval(state, vm),
            CheckpointReplica = checkpointReplica,
            CheckpointGeneration = vm.LastHistory?.Seq ?? 0,
            CheckpointRestoreFrom = VmCheckpoints.RestoresNow(vm) ? checkpointReplica : "",
        };
    }

    /// <summary>
    /// Seconds between the VM's checkpoints: CHECKPOINT=[INTERVAL=s] of the VM (INTERVAL=0 turns them off), else
    /// the CHECKPOINT_INTERVAL of its host's cluster; 0 = none. Only VMs of a cluster with a replica host have any.
    /// </summary>
    private static double CheckpointInterval(StateSnapshot state, Vm vm)
    {
        var own = (vm.UserTemplate.Vector("CHECKPOINT") ?? vm.Template.Vector("CHECKPOINT"))?["INTERVAL"];
        if (own is null && state.Get<Host>(ObjectType.Host, vm.HostId) is { } host)
            own = state.Get<Cluster>(ObjectType.Cluster, host.ClusterId)?.Template.Get("CHECKPOINT_INTERVAL");
        return double.TryParse(own, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 0;
    }

    /// <summary>The cluster's replica host: its REPLICA_HOST, a host name or id; null when it has none or it names no host.</summary>
    public static Host? ReplicaHost(StateSnapshot state, Cluster cluster)
    {
        if (cluster.Template.Get("REPLICA_HOST") is not { Length: > 0 } replica) return null;
        return int.TryParse(replica, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
            ? state.Get<Host>(ObjectType.Host, id)
            : state.All<Host>(ObjectType.Host).FirstOrDefault(h => h.Name == replica);
    }

    /// <summary>
    /// The AGENT_ENDPOINT of the replica host of the VM's host's cluster; empty when none, and, unless
    /// <paramref name="evenOnIt"/>, when the VM runs on the replica itself.
    /// </summary>
    private static string ReplicaEndpoint(StateSnapshot state, Vm vm, bool evenOnIt)
    {
        if (state.Get<Host>(ObjectType.Host, vm.HostId) is not { } host) return "";
        if (state.Get<Cluster>(ObjectType.Cluster, host.ClusterId) is not { } cluster || ReplicaHost(state, cluster) is not { } r) return "";
        if (!evenOnIt && r.Id == host.Id) return "";
        return r.Template.Get("AGENT_ENDPOINT") ?? "";
    }

    /// <summary>
    /// Disks in DISK_ID order, each on its TARGET (given at allocate and attach, <c>VmDevices.AssignDiskTarget</c>); a disk of a VM
    /// made before targets were stored gets the letter after the last one taken on its bus.
    /// </summary>
    private static List<DiskSpec> Disks(Template t)
    {
        var next = new Dictionary<string, char>(StringComparer.Ordinal);
        var disks = new List<DiskSpec>();
        foreach (var d in t.Vectors("DISK").OrderBy(d => d.GetInt("DISK_ID") ?? 0))
        {
            var id = d.GetInt("DISK_ID") ?? disks.Count;
            var cdrom = VmDevices.IsCdrom(d);
            var prefix = VmDevices.DevPrefix(d);
            string target;
            if (d["TARGET"] is { Length: > 0 } given) target = given;
            else
            {
                var letter = next.TryGetValue(prefix, out var l) ? l : 'a';
                target = prefix + letter;
            }
            next[prefix] = (char)(Math.Max(next.GetValueOrDefault(prefix, 'a'), target[^1]) + 1);
            var volatileType = (d["TYPE"] ?? "").ToLowerInvariant();
            disks.Add(new DiskSpec
            {
                DiskId = id,
                Path = $"disk.{id}",
                Format = (d["FORMAT"] ?? d["DRIVER"] ?? (volatileType is "fs" or "swap" ? "qcow2" : "raw")).ToLowerInvariant(),
                Target = target,
                Device = cdrom ? "cdrom" : "disk",
                Bus = prefix switch { "vd" => "virtio", "sd" => "scsi", "hd" => "ide", _ => "virtio" },
                ReadOnly = cdrom || (d["READONLY"] ?? "NO").Equals("YES", StringComparison.OrdinalIgnoreCase),
                Cache = d["CACHE"] ?? "",
                Source = d["SOURCE"] ?? "",
                Persistent = (d["PERSISTENT"] ?? "NO").Equals("YES", StringComparison.OrdinalIgnoreCase),
                SizeMb = d.GetInt("SIZE") ?? 0,
                ImageId = d.GetInt("IMAGE_ID") ?? -1,
            });
        }
        return disks;
    }

    private static NicSpec Nic(StateSnapshot state, Vm vm, VectorAttribute n)
    {
        var nicId = n.GetInt("NIC_ID") ?? 0;
        var netId = n.GetInt("NETWORK_ID") ?? -1;
        var net = netId >= 0 ? state.Get<VNet>(ObjectType.VNet, netId) : null;
        var nt = net?.Template;
        string Attr(string key) => n[key] ?? nt?.Get(key) ?? "";
        var sgIds = Cloud.SecGroupIds(n["SECURITY_GROUPS"]).Where(i => i >= 0).Distinct().ToList();
        var rules = new List<SecurityRuleSpec>();
        foreach (var sgId in sgIds)
        {
            if (state.Get<SecGroup>(ObjectType.SecGroup, sgId) is not { } sg) continue;
            foreach (var r in sg.Template.Vectors("RULE")) rules.Add(Rule(state, sgId, r));
        }
        var mask = Attr("NETWORK_MASK");
        var prefix = mask.Length > 0 && AddressMathExtensions.PrefixOf(mask) is int p ? p : 0;
        var vnMad = n["VN_MAD"] ?? net?.VnMad ?? "bridge";
        return new NicSpec
        {
            NicId = nicId,
            Mac = n["MAC"] ?? "",
            Ip = n["IP"] ?? "",
            Ip6 = n["IP6_GLOBAL"] ?? n["IP6"] ?? "",
            PrefixLength = prefix,
            Gateway = Attr("GATEWAY"),
            Dns = Attr("DNS"),
            NetworkId = netId,
            NetworkName = n["NETWORK"] ?? net?.Name ?? "",
            Bridge = n["BRIDGE"] ?? net?.Bridge ?? $"onebr{netId}",
            VnMad = vnMad,
            PhyDev = n["PHYDEV"] ?? net?.PhyDev ?? "",
            VlanId = n["VLAN_ID"] ?? net?.VlanId ?? "",
            VxlanMode = (Attr("VXLAN_MODE") is { Length: > 0 } mode ? mode : "multicast").ToLowerInvariant(),
            VxlanGroup = Attr("VXLAN_MC"),
            VxlanTep = Attr("VXLAN_TEP") is { Length: > 0 } tep ? tep.ToLowerInvariant() : "dev",
            VxlanPeers = vnMad == "vxlan" ? VxlanPeers(state, vm, netId) : [],
            Mtu = int.TryParse(Attr("MTU"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var mtu) ? mtu : 0,
            Model = n["MODEL"] ?? "virtio",
            Target = n["TARGET"] ?? $"one-{vm.Id}-{nicId}",
            SecurityGroups = sgIds,
            SecurityRules = rules,
            Aliases = vm.Template.Vectors("NIC_ALIAS").Where(a => a["PARENT_ID"] == n["NIC_ID"]).Select(a => Alias(state, a)).ToList(),
        };
    }

    private static NicAliasSpec Alias(StateSnapshot state, VectorAttribute a)
    {
        var net = a.GetInt("NETWORK_ID") is int id ? state.Get<VNet>(ObjectType.VNet, id) : null;
        string Attr(string key) => a[key] ?? net?.Template.Get(key) ?? "";
        var mask = Attr("NETWORK_MASK");
        return new NicAliasSpec
        {
            NicId = a.GetInt("NIC_ID") ?? -1,
            AliasId = a.GetInt("ALIAS_ID") ?? 0,
            Mac = a["MAC"] ?? "",
            Ip = a["IP"] ?? "",
            Ip6 = a["IP6_GLOBAL"] ?? a["IP6"] ?? "",
            PrefixLength = mask.Length > 0 && AddressMathExtensions.PrefixOf(mask) is int p ? p : 0,
            Gateway = Attr("GATEWAY"),
            Dns = Attr("DNS"),
            External = (a["EXTERNAL"] ?? "NO").Equals("YES", StringComparison.OrdinalIgnoreCase),
            NetworkId = net?.Id ?? -1,
        };
    }

    /// <summary>Unicast VXLAN: the addresses of the other hosts that run VMs on the network (their TEP or hostname).</summary>
    private static List<string> VxlanPeers(StateSnapshot state, Vm vm, int netId)
    {
        var peers = new SortedSet<string>(StringComparer.Ordinal);
        if (state.Get<VNet>(ObjectType.VNet, netId) is not { } net) return [];
        var ownHost = vm.HostId;
        foreach (var ar in net.AddressRanges)
        foreach (var lease in ar.Leases.Values)
        {
            var other = lease.Vm;
            if (other < 0 || other == vm.Id) continue;
            if (state.Get<Vm>(ObjectType.Vm, other) is not { } ovm || ovm.HostId < 0 || ovm.HostId == ownHost) continue;
            if (state.Get<Host>(ObjectType.Host, ovm.HostId) is not { } h) continue;
            peers.Add(h.Template.Get("VXLAN_TEP") ?? h.Template.Get("HOST_IP") ?? h.Name);
        }
        return [.. peers];
    }

    private static SecurityRuleSpec Rule(StateSnapshot state, int sgId, VectorAttribute r)
    {
        var networks = new List<string>();
        if (r["IP"] is { Length: > 0 } ip)
            networks.Add(r.GetInt("SIZE") is int size ? $"{ip}+{size}" : ip);
        if (r.GetInt("NETWORK_ID") is int netId && state.Get<VNet>(ObjectType.VNet, netId) is { } net)
        {
            foreach (var ar in net.AddressRanges)
                if (ar.Attributes["IP"] is { Length: > 0 } first) networks.Add($"{first}+{AddressMath.Size(ar)}");
        }
        return new SecurityRuleSpec
        {
            SecurityGroupId = sgId,
            Protocol = (r["PROTOCOL"] ?? "ALL").ToUpperInvariant(),
            RuleType = (r["RULE_TYPE"] ?? "INBOUND").ToUpperInvariant(),
            Range = r["RANGE"] ?? "",
            IcmpType = r.GetInt("ICMP_TYPE") ?? -1,
            Networks = networks,
        };
    }

    /// <summary>
    /// The CONTEXT section with OpenNebula's variables expanded: $VMID, $NAME, $UID, $TEMPLATE-level
    /// attributes ($CPU, $MEMORY...), $USER[ATTR] from the owner's template, $NIC[ATTR] (first NIC) and
    /// $NIC[ATTR, NETWORK="name"]. NETWORK=YES adds ETHn_* for every NIC (the context ISO writes them).
    /// </summary>
    private static Dictionary<string, string>? Context(StateSnapshot state, Vm vm, List<NicSpec> nics)
    {
        if (vm.Template.Vector("CONTEXT") is not { } ctx) return null;
        var user = state.Get<User>(ObjectType.User, vm.Uid);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in ctx.Values) result[key] = Expand(value, vm, user);
        if (result.TryGetValue("NETWORK", out var network) && network.Equals("YES", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var n in nics)
            {
                var i = n.NicId; // ETHn: n is the NIC_ID, as OpenNebula numbers them (gaps after a detach stay)
                void Put(string k, string v) { if (v.Length > 0) result.TryAdd($"ETH{i}_{k}", v); }
                foreach (var a in n.Aliases)
                    foreach (var (k, v) in a.ContextVariables(n.NicId)) result.TryAdd(k, v);
                Put("MAC", n.Mac);
                Put("IP", n.Ip);
                Put("IP6", n.Ip6);
                if (n.PrefixLength > 0) Put("MASK", AddressMathExtensions.MaskOf(n.PrefixLength));
                Put("GATEWAY", n.Gateway);
                Put("DNS", n.Dns);
                if (n.Mtu > 0) Put("MTU", n.Mtu.ToString(CultureInfo.InvariantCulture));
            }
        }
        return result;
    }

    [GeneratedRegex(@"\$(?:(?<obj>USER|NIC|TEMPLATE|CONTEXT)\[(?<attr>[A-Za-z0-9_]+)(?:\s*,\s*(?<fk>[A-Za-z0-9_]+)\s*=\s*""?(?<fv>[^""\]]*)""?)?\]|\{(?<simple>[A-Za-z0-9_]+)\}|(?<simple>[A-Za-z][A-Za-z0-9_]*))")]
    private static partial Regex Variable();

    private static string Expand(string value, Vm vm, User? user) =>
        value.Contains('$', StringComparison.Ordinal) ? Variable().Replace(value, m =>
        {
            var attr = m.Groups["attr"].Value.ToUpperInvariant();
            switch (m.Groups["obj"].Value)
            {
                case "USER":
                    return user?.Template.Get(attr) ?? "";
                case "NIC":
                {
                    var nics = vm.Template.Vectors("NIC");
                    var nic = m.Groups["fk"].Success
                        ? nics.FirstOrDefault(n => n[m.Groups["fk"].Value.ToUpperInvariant()] == m.Groups["fv"].Value)
                        : nics.FirstOrDefault();
                    return nic?[attr] ?? "";
                }
                case "TEMPLATE" or "CONTEXT":
                    return vm.Template.Get(attr) ?? "";
            }
            var simple = m.Groups["simple"].Value.ToUpperInvariant();
            return simple switch
            {
                "VMID" => vm.Id.ToString(CultureInfo.InvariantCulture),
                "NAME" => vm.Name,
                "UID" => vm.Uid.ToString(CultureInfo.InvariantCulture),
                "UNAME" => vm.Uname,
                "GID" => vm.Gid.ToString(CultureInfo.InvariantCulture),
                "GNAME" => vm.Gname,
                _ => vm.Template.Get(simple) ?? vm.UserTemplate.Get(simple) ?? m.Value,
            };
        }) : value;
}

/// <summary>Netmask ↔ prefix length for the context's ETHn_MASK.</summary>
public static class AddressMathExtensions
{
    public static int? PrefixOf(string mask)
    {
        if (int.TryParse(mask, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bits) && bits is >= 0 and <= 32) return bits;
        if (!AddressMath.TryParseIPv4(mask, out var m)) return null;
        var prefix = System.Numerics.BitOperations.PopCount(m);
        return m == (prefix == 0 ? 0u : uint.MaxValue << (32 - prefix)) ? prefix : null;
    }

    public static string MaskOf(int prefix) => AddressMath.FormatIPv4(prefix == 0 ? 0u : uint.MaxValue << (32 - prefix));
}
