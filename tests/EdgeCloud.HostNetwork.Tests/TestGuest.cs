using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeCloud.HostNetwork.Tests;

/// <summary>
/// A tiny TCG guest (scripts/build-test-guest.sh, its kernel has 8021q, bridge and vxlan) whose
/// serial console root shell is an <see cref="ICommandRunner"/>: the network driver runs in it
/// unchanged, reading <c>ip -j -d link show</c> from the guest and running its plan there. The
/// guest's initramfs gets the host's iproute2 (<c>ip</c>, <c>bridge</c> and their libraries) as a
/// second cpio archive, because busybox's <c>ip</c> cannot set an ifalias or print JSON.
/// </summary>
public sealed partial class TestGuest : ICommandRunner, IAsyncDisposable
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static (string Kernel, string Initrd, string Cmdline)? _image;

    private readonly Process _qemu;
    private readonly Socket _socket;
    private readonly StringBuilder _console = new();
    private readonly SemaphoreSlim _commandLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly string _dir;
    private int _seq;

    public string Name { get; }

    private TestGuest(string name, Process qemu, Socket socket, string dir)
    {
        Name = name;
        _qemu = qemu;
        _socket = socket;
        _dir = dir;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Everything the guest printed so far (for failure messages).</summary>
    public string Console { get { lock (_console) return _console.ToString(); } }

    /// <summary>Builds (once per run, cached across runs by the script) the guest with iproute2 added.</summary>
    public static async Task<(string Kernel, string Initrd, string Cmdline)> ImageAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            if (_image is { } done) return done;
            var outDir = Path.Combine(Path.GetTempPath(), "edgecloud-test-guest");
            var env = await Sh.CheckAsync(Path.Combine(RepoRoot(), "scripts", "build-test-guest.sh"), outDir);
            string Get(string key) => env.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..].Trim('\'');
            var initrd = Path.Combine(outDir, "initrd-iproute2.img");
            const string script = """
                set -eu
                out=$1; base=$2; s=$(mktemp -d)
                trap 'rm -rf "$s"' EXIT
                mkdir -p "$s/usr/local/sbin"
                for b in ip bridge; do
                  p=$(command -v $b); cp "$p" "$s/usr/local/sbin/$b"
                  for l in $(ldd "$p" | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}'); do
                    mkdir -p "$s$(dirname "$l")"; cp -L "$l" "$s$l"
                  done
                done
                (cd "$s" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -n > "$out.part"
                cat "$base" "$out.part" > "$out.new" && rm -f "$out.part" && mv -f "$out.new" "$out"
                """;
            await Sh.CheckAsync("bash", "-c", script, "build", initrd, Get("TG_INITRD"));
            _image = (Get("TG_KERNEL"), initrd, Get("TG_CMDLINE"));
            return _image.Value;
        }
        finally { BuildLock.Release(); }
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "EdgeCloud.slnx"))) return d.FullName;
        throw new InvalidOperationException("repository root (EdgeCloud.slnx) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Boots a guest in <paramref name="netns"/> with its eth0 on the existing tap <paramref name="tap"/>; returns once its shell answers.</summary>
    public static async Task<TestGuest> BootAsync(string name, string netns, string tap, string mac, TimeSpan? timeout = null)
    {
        var (kernel, initrd, cmdline) = await ImageAsync();
        var dir = Directory.CreateTempSubdirectory("ecn-guest-").FullName;
        var sock = Path.Combine(dir, "serial.sock");
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            "netns", "exec", netns, "qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "160", "-nodefaults", "-display", "none",
            "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append", $"{cmdline} tg.halt=wait tg.ctxwait=0 tg.hostname={name}",
            "-chardev", $"socket,id=s0,path={sock},server=on,wait=on", "-serial", "chardev:s0",
            "-netdev", $"tap,id=n0,ifname={tap},script=no,downscript=no", "-device", $"virtio-net-pci,netdev=n0,romfile=,mac={mac}",
        })
            psi.ArgumentList.Add(a);
        var qemu = Process.Start(psi)!;
        Socket? socket = null;
        try
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                if (qemu.HasExited) throw new InvalidOperationException($"qemu exited ({qemu.ExitCode}): {await qemu.StandardError.ReadToEndAsync()}");
                if (File.Exists(sock))
                {
                    try
                    {
                        socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(sock));
                        break;
                    }
                    catch (SocketException) { socket?.Dispose(); socket = null; }
                }
                if (DateTime.UtcNow > until) throw new TimeoutException("qemu's serial socket did not appear");
                await Task.Delay(50);
            }
            var guest = new TestGuest(name, qemu, socket, dir);
            try
            {
                await guest.WaitForAsync("TESTGUEST-READY", timeout ?? TimeSpan.FromSeconds(90));
                await guest.StartShellAsync();
                return guest;
            }
            catch
            {
                await guest.DisposeAsync();
                throw;
            }
        }
        catch when (socket is null)
        {
            try { qemu.Kill(true); } catch (InvalidOperationException) { }
            qemu.Dispose();
            Directory.Delete(dir, true);
            throw;
        }
    }

    private async Task ReadLoopAsync()
    {
        var buf = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var n = await _socket.ReceiveAsync(buf, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                lock (_console) _console.Append(Encoding.Latin1.GetString(buf, 0, n).Replace("\r", "", StringComparison.Ordinal));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
    }

    private async Task<Match> WaitForAsync(string pattern, TimeSpan timeout, int from = 0)
    {
        var re = new Regex(pattern, RegexOptions.Multiline);
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var text = Console;
            var m = re.Match(text, Math.Min(from, text.Length));
            if (m.Success) return m;
            if (_qemu.HasExited) throw new InvalidOperationException($"guest {Name}: qemu exited; console:\n{Tail(text)}");
            if (DateTime.UtcNow > until) throw new TimeoutException($"guest {Name}: no /{pattern}/ within {timeout.TotalSeconds} s; console:\n{Tail(text)}");
            await Task.Delay(20);
        }
    }

    private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];

    private async Task SendAsync(string text) => await _socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    private async Task StartShellAsync()
    {
        // The console shell is respawned by init after the boot script: poke it until it answers.
        for (var i = 0; ; i++)
        {
            var from = Console.Length;
            await SendAsync($"stty -echo; PS1=; PS2=; echo @@HELLO{i}@@\n");
            try
            {
                await WaitForAsync($"^@@HELLO{i}@@$", TimeSpan.FromSeconds(2), from);
                break;
            }
            catch (TimeoutException) when (i < 15) { }
        }
        await SendAsync("export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu; echo @@ENV@@\n");
        await WaitForAsync("^@@ENV@@$", TimeSpan.FromSeconds(5));
    }

    /// <summary>Runs a command in the guest's root shell; stdout and stderr come back base64-encoded so console noise cannot mix in.</summary>
    public async Task<CommandResult> RunAsync(HostCommand command, CancellationToken ct)
    {
        await _commandLock.WaitAsync(ct);
        try
        {
            var id = Interlocked.Increment(ref _seq).ToString(CultureInfo.InvariantCulture);
            // The guest's busybox shell prefers its own applets over PATH: name the real iproute2 by path.
            var line = command.Program is "ip" or "bridge" ? "/usr/local/sbin/" + command : command.ToString();
            if (command.Input is not null)
            {
                await SendAsync($"echo {Convert.ToBase64String(Encoding.UTF8.GetBytes(command.Input))} | base64 -d > /tmp/in\n");
                line += " < /tmp/in";
            }
            var from = Console.Length;
            await SendAsync($"{line} >/tmp/o 2>/tmp/e; echo \"@@R{id}=$?\"; base64 /tmp/o; echo @@O{id}; base64 /tmp/e; echo @@E{id}\n");
            var m = await WaitForAsync($"^@@R{id}=(\\d+)\\n((?:.*\\n)*?)@@O{id}\\n((?:.*\\n)*?)@@E{id}$", TimeSpan.FromSeconds(60), from);
            static string Decode(string b64) => Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(b64.Split('\n', StringSplitOptions.TrimEntries))));
            return new CommandResult(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Decode(m.Groups[2].Value), Decode(m.Groups[3].Value));
        }
        finally { _commandLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { if (!_qemu.HasExited) _qemu.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        try { await _qemu.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)); } catch (TimeoutException) { }
        _socket.Dispose();
        try { await _reader; } catch (OperationCanceledException) { } catch (SocketException) { }
        _qemu.Dispose();
        _stop.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
