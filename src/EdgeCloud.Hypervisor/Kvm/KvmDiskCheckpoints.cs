using System.Xml.Linq;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// <see cref="IDiskCheckpoints"/> on libvirt: a disk-only external snapshot without libvirt metadata
/// (<c>virsh snapshot-create-as --disk-only --atomic --no-metadata</c>) freezes the current layers, and
/// <c>virsh blockcommit</c> (always with an explicit <c>--base</c>, so nothing is ever written into the
/// shared base image) merges shipped layers back. No libvirt snapshot or checkpoint objects are left
/// behind, so define/undefine, save and migration of the domain work as before.
/// </summary>
public sealed class KvmDiskCheckpoints(KvmOptions? options = null, CommandRunner? runner = null) : IDiskCheckpoints
{
    private readonly KvmOptions _options = options ?? new KvmOptions();
    private readonly CommandRunner _runner = runner ?? new CommandRunner();

    public async Task FreezeAsync(string domain, IReadOnlyList<(string Target, string NewActive)> disks, CancellationToken ct)
    {
        var args = new List<string> { "snapshot-create-as", domain, "--disk-only", "--atomic", "--no-metadata" };
        var wanted = disks.ToDictionary(d => d.Target, d => d.NewActive, StringComparer.Ordinal);
        foreach (var target in await TargetsAsync(domain, ct))
            args.AddRange(["--diskspec", wanted.TryGetValue(target, out var file) ? $"{target},snapshot=external,file={file},driver=qcow2" : $"{target},snapshot=no"]);
        await VirshAsync(ct, [.. args]);
    }

    public Task CommitAsync(string domain, string target, string top, string baseFile, CancellationToken ct) =>
        VirshAsync(ct, "blockcommit", domain, target, "--top", top, "--base", baseFile, "--wait");

    public Task CommitActiveAsync(string domain, string target, string baseFile, CancellationToken ct) =>
        VirshAsync(ct, "blockcommit", domain, target, "--active", "--pivot", "--base", baseFile, "--wait");

    public async Task<string> ActiveFileAsync(string domain, string target, CancellationToken ct)
    {
        var r = await _runner.RunAsync("virsh", ["-c", _options.Uri, "dumpxml", domain], ct, _options.CommandTimeout);
        if (!r.Ok) return "";
        var disk = XElement.Parse(r.Stdout).Element("devices")?.Elements("disk")
            .FirstOrDefault(d => (string?)d.Element("target")?.Attribute("dev") == target);
        return (string?)disk?.Element("source")?.Attribute("file") ?? "";
    }

    /// <summary>Every disk target of the domain (disks and CD-ROMs).</summary>
    private async Task<IReadOnlyList<string>> TargetsAsync(string domain, CancellationToken ct)
    {
        var xml = XElement.Parse(await VirshAsync(ct, "dumpxml", domain));
        return xml.Element("devices")?.Elements("disk").Select(d => (string?)d.Element("target")?.Attribute("dev")).OfType<string>().ToList() ?? [];
    }

    private async Task<string> VirshAsync(CancellationToken ct, params string[] args)
    {
        var r = await _runner.RunAsync("virsh", ["-c", _options.Uri, .. args], ct, _options.LongCommandTimeout);
        if (!r.Ok) throw CommandRunner.Failure("virsh", args, r);
        return r.Stdout;
    }
}
