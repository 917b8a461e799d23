using EdgeCloud.Testing;

namespace EdgeCloud.Hypervisor.Tests;

/// <summary>
/// A second libvirtd on this machine, playing another host for migration: its own mount and UTS
/// namespaces (private /run, /var/lib/libvirt, /etc/libvirt..., another hostname and host UUID, as
/// libvirt refuses to migrate to "the same host"), listening on TCP at 127.0.0.1 without auth.
/// Disposing stops its daemons by their pids (domains must be destroyed first).
/// </summary>
internal sealed class SecondLibvirt : IAsyncDisposable
{
    private readonly string _dir;

    private SecondLibvirt(string dir, string uri)
    {
        _dir = dir;
        Uri = uri;
    }

    public string Uri { get; }

    public static async Task<SecondLibvirt> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("edgecloud-libvirt2-").FullName;
        var port = 16500 + Environment.ProcessId % 400;
        foreach (var d in new[] { "lib", "cache", "log", "etc" }) Directory.CreateDirectory(Path.Combine(dir, d));
        await TestHost.Run.CheckedAsync("cp", ["-a", "/etc/libvirt/.", Path.Combine(dir, "etc")], CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(dir, "etc", "libvirtd.conf"), $"""
            listen_tls = 0
            listen_tcp = 1
            listen_addr = "127.0.0.1"
            tcp_port = "{port}"
            auth_tcp = "none"
            host_uuid = "{Guid.NewGuid()}"

            """);
        var script = $"""
            set -e
            hostname eck-host2-{port}
            mount -t tmpfs eckrun /run
            mount --bind '{dir}/lib' /var/lib/libvirt
            mount --bind '{dir}/cache' /var/cache/libvirt
            mount --bind '{dir}/log' /var/log/libvirt
            mount --bind '{dir}/etc' /etc/libvirt
            virtlogd -d -p '{dir}/virtlogd.pid' </dev/null >/dev/null 2>&1
            libvirtd -d -l -p '{dir}/libvirtd.pid' </dev/null >/dev/null 2>&1
            """;
        await TestHost.Run.CheckedAsync("unshare", ["--mount", "--uts", "--propagation", "private", "bash", "-c", script], CancellationToken.None);
        var second = new SecondLibvirt(dir, $"qemu+tcp://127.0.0.1:{port}/system");
        await Wait.ForAsync(async () => (await TestHost.Run.RunAsync("virsh", ["-c", second.Uri, "hostname"], CancellationToken.None)).Ok,
            $"the second libvirtd on {second.Uri}", TimeSpan.FromSeconds(30));
        return second;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var daemon in new[] { "libvirtd", "virtlogd" })
        {
            var pidFile = Path.Combine(_dir, daemon + ".pid");
            if (!File.Exists(pidFile) || !int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid)) continue;
            try
            {
                using var p = System.Diagnostics.Process.GetProcessById(pid);
                p.Kill();
                await p.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        TestHost.TryDelete(_dir);
    }
}
