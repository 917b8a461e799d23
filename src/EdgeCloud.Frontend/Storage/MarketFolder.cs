using EdgeCloud.Core.Objects;
using EdgeCloud.Storage;

namespace EdgeCloud.Frontend.Storage;

/// <summary>
/// A private marketplace's folder: catalogue.json plus the image files under images/. The front-end
/// writes it (exports) and <c>edgecloud market serve</c> publishes it. Writes replace the catalogue
/// atomically (temporary file, then rename) under a per-folder lock.
/// </summary>
public sealed class MarketFolder(string directory)
{
    private static readonly Dictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    public string Directory { get; } = Path.GetFullPath(directory);

    public string CataloguePath => Path.Combine(Directory, MarketCatalogue.FileName);

    private SemaphoreSlim Gate
    {
        get
        {
            lock (Locks)
            {
                if (!Locks.TryGetValue(Directory, out var s)) Locks[Directory] = s = new SemaphoreSlim(1);
                return s;
            }
        }
    }

    /// <summary>The catalogue; an empty one when the file does not exist yet.</summary>
    /// <exception cref="FormatException">The file is not a catalogue.</exception>
    public MarketCatalogue Read() => File.Exists(CataloguePath) ? MarketCatalogue.Parse(File.ReadAllText(CataloguePath)) : new MarketCatalogue();

    /// <summary>Creates the folder and an empty catalogue if there is none.</summary>
    public void EnsureExists()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "images"));
        if (!File.Exists(CataloguePath)) Write(new MarketCatalogue());
    }

    private void Write(MarketCatalogue c)
    {
        var tmp = CataloguePath + ".tmp";
        File.WriteAllText(tmp, c.ToJson());
        File.Move(tmp, CataloguePath, overwrite: true);
    }

    /// <summary>
    /// Copies an image file into images/ (checked, with its digests) and lists it in the catalogue under
    /// <paramref name="app"/>'s name (replacing an entry of that name). Returns the entry as written.
    /// </summary>
    public async Task<CatalogueApp> AddAsync(string imageFile, CatalogueApp app, ImageImporter importer, CancellationToken ct)
    {
        EnsureExists();
        var fileName = $"{Safe(app.Name)}{(app.Version.Length > 0 ? "-" + Safe(app.Version) : "")}{(app.Format.Length > 0 ? "." + app.Format : "")}";
        var dest = Path.Combine(Directory, "images", fileName);
        var r = await importer.ImportAsync(new ImportRequest { Source = imageFile, Destination = dest, Inspect = importer.Qemu is not null }, null, ct).ConfigureAwait(false);
        var entry = app with { Url = "images/" + fileName, Sha256 = r.Sha256, Md5 = r.Md5, Size = r.FileSize, Format = r.Format };
        await Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var c = Read();
            c.Apps.RemoveAll(a => a.Name == app.Name);
            c.Apps.Add(entry);
            Write(c);
        }
        finally
        {
            Gate.Release();
        }
        return entry;
    }

    /// <summary>Removes an app from the catalogue and deletes its file when it lies in this folder.</summary>
    public async Task RemoveAsync(string name, CancellationToken ct)
    {
        if (!File.Exists(CataloguePath)) return;
        await Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var c = Read();
            foreach (var a in c.Apps.Where(a => a.Name == name).ToList())
            {
                if (!a.Url.Contains("://", StringComparison.Ordinal) && Inside(Path.Combine(Directory, a.Url)) is { } file) ImageImporter.TryDelete(file);
                c.Apps.Remove(a);
            }
            Write(c);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Image files under images/ that the catalogue does not list yet are added (name = file name without extension).</summary>
    public async Task<int> ScanAsync(QemuImg? qemu, CancellationToken ct)
    {
        EnsureExists();
        var c = Read();
        var listed = c.Apps.Select(a => a.Url).ToHashSet(StringComparer.Ordinal);
        var added = 0;
        foreach (var f in System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "images")).Order(StringComparer.Ordinal))
        {
            var url = "images/" + Path.GetFileName(f);
            if (listed.Contains(url) || f.EndsWith(".part", StringComparison.Ordinal)) continue;
            var (sha, md5) = await ImageImporter.DigestsAsync(f, ct).ConfigureAwait(false);
            var format = qemu is null ? "raw" : (await ImageImporter.InspectAsync(qemu, f, f, ct).ConfigureAwait(false)).Format;
            var name = Path.GetFileNameWithoutExtension(f);
            if (c.Apps.Any(a => a.Name == name)) name = Path.GetFileName(f);
            c.Apps.Add(new CatalogueApp { Name = name, Url = url, Sha256 = sha, Md5 = md5, Size = new FileInfo(f).Length, Format = format });
            added++;
        }
        if (added > 0) Write(c);
        return added;
    }

    /// <summary>The full path of a file inside the folder, or null when the path leaves it.</summary>
    public string? Inside(string path)
    {
        var full = Path.GetFullPath(path);
        return full.StartsWith(Directory.TrimEnd('/') + "/", StringComparison.Ordinal) ? full : null;
    }

    private static string Safe(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
