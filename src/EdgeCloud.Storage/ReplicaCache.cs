using System.Text.Json;

namespace EdgeCloud.Storage;

/// <summary>
/// Which base image: the image id and its version (its SHA-256, or any stamp that changes when the
/// image's content changes). A new version of an image invalidates the cached older ones.
/// </summary>
public readonly record struct ImageKey(int ImageId, string Version)
{
    public override string ToString() => $"image {ImageId} version {Version}";
}

/// <summary>Where a base image comes from when it is not cached: an http(s) URL (the front-end's /images/ID) or a local path.</summary>
public sealed record CacheSource
{
    public required string Location { get; init; }
    /// <summary>Expected SHA-256 (hex); checked after the download when given.</summary>
    public string? Sha256 { get; init; }
    /// <summary>Expected length in bytes, when known (also used to make room before the download).</summary>
    public long? Size { get; init; }
    /// <summary>Authorization header for an http source.</summary>
    public string? Authorization { get; init; }
}

/// <summary>Counters of a cache: what came from upstream and what was served from the local copy.</summary>
public sealed record ReplicaCacheStats
{
    /// <summary>Bytes read from upstream (front-end or path) by fetches.</summary>
    public long BytesFetched { get; init; }
    /// <summary>Bytes of cached images handed out without a fetch (a hit counts the image's size).</summary>
    public long BytesServedLocally { get; init; }
    public long Hits { get; init; }
    public long Misses { get; init; }
    public long Evictions { get; init; }
    public long BytesCached { get; init; }
    public int Entries { get; init; }
}

/// <summary>One cached base image as the cache reports it.</summary>
public sealed record CacheEntryInfo(ImageKey Key, string Path, string Format, long Size, int ActiveLeases, IReadOnlyCollection<string> Holders, bool Stale);

/// <summary>
/// A cached base image handed out by <see cref="ReplicaCache.GetAsync"/>. While the lease is open the
/// entry cannot be evicted; to keep it beyond (a VM disk is an overlay on it) pin it with a holder name.
/// </summary>
public sealed class CacheLease : IDisposable
{
    private readonly ReplicaCache _cache;
    private int _disposed;

    internal CacheLease(ReplicaCache cache, ImageKey key, string path, string format, long size, bool fetched)
    {
        _cache = cache;
        Key = key;
        Path = path;
        Format = format;
        Size = size;
        Fetched = fetched;
    }

    public ImageKey Key { get; }
    /// <summary>The base image file (read-only by convention: never write to it, make an overlay).</summary>
    public string Path { get; }
    public string Format { get; }
    public long Size { get; }
    /// <summary>True when this call fetched the image from upstream; false when it was served locally.</summary>
    public bool Fetched { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _cache.Release(Key);
    }
}

/// <summary>
/// Tier 3 of the storage: a per-cluster (or per-host) directory of base images, fetched from upstream at
/// most once per version even when many callers ask at the same moment, checked by SHA-256 when the
/// source says it, resumed after an interrupted download, and evicted least-recently-used first under a
/// size limit — never while a lease is open or a holder (a VM disk) pins the entry. A new version of an
/// image makes the older versions stale: they are deleted as soon as nothing uses them.
/// </summary>
/// <remarks>
/// Layout: DIR/IMAGEID-VERSION/base (the image), entry.json (key, format, size, digest) and holders/NAME
/// (one empty file per pin, so pins survive a restart of the agent). Everything is re-read from the
/// directory when the cache is constructed.
/// <code>
/// var cache = new ReplicaCache("/var/lib/edgecloud/cache", 50L &lt;&lt; 30, new ImageImporter(new QemuImg(), http));
/// using var lease = await cache.GetAsync(new ImageKey(7, sha256), new CacheSource { Location = "https://fe:2633/images/7", Sha256 = sha256, Authorization = "Bearer oneadmin:..." }, ct);
/// </code>
/// </remarks>
public sealed class ReplicaCache
{
    private const string BaseName = "base";
    private const string MetaName = "entry.json";
    private const string HoldersName = "holders";

    private sealed class Entry
    {
        public required ImageKey Key { get; init; }
        public required string Dir { get; init; }
        public string Format { get; set; } = "raw";
        public long Size { get; set; }
        public string Sha256 { get; set; } = "";
        public long LastUse { get; set; }
        public int Leases { get; set; }
        public HashSet<string> Holders { get; } = new(StringComparer.Ordinal);
        public bool Stale { get; set; }
        public string BasePath => System.IO.Path.Combine(Dir, BaseName);
        public bool InUse => Leases > 0 || Holders.Count > 0;
    }

    private sealed record Meta(int ImageId, string Version, string Format, long Size, string Sha256);

    private readonly object _gate = new();
    private readonly Dictionary<ImageKey, Entry> _entries = [];
    private readonly Dictionary<ImageKey, Task<Entry>> _inflight = [];
    private readonly ImageImporter _importer;
    private long _clock;
    private long _fetched, _served, _hits, _misses, _evictions;

