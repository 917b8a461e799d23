using System.Diagnostics;

namespace EdgeCloud.Testing;

/// <summary>
/// The tiny bootable guest that the repository's scripts/build-test-guest.sh builds from Debian packages,
/// built once per test run into a cache under the temp directory (re-runs of the script are no-ops).
/// </summary>
public sealed record TestGuestImage(string Kernel, string Initrd, string Disk, string Cmdline)
{
    /// <summary>The line the guest prints on its serial console once its kernel is up.</summary>
    public const string BootMarker = "TESTGUEST-BOOT-OK";

    private static readonly Lazy<Task<TestGuestImage>> Built = new(BuildAsync);

    public static Task<TestGuestImage> GetAsync() => Built.Value;

    /// <summary>The repository's root: the first parent of the test binaries holding scripts/build-test-guest.sh.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "build-test-guest.sh"))) return dir.FullName;
        throw new InvalidOperationException("scripts/build-test-guest.sh not found above " + AppContext.BaseDirectory);
    }

    private static async Task<TestGuestImage> BuildAsync()
    {
        var cache = Path.Combine(Path.GetTempPath(), "edgecloud-testguest");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "scripts", "build-test-guest.sh"));
        psi.ArgumentList.Add(cache);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not run bash");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException("build-test-guest.sh failed: " + await stderr.ConfigureAwait(false));
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (await stdout.ConfigureAwait(false)).Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var v = line[(eq + 1)..].Trim();
            if (v.Length >= 2 && v[0] == '\'' && v[^1] == '\'') v = v[1..^1];
            env[line[..eq]] = v;
        }
        // QEMU runs as libvirt's unprivileged user: it must reach the guest's files.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(cache, (UnixFileMode)0b111_101_101);
        return new TestGuestImage(env["TG_KERNEL"], env["TG_INITRD"], env["TG_DISK"], env["TG_CMDLINE"]);
    }
}
