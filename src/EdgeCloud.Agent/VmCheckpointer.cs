using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>What the agent last did for a VM's checkpoints, as reported to the front-end with the monitoring.</summary>
public sealed record CheckpointReport(long Seq, long Time, long Bytes, bool Full, long TotalBytes);

/// <summary>
/// Periodic crash-consistent checkpoints of the VMs of this host whose spec asks for them
/// (<see cref="VmSpec.CheckpointInterval"/>), shipped to the cluster's replica host, and the restore of
/// a VM from its checkpoint chain on another host after its own host failed.
/// <para>
/// How a checkpoint is taken (kvm: <see cref="IDiskCheckpoints"/>): the VM's overlay <c>disk.N</c> (on the
/// cached base image) stays the bottom layer; each checkpoint freezes the current active layer by switching
/// the running domain to a new empty layer <c>disk.N.ckSEQ</c>. The frozen layer holds exactly the blocks
/// written since the previous checkpoint, so only it is sent; once the replica has it, it is merged down
/// into <c>disk.N</c> (the local chain stays base ← disk.N ← active). The first checkpoint of a chain
/// sends <c>disk.N</c> itself (everything written since the VM started, relative to the base image).
/// </para>
/// <para>
/// Before any command for the VM runs (the executor calls <see cref="SettleAsync"/> under the VM's lock)
/// the layers are merged back into <c>disk.N</c>, so shutdown, save, migration and snapshots see the
/// VM's disks where they always are; the next checkpoint then starts a new chain on the replica.
/// State per VM is in VMDIR/checkpoints.json, so an agent restart picks up where it was.
/// </para>
/// </summary>
public sealed class VmCheckpointer(LocalState state, CommandExecutor executor, IDiskCheckpoints hypervisor, LocalDisks disks, ILogger logger)
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly QemuImg _qemu = new();
    private long _sentBytes;
    private long _checkpoints;

    /// <summary>Bytes of checkpoint layers this host sent to replicas, and checkpoints taken (host monitoring).</summary>
    public IReadOnlyDictionary<string, string> Facts() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CHECKPOINT_SENT_BYTES"] = Interlocked.Read(ref _sentBytes).ToString(CultureInfo.InvariantCulture),
        ["CHECKPOINTS_TAKEN"] = Interlocked.Read(ref _checkpoints).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The VM's last checkpoint as JSON for its monitoring report; empty when it has none.</summary>
    public string ReportJson(VmSpec spec)
    {
        var s = Load(spec);
        return s.Seq == 0 || s.LastAt == 0 ? "" : JsonSerializer.Serialize(new CheckpointReport(s.Seq, s.LastAt, s.LastBytes, s.LastFull, s.TotalBytes), LocalState.Json);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(Tick, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            foreach (var vm in state.Vms)
            {
                var spec = vm.Spec;
                if (vm.Desired != DesiredState.Running || spec.CheckpointInterval <= 0 || spec.CheckpointReplica.Length == 0) continue;
                if (executor.IsBusy(spec.VmId)) continue;
                var s = Load(spec);
                if (now - Math.Max(s.LastAt, s.LastTry) < spec.CheckpointInterval) continue;
                try
                {
                    await executor.WithVmLockAsync(spec.VmId, () => CheckpointAsync(spec.VmId, ct), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception ex) when (ex is HostDriverException or IOException or HttpRequestException or StorageException or JsonException or InvalidOperationException or OperationCanceledException)
                {
                    logger.LogWarning("VM {VmId}: checkpoint failed: {Reason}", spec.VmId, ex.Message);
                    Save(spec, Load(spec) with { LastTry = now });
                }
            }
        }
    }

    /// <summary>The overlay disks of a VM: those a checkpoint covers (image disks, not persistent, not CD-ROMs).</summary>
    public static IEnumerable<DiskSpec> Covered(VmSpec spec) =>
        spec.Disks.Where(d => d.Device == "disk" && !d.Persistent && !d.ReadOnly && d.ImageId >= 0 && d.Source.Length > 0);

    /// <summary>Takes one checkpoint of a running VM and ships it (call under the VM's lock).</summary>
    public async Task<bool> CheckpointAsync(int vmId, CancellationToken ct)
    {
        if (state.Vm(vmId) is not { Desired: DesiredState.Running } vm) return false;
        var spec = vm.Spec;
        var domain = spec.DomainName;
        var covered = Covered(spec).ToList();
        if (covered.Count == 0) throw new InvalidOperationException("the VM has no overlay disk of an image to checkpoint");
        if (!(await executor.Hypervisor.ListAsync(ct).ConfigureAwait(false)).Any(d => d.Name == domain && d.State is DomainState.Running or DomainState.Paused))
            return false;
        var s = Load(spec);
        // What each disk writes now: the layer this checkpoint freezes.
        var frozen = new Dictionary<int, string>();
        foreach (var d in covered)
        {
            var active = await hypervisor.ActiveFileAsync(domain, d.Target, ct).ConfigureAwait(false);
            var expected = s.Active.TryGetValue(d.DiskId, out var a) ? a : d.Path;
            if (active != expected && active != d.Path)
                throw new InvalidOperationException($"disk {d.DiskId} writes {active}, not {expected}: the checkpoint layers were changed outside the agent");
            frozen[d.DiskId] = active;
        }
        var seq = s.Seq + 1;
        var next = covered.ToDictionary(d => d.DiskId, d => Path.Combine(spec.VmDir, $"disk.{d.DiskId}.ck{seq}"));
        await hypervisor.FreezeAsync(domain, covered.Select(d => (d.Target, next[d.DiskId])).ToList(), ct).ConfigureAwait(false);
        s = s with { Seq = seq, Active = next };
        Save(spec, s);

        long bytes = 0;
        var full = false;
        try
        {
            foreach (var d in covered)
            {
                var reset = frozen[d.DiskId] == d.Path; // the first layer of a new chain: everything since the VM started
                full |= reset;
                bytes += await ShipAsync(spec, d, seq, frozen[d.DiskId], reset, ct).ConfigureAwait(false);
            }
        }
        catch
        {
            // The replica did not get all of it: merge everything back; the next checkpoint starts a new chain.
            await SettleAsync(vmId, ct).ConfigureAwait(false);
            throw;
        }
        // Shipped: merge the frozen layers down into disk.N (the running domain keeps writing its new layer).
        foreach (var d in covered.Where(d => frozen[d.DiskId] != d.Path))
        {
            await hypervisor.CommitAsync(domain, d.Target, frozen[d.DiskId], d.Path, ct).ConfigureAwait(false);
            File.Delete(frozen[d.DiskId]);
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Save(spec, s with { LastAt = now, LastTry = now, LastBytes = bytes, LastFull = full, TotalBytes = s.TotalBytes + bytes });
        Interlocked.Add(ref _sentBytes, bytes);
        Interlocked.Increment(ref _checkpoints);
        logger.LogInformation("VM {VmId}: checkpoint {Seq} sent to the replica: {Bytes} bytes ({Kind})", vmId, seq, bytes, full ? "new chain" : "changed blocks");
        return true;
    }

    private async Task<long> ShipAsync(VmSpec spec, DiskSpec disk, long seq, string layer, bool reset, CancellationToken ct)
    {
        var http = disks.Http ?? throw new InvalidOperationException("the agent has no HTTPS client for its replica");
        var url = new Uri(new Uri(spec.CheckpointReplica.TrimEnd('/') + "/"),
            string.Create(CultureInfo.InvariantCulture, $"checkpoints/{spec.VmId}/{disk.DiskId}/{seq}?image={disk.ImageId}&gen={spec.CheckpointGeneration}&reset={(reset ? 1 : 0)}"));
        var length = new FileInfo(layer).Length;
        await using var file = new FileStream(layer, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, useAsync: true);
        using var content = new StreamContent(file, 1 << 20);
        content.Headers.ContentLength = length;
        using var resp = await http.PutAsync(url, content, ct).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode)
            throw new HostDriverException($"the replica answered HTTP {(int)resp.StatusCode} to checkpoint {seq} of disk {disk.DiskId}: {(await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim()}");
        return length;
    }

    /// <summary>
    /// Merges any checkpoint layers of the VM back into its disk.N files, so the VM's disks are where every
    /// other action expects them (call under the VM's lock; a no-op for VMs without layers).
    /// </summary>
    public async Task SettleAsync(int vmId, CancellationToken ct)
    {
        if (state.Vm(vmId) is not { } vm) return;
        var spec = vm.Spec;
        var s = Load(spec);
        if (s.Active.Count == 0) return;
        var running = (await executor.Hypervisor.ListAsync(ct).ConfigureAwait(false)).Any(d => d.Name == spec.DomainName && d.State is DomainState.Running or DomainState.Paused);
        foreach (var d in spec.Disks.Where(d => s.Active.ContainsKey(d.DiskId)))
        {
            if (running)
            {
                var active = await hypervisor.ActiveFileAsync(spec.DomainName, d.Target, ct).ConfigureAwait(false);
                if (active.Length > 0 && active != d.Path) await hypervisor.CommitActiveAsync(spec.DomainName, d.Target, d.Path, ct).ConfigureAwait(false);
            }
            else
            {
                // The domain is gone (crash, agent restart): qemu-img commits the top layer and every layer
                // between it and disk.N into disk.N in one go (committing a lower layer again would write older data).
                if (Layers(spec, d.DiskId).LastOrDefault() is { } top)
                    await QemuCommitAsync(top, d.Path, ct).ConfigureAwait(false);
            }
            foreach (var layer in Layers(spec, d.DiskId)) File.Delete(layer);
        }
        Save(spec, s with { Active = new Dictionary<int, string>() });
        logger.LogInformation("VM {VmId}: checkpoint layers merged back into its disks", vmId);
    }

    /// <summary>The checkpoint layer files of a disk, oldest first.</summary>
    private static IEnumerable<string> Layers(VmSpec spec, int diskId) =>
        Directory.Exists(spec.VmDir)
            ? Directory.EnumerateFiles(spec.VmDir, $"disk.{diskId}.ck*")
                .Select(f => (File: f, Seq: long.TryParse(Path.GetFileName(f).AsSpan($"disk.{diskId}.ck".Length), CultureInfo.InvariantCulture, out var n) ? n : -1))
                .Where(x => x.Seq >= 0).OrderBy(x => x.Seq).Select(x => x.File).ToList()
            : [];

    private async Task QemuCommitAsync(string top, string baseFile, CancellationToken ct)
    {
        var r = await ProcessRunner.RunAsync(_qemu.Executable, ["commit", "-b", baseFile, top], TimeSpan.FromMinutes(30), ct).ConfigureAwait(false);
        if (r.ExitCode != 0) throw new HostDriverException($"qemu-img commit -b {baseFile} {top}: {r.StdErr.Trim()}");
    }

    /// <summary>
    /// Rebuilds the VM's overlay disks from its checkpoint chain on the replica (the VM's host failed and it
    /// restarts here): each layer is fetched, the first re-based on this host's cached copy of the base image,
    /// and the chain merged into disk.N. Disks already present are kept (a retried prolog); disks the replica
    /// has no chain for are left to the storage step (a fresh overlay, as a recreate).
    /// </summary>
    public async Task RestoreAsync(VmSpec spec, CancellationToken ct)
    {
        var http = disks.Http ?? throw new HostDriverException("the agent has no HTTPS client for its replica");
        var missing = Covered(spec).Where(d => !File.Exists(d.Path)).ToList();
        if (missing.Count == 0) return;
        var source = new Uri(spec.CheckpointRestoreFrom.TrimEnd('/') + "/");
        var chains = await http.GetFromJsonAsync<Dictionary<string, CheckpointChain>>(new Uri(source, $"checkpoints/{spec.VmId}"), LocalState.Json, ct).ConfigureAwait(false)
                     ?? [];
        Directory.CreateDirectory(spec.VmDir);
        foreach (var d in missing)
        {
            if (!chains.TryGetValue(d.DiskId.ToString(CultureInfo.InvariantCulture), out var chain) || chain.Deltas.Count == 0)
            {
                logger.LogWarning("VM {VmId}: the replica has no checkpoint of disk {DiskId}: it starts from its image", spec.VmId, d.DiskId);
                continue;
            }
            var work = Path.Combine(spec.VmDir, $".restore-{d.DiskId}");
            Directory.CreateDirectory(work);
            var files = new List<string>();
            foreach (var delta in chain.Deltas)
            {
                var local = Path.Combine(work, delta.File);
                await FetchAsync(http, new Uri(source, $"checkpoints/{spec.VmId}/{d.DiskId}/{delta.File}"), local, ct).ConfigureAwait(false);
                files.Add(local);
            }
            // Bottom layer onto this host's cached base (pinned for the VM), each later layer onto the one before.
            await disks.AdoptAsync(spec, d with { Path = files[0] }, ct).ConfigureAwait(false);
            for (var i = 1; i < files.Count; i++) await _qemu.RebaseAsync(files[i], files[i - 1], "qcow2", unsafeRebase: true, ct).ConfigureAwait(false);
            if (files.Count > 1) await QemuCommitAsync(files[^1], files[0], ct).ConfigureAwait(false);
            File.Move(files[0], d.Path);
            Directory.Delete(work, recursive: true);
            logger.LogInformation("VM {VmId}: disk {DiskId} restored from checkpoint {Seq} ({Layers} layers from the replica)", spec.VmId, d.DiskId, chain.Deltas[^1].Seq, files.Count);
        }
    }

    private static async Task FetchAsync(HttpClient http, Uri url, string path, CancellationToken ct)
    {
        using var resp = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode) throw new HostDriverException($"Checkpoint restore: {url} answered HTTP {(int)resp.StatusCode}");
        await using var src = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var dst = new FileStream(path + ".part", FileMode.Create, FileAccess.Write);
        await src.CopyToAsync(dst, 1 << 20, ct).ConfigureAwait(false);
        await dst.DisposeAsync().ConfigureAwait(false);
        File.Move(path + ".part", path, overwrite: true);
    }

    // ------------------------------------------------------------------ per-VM state (VMDIR/checkpoints.json)

    private sealed record State
    {
        public long Seq { get; init; }
        /// <summary>Disk id → the layer the running domain writes (absent: disk.N itself).</summary>
        public Dictionary<int, string> Active { get; init; } = [];
        public long LastAt { get; init; }
        public long LastTry { get; init; }
        public long LastBytes { get; init; }
        public bool LastFull { get; init; }
        public long TotalBytes { get; init; }
    }

    private static string StatePath(VmSpec spec) => Path.Combine(spec.VmDir, "checkpoints.json");

    private static State Load(VmSpec spec)
    {
        try { return JsonSerializer.Deserialize<State>(File.ReadAllText(StatePath(spec)), LocalState.Json) ?? new State(); }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException) { return new State(); }
    }

    private static void Save(VmSpec spec, State s)
    {
        if (!Directory.Exists(spec.VmDir)) return;
        var path = StatePath(spec);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(s, LocalState.Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
