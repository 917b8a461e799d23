using EdgeCloud.Core;
using EdgeCloud.Core.Drivers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using EdgeCloud.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>One layer of a disk's checkpoint chain on the replica.</summary>
public sealed record CheckpointDelta(long Seq, string File, long Bytes, long At);

/// <summary>A disk's checkpoint chain: the base image it sits on and its layers, oldest first.</summary>
/// <remarks><c>Generation</c> is the VM's history sequence on the host that shipped it: a host the VM has left
/// (its agent back after the VM was restarted elsewhere) has a lower one and is refused.</remarks>
public sealed record CheckpointChain(int ImageId, List<CheckpointDelta> Deltas, int Generation = 0);

/// <summary>
/// The cluster replica's store of VM checkpoints (DATA/checkpoints/VMID/DISK/): for each disk the base
/// image id and the ordered qcow2 layers the VM's host shipped (<see cref="VmCheckpointer"/>). A layer is
/// written to a .part name and renamed when whole; a layer marked <c>reset</c> starts a new chain and
/// drops the old one. When a chain grows past <see cref="MaxLayers"/> it is compacted into one layer
/// (re-based on this host's cached base image and merged with qemu-img). Served to the host a VM
/// restarts on after its own host failed. Peers reach it over the agents' mutual TLS
/// (<see cref="AgentFileServer"/>):
/// <c>PUT /checkpoints/VM/DISK/SEQ?image=ID&amp;gen=N&amp;reset=0|1</c>, <c>GET /checkpoints/VM</c> (the chains as JSON),
/// <c>GET /checkpoints/VM/DISK/FILE</c>. The chains of a VM that ended go when the front-end says so
/// (<see cref="ForgetAsync"/>, <see cref="ReconcileAsync"/>: agent commands, <see cref="CheckpointCommands"/>).
/// </summary>
public sealed class CheckpointStore(string dir, LocalDisks disks, ILogger logger)
{
    public const int MaxLayers = 4;
    private static readonly JsonSerializerOptions Json = LocalState.Json;
    private readonly KeyedLocks<int> _locks = new();
    private readonly QemuImg _qemu = new();
    private long _receivedBytes;

