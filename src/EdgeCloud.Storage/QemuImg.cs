using System.Globalization;
using System.Text.Json;

namespace EdgeCloud.Storage;

/// <summary>What <c>qemu-img info --output=json</c> says about an image file.</summary>
public sealed record QemuImageInfo
{
    public required string Format { get; init; }
    /// <summary>Size the guest sees, bytes.</summary>
    public long VirtualSize { get; init; }
    /// <summary>Space the file takes on disk, bytes.</summary>
    public long ActualSize { get; init; }
    /// <summary>Backing file as recorded in the image, or null.</summary>
    public string? BackingFile { get; init; }
    public string? BackingFormat { get; init; }
    /// <summary>qcow2's "corrupt" flag (set by QEMU when it found an inconsistency).</summary>
    public bool Corrupt { get; init; }
    public bool Encrypted { get; init; }
    public IReadOnlyList<QemuSnapshot> Snapshots { get; init; } = [];
    /// <summary>Persistent dirty bitmaps of a qcow2 (the checkpoints of incremental backups).</summary>
    public IReadOnlyList<string> Bitmaps { get; init; } = [];
}

/// <summary>An internal snapshot of a qcow2 image.</summary>
public sealed record QemuSnapshot(string Id, string Name, long VmStateSize);

/// <summary>What <c>qemu-img check --output=json</c> found.</summary>
public sealed record QemuCheckResult
{
    /// <summary>False when the format cannot be checked (raw): nothing is known beyond "it opens".</summary>
    public bool Supported { get; init; } = true;
    public long Corruptions { get; init; }
    public long Leaks { get; init; }
    public long CheckErrors { get; init; }
    /// <summary>Where the image's data ends, bytes (qcow2); 0 when unknown.</summary>
    public long ImageEndOffset { get; init; }
    /// <summary>qemu-img's own words when something was found (its stderr), else empty.</summary>
    public string Detail { get; init; } = "";
    /// <summary>No corruption and no check error (leaked clusters only waste space).</summary>
    public bool Ok => Corruptions == 0 && CheckErrors == 0;
}

