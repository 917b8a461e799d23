using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// Makes sure the local libvirtd answers before the kvm driver is used (the agent at start, the
/// tests). On a host without an init system (a container, a micro-VM) it starts virtlogd and
/// libvirtd by hand, as daemons; with systemd it asks systemctl. First it gives /dev/kvm the
/// Debian udev default (group kvm, mode 0660): with a 0600 root-only /dev/kvm, libvirt re-probes
/// QEMU's capabilities on every call and each virsh command takes about 40 s.
/// </summary>
public sealed class LibvirtDaemon(string uri = KvmOptions.DefaultUri, CommandRunner? runner = null)
{
    private readonly CommandRunner _runner = runner ?? new CommandRunner();

    public string Uri => uri;

    /// <summary>How long to wait for a started libvirtd to answer.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>True when libvirtd answers on the URI (<c>virsh version</c>).</summary>
    public async Task<bool> AnswersAsync(CancellationToken ct)
    {
        try
        {
            var r = await _runner.RunAsync("virsh", ["-c", uri, "version"], ct, TimeSpan.FromSeconds(20));
            return r.Ok;
        }
        catch (HostDriverException)
        {
            return false;
        }
    }

    /// <summary>bash: closes the shell's descriptors above 2 (those it inherited) before what follows.</summary>
    internal const string CloseInheritedFds = "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done; ";

    /// <summary>Returns once libvirtd answers; starts it (and virtlogd) when it does not and the URI is local.</summary>
    /// <exception cref="HostDriverException">libvirt is not installed, cannot be started, or does not answer in time.</exception>
    public async Task EnsureRunningAsync(CancellationToken ct)
    {
        if (!CommandRunner.IsInstalled("virsh"))
            throw new HostDriverException("virsh is not installed (Debian: libvirt-clients, libvirt-daemon-system; see scripts/install-host-deps.sh)");
        await FixDevKvmPermissionsAsync(ct);
        if (await AnswersAsync(ct)) return;
        if (!IsLocal(uri))
            throw new HostDriverException($"libvirt at {uri} does not answer (it is remote: start it on that host)");

        if (Directory.Exists("/run/systemd/system"))
        {
            await _runner.RunAsync("systemctl", ["start", "virtlogd", "libvirtd"], ct, TimeSpan.FromSeconds(60));
        }
        else
        {
            foreach (var daemon in new[] { "virtlogd", "libvirtd" })
            {
                if (CommandRunner.Which(daemon) is not { } path)
                    throw new HostDriverException($"{daemon} is not installed (Debian: libvirt-daemon-system)");
                // Through a shell so the daemon gets /dev/null, not this process's pipes (a daemon holding them
                // would keep the caller's output open). bash also closes every other descriptor this process
                // inherited (e.g. a lock file's, from `flock LOCK edgecloud agent`): a daemon that kept it would
                // hold the lock for as long as it runs. A second virtlogd exits at once: that is fine.
                if (CommandRunner.IsInstalled("bash"))
                    await _runner.RunAsync("bash", ["-c", CloseInheritedFds + "\"$0\" -d </dev/null >/dev/null 2>&1", path], ct, TimeSpan.FromSeconds(30));
                else
                    await _runner.RunAsync("sh", ["-c", "\"$0\" -d </dev/null >/dev/null 2>&1", path], ct, TimeSpan.FromSeconds(30));
            }
        }

        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await AnswersAsync(ct)) return;
            await Task.Delay(200, ct);
        }
        throw new HostDriverException($"libvirtd was started but does not answer on {uri} after {StartTimeout.TotalSeconds:0} s (see /var/log/libvirt)");
    }

    /// <summary>
    /// chgrp kvm + chmod g+rw on /dev/kvm when its group cannot use it and the kvm group exists
    /// (as root; otherwise nothing). Returns true when it changed something.
    /// </summary>
    public async Task<bool> FixDevKvmPermissionsAsync(CancellationToken ct)
    {
        const string dev = "/dev/kvm";
        if (!OperatingSystem.IsLinux() || !File.Exists(dev) || Environment.UserName != "root" || !KvmGroupExists()) return false;
        var groupRw = UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        if ((File.GetUnixFileMode(dev) & groupRw) == groupRw) return false;
        await _runner.CheckedAsync("chgrp", ["kvm", dev], ct, TimeSpan.FromSeconds(10));
        File.SetUnixFileMode(dev, File.GetUnixFileMode(dev) | groupRw);
        return true;
    }

    internal static bool IsLocal(string uri) =>
        !uri.Contains("+", StringComparison.Ordinal) && uri.Contains(":///", StringComparison.Ordinal);

    private static bool KvmGroupExists() =>
        File.Exists("/etc/group") && File.ReadLines("/etc/group").Any(l => l.StartsWith("kvm:", StringComparison.Ordinal));
}
