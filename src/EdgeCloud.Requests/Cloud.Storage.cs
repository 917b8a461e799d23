using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Requests;

/// <summary>What a real datastore driver reports back about an image copy.</summary>
public sealed record ImageCopyOutcome
{
    public required bool Ok { get; init; }
    public string Source { get; init; } = "";
    public long SizeMb { get; init; }
    public string Format { get; init; } = "";
    public string Error { get; init; } = "";
    /// <summary>Attributes to set in the image's TEMPLATE (SHA256, ...).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

public sealed partial class Cloud
{
    /// <summary>A real datastore driver finished copying an image: READY (with SOURCE, SIZE, FORMAT and its attributes) or ERROR.</summary>
    public Task ImageCopiedAsync(int id, ImageCopyOutcome outcome, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx => ImageReady(tx, id, outcome.Ok, outcome.Source, outcome.SizeMb, outcome.Format, outcome.Error, outcome.Attributes), ct);

    /// <summary>Progress of an image copy, shown as TEMPLATE/TRANSFER_PROGRESS (percent) while the image is LOCKED.</summary>
    public Task ImageTransferProgressAsync(int id, int percent, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Image>(ObjectType.Image, id) is not { State: ImageState.LOCKED } image) return;
            var text = percent.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (image.Template.Get("TRANSFER_PROGRESS") == text) return;
            var t = image.Template.Clone();
            t.Set("TRANSFER_PROGRESS", text);
            tx.Put(image with { Template = t });
        }, ct);
}
