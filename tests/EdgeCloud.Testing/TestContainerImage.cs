using System.Diagnostics;

namespace EdgeCloud.Testing;

/// <summary>
/// A busybox system container for the lxc driver's tests: a root filesystem from LXC's own busybox
/// template (the host's busybox, no download) whose init prints markers on the console instead of running
/// DHCP, and optionally that tree as a raw ext4 image, the form an lxc VM's first disk has.
/// </summary>
public static class TestContainerImage
{
    /// <summary>Printed by the container's rcS with its hostname once it runs.</summary>
    public const string UpMarker = "ECK-CT-UP";

    /// <summary>Printed after the context was read, with its SET_HOSTNAME.</summary>
    public const string ContextMarker = "ECK-CT-CONTEXT";

    /// <summary>Printed on the way down (shutdown).</summary>
    public const string DownMarker = "ECK-CT-DOWN";

    /// <summary>Builds the busybox tree in DIR/rootfs and returns its path.</summary>
    public static async Task<string> RootfsAsync(string dir)
    {
        var rootfs = Path.Combine(dir, "rootfs");
        Directory.CreateDirectory(Path.Combine(dir, "template"));
        await RunAsync("/usr/share/lxc/templates/lxc-busybox", "--name", "eck-template", "--path", Path.Combine(dir, "template"), "--rootfs", rootfs).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc/init.d/rcS"), $"""
            #!/bin/sh
            /bin/mount -a 2>/dev/null
            echo "{UpMarker} $(hostname)"
            if [ -f /context/context.sh ]; then . /context/context.sh; echo "{ContextMarker} $SET_HOSTNAME"; fi

            """).ConfigureAwait(false);
        // As distributions' inittabs: ctrl-alt-del (LXC's reboot signal) reboots; a marker on the way down.
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc/inittab"),
            $"::sysinit:/etc/init.d/rcS\nconsole::askfirst:/bin/sh\n::ctrlaltdel:/bin/reboot\n::shutdown:/bin/echo {DownMarker}\n").ConfigureAwait(false);
        return rootfs;
    }

    /// <summary>Builds the tree and packs it into a raw ext4 image DIR/NAME of <paramref name="sizeMb"/> MiB; returns its path.</summary>
    public static async Task<string> RawImageAsync(string dir, string name = "rootfs.img", int sizeMb = 64)
    {
        var rootfs = await RootfsAsync(dir).ConfigureAwait(false);
        var image = Path.Combine(dir, name);
        await RunAsync("mke2fs", "-q", "-t", "ext4", "-d", rootfs, image, $"{sizeMb}M").ConfigureAwait(false);
        return image;
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not run {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}: {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
    }
}
