using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EdgeCloud.Storage;

/// <summary>What to bring in and what it must match.</summary>
public sealed record ImportRequest
{
    /// <summary>A local path, a file:// URL, or an http(s):// URL.</summary>
    public required string Source { get; init; }

    /// <summary>Final path of the image. It appears only once the image is complete and checked.</summary>
    public required string Destination { get; init; }

    /// <summary>Expected SHA-256 (hex), or null.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Expected MD5 (hex), or null.</summary>
    public string? Md5 { get; init; }

    /// <summary>Expected length in bytes, or null.</summary>
    public long? Size { get; init; }

    /// <summary>Check the format with qemu-img (reject corrupt/truncated images and images with a backing file). Default true.</summary>
    public bool Inspect { get; init; } = true;

    /// <summary>HTTP Authorization header value sent to the source (e.g. "Bearer user:token"), or null.</summary>
    public string? Authorization { get; init; }

    /// <summary>Refuse the transfer when it would be larger than this many bytes (datastore space), or null.</summary>
    public long? MaxBytes { get; init; }
}

/// <summary>Progress of a transfer: bytes so far and the total when known (-1 otherwise).</summary>
public readonly record struct TransferProgress(long Bytes, long Total)
{
    /// <summary>0–100, or -1 when the total is unknown.</summary>
    public int Percent => Total > 0 ? (int)Math.Min(100, Bytes * 100 / Total) : -1;
}

/// <summary>An image brought in: where it is, what it is, its digest, and how many bytes crossed the wire.</summary>
public sealed record ImportResult
{
    public required string Path { get; init; }
    public required string Format { get; init; }
    public long VirtualSize { get; init; }
    public long FileSize { get; init; }
    public required string Sha256 { get; init; }
    public required string Md5 { get; init; }
    /// <summary>Bytes read from the source in this call (less than the file when a partial download was resumed).</summary>
    public long BytesTransferred { get; init; }
    public bool Resumed { get; init; }
}

/// <summary>
/// Brings an image file into a directory from a local path or an http(s) URL. The data goes to
/// "DESTINATION.part"; the file is renamed to its final name only after the checksum(s) matched and
/// qemu-img found a sound image, so a half-written or corrupt file never sits at the final name.
/// A bad image (checksum mismatch, corrupt, truncated, unreadable) deletes the partial file; an
/// interrupted download keeps it, and the next call for the same destination resumes it with an
/// HTTP Range request (<see cref="TransferInterruptedException"/>).
/// </summary>
/// <remarks>
/// Thread safety: one call per destination at a time (the front-end's driver and the replica cache
/// each serialize per image). Construct once and share: <c>new ImageImporter(new QemuImg(), httpClient)</c>.
/// </remarks>
public sealed class ImageImporter(QemuImg? qemu, HttpClient http)
{
    private const int BufferSize = 1 << 20;

    public QemuImg? Qemu => qemu;

    public static bool IsHttp(string source) =>
        source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The local path of a path or file:// source.</summary>
    public static string LocalPath(string source) =>
        source.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(source).LocalPath : source;

