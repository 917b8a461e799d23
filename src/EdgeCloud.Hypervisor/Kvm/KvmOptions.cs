namespace EdgeCloud.Hypervisor;

/// <summary>Settings of <see cref="KvmHypervisor"/>; the defaults fit a host's system libvirtd.</summary>
public sealed record KvmOptions
{
    public const string DefaultUri = "qemu:///system";

    /// <summary>libvirt connection URI.</summary>
    public string Uri { get; init; } = DefaultUri;

    /// <summary>"kvm" or "qemu" to skip the probe; null = <see cref="KvmCapability.Probe"/> (which reads EDGECLOUD_DOMAIN_TYPE).</summary>
    public string? DomainType { get; init; }

    /// <summary>Where libvirt's QEMU driver keeps its pid files (&lt;domain&gt;.pid).</summary>
    public string RunDir { get; init; } = "/run/libvirt/qemu";

    /// <summary>Limit of one ordinary virsh call.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Limit of save, restore, snapshots and migration (they copy memory).</summary>
    public TimeSpan LongCommandTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a hot-unplugged disk or NIC may take to leave the guest.</summary>
    public TimeSpan DetachTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
