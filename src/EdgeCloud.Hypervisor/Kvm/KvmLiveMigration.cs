using System.Xml.Linq;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>How the disks of a live-migrated domain reach the destination host.</summary>
public enum MigrationStorage
{
    /// <summary>The disks are on storage both hosts see: nothing is copied.</summary>
    Shared,

    /// <summary><c>--copy-storage-inc</c>: the destination has every disk file already (overlays on its own cached base);
    /// QEMU copies each disk's top layer (the whole disk for one without a backing file).</summary>
    Incremental,

    /// <summary><c>--copy-storage-all</c>: QEMU copies every disk's whole content, backing chain included.</summary>
    All,
}

/// <summary>
/// Live migration between two agent hosts (<c>virsh migrate --live</c> with the domain's disks copied by
/// QEMU over NBD). The VM's directory differs between the hosts (each agent has its own data directory),
/// so the destination gets the running domain's XML with the source's VM directory replaced by the
/// destination's (<c>--xml</c>, and <c>--persistent-xml</c> for the definition it keeps).
/// </summary>
public sealed partial class KvmHypervisor
{
    /// <summary>
    /// The destination side, before the migration: what QEMU needs there besides the disks (the context CD,
    /// which libvirt does not copy: it is read-only).
    /// </summary>
    public async Task PrepareIncomingAsync(VmSpec spec, CancellationToken ct)
    {
        Directory.CreateDirectory(spec.VmDir);
        await ContextIso.BuildAsync(spec, _runner, ct);
    }

    /// <summary>
    /// Migrates the running <paramref name="domain"/> live to <paramref name="destinationUri"/> (a libvirt URI of the
    /// other host, e.g. qemu+tcp://ADDR/system), its files moving from <paramref name="sourceVmDir"/> to
    /// <paramref name="destinationVmDir"/>. On success the domain runs there, persistent, and is undefined here; on
    /// failure libvirt aborts the job and the domain keeps running here. Repeated after a success, it checks the
    /// destination runs the domain.
    /// </summary>
    public async Task MigrateLiveAsync(string domain, string destinationUri, string sourceVmDir, string destinationVmDir, MigrationStorage storage, CancellationToken ct)
    {
        using var _ = await LockAsync(domain, ct);
        var state = await StateAsync(domain, ct);
        if (state is DomainState.Missing)
        {
            var there = await _runner.RunAsync("virsh", ["-c", destinationUri, "domstate", domain], ct, _options.CommandTimeout);
            if (there.Ok && there.Stdout.Trim() == "running") return;
            throw new HostDriverException($"live migrate {domain}: no such domain here");
        }
        if (state is not (DomainState.Running or DomainState.Paused))
            throw new HostDriverException($"live migrate {domain}: the domain is not running ({state})");

        var live = MoveVmDir(await VirshAsync(ct, "dumpxml", "--migratable", domain), sourceVmDir, destinationVmDir);
        var persistent = MoveVmDir(await VirshAsync(ct, "dumpxml", "--inactive", "--migratable", domain), sourceVmDir, destinationVmDir);
        var dir = Directory.CreateTempSubdirectory("edgecloud-migrate-").FullName;
        try
        {
            var liveFile = Path.Combine(dir, "live.xml");
            var persistentFile = Path.Combine(dir, "persistent.xml");
            await File.WriteAllTextAsync(liveFile, live, ct);
            await File.WriteAllTextAsync(persistentFile, persistent, ct);
            var args = new List<string> { "migrate", "--live", "--unsafe", "--persistent", "--undefinesource", "--xml", liveFile, "--persistent-xml", persistentFile };
            if (storage == MigrationStorage.Incremental) args.Add("--copy-storage-inc");
            if (storage == MigrationStorage.All) args.Add("--copy-storage-all");
            args.AddRange([domain, destinationUri]);
            if (MigrateUri(destinationUri) is { } m) args.AddRange(["--migrateuri", m]);
            try
            {
                await VirshLongAsync(ct, [.. args]);
            }
            catch (HostDriverException e)
            {
                throw new HostDriverException($"live migrate {domain} to {destinationUri}: {e.Message}", e);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The domain XML with the VM directory moved, and without the disks' <c>backingStore</c> chains: the destination
    /// finds each disk's chain in its own files (an overlay there rests on that host's cached base image).
    /// </summary>
    internal static string MoveVmDir(string xml, string from, string to)
    {
        if (from.Length == 0 || to.Length == 0) throw new ArgumentException("The VM directories of both hosts are needed for a live migration.");
        var doc = XDocument.Parse(xml.Replace(from.TrimEnd('/'), to.TrimEnd('/'), StringComparison.Ordinal));
        doc.Root!.Element("devices")?.Elements("disk").Elements("backingStore").Remove();
        return doc.ToString();
    }
}
