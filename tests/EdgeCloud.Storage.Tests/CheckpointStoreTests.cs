using System.Text.Json;
using EdgeCloud.Agent;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Storage.Tests;

/// <summary>
/// The replica's checkpoint store (agent side) when VMs end: the chains of one VM dropped (<c>CheckpointsForget</c>),
/// or of every VM the front-end no longer has (<c>CheckpointsReconcile</c>), through the agent's command executor
/// as the front-end sends them. Layers are real qcow2 files (the store checks each with qemu-img).
/// </summary>
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly CheckpointStore _store;
    private readonly CommandExecutor _executor;
    private readonly string _checkpoints;

    public CheckpointStoreTests()
    {
        _checkpoints = _dir.File("checkpoints");
        var disks = LocalDisks.ForAgent(_dir.Path, new Uri("https://127.0.0.1:9/"), new HttpClientHandler(), 1 << 20);
        _store = new CheckpointStore(_checkpoints, disks, NullLogger.Instance);
        _executor = new CommandExecutor(new LocalState(_dir.File("agent")), new DummyHypervisor(), null, disks, new AgentOptions { DataDir = _dir.File("agent") }, NullLogger.Instance)
        {
            CheckpointStore = _store,
        };
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>One layer of disk <paramref name="disk"/> of the VM, stored as the VM's host ships it.</summary>
    private async Task PutAsync(int vm, int disk = 0, long seq = 1)
    {
        var layer = _dir.File($"layer-{vm}-{disk}-{seq}.qcow2");
        await Tools.Qemu.CreateAsync(layer, "qcow2", 1 << 20);
        await using var body = File.OpenRead(layer);
        await _store.PutAsync(vm, disk, seq, image: 0, generation: 1, reset: seq == 1, body, CancellationToken.None);
    }

    private string VmDir(int vm) => Path.Combine(_checkpoints, vm.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<(bool Success, int[] Gone, string Message)> RunAsync(string id, int vm, string op, string argument = "")
    {
        var r = await _executor.ExecuteAsync(new Command { CommandId = id, VmId = vm, Op = op, Argument = argument }, CancellationToken.None);
        return (r.Success, r.Success ? JsonSerializer.Deserialize<int[]>(r.Data!)! : [], r.Message);
    }

    private static string Keep(int lastId, params int[] live) => JsonSerializer.Serialize(new CheckpointReconcile(live, lastId), LocalState.Json);

    [QemuFact]
    public async Task ForgetAsync_VmWithChainsOfTwoDisks_DeletesOnlyThatVmsDirectory()
    {
        await PutAsync(vm: 4, disk: 0);
        await PutAsync(vm: 4, disk: 1);
        await PutAsync(vm: 4, disk: 0, seq: 2);
        await PutAsync(vm: 5);

        Assert.True(await _store.ForgetAsync(4, CancellationToken.None));

        Assert.False(Directory.Exists(VmDir(4)));
        Assert.Empty(_store.Chains(4));
        Assert.Equal([5], _store.StoredVms());
        Assert.Equal(["1.qcow2"], _store.Chains(5)["0"].Deltas.Select(d => d.File));
        Assert.Empty(Directory.EnumerateDirectories(_checkpoints, ".forget-*"));
    }

    [Fact]
    public async Task ForgetAsync_NothingStored_ReturnsFalse()
    {
        Assert.False(await _store.ForgetAsync(3, CancellationToken.None)); // not even DATA/checkpoints
        Directory.CreateDirectory(_checkpoints);
        Assert.False(await _store.ForgetAsync(3, CancellationToken.None));
    }

    [QemuFact]
    public async Task ExecuteAsync_ForgetCommand_DropsTheVmsChains_AndARepeatIsAnsweredFromTheJournal()
    {
        await PutAsync(vm: 8);

        var first = await RunAsync("ckgc.vm8", 8, CheckpointCommands.Forget);
        Assert.True(first.Success, first.Message);
        Assert.Equal([8], first.Gone);
        Assert.False(Directory.Exists(VmDir(8)));

        // The same command again (resent after a reconnect): the journal's answer, nothing executed.
        var again = await RunAsync("ckgc.vm8", 8, CheckpointCommands.Forget);
        Assert.Equal([8], again.Gone);
        // Another id for a VM with nothing stored: success, nothing gone.
        var none = await RunAsync("ckgc.vm9", 9, CheckpointCommands.Forget);
        Assert.True(none.Success, none.Message);
        Assert.Empty(none.Gone);
    }

    [QemuFact]
    public async Task ExecuteAsync_Reconcile_KeepsLiveVmsAndVmsNewerThanTheList_DeletesTheRest()
    {
        foreach (var vm in new[] { 1, 2, 3, 7 }) await PutAsync(vm);
        // A forget cut short by a crash (renamed, not yet deleted).
        Directory.CreateDirectory(Path.Combine(_checkpoints, ".forget-6-0123", "0"));

        // The front-end has VMs 2 (e.g. in FAILURE: its chain is what recovery needs) and 4 (nothing stored) not DONE;
        // its last VM id is 5, so VM 7 was made after the list was taken.
        var r = await RunAsync("ckgc.reconcile.1", -1, CheckpointCommands.Reconcile, Keep(5, 2, 4));

        Assert.True(r.Success, r.Message);
        Assert.Equal([1, 3], r.Gone);
        Assert.Equal([2, 7], _store.StoredVms());
        Assert.NotEmpty(_store.Chains(2));
        Assert.NotEmpty(_store.Chains(7));
        Assert.Empty(Directory.EnumerateDirectories(_checkpoints, ".forget-*"));
    }

    [Fact]
    public async Task ExecuteAsync_ReconcileWithNothingStored_SucceedsAndDeletesNothing()
    {
        var r = await RunAsync("ckgc.reconcile.2", -1, CheckpointCommands.Reconcile, Keep(10, 1, 2));
        Assert.True(r.Success, r.Message);
        Assert.Empty(r.Gone);
        Assert.False(Directory.Exists(_checkpoints));
    }

    [Fact]
    public async Task ExecuteAsync_ReconcileWithoutItsList_FailsAndDeletesNothing()
    {
        Directory.CreateDirectory(Path.Combine(VmDir(1), "0"));
        var r = await RunAsync("ckgc.reconcile.3", -1, CheckpointCommands.Reconcile, "");
        Assert.False(r.Success);
        Assert.True(Directory.Exists(VmDir(1)));
    }
}
