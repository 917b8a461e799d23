namespace EdgeCloud.Core.Drivers;

// The contracts between the host agent and the drivers that touch the host for real: the
// hypervisor (kvm on libvirt, lxc), the host network (bridge, 802.1Q, VXLAN, security groups) and
// storage. The front-end turns a VM into a VmSpec (everything a host needs, nothing it must look
// up), the agent runs the driver steps in order (storage → network pre → hypervisor → network
// post) and keeps the spec on its own disk so it can act while the front-end is away.

/// <summary>What a host needs to run one VM: resolved from the VM's template by the front-end.</summary>
public sealed record VmSpec
{
    public required int VmId { get; init; }
    /// <summary>The hypervisor's name for the VM: <c>one-&lt;VMID&gt;</c>, as OpenNebula names domains.</summary>
    public string DomainName => $"one-{VmId}";
    public string Name { get; init; } = "";
    /// <summary>The VM's directory on the host's system datastore (disks, context ISO, checkpoint, console log).</summary>
    public required string VmDir { get; init; }
    /// <summary>CPU share (TEMPLATE/CPU, 1.0 = one core's worth) and virtual CPUs.</summary>
    public double Cpu { get; init; } = 1;
    public int Vcpu { get; init; } = 1;
    /// <summary>VCPU_MAX: the most vCPUs a hot resize may reach; 0 = <see cref="Vcpu"/> (no vCPU hotplug).</summary>
    public int VcpuMax { get; init; }
    /// <summary>MiB.</summary>
    public long MemoryMb { get; init; } = 128;
    /// <summary>MEMORY_MAX (MiB): the most memory a hot resize may reach (ballooning); 0 = <see cref="MemoryMb"/>.</summary>
    public long MemoryMaxMb { get; init; }
    public OsSpec Os { get; init; } = new();
    /// <summary>CPU_MODEL/MODEL ("host-passthrough", "qemu64"...); empty = the hypervisor's default.</summary>
    public string CpuModel { get; init; } = "";
    /// <summary>FEATURES: ACPI, APIC, PAE, HYPERV, LOCALTIME, GUEST_AGENT... as given ("yes"/"no").</summary>
    public IReadOnlyDictionary<string, string> Features { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<DiskSpec> Disks { get; init; } = [];
    public IReadOnlyList<NicSpec> Nics { get; init; } = [];
    /// <summary>GRAPHICS TYPE (vnc, spice) or empty for none.</summary>
    public string Graphics { get; init; } = "";
    public int GraphicsPort { get; init; } = -1;
    public string GraphicsListen { get; init; } = "127.0.0.1";
    /// <summary>CONTEXT section (KEY → VALUE), already expanded by the front-end ($NIC[IP] etc.); null = no context.</summary>
    public IReadOnlyDictionary<string, string>? Context { get; init; }
    /// <summary>RAW DATA for TYPE=kvm (domain XML fragment appended to the domain), as OpenNebula's RAW.</summary>
    public string RawData { get; init; } = "";
    /// <summary>
    /// Tier 3: the agent endpoint of the cluster's replica host (the cluster's REPLICA_HOST), from which
    /// this host takes base images instead of the front-end; empty = from the front-end (no replica, or
    /// this host is the replica).
    /// </summary>
    public string ImageReplica { get; init; } = "";

    /// <summary>
    /// Seconds between crash-consistent checkpoints of the VM's disks shipped to the cluster's replica host
    /// (the VM's CHECKPOINT=[INTERVAL=...], or the cluster's CHECKPOINT_INTERVAL); 0 = no checkpoints.
    /// </summary>
    public double CheckpointInterval { get; init; }

    /// <summary>The agent endpoint of the cluster's replica host that keeps the VM's checkpoints (even when the VM runs on it).</summary>
    public string CheckpointReplica { get; init; } = "";

    /// <summary>The VM's history sequence on this host: the replica refuses checkpoints from a host the VM has since left.</summary>
    public int CheckpointGeneration { get; init; }

    /// <summary>
    /// Set when the VM is being restarted from its last checkpoint (its host failed): the agent endpoint to
    /// pull the checkpoint chain from. The storage step rebuilds the disks from it instead of fresh overlays.
    /// </summary>
    public string CheckpointRestoreFrom { get; init; } = "";

    /// <summary>Serial console log file on the host (read by tests and `edgecloud vm console`).</summary>
    public string ConsoleLog => Path.Combine(VmDir, "console.log");
}

public sealed record OsSpec
{
    public string Arch { get; init; } = "x86_64";
    /// <summary>Machine type ("pc", "q35"); empty = "pc".</summary>
    public string Machine { get; init; } = "";
    /// <summary>Direct kernel boot: host paths of the kernel and initrd, and the kernel command line.</summary>
    public string Kernel { get; init; } = "";
    public string Initrd { get; init; } = "";
    public string KernelCmd { get; init; } = "";
    /// <summary>Boot order: "disk0,nic0"... as OpenNebula's OS/BOOT; empty = first disk.</summary>
    public string Boot { get; init; } = "";
    /// <summary>UEFI firmware path, empty = BIOS.</summary>
    public string Firmware { get; init; } = "";
}

public sealed record DiskSpec
{
    public required int DiskId { get; init; }
    /// <summary>Host path of the disk file the hypervisor opens (inside VmDir: disk.N).</summary>
    public required string Path { get; init; }
    /// <summary>"qcow2" or "raw".</summary>
    public string Format { get; init; } = "qcow2";
    /// <summary>Target device (vda, sda, hda...); the front-end fills it as OpenNebula does.</summary>
    public required string Target { get; init; }
    /// <summary>"disk" or "cdrom".</summary>
    public string Device { get; init; } = "disk";
    /// <summary>virtio, scsi, ide, sata (from DEV_PREFIX: vd → virtio, sd → scsi, hd → ide).</summary>
    public string Bus { get; init; } = "virtio";
    public bool ReadOnly { get; init; }
    /// <summary>CACHE (none, writeback, ...), empty = the hypervisor default.</summary>
    public string Cache { get; init; } = "";
    /// <summary>Where the disk comes from, for the storage step: an image (SOURCE) or a blank volume.</summary>
    public string Source { get; init; } = "";
    /// <summary>Image disks: true = the VM's disk is a full copy (persistent), false = qcow2 overlay on the base.</summary>
    public bool Persistent { get; init; }
    /// <summary>Volatile disks (TYPE=fs/swap): MiB to create blank.</summary>
    public long SizeMb { get; init; }
    /// <summary>Image id the disk came from (-1 for volatile).</summary>
    public int ImageId { get; init; } = -1;
}

public sealed record NicSpec
{
    public required int NicId { get; init; }
    public required string Mac { get; init; }
    public string Ip { get; init; } = "";
    public string Ip6 { get; init; } = "";
    /// <summary>Prefix length of Ip within its network (24...), 0 if unknown.</summary>
    public int PrefixLength { get; init; }
    public string Gateway { get; init; } = "";
    public string Dns { get; init; } = "";
    public int NetworkId { get; init; } = -1;
    public string NetworkName { get; init; } = "";
    /// <summary>The Linux bridge the VM's interface joins.</summary>
    public required string Bridge { get; init; }
    /// <summary>VN_MAD: "bridge", "802.1Q", "vxlan", "dummy", "fw".</summary>
    public string VnMad { get; init; } = "bridge";
    /// <summary>PHYDEV: the host interface VLAN/VXLAN traffic leaves by.</summary>
    public string PhyDev { get; init; } = "";
    /// <summary>802.1Q VLAN id or VXLAN VNI; empty = none.</summary>
    public string VlanId { get; init; } = "";
    /// <summary>VXLAN_MODE: "multicast" (default) or "unicast" (FDB entries toward <see cref="VxlanPeers"/>).</summary>
    public string VxlanMode { get; init; } = "multicast";
    /// <summary>VXLAN multicast group (VXLAN_MC base + VNI as OpenNebula does), empty = derived.</summary>
    public string VxlanGroup { get; init; } = "";
    /// <summary>
    /// Unicast VXLAN: the underlay addresses of the other hosts with VMs on this network. PreAsync
    /// makes the device's flood entries exactly this list (new peers appended, stale ones removed);
    /// the host's own address may be listed, it is skipped when VXLAN_TEP is local_ip.
    /// </summary>
    public IReadOnlyList<string> VxlanPeers { get; init; } = [];
    /// <summary>VXLAN_TEP: "dev" (default: the kernel picks the source address on PHYDEV) or "local_ip" (PHYDEV's first IPv4 address as the local TEP).</summary>
    public string VxlanTep { get; init; } = "dev";
    public int Mtu { get; init; }
    /// <summary>NIC MODEL (virtio, e1000...); empty = virtio.</summary>
    public string Model { get; init; } = "virtio";
    /// <summary>The host-side interface name: <c>one-&lt;VMID&gt;-&lt;NICID&gt;</c> as OpenNebula names it.</summary>
    public string Target { get; init; } = "";
    /// <summary>The security groups' rules that apply to this NIC (empty = no filtering).</summary>
    public IReadOnlyList<SecurityRuleSpec> SecurityRules { get; init; } = [];
    public IReadOnlyList<int> SecurityGroups { get; init; } = [];
    /// <summary>The NIC_ALIASes of this NIC: extra addresses the guest configures on the same interface.</summary>
    public IReadOnlyList<NicAliasSpec> Aliases { get; init; } = [];
}

/// <summary>A NIC_ALIAS: an address (own lease, any network) on its parent NIC's interface.</summary>
public sealed record NicAliasSpec
{
    public required int NicId { get; init; }
    /// <summary>ALIAS_ID: the m of the context's ETHn_ALIASm_* variables.</summary>
    public required int AliasId { get; init; }
    public string Mac { get; init; } = "";
    public string Ip { get; init; } = "";
    public string Ip6 { get; init; } = "";
    public int PrefixLength { get; init; }
    public string Gateway { get; init; } = "";
    public string Dns { get; init; } = "";
    /// <summary>EXTERNAL = YES: the address is mapped to the VM outside it (NAT, a provider's elastic IP); the guest does not configure it.</summary>
    public bool External { get; init; }
    public int NetworkId { get; init; } = -1;

