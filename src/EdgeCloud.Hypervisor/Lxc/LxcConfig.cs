using System.Globalization;
using System.Text;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// Builds the LXC configuration of a <see cref="VmSpec"/>: rootfs from the first disk (a directory, or
/// a raw filesystem image mounted through LXC's loop backend), veth NICs into their bridges with the
/// host side named one-&lt;VMID&gt;-&lt;NICID&gt;, memory and CPU limits through the cgroup controller, the
/// console logged to <see cref="VmSpec.ConsoleLog"/>, and the context variables bind-mounted read-only
/// at /context (context.sh, as the context CD carries it for VMs). Pure.
/// </summary>
public static class LxcConfig
{
    /// <summary>Where the context directory is on the host: VmDir/context (holds context.sh).</summary>
    public static string ContextDir(VmSpec spec) => Path.Combine(spec.VmDir, "context");

    /// <summary>The rootfs as LXC names it: dir:PATH or loop:PATH.</summary>
    /// <exception cref="HostDriverException">No disk, a missing path, or an image LXC cannot mount (qcow2).</exception>
    public static string RootfsFor(VmSpec spec, Func<string, bool> isDirectory, Func<string, bool> isFile)
    {
        var disk = spec.Disks.OrderBy(d => d.DiskId).FirstOrDefault()
            ?? throw new HostDriverException($"deploy {spec.DomainName}: a container needs a disk holding its root filesystem");
        if (isDirectory(disk.Path)) return "dir:" + disk.Path;
        if (!isFile(disk.Path)) throw new HostDriverException($"deploy {spec.DomainName}: disk {disk.DiskId}: {disk.Path} does not exist");
        if (!string.Equals(disk.Format, "raw", StringComparison.OrdinalIgnoreCase))
            throw new HostDriverException($"deploy {spec.DomainName}: disk {disk.DiskId} is {disk.Format}; a container's root needs a raw filesystem image or a directory");
        return "loop:" + disk.Path;
    }

    /// <param name="rootfs">From <see cref="RootfsFor"/>.</param>
    /// <param name="cgroupV2">The host's cgroup layout (unified v2, or v1 controllers).</param>
    public static string Build(VmSpec spec, string rootfs, bool cgroupV2)
    {
        var sb = new StringBuilder();
        void Line(string key, object value) => sb.Append(key).Append(" = ").Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');

        sb.Append("# EdgeCloud VM ").Append(spec.VmId).Append(spec.Name.Length > 0 ? $" ({OneLine(spec.Name)})" : "").Append('\n');
        Line("lxc.uts.name", Hostname(spec));
        Line("lxc.rootfs.path", rootfs);
        Line("lxc.apparmor.profile", "unconfined");
        Line("lxc.mount.auto", "proc:mixed sys:mixed cgroup:mixed");
        Line("lxc.autodev", 1);
        Line("lxc.tty.max", 1);
        Line("lxc.pty.max", 64);
        Line("lxc.console.logfile", spec.ConsoleLog);

        var memory = spec.MemoryMb * 1024 * 1024;
        var shares = Math.Max(2, (int)Math.Round(spec.Cpu * 1024));
        if (cgroupV2)
        {
            Line("lxc.cgroup2.memory.max", memory);
            Line("lxc.cgroup2.cpu.weight", Math.Clamp(shares * 100 / 1024, 1, 10000));
            Line("lxc.cgroup2.cpu.max", $"{spec.Vcpu * 100000} 100000");
        }
        else
        {
            Line("lxc.cgroup.memory.limit_in_bytes", memory);
            Line("lxc.cgroup.cpu.shares", shares);
            Line("lxc.cgroup.cpu.cfs_period_us", 100000);
            Line("lxc.cgroup.cpu.cfs_quota_us", spec.Vcpu * 100000);
        }

        if (spec.Nics.Count == 0) Line("lxc.net.0.type", "empty");
        foreach (var (nic, i) in spec.Nics.OrderBy(n => n.NicId).Select((n, i) => (n, i)))
        {
            var p = $"lxc.net.{i}.";
            Line(p + "type", "veth");
            Line(p + "link", nic.Bridge);
            Line(p + "flags", "up");
            Line(p + "hwaddr", nic.Mac.ToLowerInvariant());
            Line(p + "name", $"eth{nic.NicId}");
            if (nic.Target.Length > 0) Line(p + "veth.pair", nic.Target);
            if (nic.Mtu > 0) Line(p + "mtu", nic.Mtu);
            if (nic.Ip.Length > 0) Line(p + "ipv4.address", nic.PrefixLength > 0 ? $"{nic.Ip}/{nic.PrefixLength}" : nic.Ip);
            if (nic.Ip.Length > 0 && nic.Gateway.Length > 0) Line(p + "ipv4.gateway", nic.Gateway);
        }
        if (spec.Context is not null)
            Line("lxc.mount.entry", $"{ContextDir(spec)} context none bind,ro,create=dir 0 0");
        return sb.ToString();
    }

    /// <summary>SET_HOSTNAME (or HOSTNAME) from CONTEXT, else the domain name.</summary>
    public static string Hostname(VmSpec spec)
    {
        if (spec.Context is { } ctx)
        {
            foreach (var key in new[] { "SET_HOSTNAME", "HOSTNAME" })
            {
                var v = ctx.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
                if (!string.IsNullOrWhiteSpace(v)) return OneLine(v);
            }
        }
        return spec.DomainName;
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}
