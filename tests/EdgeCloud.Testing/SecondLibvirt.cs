using System.Diagnostics;

namespace EdgeCloud.Testing;

/// <summary>
/// A second libvirtd on this machine, playing another host for migration: its own mount and UTS
/// namespaces (private /run, /var/lib/libvirt, /etc/libvirt..., another hostname and host UUID, as
/// libvirt refuses to migrate to "the same host"), listening on TCP at 127.0.0.1 without auth. It shares
/// the network namespace and the filesystem outside those directories (VM directories under the temp dir).
/// Its daemons get none of the test process's descriptors (a held lock file would outlive the test).
/// Disposing stops its daemons by their pids (its domains must be destroyed first).
/// </summary>
public sealed class SecondLibvirt : IAsyncDisposable
{
    private readonly string _dir;

    private SecondLibvirt(string dir, string uri)
    {
        _dir = dir;
        Uri = uri;
    }

    /// <summary>qemu+tcp://127.0.0.1:PORT/system.</summary>
    public string Uri { get; }

    public static async Task<SecondLibvirt> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("edgecloud-libvirt2-").FullName;
        var port = 16500 + Environment.ProcessId % 400;
        foreach (var d in new[] { "lib", "cache", "log", "etc" }) Directory.CreateDirectory(Path.Combine(dir, d));
        await RunAsync("cp", "-a", "/etc/libvirt/.", Path.Combine(dir, "etc"));
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
            for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
            hostname eck-host2-{port}
            mount -t tmpfs eckrun /run
            mount --bind '{dir}/lib' /var/lib/libvirt
            mount --bind '{dir}/cache' /var/cache/libvirt
            mount --bind '{dir}/log' /var/log/libvirt
            mount --bind '{dir}/etc' /etc/libvirt
            virtlogd -d -p '{dir}/virtlogd.pid' </dev/null >/dev/null 2>&1
            libvirtd -d -l -p '{dir}/libvirtd.pid' </dev/null >/dev/null 2>&1
            """;
        await RunAsync("unshare", "--mount", "--uts", "--propagation", "private", "bash", "-c", script);
        var second = new SecondLibvirt(dir, $"qemu+tcp://127.0.0.1:{port}/system");
        await Wait.ForAsync(async () => (await TryRunAsync("virsh", "-c", second.Uri, "hostname")).Ok,
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
                using var p = Process.GetProcessById(pid);
                p.Kill();
                await p.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var (ok, output) = await TryRunAsync(file, args);
        if (!ok) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {output}");
    }

    private static async Task<(bool Ok, string Output)> TryRunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode == 0, stdout + await stderr);
    }
}