    /// <summary>Bytes of checkpoint layers received from the cluster's hosts (host monitoring of the replica).</summary>
    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);

    public IReadOnlyDictionary<string, string> Facts() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["CHECKPOINT_RECEIVED_BYTES"] = ReceivedBytes.ToString(CultureInfo.InvariantCulture),
    };

    public void Map(WebApplication web)
    {
        web.MapPut("/checkpoints/{vm:int}/{disk:int}/{seq:long}", async (HttpContext ctx, int vm, int disk, long seq) =>
        {
            if (!int.TryParse(ctx.Request.Query["image"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var image) || image < 0)
                return Results.BadRequest("image=ID (the disk's base image) is required.\n");
            var reset = ctx.Request.Query["reset"] == "1";
            _ = int.TryParse(ctx.Request.Query["gen"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var generation);
            try
            {
                var stored = await PutAsync(vm, disk, seq, image, generation, reset, ctx.Request.Body, ctx.RequestAborted).ConfigureAwait(false);
                return Results.Json(new { stored }, Json);
            }
            catch (ArgumentException ex) { return Results.Conflict(ex.Message + "\n"); }
        });
        web.MapGet("/checkpoints/{vm:int}", (int vm) =>
        {
            var chains = Chains(vm);
            return chains.Count == 0 ? Results.NotFound($"No checkpoint of VM {vm} here.\n") : Results.Json(chains, Json);
        });
        web.MapMethods("/checkpoints/{vm:int}/{disk:int}/{file}", ["GET", "HEAD"], (int vm, int disk, string file) =>
        {
            if (Chain(vm, disk) is not { } chain || chain.Deltas.All(d => d.File != file)) return Results.NotFound($"{file} is not in the chain of disk {disk} of VM {vm}.\n");
            return Results.File(Path.Combine(DiskDir(vm, disk), file), "application/octet-stream", enableRangeProcessing: true);
        });
    }

    private string DiskDir(int vm, int disk) => Path.Combine(dir, vm.ToString(CultureInfo.InvariantCulture), disk.ToString(CultureInfo.InvariantCulture));

    public Dictionary<string, CheckpointChain> Chains(int vm)
    {
        var vmDir = Path.Combine(dir, vm.ToString(CultureInfo.InvariantCulture));
        var chains = new Dictionary<string, CheckpointChain>(StringComparer.Ordinal);
        if (!Directory.Exists(vmDir)) return chains;
        foreach (var d in Directory.EnumerateDirectories(vmDir))
            if (int.TryParse(Path.GetFileName(d), NumberStyles.Integer, CultureInfo.InvariantCulture, out var disk) && Chain(vm, disk) is { Deltas.Count: > 0 } c)
                chains[disk.ToString(CultureInfo.InvariantCulture)] = c;
        return chains;
    }

    public CheckpointChain? Chain(int vm, int disk)
    {
        var path = Path.Combine(DiskDir(vm, disk), "chain.json");
        try { return JsonSerializer.Deserialize<CheckpointChain>(File.ReadAllText(path), Json); }
        catch (Exception ex) when (ex is IOException or JsonException) { return null; }
    }

    /// <summary>Stores one layer; returns its size. A layer that does not follow the chain (and does not reset it) is refused.</summary>
    public async Task<long> PutAsync(int vm, int disk, long seq, int image, int generation, bool reset, Stream body, CancellationToken ct)
    {
        var held = await _locks.AcquireAsync(vm, ct).ConfigureAwait(false);
        try
        {
            var diskDir = DiskDir(vm, disk);
            Directory.CreateDirectory(diskDir);
            var current = Chain(vm, disk);
            if (current is not null && generation < current.Generation)
                throw new ArgumentException($"VM {vm} has moved to another host since (generation {generation} < {current.Generation}): checkpoint refused.");
            var chain = reset ? null : current;
            if (!reset && (chain is null || chain.ImageId != image || chain.Deltas.Count == 0 || chain.Deltas[^1].Seq >= seq))
                throw new ArgumentException($"Checkpoint {seq} of disk {disk} of VM {vm} does not follow the chain here (send a new chain with reset=1).");
            var file = string.Create(CultureInfo.InvariantCulture, $"{seq}.qcow2");
            var part = Path.Combine(diskDir, file + ".part");
            long bytes;
            await using (var dst = new FileStream(part, FileMode.Create, FileAccess.Write))
            {
                await body.CopyToAsync(dst, 1 << 20, ct).ConfigureAwait(false);
                await dst.FlushAsync(ct).ConfigureAwait(false);
                bytes = dst.Length;
            }
            var info = await _qemu.InfoAsync(part, "qcow2", ct).ConfigureAwait(false);
            if (info.Corrupt) throw new ArgumentException($"Checkpoint {seq} of disk {disk} of VM {vm} is not a sound qcow2 layer.");
            File.Move(part, Path.Combine(diskDir, file), overwrite: true);
            Interlocked.Add(ref _receivedBytes, bytes);
            var old = chain?.Deltas ?? [];
            chain = new CheckpointChain(image, [.. old, new CheckpointDelta(seq, file, bytes, DateTimeOffset.UtcNow.ToUnixTimeSeconds())], generation);
            WriteChain(diskDir, chain);
            if (reset) DeleteUnlisted(diskDir, chain);
            logger.LogInformation("Checkpoint {Seq} of disk {Disk} of VM {Vm} stored: {Bytes} bytes{Kind}", seq, disk, vm, bytes, reset ? " (new chain)" : "");
            if (chain.Deltas.Count > MaxLayers)
            {
                try { await CompactAsync(diskDir, chain, ct).ConfigureAwait(false); }
                catch (Exception ex) when (ex is StorageException or IOException or HttpRequestException)
                {
                    logger.LogWarning("Checkpoint chain of disk {Disk} of VM {Vm} not compacted: {Reason}", disk, vm, ex.Message);
                }
            }
            return bytes;
        }
        finally
        {
            held.Dispose();
        }
    }

    /// <summary>VMs with a directory here (their chains, whole or not).</summary>
    public IReadOnlyList<int> StoredVms() =>
        !Directory.Exists(dir) ? []
            : Directory.EnumerateDirectories(dir)
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var vm) ? vm : -1)
                .Where(vm => vm >= 0).Order().ToList();

    /// <summary>
    /// Drops every chain of the VM (DATA/checkpoints/VMID/): the VM has ended. Waits for a layer being stored to
    /// finish. Idempotent: true when something was deleted, false when there was nothing.
    /// </summary>
    public async Task<bool> ForgetAsync(int vm, CancellationToken ct)
    {
        if (vm < 0) throw new ArgumentException($"Bad VM id {vm}.");
        var held = await _locks.AcquireAsync(vm, ct).ConfigureAwait(false);
        try
        {
            var vmDir = Path.Combine(dir, vm.ToString(CultureInfo.InvariantCulture));
            if (!Directory.Exists(vmDir)) return false;
            // Renamed first, so a crash halfway leaves no chain that looks whole: a later reconcile removes the rest.
            var doomed = Path.Combine(dir, $".forget-{vm.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}");
            Directory.Move(vmDir, doomed);
            Directory.Delete(doomed, recursive: true);
            logger.LogInformation("Checkpoints of VM {Vm} deleted: the VM has ended", vm);
            return true;
        }
        finally
        {
            held.Dispose();
        }
    }

    /// <summary>
    /// Drops the chains of every VM the front-end no longer has (not in <see cref="CheckpointReconcile.Live"/>, and
    /// not made after the list was taken), and what an interrupted <see cref="ForgetAsync"/> left. Returns the VMs whose chains went.
    /// </summary>
    public async Task<IReadOnlyList<int>> ReconcileAsync(CheckpointReconcile keep, CancellationToken ct)
    {
        var live = keep.Live.ToHashSet();
        var gone = new List<int>();
        foreach (var vm in StoredVms())
        {
            if (vm > keep.LastId || live.Contains(vm)) continue;
            if (await ForgetAsync(vm, ct).ConfigureAwait(false)) gone.Add(vm);
        }
        if (Directory.Exists(dir))
            foreach (var d in Directory.EnumerateDirectories(dir, ".forget-*"))
            {
                try { Directory.Delete(d, recursive: true); }
                catch (DirectoryNotFoundException) { } // a forget under way got there first
            }
        return gone;
    }

    /// <summary>
    /// Merges the chain into one layer: copies of the layers re-based (unsafe, header only) on this host's cached
    /// base image and on each other, merged into the bottom copy with qemu-img commit, which becomes the chain.
    /// </summary>
    private async Task CompactAsync(string diskDir, CheckpointChain chain, CancellationToken ct)
    {
        using var lease = await disks.ServeAsync(chain.ImageId, ct).ConfigureAwait(false);
        var work = Path.Combine(diskDir, ".compact");
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        var copies = new List<string>();
        foreach (var d in chain.Deltas)
        {
            var copy = Path.Combine(work, d.File);
            File.Copy(Path.Combine(diskDir, d.File), copy);
            await _qemu.RebaseAsync(copy, copies.Count == 0 ? lease.Path : copies[^1], copies.Count == 0 ? lease.Format : "qcow2", unsafeRebase: true, ct).ConfigureAwait(false);
            copies.Add(copy);
        }
        var r = await ProcessRunner.RunAsync(_qemu.Executable, ["commit", "-b", copies[0], copies[^1]], TimeSpan.FromMinutes(30), ct).ConfigureAwait(false);
        if (r.ExitCode != 0) throw new StorageException($"qemu-img commit: {r.StdErr.Trim()}");
        var last = chain.Deltas[^1];
        var merged = string.Create(CultureInfo.InvariantCulture, $"{last.Seq}.merged.qcow2");
        File.Move(copies[0], Path.Combine(diskDir, merged), overwrite: true);
        var compacted = chain with { Deltas = [new CheckpointDelta(last.Seq, merged, new FileInfo(Path.Combine(diskDir, merged)).Length, last.At)] };
        WriteChain(diskDir, compacted);
        DeleteUnlisted(diskDir, compacted);
        Directory.Delete(work, recursive: true);
        logger.LogInformation("Checkpoint chain in {Dir} compacted: {Layers} layers into one", diskDir, chain.Deltas.Count);
    }

    private static void WriteChain(string diskDir, CheckpointChain chain)
    {
        var path = Path.Combine(diskDir, "chain.json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(chain, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static void DeleteUnlisted(string diskDir, CheckpointChain chain)
    {
        var keep = chain.Deltas.Select(d => d.File).ToHashSet(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(diskDir, "*.qcow2"))
            if (!keep.Contains(Path.GetFileName(f))) File.Delete(f);
    }
}