    public async Task<ImportResult> ImportAsync(ImportRequest request, IProgress<TransferProgress>? progress = null, CancellationToken ct = default)
    {
        var dest = Path.GetFullPath(request.Destination);
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        var part = dest + ".part";
        long transferred;
        bool resumed;
        if (IsHttp(request.Source))
            (transferred, resumed) = await DownloadAsync(request, part, progress, ct).ConfigureAwait(false);
        else
            (transferred, resumed) = (await CopyLocalAsync(request, part, progress, ct).ConfigureAwait(false), false);

        try
        {
            var length = new FileInfo(part).Length;
            if (request.Size is { } size && size != length)
                throw new StorageException($"{Describe(request.Source)} is {length} bytes, expected {size}: the file is truncated or not the one described.");
            var (sha256, md5) = await DigestsAsync(part, ct).ConfigureAwait(false);
            if (request.Sha256 is { Length: > 0 } wantSha && !wantSha.Equals(sha256, StringComparison.OrdinalIgnoreCase))
                throw new StorageException($"Checksum mismatch for {Describe(request.Source)}: SHA256 is {sha256}, expected {wantSha.ToLowerInvariant()}.");
            if (request.Md5 is { Length: > 0 } wantMd5 && !wantMd5.Equals(md5, StringComparison.OrdinalIgnoreCase))
                throw new StorageException($"Checksum mismatch for {Describe(request.Source)}: MD5 is {md5}, expected {wantMd5.ToLowerInvariant()}.");
            var (format, virtualSize) = request.Inspect && qemu is not null
                ? await InspectAsync(qemu, part, Describe(request.Source), ct).ConfigureAwait(false)
                : ("raw", length);
            File.Move(part, dest, overwrite: true);
            return new ImportResult
            {
                Path = dest, Format = format, VirtualSize = virtualSize, FileSize = length, Sha256 = sha256, Md5 = md5,
                BytesTransferred = transferred, Resumed = resumed,
            };
        }
        catch
        {
            // A complete but bad file is never worth resuming.
            TryDelete(part);
            throw;
        }
    }

    /// <summary>
    /// Checks an image file the way an import does: it must open, a checkable format (qcow2...) must have
    /// no corruption and hold all its data (a truncated file fails), and it must not point at a backing
    /// file (an uploaded image could otherwise read any file of the host through it). Returns the
    /// detected format and the virtual size.
    /// </summary>
    public static async Task<(string Format, long VirtualSize)> InspectAsync(QemuImg qemu, string path, string what, CancellationToken ct)
    {
        QemuImageInfo info;
        try
        {
            info = await qemu.InfoAsync(path, null, ct).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            throw new StorageException($"{what} is not a readable disk image: {ex.Message}", ex);
        }
        if (info.BackingFile is { Length: > 0 } backing)
            throw new StorageException($"{what} is a {info.Format} image with a backing file ({backing}); only self-contained images are accepted.");
        if (info.Corrupt) throw new StorageException($"{what} is a corrupt {info.Format} image (its corrupt flag is set).");
        if (info.Format != "raw")
        {
            var check = await qemu.CheckAsync(path, info.Format, ct).ConfigureAwait(false);
            if (check.Supported && !check.Ok)
                throw new StorageException($"{what} is a corrupt or truncated {info.Format} image: qemu-img check found {check.Corruptions} corruptions"
                    + (check.CheckErrors > 0 ? $" and {check.CheckErrors} check errors" : "") + (check.Detail.Length > 0 ? $" ({check.Detail})" : "") + ".");
            // (image-end-offset is not compared with the file length: a sound qcow2 may end inside its last,
            // partly written cluster; a cut-off file shows up as corruptions above.)
        }
        return (info.Format, info.VirtualSize);
    }

