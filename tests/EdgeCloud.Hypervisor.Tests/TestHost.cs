using System.Text.RegularExpressions;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;

// The host tests drive Linux tools (libvirt, LXC, iproute2).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace EdgeCloud.Hypervisor.Tests;


/// <summary>Shared set-up of the host tests: libvirtd answering, the test guest built, commands, polling.</summary>
internal static class TestHost
{
    public static readonly CommandRunner Run = new() { DefaultTimeout = TimeSpan.FromSeconds(120) };

    private static readonly Lazy<Task> Libvirt = new(() => new LibvirtDaemon().EnsureRunningAsync(CancellationToken.None));

    public static Task EnsureLibvirtAsync() => Libvirt.Value;

    /// <summary>The tiny test guest (scripts/build-test-guest.sh, built once per run).</summary>
    public static Task<TestGuestImage> GuestAsync() => TestGuestImage.GetAsync();

    /// <summary>A fresh directory under the temp dir that the QEMU user can enter (0755), removed by the caller.</summary>
    public static string NewVmDir(string name)
    {
        var dir = Directory.CreateTempSubdirectory($"edgecloud-{name}-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        return dir;
    }

    public static async Task QcowOverlayAsync(string baseImage, string path) =>
        await Run.CheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", baseImage, "-F", "qcow2", path], CancellationToken.None);

    public static string ConsoleText(string log) => File.Exists(log) ? File.ReadAllText(log) : "";

    public static int Count(string log, string marker) => Regex.Count(ConsoleText(log), Regex.Escape(marker));

    /// <summary>Waits until the console log holds a line matching <paramref name="pattern"/> at least <paramref name="times"/> times.</summary>
    public static Task ForConsoleAsync(string log, string pattern, int times = 1, int seconds = 90) =>
        Wait.ForAsync(() => Task.FromResult(Regex.Count(ConsoleText(log), pattern) >= times),
            $"'{pattern}' x{times} in {log}; console so far:\n{Tail(log)}", TimeSpan.FromSeconds(seconds));

    public static string Tail(string log)
    {
        var lines = ConsoleText(log).Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 25)));
    }

    /// <summary>
    /// Types <paramref name="command"/> on the guest's serial console (the pty libvirt gives it) until
    /// its console log matches <paramref name="expect"/>. The pty is kept open meanwhile: QEMU only reads
    /// a pty it has seen connected, which it checks about once a second.
    /// </summary>
    public static async Task TypeOnConsoleAsync(string domain, string log, string command, string expect, int seconds = 60, string uri = KvmOptions.DefaultUri)
    {
        var pty = (await Run.CheckedAsync("virsh", ["-c", uri, "ttyconsole", domain], CancellationToken.None)).Trim();
        await using var tty = new FileStream(pty, FileMode.Open, FileAccess.Write);
        var bytes = System.Text.Encoding.ASCII.GetBytes(command + "\n");
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await tty.WriteAsync(bytes);
            await tty.FlushAsync();
            var retry = DateTime.UtcNow.AddSeconds(3);
            while (DateTime.UtcNow < retry)
            {
                if (Regex.IsMatch(ConsoleText(log), expect)) return;
                await Task.Delay(50);
            }
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"'{command}' typed on {pty} never gave '{expect}'; console so far:\n{Tail(log)}");
        }
    }

    public static async Task<Dictionary<string, string>> DomStatsAsync(string domain)
    {
        var text = await Run.CheckedAsync("virsh", ["-c", KvmOptions.DefaultUri, "domstats", domain], CancellationToken.None);
        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    public static bool LinkExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    public static string? MasterOf(string link)
    {
        var master = $"/sys/class/net/{link}/master";
        return Directory.Exists(master) || File.Exists(master) ? Path.GetFileName(new FileInfo(master).LinkTarget ?? "") : null;
    }

    public static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A Linux bridge with a unique eck-prefixed name in the root namespace, without addresses.</summary>
internal sealed class TestBridge : IAsyncDisposable
{
    private static int _next;

    private TestBridge(string name) => Name = name;

    public string Name { get; }

    public static async Task<TestBridge> CreateAsync()
    {
        var name = $"eck{Environment.ProcessId % 100000}b{Interlocked.Increment(ref _next)}";
        await TestHost.Run.CheckedAsync("ip", ["link", "add", "name", name, "type", "bridge"], CancellationToken.None);
        await TestHost.Run.CheckedAsync("ip", ["link", "set", name, "up"], CancellationToken.None);
        return new TestBridge(name);
    }

    public async ValueTask DisposeAsync() =>
        await TestHost.Run.RunAsync("ip", ["link", "del", Name], CancellationToken.None);
}

internal static class Specs
{
    public static NicSpec Nic(int vmId, int nicId, string bridge, string ip = "") => new()
    {
        NicId = nicId,
        Mac = $"02:00:0a:{vmId / 256 % 256:x2}:{vmId % 256:x2}:{nicId:x2}",
        Bridge = bridge,
        Target = $"one-{vmId}-{nicId}",
        Ip = ip,
        PrefixLength = ip.Length > 0 ? 24 : 0,
    };
}
