using EdgeCloud.Storage;

namespace EdgeCloud.Storage.Tests;

/// <summary>
/// [Fact] for tests that run the real qemu-img: skipped with the reason on a developer's machine without
/// it; with CI=true never skipped, so a CI machine without qemu-img fails loudly (<see cref="Tools.Qemu"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (Tools.QemuSkipReason is { } reason) Skip = reason;
    }
}

public static class Tools
{
    private static readonly Lazy<bool> Available = new(() => QemuImg.IsAvailable());

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public const string HowTo = "Install it: apt-get install qemu-utils (Debian) — it provides qemu-img.";

    public static string? QemuSkipReason => Available.Value || InCi ? null : "qemu-img is not installed (storage tests that need it are skipped on this machine). " + HowTo;

    /// <summary>The qemu-img wrapper; fails the test with the reason when qemu-img is missing (CI=true).</summary>
    public static QemuImg Qemu => Available.Value ? new QemuImg() : throw new InvalidOperationException("qemu-img is not installed and CI=true: the storage tests must run in CI. " + HowTo);
}