    /// <summary>OpenNebula's context variables of the alias of NIC <paramref name="parentId"/>: ETHn_ALIASm_MAC, _IP, _MASK, _GATEWAY, _DNS, _IP6, _EXTERNAL.</summary>
    public IEnumerable<KeyValuePair<string, string>> ContextVariables(int parentId)
    {
        var p = $"ETH{parentId}_ALIAS{AliasId}_";
        if (Mac.Length > 0) yield return new(p + "MAC", Mac.ToLowerInvariant());
        if (Ip.Length > 0) yield return new(p + "IP", Ip);
        if (Ip.Length > 0 && PrefixLength is > 0 and <= 32)
            yield return new(p + "MASK", new System.Net.IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(uint.MaxValue << (32 - PrefixLength))).ToString());
        if (Gateway.Length > 0) yield return new(p + "GATEWAY", Gateway);
        if (Dns.Length > 0) yield return new(p + "DNS", Dns);
        if (Ip6.Length > 0) yield return new(p + "IP6", Ip6);
        if (External) yield return new(p + "EXTERNAL", "YES");
    }
}

/// <summary>One security group rule, as OpenNebula's SECURITY_GROUP_RULE.</summary>
public sealed record SecurityRuleSpec
{
    public int SecurityGroupId { get; init; }
    /// <summary>TCP, UDP, ICMP, ICMPv6, IPSEC, ALL.</summary>
    public string Protocol { get; init; } = "ALL";
    /// <summary>INBOUND (traffic to the VM) or OUTBOUND (from the VM).</summary>
    public string RuleType { get; init; } = "INBOUND";
    /// <summary>"22", "1000:2000", "22,80,443"; empty = every port.</summary>
    public string Range { get; init; } = "";
    public int IcmpType { get; init; } = -1;
    /// <summary>
    /// Remote addresses, empty = any. Each entry: a CIDR ("10.0.0.0/24"), OpenNebula's IP+SIZE written
    /// "10.0.0.5+10" (ten addresses from 10.0.0.5), a range "10.0.0.5-10.0.0.9" or one address; IPv6 alike.
    /// </summary>
    public IReadOnlyList<string> Networks { get; init; } = [];
}