    /// <summary>
    /// Replaces an image file atomically with <paramref name="candidate"/> (a file next to it, on the same
    /// filesystem): the candidate is checked like an import (<see cref="InspectAsync"/>), its digest computed, and
    /// only then renamed over <paramref name="destination"/>, so readers see the old file or the new one, never a
    /// mix. A bad candidate is deleted and the destination is left exactly as it was. Internal qcow2 snapshots
    /// travel with the file.
    /// </summary>
    public static async Task<ImportResult> ReplaceAsync(QemuImg qemu, string candidate, string destination, string what, CancellationToken ct)
    {
        try
        {
            var (format, virtualSize) = await InspectAsync(qemu, candidate, what, ct).ConfigureAwait(false);
            var (sha256, md5) = await DigestsAsync(candidate, ct).ConfigureAwait(false);
            var length = new FileInfo(candidate).Length;
            using (var f = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)) f.Flush(flushToDisk: true);
            File.Move(candidate, destination, overwrite: true);
            return new ImportResult { Path = destination, Format = format, VirtualSize = virtualSize, FileSize = length, Sha256 = sha256, Md5 = md5, BytesTransferred = length };
        }
        catch
        {
            TryDelete(candidate);
            throw;
        }
    }

    private static async Task<long> CopyLocalAsync(ImportRequest request, string part, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var path = LocalPath(request.Source);
        if (!File.Exists(path))
            throw new StorageException(Directory.Exists(path) ? $"{path} is a directory, not an image file." : $"{path} does not exist.");
        FileStream src;
        try
        {
            src = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new StorageException($"Cannot read {path}: {ex.Message}", ex);
        }
        await using (src.ConfigureAwait(false))
        {
            var total = src.Length;
            if (request.MaxBytes is { } max && total > max)
                throw new StorageException($"{path} is {Mb(total)} MB, more than the {Mb(max)} MB free in the datastore.");
            var dst = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            try
            {
                await using (dst.ConfigureAwait(false))
                    return await PumpAsync(src, dst, 0, total, progress, ct).ConfigureAwait(false);
            }
            catch
            {
                TryDelete(part);
                throw;
            }
        }
    }

    private async Task<(long Transferred, bool Resumed)> DownloadAsync(ImportRequest request, string part, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var req = new HttpRequestMessage(HttpMethod.Get, request.Source);
        if (request.Authorization is { } auth) req.Headers.TryAddWithoutValidation("Authorization", auth);
        if (have > 0) req.Headers.Range = new RangeHeaderValue(have, null);
        HttpResponseMessage resp;
        try
        {
            resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new TransferInterruptedException($"Cannot download {request.Source}: {ex.Message}", ex);
        }
        using (resp)
        {
            if (resp.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The partial file is already whole (or longer than the source): start again from zero.
                TryDelete(part);
                return await DownloadAsync(request, part, progress, ct).ConfigureAwait(false);
            }
            if (!resp.IsSuccessStatusCode)
            {
                var failure = $"Cannot download {request.Source}: HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}.";
                if ((int)resp.StatusCode >= 500) throw new TransferInterruptedException(failure);
                TryDelete(part);
                throw new StorageException(failure);
            }
            var resumed = resp.StatusCode == HttpStatusCode.PartialContent && have > 0;
            if (!resumed) have = 0;
            var total = resp.Content.Headers.ContentLength is { } len ? len + have : request.Size ?? -1;
            if (request.MaxBytes is { } max && total > max)
            {
                TryDelete(part);
                throw new StorageException($"{request.Source} is {Mb(total)} MB, more than the {Mb(max)} MB free in the datastore.");
            }
            var dst = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            await using (dst.ConfigureAwait(false))
            {
                long moved;
                try
                {
                    var body = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    await using (body.ConfigureAwait(false))
                        moved = await PumpAsync(body, dst, have, total, progress, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new TransferInterruptedException($"Download of {request.Source} was interrupted with {dst.Length} bytes on disk: {ex.Message}", ex);
                }
                if (resp.Content.Headers.ContentLength is { } expected && moved < expected)
                    throw new TransferInterruptedException($"Download of {request.Source} ended early: {moved} of {expected} bytes.");
                return (moved, resumed);
            }
        }
    }

    private static async Task<long> PumpAsync(Stream src, Stream dst, long start, long total, IProgress<TransferProgress>? progress, CancellationToken ct)
    {
        var buffer = new byte[BufferSize];
        long moved = 0;
        progress?.Report(new TransferProgress(start, total));
        int n;
        while ((n = await src.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await dst.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            moved += n;
            progress?.Report(new TransferProgress(start + moved, total));
        }
        await dst.FlushAsync(ct).ConfigureAwait(false);
        return moved;
    }

    /// <summary>SHA-256 and MD5 of a file in one pass (hex, lower case).</summary>
    public static async Task<(string Sha256, string Md5)> DigestsAsync(string path, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using (f.ConfigureAwait(false))
        {
            var buffer = new byte[BufferSize];
            int n;
            while ((n = await f.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                md5.AppendData(buffer, 0, n);
            }
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset()));
    }

    private static string Describe(string source) => IsHttp(source) ? source : LocalPath(source);

    private static long Mb(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    /// <summary>Deletes a file if it exists; a failure to delete is ignored (best effort clean-up).</summary>
    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
