using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// What the end-to-end tests with real hosts read off this machine: commands (virsh, qemu-img, ip, nft...),
/// a guest's serial console log, and a host's monitoring attributes in the API.
/// </summary>
internal static class HostTools
{
    /// <summary>Runs a command to its end and returns its standard output (errors are not thrown: callers assert on the output).</summary>
    public static string Run(string file, params string[] args) => Exec(file, args).Stdout;

    /// <summary>As <see cref="Run"/>, standard output then standard error (tools such as qemu-io report findings on either).</summary>
    public static string RunAll(string file, params string[] args)
    {
        var (stdout, stderr) = Exec(file, args);
        return stdout + stderr;
    }

    /// <summary>virsh on the system libvirt daemon.</summary>
    public static string Virsh(params string[] args) => Run("virsh", ["-c", "qemu:///system", .. args]);

    /// <summary>How many times the regular expression matches in a console log (0 when there is no log yet).</summary>
    public static int ConsoleCount(string log, string pattern) => File.Exists(log) ? Regex.Count(File.ReadAllText(log), pattern) : 0;

    /// <summary>Waits until the regular expression matched <paramref name="times"/> times in the console log.</summary>
    public static Task ForConsoleAsync(string log, string pattern, int times = 1, int seconds = 120) =>
        Wait.ForAsync(() => Task.FromResult(ConsoleCount(log, pattern) >= times),
            $"'{pattern}' x{times} on the console {log}", TimeSpan.FromSeconds(seconds));

    public static async Task<XElement> HostAsync(OneClient c, int id) => XElement.Parse(await c.CallStringAsync("one.host.info", id));

    /// <summary>A host template attribute (monitoring included), "" when absent.</summary>
    public static string HostAttr(XElement host, string name) => host.Element("TEMPLATE")?.Element(name)?.Value ?? "";

    /// <summary>A numeric host template attribute, -1 when absent.</summary>
    public static long Num(XElement host, string name) => long.TryParse(HostAttr(host, name), CultureInfo.InvariantCulture, out var v) ? v : -1;

    private static (string Stdout, string Stderr) Exec(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (stdout, stderr.Result);
    }
}

/// <summary>
/// The working directory of a test with real guests, which QEMU (running as libvirt's user) can walk into, and
/// the libvirt domains the test made and has not seen go: when the test ends (a failed run, above all) those
/// domains are destroyed and undefined, with their snapshot and checkpoint metadata, and the directory removed.
/// </summary>
internal sealed class GuestWorkDir : IDisposable
{
    private readonly List<string> _domains = [];

    public GuestWorkDir(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
        File.SetUnixFileMode(Path, (UnixFileMode)0b111_101_101);
    }

    public string Path { get; }

    /// <summary>A domain the test made: destroyed when the test ends unless <see cref="Gone"/> says otherwise.</summary>
    public void Own(string domain) { lock (_domains) if (!_domains.Contains(domain)) _domains.Add(domain); }

    /// <summary>A domain the test saw end (terminated through the API): nothing to clean up.</summary>
    public void Gone(string domain) { lock (_domains) _domains.Remove(domain); }

    /// <summary>Every domain so far ended.</summary>
    public void AllGone() { lock (_domains) _domains.Clear(); }

    public void Dispose()
    {
        string[] domains;
        lock (_domains) domains = [.. _domains];
        foreach (var d in domains)
        {
            HostTools.Virsh("destroy", d);
            HostTools.Virsh("undefine", "--snapshots-metadata", "--checkpoints-metadata", d);
        }
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
