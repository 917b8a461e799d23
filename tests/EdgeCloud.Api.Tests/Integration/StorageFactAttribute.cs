using EdgeCloud.Storage;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// [Fact] for the storage suites, which run the real qemu-img: skipped with the reason on a developer's
/// machine without it; never skipped with CI=true, where a missing qemu-img fails the tests loudly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StorageFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Available = new(() => QemuImg.IsAvailable());

    public StorageFactAttribute()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!Available.Value && !ci) Skip = "qemu-img is not installed (storage tests skipped on this machine). Install it: apt-get install qemu-utils.";
    }

    /// <summary>qemu-img, or a clear failure when it is missing (CI=true).</summary>
    public static QemuImg Qemu => Available.Value ? new QemuImg() : throw new InvalidOperationException("qemu-img is not installed and CI=true: the storage tests must run in CI. Install it: apt-get install qemu-utils.");
}
