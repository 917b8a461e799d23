using System.Diagnostics;

// These tests drive Linux hosts (processes, libvirt, signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace EdgeCloud.EndToEnd;

/// <summary>The tiny bootable guest that scripts/build-test-guest.sh builds from Debian packages (cached under the temp dir).</summary>
public sealed record TestGuest(string Kernel, string Initrd, string Disk, string Cmdline)
{
    private static readonly Lazy<Task<TestGuest>> Built = new(BuildAsync);

    public const string BootMarker = "TESTGUEST-BOOT-OK";

    public static Task<TestGuest> GetAsync() => Built.Value;

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "build-test-guest.sh"))) return dir.FullName;
        throw new InvalidOperationException("scripts/build-test-guest.sh not found above " + AppContext.BaseDirectory);
    }

    private static async Task<TestGuest> BuildAsync()
    {
        var cache = Path.Combine(Path.GetTempPath(), "edgecloud-testguest");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "scripts", "build-test-guest.sh"));
        psi.ArgumentList.Add(cache);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException("build-test-guest.sh failed: " + await stderr);
        var env = new Dictionary<string, string>();
        foreach (var line in (await stdout).Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq <= 0) continue;
            var v = line[(eq + 1)..].Trim();
            if (v.Length >= 2 && v[0] == '\'' && v[^1] == '\'') v = v[1..^1];
            env[line[..eq]] = v;
        }
        // QEMU runs as libvirt's unprivileged user: it must reach the guest's files.
        File.SetUnixFileMode(cache, (UnixFileMode)0b111_101_101);
        return new TestGuest(env["TG_KERNEL"], env["TG_INITRD"], env["TG_DISK"], env["TG_CMDLINE"]);
    }
}