    public ReplicaCache(string directory, long maxBytes, ImageImporter importer)
    {
        if (maxBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytes), "the cache needs a positive size limit");
        Directory = System.IO.Path.GetFullPath(directory);
        MaxBytes = maxBytes;
        _importer = importer;
        System.IO.Directory.CreateDirectory(Directory);
        Load();
    }

    public string Directory { get; }

    public long MaxBytes { get; }

    public ReplicaCacheStats Stats
    {
        get
        {
            lock (_gate)
            {
                return new ReplicaCacheStats
                {
                    BytesFetched = Interlocked.Read(ref _fetched), BytesServedLocally = _served, Hits = _hits, Misses = _misses, Evictions = _evictions,
                    BytesCached = _entries.Values.Sum(e => e.Size), Entries = _entries.Count,
                };
            }
        }
    }

    public IReadOnlyList<CacheEntryInfo> Entries
    {
        get
        {
            lock (_gate)
                return _entries.Values.OrderBy(e => e.LastUse)
                    .Select(e => new CacheEntryInfo(e.Key, e.BasePath, e.Format, e.Size, e.Leases, e.Holders.ToList(), e.Stale)).ToList();
        }
    }

    /// <summary>
    /// The cached base image of <paramref name="key"/>, fetched from <paramref name="source"/> first if needed
    /// (once, however many callers wait for it). Dispose the lease when done; pin it to keep it longer.
    /// </summary>
    /// <exception cref="StorageException">The fetch failed (checksum mismatch, corrupt image, unreachable source...).</exception>
    public async Task<CacheLease> GetAsync(ImageKey key, CacheSource source, CancellationToken ct = default)
    {
        while (true)
        {
            Task<Entry> task;
            var leader = false;
            lock (_gate)
            {
                if (_entries.TryGetValue(key, out var hit) && !hit.Stale)
                    return LeaseLocked(hit, fetched: false);
                InvalidateOthersLocked(key);
                if (!_inflight.TryGetValue(key, out task!))
                {
                    leader = true;
                    _misses++;
                    task = Task.Run(() => FetchAsync(key, source));
                    _inflight[key] = task;
                }
            }
            var entry = await task.WaitAsync(ct).ConfigureAwait(false);
            lock (_gate)
            {
                // Evicted in the instant between the fetch and this lease (only under heavy pressure): ask again.
                if (_entries.TryGetValue(key, out var now) && ReferenceEquals(now, entry)) return LeaseLocked(entry, fetched: leader);
            }
        }
    }

    private CacheLease LeaseLocked(Entry e, bool fetched)
    {
        e.Leases++;
        e.LastUse = ++_clock;
        if (!fetched)
        {
            _hits++;
            _served += e.Size;
        }
        Touch(e);
        return new CacheLease(this, e.Key, e.BasePath, e.Format, e.Size, fetched);
    }

    private async Task<Entry> FetchAsync(ImageKey key, CacheSource source)
    {
        try
        {
            var dir = System.IO.Path.Combine(Directory, DirName(key));
            System.IO.Directory.CreateDirectory(dir);
            if (source.Size is { } expected) MakeRoom(expected, key);
            // Count upstream bytes as they arrive, so an interrupted attempt is counted too.
            long last = -1;
            var counter = new CountingProgress(p =>
            {
                if (last >= 0 && p.Bytes > last) Interlocked.Add(ref _fetched, p.Bytes - last);
                last = p.Bytes;
            });
            var result = await _importer.ImportAsync(new ImportRequest
            {
                Source = source.Location, Destination = System.IO.Path.Combine(dir, BaseName), Sha256 = source.Sha256, Size = source.Size,
                Authorization = source.Authorization, Inspect = _importer.Qemu is not null,
            }, counter, CancellationToken.None).ConfigureAwait(false);
            var entry = new Entry { Key = key, Dir = dir, Format = result.Format, Size = result.FileSize, Sha256 = result.Sha256 };
            await File.WriteAllTextAsync(System.IO.Path.Combine(dir, MetaName),
                JsonSerializer.Serialize(new Meta(key.ImageId, key.Version, entry.Format, entry.Size, entry.Sha256))).ConfigureAwait(false);
            lock (_gate)
            {
                _inflight.Remove(key);
                entry.LastUse = ++_clock;
                _entries[key] = entry;
                EvictLocked(exceptKey: key);
            }
            return entry;
        }
        catch (Exception ex)
        {
            lock (_gate) _inflight.Remove(key);
            if (ex is StorageException) throw;
            throw new StorageException($"Cannot cache {key} from {source.Location}: {ex.Message}", ex);
        }
    }

    /// <summary>Keeps the entry while <paramref name="holder"/> uses it (e.g. "vm42-disk0"); survives restarts.</summary>
    public void Pin(ImageKey key, string holder)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var e)) throw new InvalidOperationException($"{key} is not cached; pin it while holding a lease.");
            holder = SafeName(holder);
            if (!e.Holders.Add(holder)) return;
            var dir = System.IO.Path.Combine(e.Dir, HoldersName);
            System.IO.Directory.CreateDirectory(dir);
            File.WriteAllBytes(System.IO.Path.Combine(dir, holder), []);
        }
    }

    /// <summary>Drops every pin of <paramref name="holder"/>; entries nothing uses any more become evictable (stale ones are deleted).</summary>
    public void Unpin(string holder)
    {
        lock (_gate)
        {
            holder = SafeName(holder);
            foreach (var e in _entries.Values.Where(e => e.Holders.Remove(holder)).ToList())
            {
                ImageImporter.TryDelete(System.IO.Path.Combine(e.Dir, HoldersName, holder));
                if (e.Stale && !e.InUse) RemoveLocked(e);
            }
            EvictLocked(exceptKey: null);
        }
    }

    /// <summary>Every cached version of the image becomes stale: deleted now if unused, else when its last user lets go.</summary>
    public void Invalidate(int imageId)
    {
        lock (_gate)
        {
            foreach (var e in _entries.Values.Where(e => e.Key.ImageId == imageId).ToList())
            {
                e.Stale = true;
                if (!e.InUse) RemoveLocked(e);
            }
        }
    }

    internal void Release(ImageKey key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var e)) return;
            e.Leases--;
            if (e.Stale && !e.InUse) RemoveLocked(e);
            else EvictLocked(exceptKey: null);
        }
    }

    private void InvalidateOthersLocked(ImageKey key)
    {
        foreach (var e in _entries.Values.Where(e => e.Key.ImageId == key.ImageId && e.Key.Version != key.Version).ToList())
        {
            e.Stale = true;
            if (!e.InUse) RemoveLocked(e);
        }
    }

    private void MakeRoom(long bytes, ImageKey incoming)
    {
        lock (_gate)
        {
            var total = _entries.Values.Sum(e => e.Size);
            foreach (var victim in _entries.Values.Where(e => !e.InUse && e.Key != incoming).OrderBy(e => e.LastUse).ToList())
            {
                if (total + bytes <= MaxBytes) break;
                total -= victim.Size;
                RemoveLocked(victim);
                _evictions++;
            }
        }
    }

    private void EvictLocked(ImageKey? exceptKey)
    {
        var total = _entries.Values.Sum(e => e.Size);
        if (total <= MaxBytes) return;
        foreach (var victim in _entries.Values.Where(e => !e.InUse && e.Key != exceptKey).OrderBy(e => e.LastUse).ToList())
        {
            if (total <= MaxBytes) break;
            total -= victim.Size;
            RemoveLocked(victim);
            _evictions++;
        }
    }

    private void RemoveLocked(Entry e)
    {
        _entries.Remove(e.Key);
        try { System.IO.Directory.Delete(e.Dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
    }

    private static void Touch(Entry e)
    {
        try { File.SetLastWriteTimeUtc(System.IO.Path.Combine(e.Dir, MetaName), DateTime.UtcNow); }
        catch (IOException) { }
    }

    private void Load()
    {
        var found = new List<(Entry Entry, DateTime Used)>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory))
        {
            var metaPath = System.IO.Path.Combine(dir, MetaName);
            if (!File.Exists(metaPath) || !File.Exists(System.IO.Path.Combine(dir, BaseName))) continue; // a fetch that never finished: its .part resumes
            Meta? meta;
            try { meta = JsonSerializer.Deserialize<Meta>(File.ReadAllText(metaPath)); }
            catch (JsonException) { continue; }
            if (meta is null) continue;
            var e = new Entry { Key = new ImageKey(meta.ImageId, meta.Version), Dir = dir, Format = meta.Format, Size = meta.Size, Sha256 = meta.Sha256 };
            var holders = System.IO.Path.Combine(dir, HoldersName);
            if (System.IO.Directory.Exists(holders))
                foreach (var h in System.IO.Directory.EnumerateFiles(holders)) e.Holders.Add(System.IO.Path.GetFileName(h));
            found.Add((e, File.GetLastWriteTimeUtc(metaPath)));
        }
        foreach (var (e, _) in found.OrderBy(f => f.Used))
        {
            e.LastUse = ++_clock;
            _entries[e.Key] = e;
        }
    }

    private static string DirName(ImageKey key) => $"{key.ImageId}-{SafeName(key.Version)}";

    private static string SafeName(string s)
    {
        var chars = s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var name = new string(chars);
        return name.Length > 80 ? name[..80] : name.Length == 0 ? "_" : name;
    }
}

/// <summary>IProgress that runs its callback on the reporting thread.</summary>
internal sealed class CountingProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
{
    public void Report(TransferProgress value) => report(value);
}
