namespace EdgeCloud.Hypervisor;

/// <summary>Settings of <see cref="LxcHypervisor"/>.</summary>
public sealed record LxcOptions
{
    /// <summary>LXC's container directory (lxc.lxcpath): the driver writes &lt;LxcPath&gt;/one-&lt;VMID&gt;/config there.</summary>
    public string LxcPath { get; init; } = "/var/lib/lxc";

    /// <summary>Limit of one lxc-* call.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a started container may take to reach RUNNING.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a reboot request may take before the container is restarted hard.</summary>
    public TimeSpan RebootTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
