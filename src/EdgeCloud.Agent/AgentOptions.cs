namespace EdgeCloud.Agent;

/// <summary>Settings of one host agent (flags of <c>edgecloud agent</c>).</summary>
public sealed record AgentOptions
{
    /// <summary>Directory of the agent's whole local state: identity, VM specs and desired states, journal, VM disks.</summary>
    public required string DataDir { get; init; }

    /// <summary>The front-end's agent endpoint, https://HOST:2634 (a Raft zone's servers may be listed, comma-separated). Remembered after the first join.</summary>
    public string FrontendUrl { get; init; } = "";

    /// <summary>One-time join token (first start only; later starts use the certificate it earned).</summary>
    public string JoinToken { get; init; } = "";

    /// <summary>Seconds between monitoring pushes (the front-end's Welcome may set it).</summary>
    public double MonitorInterval { get; init; } = 10;

    /// <summary>Seconds an ACPI shutdown may take before the VM is powered off hard.</summary>
    public double ShutdownTimeout { get; init; } = 60;

    /// <summary>Size limit of the host's replica cache of base images (MiB); least recently used images go first.</summary>
    public long CacheMb { get; init; } = 20 * 1024;

    /// <summary>ADDRESS:PORT of the agent's endpoint for its peers (migrating VMs' files).</summary>
    public string Listen { get; init; } = "0.0.0.0:2635";

    /// <summary>Host name or address the peers reach this agent by.</summary>
    public string Advertise { get; init; } = Environment.MachineName;

    /// <summary>libvirt URI of this host's hypervisor (kvm); default qemu:///system.</summary>
    public string LibvirtUri { get; init; } = "qemu:///system";

    /// <summary>
    /// libvirt URI other hosts live-migrate VMs to (reported as LIBVIRT_MIGRATION_URI); default: the libvirt URI when
    /// it names a host, else qemu+tcp://ADVERTISE/system (libvirtd must listen on TCP for it: <c>libvirtd -l</c>).
    /// </summary>
    public string MigrationUri { get; init; } = "";

    /// <summary>The migration URI peers use: <see cref="MigrationUri"/> or its default.</summary>
    public string EffectiveMigrationUri =>
        MigrationUri.Length > 0 ? MigrationUri
        : Uri.TryCreate(LibvirtUri, UriKind.Absolute, out var u) && u.Host.Length > 0 ? LibvirtUri
        : $"qemu+tcp://{Advertise}/system";

    /// <summary>Longest wait between reconnection attempts.</summary>
    public double MaxReconnectDelay { get; init; } = 10;
}
