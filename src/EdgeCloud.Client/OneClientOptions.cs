namespace EdgeCloud.Client;

/// <summary>Settings of a <see cref="OneClient"/>; the defaults behave like the Ruby OCA.</summary>
public sealed record OneClientOptions
{
    /// <summary>The defaults.</summary>
    public static OneClientOptions Default { get; } = new();

    /// <summary>
    /// How long one call may take, including reading the answer. 5 minutes by default: listings of large
    /// pools are big, and a call that is merely slow should not be cut off.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How integers are tagged (<c>&lt;i4&gt;</c> like Ruby, or <c>&lt;int&gt;</c> like pyone).</summary>
    public OneIntegerTag IntegerTag { get; init; } = OneIntegerTag.I4;

    /// <summary>The User-Agent header sent with every call.</summary>
    public string UserAgent { get; init; } = "EdgeCloud.Client";
}
