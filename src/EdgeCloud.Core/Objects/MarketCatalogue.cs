using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// The catalogue of an "http" marketplace: one JSON file (catalogue.json at the marketplace's ENDPOINT)
/// listing its apps. The format is EdgeCloud's own and is documented in docs/storage.md:
/// <code>
/// { "version": 1,
///   "apps": [ { "name": "tiny", "version": "1.0", "description": "...", "url": "images/tiny.qcow2",
///               "sha256": "...", "md5": "", "size": 17039360, "format": "qcow2",
///               "image_template": "DEV_PREFIX = \"vd\"", "vm_template": "CPU = 1\nMEMORY = 128" } ] }
/// </code>
/// "url" may be relative to the catalogue's own URL; "size" is in bytes.
/// </summary>
public sealed record MarketCatalogue
{
    public const string FileName = "catalogue.json";

    [JsonPropertyName("version")] public int Version { get; init; } = 1;
    [JsonPropertyName("apps")] public List<CatalogueApp> Apps { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <exception cref="FormatException">Not a catalogue (the message says what is wrong).</exception>
    public static MarketCatalogue Parse(string json)
    {
        MarketCatalogue? c;
        try
        {
            c = JsonSerializer.Deserialize<MarketCatalogue>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the catalogue is not valid JSON: {ex.Message}", ex);
        }
        if (c is null) throw new FormatException("the catalogue is empty (null)");
        foreach (var (a, i) in c.Apps.Select((a, i) => (a, i)))
        {
            if (string.IsNullOrWhiteSpace(a.Name)) throw new FormatException($"app {i} of the catalogue has no name");
            if (string.IsNullOrWhiteSpace(a.Url)) throw new FormatException($"app \"{a.Name}\" of the catalogue has no url");
        }
        var dup = c.Apps.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new FormatException($"the catalogue lists app \"{dup.Key}\" more than once");
        return c;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>One app of a <see cref="MarketCatalogue"/>.</summary>
public sealed record CatalogueApp
{
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("version")] public string Version { get; init; } = "";
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    /// <summary>The image file: absolute http(s) URL or relative to the catalogue.</summary>
    [JsonPropertyName("url")] public string Url { get; init; } = "";
    [JsonPropertyName("sha256")] public string Sha256 { get; init; } = "";
    [JsonPropertyName("md5")] public string Md5 { get; init; } = "";
    /// <summary>Bytes of the image file.</summary>
    [JsonPropertyName("size")] public long Size { get; init; }
    [JsonPropertyName("format")] public string Format { get; init; } = "";
    /// <summary>Attributes for the image created on import (OpenNebula template syntax).</summary>
    [JsonPropertyName("image_template")] public string ImageTemplate { get; init; } = "";
    /// <summary>A VM template created with the image on import (OpenNebula template syntax; its DISK is added).</summary>
    [JsonPropertyName("vm_template")] public string VmTemplate { get; init; } = "";
}