/// <summary>What the hypervisor reports about one domain it runs.</summary>
public enum DomainState { Running, Paused, Shutoff, Crashed, Missing }

public sealed record DomainStatus
{
    public required string Name { get; init; }
    public required DomainState State { get; init; }
    /// <summary>Percent of one CPU used since the previous sample (100 = one core).</summary>
    public double CpuPercent { get; init; }
    /// <summary>Cumulative CPU time, nanoseconds (the basis of CpuPercent).</summary>
    public long CpuTimeNs { get; init; }
    /// <summary>KiB in use.</summary>
    public long MemoryKb { get; init; }
    public long DiskReadBytes { get; init; }
    public long DiskWriteBytes { get; init; }
    public long DiskReadOps { get; init; }
    public long DiskWriteOps { get; init; }
    public long NetRxBytes { get; init; }
    public long NetTxBytes { get; init; }
    /// <summary>The hypervisor process id, when known (0 otherwise).</summary>
    public int Pid { get; init; }
}

/// <summary>What a host is: capacity, usage and identity (for HOST/TEMPLATE and HOST_SHARE).</summary>
public sealed record HostFacts
{
    public string Hostname { get; init; } = "";
    /// <summary>Percent (100 per core) and KiB and MiB as OpenNebula counts them.</summary>
    public long TotalCpu { get; init; }
    public long UsedCpu { get; init; }
    public long TotalMemoryKb { get; init; }
    public long UsedMemoryKb { get; init; }
    public long TotalDiskMb { get; init; }
    public long FreeDiskMb { get; init; }
    public string Hypervisor { get; init; } = "";
    public string CpuModel { get; init; } = "";
    public long CpuMhz { get; init; }
    public string Kernel { get; init; } = "";
    public string Arch { get; init; } = "x86_64";
    /// <summary>NETRX/NETTX: bytes through the host's interfaces.</summary>
    public long NetRxBytes { get; init; }
    public long NetTxBytes { get; init; }
    /// <summary>Anything else to put in the host's monitoring template (KVM_MACHINES, VERSION...).</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}

/// <summary>A failure of a host driver step: the message goes to the VM's log and the API as is.</summary>
public sealed class HostDriverException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A hypervisor on the host (kvm through libvirt, lxc). Every call is idempotent for a domain name:
/// deploying a domain that already runs from the same spec succeeds, destroying a missing one
/// succeeds, so an action repeated after a reconnect or a restart does no harm.
/// </summary>
public interface IHypervisor
{
    /// <summary>"kvm" or "lxc".</summary>
    string Name { get; }