/// <summary>
/// The qemu-img commands the storage needs, run as processes with a timeout. A failure throws
/// <see cref="StorageException"/> whose message names the command and carries qemu-img's stderr.
/// </summary>
public sealed class QemuImg(string executable = "qemu-img", TimeSpan? timeout = null)
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromMinutes(10);

    public string Executable => executable;

    /// <summary>True when the executable runs (<c>qemu-img --version</c>).</summary>
    public static bool IsAvailable(string executable = "qemu-img")
    {
        try
        {
            var r = ProcessRunner.RunAsync(executable, ["--version"], TimeSpan.FromSeconds(10), CancellationToken.None).GetAwaiter().GetResult();
            return r.ExitCode == 0;
        }
        catch (StorageException)
        {
            return false;
        }
    }

    private async Task<ProcessResult> RunAsync(IReadOnlyList<string> args, CancellationToken ct, params int[] okCodes)
    {
        var r = await ProcessRunner.RunAsync(executable, args, _timeout, ct).ConfigureAwait(false);
        if (r.ExitCode != 0 && Array.IndexOf(okCodes, r.ExitCode) < 0)
            throw new StorageException($"{ProcessRunner.CommandLine(executable, args)} failed (exit {r.ExitCode}): {Clean(r.StdErr)}");
        return r;
    }

    /// <summary>stderr as one readable line: "qemu-img: " prefixes dropped, at most 500 characters.</summary>
    internal static string Clean(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.StartsWith("qemu-img: ", StringComparison.Ordinal) ? l[10..] : l).Distinct().ToList();
        var text = lines.Count == 0 ? "no error output" : string.Join("; ", lines.Take(3)) + (lines.Count > 3 ? $" (and {lines.Count - 3} more lines)" : "");
        return text.Length > 500 ? text[..500] + "..." : text;
    }

    /// <summary>qemu-img info; <paramref name="format"/> null lets qemu-img probe the format.</summary>
    public async Task<QemuImageInfo> InfoAsync(string path, string? format = null, CancellationToken ct = default)
    {
        List<string> args = ["info", "--output=json", "-U"];
        if (format is not null) args.AddRange(["-f", format]);
        args.Add(path);
        var r = await RunAsync(args, ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(r.StdOut);
            var root = doc.RootElement;
            var snaps = new List<QemuSnapshot>();
            if (root.TryGetProperty("snapshots", out var s) && s.ValueKind == JsonValueKind.Array)
                foreach (var e in s.EnumerateArray())
                    snaps.Add(new QemuSnapshot(Str(e, "id") ?? "", Str(e, "name") ?? "", Long(e, "vm-state-size")));
            var corrupt = root.TryGetProperty("format-specific", out var fs) && fs.TryGetProperty("data", out var data)
                && data.TryGetProperty("corrupt", out var c) && c.ValueKind == JsonValueKind.True;
            var bitmaps = new List<string>();
            if (root.TryGetProperty("format-specific", out var fs2) && fs2.TryGetProperty("data", out var data2)
                && data2.TryGetProperty("bitmaps", out var bm) && bm.ValueKind == JsonValueKind.Array)
                foreach (var e in bm.EnumerateArray())
                    if (Str(e, "name") is { } n) bitmaps.Add(n);
            return new QemuImageInfo
            {
                Format = Str(root, "format") ?? "",
                VirtualSize = Long(root, "virtual-size"),
                ActualSize = Long(root, "actual-size"),
                BackingFile = Str(root, "backing-filename") ?? Str(root, "full-backing-filename"),
                BackingFormat = Str(root, "backing-filename-format"),
                Corrupt = corrupt,
                Encrypted = root.TryGetProperty("encrypted", out var enc) && enc.ValueKind == JsonValueKind.True,
                Snapshots = snaps,
                Bitmaps = bitmaps,
            };
        }
        catch (JsonException ex)
        {
            throw new StorageException($"{ProcessRunner.CommandLine(executable, args)} printed something that is not JSON: {ex.Message}", ex);
        }
    }

    /// <summary>qemu-img check. Formats without checks (raw) give <c>Supported = false</c>; corruption is a result, not an exception.</summary>
    public async Task<QemuCheckResult> CheckAsync(string path, string format, CancellationToken ct = default)
    {
        // Exit codes: 0 clean, 1 check not completed, 2 corruptions, 3 leaks only, 63 format without checks.
        var r = await RunAsync(["check", "--output=json", "-f", format, path], ct, 1, 2, 3, 63).ConfigureAwait(false);
        if (r.ExitCode == 63) return new QemuCheckResult { Supported = false };
        if (r.StdOut.Trim().Length == 0)
            return new QemuCheckResult { CheckErrors = 1, Detail = Clean(r.StdErr) };
        try
        {
            using var doc = JsonDocument.Parse(r.StdOut);
            var root = doc.RootElement;
            return new QemuCheckResult
            {
                Corruptions = Long(root, "corruptions"),
                Leaks = Long(root, "leaks"),
                CheckErrors = Long(root, "check-errors") + (r.ExitCode == 1 ? 1 : 0),
                ImageEndOffset = Long(root, "image-end-offset"),
                Detail = r.ExitCode == 0 ? "" : Clean(r.StdErr),
            };
        }
        catch (JsonException)
        {
            return new QemuCheckResult { CheckErrors = 1, Detail = Clean(r.StdErr + "\n" + r.StdOut) };
        }
    }

    /// <summary>A blank image of <paramref name="sizeBytes"/>.</summary>
    public Task CreateAsync(string path, string format, long sizeBytes, CancellationToken ct = default) =>
        RunAsync(["create", "-q", "-f", format, path, sizeBytes.ToString(CultureInfo.InvariantCulture)], ct);

    /// <summary>A qcow2 overlay whose reads fall through to <paramref name="backingFile"/> (which is never written).</summary>
    public Task CreateOverlayAsync(string path, string backingFile, string backingFormat, CancellationToken ct = default) =>
        RunAsync(["create", "-q", "-f", "qcow2", "-b", backingFile, "-F", backingFormat, path], ct);

    /// <summary>qemu-img convert (a full, independent copy in <paramref name="targetFormat"/>).</summary>
    public Task ConvertAsync(string source, string? sourceFormat, string target, string targetFormat, CancellationToken ct = default)
    {
        List<string> args = ["convert", "-q"];
        if (sourceFormat is not null) args.AddRange(["-f", sourceFormat]);
        args.AddRange(["-O", targetFormat, source, target]);
        return RunAsync(args, ct);
    }

    /// <summary>
    /// A full qcow2 copy of a disk as it is now, or as it was at its internal snapshot <paramref name="snapshot"/>.
    /// <paramref name="forceShare"/> (-U) reads a disk a running VM has open: only for a snapshot, whose
    /// clusters the VM never writes again.
    /// </summary>
    public Task CopyOutAsync(string source, string? snapshot, string target, bool forceShare = false, CancellationToken ct = default)
    {
        List<string> args = ["convert", "-q"];
        if (forceShare) args.Add("-U");
        if (snapshot is not null) args.AddRange(["-l", $"snapshot.name={snapshot}"]);
        args.AddRange(["-O", "qcow2", source, target]);
        return RunAsync(args, ct);
    }

    /// <summary>Removes a persistent dirty bitmap (qemu refuses to apply an internal snapshot while one is there).</summary>
    public Task BitmapRemoveAsync(string path, string name, CancellationToken ct = default) => RunAsync(["bitmap", "--remove", path, name], ct);

    public Task SnapshotCreateAsync(string path, string name, CancellationToken ct = default) => RunAsync(["snapshot", "-q", "-c", name, path], ct);

    public Task SnapshotApplyAsync(string path, string name, CancellationToken ct = default) => RunAsync(["snapshot", "-q", "-a", name, path], ct);

    public Task SnapshotDeleteAsync(string path, string name, CancellationToken ct = default) => RunAsync(["snapshot", "-q", "-d", name, path], ct);

    public async Task<IReadOnlyList<QemuSnapshot>> SnapshotListAsync(string path, CancellationToken ct = default) =>
        (await InfoAsync(path, null, ct).ConfigureAwait(false)).Snapshots;

    /// <summary>Grows (or, with <paramref name="shrink"/>, shrinks) the virtual size.</summary>
    public Task ResizeAsync(string path, string format, long sizeBytes, bool shrink = false, CancellationToken ct = default)
    {
        List<string> args = ["resize", "-q", "-f", format];
        if (shrink) args.Add("--shrink");
        args.AddRange([path, sizeBytes.ToString(CultureInfo.InvariantCulture)]);
        return RunAsync(args, ct);
    }

    /// <summary>
    /// Points an overlay at another backing file. <paramref name="unsafeRebase"/> only rewrites the header
    /// (the new base must hold the same data, e.g. the same image moved); otherwise data is copied as needed.
    /// An empty <paramref name="newBacking"/> flattens the image (it no longer needs a base).
    /// </summary>
    public Task RebaseAsync(string path, string newBacking, string? backingFormat, bool unsafeRebase = false, CancellationToken ct = default)
    {
        List<string> args = ["rebase", "-q"];
        if (unsafeRebase) args.Add("-u");
        args.AddRange(["-b", newBacking]);
        if (backingFormat is not null && newBacking.Length > 0) args.AddRange(["-F", backingFormat]);
        args.Add(path);
        return RunAsync(args, ct);
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
}
