using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

/// <summary>OpenNebula's MarketPlace state.</summary>
public enum MarketState { ENABLED = 0, DISABLED = 1 }

/// <summary>OpenNebula's MarketPlaceApp state.</summary>
public enum MarketAppState { INIT = 0, READY = 1, LOCKED = 2, ERROR = 3, DISABLED = 4 }

/// <summary>OpenNebula's MarketPlaceApp type.</summary>
public enum MarketAppType { UNKNOWN = 0, IMAGE = 1, VMTEMPLATE = 2, SERVICE_TEMPLATE = 3 }

/// <summary>A marketplace (marketplace.xsd): a catalogue of apps behind its MARKET_MAD driver.</summary>
public sealed record Market : OwnedObject
{
    public override ObjectType Type => ObjectType.Market;
    public string MarketMad { get; init; } = "";
    public MarketState State { get; init; }
    public string ZoneId { get; init; } = "0";
    public long TotalMb { get; init; }
    public long FreeMb { get; init; }
    public long UsedMb { get; init; }
    public ImmutableSortedSet<int> Apps { get; init; } = [];
}

/// <summary>An app of a marketplace (marketplaceapp.xsd): an image (and its VM template) that can be imported into a datastore.</summary>
public sealed record MarketApp : OwnedObject
{
    public override ObjectType Type => ObjectType.MarketApp;
    public long RegTime { get; init; }
    public string ZoneId { get; init; } = "0";
    /// <summary>The image an exported app was made from; -1 for apps listed from a catalogue.</summary>
    public int OriginId { get; init; } = -1;
    /// <summary>Where the app's image is downloaded from (a URL).</summary>
    public string Source { get; init; } = "";
    public string Md5 { get; init; } = "";
    /// <summary>MiB.</summary>
    public long Size { get; init; }
    public string Description { get; init; } = "";
    public string Version { get; init; } = "";
    public string Format { get; init; } = "";
    /// <summary>Base64 of the image template the app's image is created with.</summary>
    public string AppTemplate64 { get; init; } = "";
    public int MarketId { get; init; }
    public string MarketName { get; init; } = "";
    public MarketAppState State { get; init; }
    public MarketAppType AppType { get; init; } = MarketAppType.IMAGE;
    /// <summary>True for apps the marketplace driver listed from the catalogue (the driver keeps them in step with it).</summary>
    public bool FromCatalogue { get; init; }
}