    /// <summary>
    /// The one format every VM disk must have on this driver, or null when any format QEMU opens works
    /// (qcow2 overlays on a cached base included). lxc says "raw": it loop-mounts the disk as a
    /// filesystem, so the agent makes non-persistent disks full raw copies instead of overlays.
    /// </summary>
    string? RequiredDiskFormat => null;

    /// <summary>Defines and starts the domain; returns its deploy id (the domain name).</summary>
    Task<string> DeployAsync(VmSpec spec, CancellationToken ct);

    /// <summary>ACPI shutdown; after <paramref name="timeout"/> a hard power-off. Leaves the domain undefined-able.</summary>
    Task ShutdownAsync(string domain, TimeSpan timeout, CancellationToken ct);

    /// <summary>Hard power-off (destroy) and forget the domain (undefine); the disks stay.</summary>
    Task DestroyAsync(string domain, CancellationToken ct);

    Task RebootAsync(string domain, CancellationToken ct);
    Task ResetAsync(string domain, CancellationToken ct);

    /// <summary>Saves memory to <paramref name="checkpointPath"/> and stops the domain (suspend / stop).</summary>
    Task SaveAsync(string domain, string checkpointPath, CancellationToken ct);

    /// <summary>Starts the domain again from a checkpoint written by <see cref="SaveAsync"/>.</summary>
    Task RestoreAsync(VmSpec spec, string checkpointPath, CancellationToken ct);

    Task AttachDiskAsync(string domain, DiskSpec disk, CancellationToken ct);
    Task DetachDiskAsync(string domain, DiskSpec disk, CancellationToken ct);
    Task AttachNicAsync(string domain, NicSpec nic, CancellationToken ct);
    Task DetachNicAsync(string domain, NicSpec nic, CancellationToken ct);

    /// <summary>System snapshot (memory + disks) of a running domain; names are the hypervisor ids ("snap-0").</summary>
    Task SnapshotCreateAsync(string domain, string snapshot, CancellationToken ct);
    Task SnapshotRevertAsync(string domain, string snapshot, CancellationToken ct);
    Task SnapshotDeleteAsync(string domain, string snapshot, CancellationToken ct);

    /// <summary>Hot resize of vCPUs / memory where the hypervisor allows it.</summary>
    Task ResizeAsync(string domain, int vcpu, long memoryMb, CancellationToken ct);

    /// <summary>Moves a running domain to another host's hypervisor (its URI, e.g. qemu+tcp://10.0.0.2/system).</summary>
    Task MigrateAsync(string domain, string destinationUri, bool live, CancellationToken ct);

    /// <summary>Every domain this driver manages on the host (names starting "one-"), with usage.</summary>
    Task<IReadOnlyList<DomainStatus>> ListAsync(CancellationToken ct);

    /// <summary>The hypervisor's part of the host's facts (HYPERVISOR, CPU model, machines...).</summary>
    Task<IReadOnlyDictionary<string, string>> FactsAsync(CancellationToken ct);
}

/// <summary>
/// The host side of virtual networks: creates bridges / VLAN / VXLAN devices before a VM starts
/// (<see cref="PreAsync"/>), filters the VM's interfaces after (<see cref="PostAsync"/>), and removes
/// what no VM uses (<see cref="CleanAsync"/>). Idempotent.
/// </summary>
public interface IHostNetwork
{
    Task PreAsync(NicSpec nic, CancellationToken ct);
    Task PostAsync(int vmId, NicSpec nic, CancellationToken ct);
    /// <summary>Removes the VM's filters; removes bridges and devices that no NIC in <paramref name="stillInUse"/> needs.</summary>
    Task CleanAsync(int vmId, IReadOnlyList<NicSpec> removed, IReadOnlyList<NicSpec> stillInUse, CancellationToken ct);
    /// <summary>Replaces the NIC's rules in place, atomically (a security group changed while the VM runs).</summary>
    Task UpdateSecurityAsync(int vmId, NicSpec nic, CancellationToken ct);
}
