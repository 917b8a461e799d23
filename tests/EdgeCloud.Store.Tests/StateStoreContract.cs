using System.Diagnostics;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Store.Tests;

/// <summary>
/// What every <see cref="IStateStore"/> must do, written once and run against each backend by a
/// subclass that provides a fresh, empty location per test and raw SQL access to it. Expected
/// states come from <see cref="StateSnapshot.Apply"/>, the in-memory model the store mirrors.
/// </summary>
public abstract class StateStoreContract : IAsyncLifetime
{
    private readonly List<IStateStore> _stores = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(3));

    protected CancellationToken Ct => _timeout.Token;

    /// <summary>Path or connection string of this test's own, empty database.</summary>
    protected string Location { get; private set; } = "";

    protected abstract string ExpectedBackend { get; }

    protected abstract int LatestSchemaVersion { get; }

    protected abstract Task<string> CreateLocationAsync();

    protected abstract Task DeleteLocationAsync(string location);

    protected abstract Task ExecuteSqlAsync(string sql);

    protected abstract Task<object?> QueryScalarAsync(string sql);

    /// <summary>SQL that makes any insert of an object with this id fail inside the database.</summary>
    protected abstract string InjectFailureSql(int id);

    protected abstract string RemoveFailureSql { get; }

    public async Task InitializeAsync() => Location = await CreateLocationAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
        if (Location.Length > 0) await DeleteLocationAsync(Location);
        _timeout.Dispose();
    }

    /// <summary>A store on this test's location, through the factory (so it also checks the backend choice), disposed at the end.</summary>
    protected IStateStore Open()
    {
        var store = StateStoreFactory.Create(Location);
        _stores.Add(store);
        return store;
    }

    protected async Task<IStateStore> OpenAsync()
    {
        var store = Open();
        await store.InitializeAsync(Ct);
        return store;
    }

    /// <summary>Loads through a brand-new instance, disposed right after: what a restart sees.</summary>
    protected async Task<StoredState> LoadFreshAsync()
    {
        await using var store = StateStoreFactory.Create(Location);
        await store.InitializeAsync(Ct);
        return await store.LoadAsync(Ct);
    }

    /// <summary>Commits the change sets as one batch, as the bus does, and returns the model after them.</summary>
    protected async Task<StateSnapshot> CommitAsync(IStateStore store, StateSnapshot model, params ChangeSet[] batch)
    {
        var after = batch.Aggregate(model, (s, cs) => s.Apply(cs));
        await store.CommitAsync(batch, after.Version, Ct);
        return after;
    }

    protected static void AssertState(StateSnapshot expected, StoredState actual)
    {
        Assert.Equal(Samples.Canonical(expected.AllObjects()), Samples.Canonical(actual.Objects));
        Assert.Equal(expected.Sequences().OrderBy(kv => kv.Key), actual.Sequences.OrderBy(kv => kv.Key));
        Assert.Equal(expected.Version, actual.Version);
    }

    /// <summary>An object whose serialization throws: a change the store cannot write.</summary>
    private sealed record UnserializableObject : PoolObject
    {
        public override ObjectType Type => ObjectType.Vm;

        public string Boom => throw new InvalidOperationException("serialization failure injected by the test");
    }

    [BackendFact]
    public async Task A_fresh_store_is_empty_and_reports_its_backend()
    {
        var store = await OpenAsync();
        Assert.Equal(ExpectedBackend, store.Backend);
        var state = await store.LoadAsync(Ct);
        Assert.Empty(state.Objects);
        Assert.Empty(state.Sequences);
        Assert.Equal(0, state.Version);
    }

    [BackendFact]
    public async Task Operations_before_initialize_are_refused()
    {
        var store = Open();
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.LoadAsync(Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CommitAsync([Samples.Write(Samples.Vm(1))], 1, Ct));
    }

    [BackendFact]
    public async Task Every_object_type_round_trips()
    {
        var samples = Samples.OneOfEach(3);
        Assert.Equal(Samples.StoredTypes().Order(), samples.Select(o => o.Type).Order()); // a new type needs a sample here

        var store = await OpenAsync();
        var sequences = samples.ToDictionary(o => o.Type, o => o.Id);
        var model = await CommitAsync(store, StateSnapshot.Empty,
            new ChangeSet([.. samples.Select(o => new Change(o.Type, o.Id, o))], sequences));

        AssertState(model, await store.LoadAsync(Ct));
        var loaded = await LoadFreshAsync();
        AssertState(model, loaded);

        // Spot checks on the typed objects, beyond equal JSON.
        var vm = Assert.IsType<Vm>(loaded.Objects.Single(o => o.Type == ObjectType.Vm));
        Assert.Equal(Samples.Vm(3).Name, vm.Name);
        Assert.Equal("vm: " + Samples.Nasty, vm.Template.Get("DESCRIPTION"));
        Assert.Equal(["3", "4"], vm.Template.Vectors("DISK").Select(d => d["IMAGE_ID"]));
        Assert.Equal("#!/bin/sh\necho \"héllo\" 'wörld' > /tmp/x && exit 0\n", vm.Template.Vector("CONTEXT")!["START_SCRIPT"]);
        Assert.Equal(2, vm.History.Count);
        Assert.Equal(77, vm.History[0].RequestId);
        Assert.Equal(2, vm.HostId);
        Assert.True(vm.Snapshots[1].Active);
        Assert.Equal(new LockInfo(3, 2, 1_700_000_450, -1), vm.Lock);
        Assert.Equal(Samples.Vm(3).Permissions, vm.Permissions);
        var vnet = Assert.IsType<VNet>(loaded.Objects.Single(o => o.Type == ObjectType.VNet));
        Assert.Equal(new Lease(6, 8, 1), vnet.AddressRanges[0].Leases[6]);
        Assert.Equal("2001:db8::", vnet.AddressRanges[1].Attributes["GLOBAL_PREFIX"]);
        Assert.Equal(3, vnet.UsedLeases);
        var user = Assert.IsType<User>(loaded.Objects.Single(o => o.Type == ObjectType.User));
        Assert.Equal(8.5, user.Quotas.Vm!.Limit("CPU"));
        Assert.Equal(6144.0, user.Quotas.Vm.UsedOf("MEMORY"));
        Assert.Equal([1, 100, 101], user.Groups);
        Assert.Equal(2, user.Quotas.Datastore.Count);
        var group = Assert.IsType<VmGroup>(loaded.Objects.Single(o => o.Type == ObjectType.VmGroup));
        Assert.Equal([7, 8], group.Roles[0].Vms);
        var acl = Assert.IsType<AclRule>(loaded.Objects.Single(o => o.Type == ObjectType.Acl));
        Assert.Equal(Samples.Acl(3).Resource, acl.Resource);
    }

    [BackendFact]
    public async Task Changes_apply_in_order_within_and_across_change_sets()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty,
            Samples.Write(Samples.Vm(1), Samples.Vm(2), Samples.Host(3)));

        model = await CommitAsync(store, model,
            new ChangeSet([new(ObjectType.Vm, 1, Samples.Vm(1) with { Name = "a" }), new(ObjectType.Vm, 2, null)], new Dictionary<ObjectType, int>()),
            new ChangeSet([new(ObjectType.Vm, 1, null), new(ObjectType.Vm, 2, Samples.Vm(2) with { Name = "b" })], new Dictionary<ObjectType, int>()),
            Samples.Write(Samples.Vm(1) with { Name = "c" }),
            Samples.Write(Samples.Host(4)),
            Samples.Delete(ObjectType.Host, 4),
            new ChangeSet(
            [
                new(ObjectType.Image, 5, Samples.Image(5) with { Name = "x" }),
                new(ObjectType.Image, 5, null),
                new(ObjectType.Image, 5, Samples.Image(5) with { Name = "y" }),
                new(ObjectType.Image, 6, Samples.Image(6)),
                new(ObjectType.Image, 6, null),
                new(ObjectType.Host, 3, null),
            ], new Dictionary<ObjectType, int> { [ObjectType.Image] = 6 }));

        var loaded = await LoadFreshAsync();
        AssertState(model, loaded);
        Assert.Equal(["Image/5", "Vm/1", "Vm/2"],
            loaded.Objects.Select(o => $"{o.Type}/{o.Id}").Order(StringComparer.Ordinal));
        Assert.Equal("c", loaded.Objects.Single(o => o is { Type: ObjectType.Vm, Id: 1 }).Name);
        Assert.Equal("b", loaded.Objects.Single(o => o is { Type: ObjectType.Vm, Id: 2 }).Name);
        Assert.Equal("y", loaded.Objects.Single(o => o is { Type: ObjectType.Image, Id: 5 }).Name);
    }

    [BackendFact]
    public async Task Sequences_keep_the_maximum()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Sequence(ObjectType.Vm, 10), Samples.Sequence(ObjectType.Host, 3));
        model = await CommitAsync(store, model, Samples.Sequence(ObjectType.Vm, 5));
        model = await CommitAsync(store, model, Samples.Sequence(ObjectType.Vm, 12), Samples.Sequence(ObjectType.Vm, 11));

        var loaded = await LoadFreshAsync();
        AssertState(model, loaded);
        Assert.Equal(12, loaded.Sequences[ObjectType.Vm]);
        Assert.Equal(3, loaded.Sequences[ObjectType.Host]);
    }

    [BackendFact]
    public async Task The_version_is_persisted()
    {
        var store = await OpenAsync();
        await store.CommitAsync([Samples.Write(Samples.Vm(1))], 1, Ct);
        Assert.Equal(1, (await LoadFreshAsync()).Version);
        await store.CommitAsync([Samples.Write(Samples.Vm(2)), Samples.Delete(ObjectType.Vm, 1)], 42, Ct);
        Assert.Equal(42, (await store.LoadAsync(Ct)).Version);
        await store.CommitAsync([], 43, Ct); // an empty batch still records the version
        Assert.Equal(43, (await LoadFreshAsync()).Version);
        Assert.Equal(43L, Convert.ToInt64(await QueryScalarAsync("SELECT value FROM meta WHERE key = 'version'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [BackendFact]
    public async Task Reopening_after_dispose_gives_the_same_state()
    {
        var model = StateSnapshot.Empty;
        var store = Open();
        await store.InitializeAsync(Ct);
        model = await CommitAsync(store, model, Samples.Write([.. Samples.OneOfEach(0)]), Samples.Sequence(ObjectType.Vm, 0));
        model = await CommitAsync(store, model, Samples.Write([.. Samples.OneOfEach(1)]), Samples.Delete(ObjectType.Host, 0));
        model = await CommitAsync(store, model, Samples.Write(Samples.Vm(1) with { State = VmState.DONE }), Samples.Sequence(ObjectType.Vm, 1));
        await store.DisposeAsync();

        var reopened = await OpenAsync();
        AssertState(model, await reopened.LoadAsync(Ct));
        // And it keeps working where it left off.
        model = await CommitAsync(reopened, model, Samples.Write(Samples.Vm(2)), Samples.Sequence(ObjectType.Vm, 2));
        AssertState(model, await LoadFreshAsync());
    }

    [BackendFact]
    public async Task A_change_that_cannot_be_serialized_fails_the_whole_batch()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty,
            Samples.Write(Samples.Vm(1), Samples.Host(0)), Samples.Sequence(ObjectType.Vm, 1));

        ChangeSet[] failing =
        [
            Samples.Write(Samples.Vm(1) with { Name = "changed" }, Samples.Vm(2)),
            Samples.Delete(ObjectType.Host, 0),
            Samples.Sequence(ObjectType.Vm, 99),
            new ChangeSet([new Change(ObjectType.Vm, 3, new UnserializableObject { Id = 3, Name = "boom" })], new Dictionary<ObjectType, int>()),
            Samples.Write(Samples.Vm(4)),
        ];
        await Assert.ThrowsAnyAsync<Exception>(() => store.CommitAsync(failing, model.Version + failing.Length, Ct));

        AssertState(model, await store.LoadAsync(Ct));
        AssertState(model, await LoadFreshAsync());
        // The store is still usable.
        model = await CommitAsync(store, model, Samples.Write(Samples.Vm(5)), Samples.Sequence(ObjectType.Vm, 5));
        AssertState(model, await LoadFreshAsync());
    }

    [BackendFact]
    public async Task A_database_failure_mid_batch_rolls_back_the_whole_batch()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty,
            Samples.Write(Samples.Vm(1), Samples.Host(0), Samples.Image(7)), Samples.Sequence(ObjectType.Vm, 1));
        await ExecuteSqlAsync(InjectFailureSql(666));

        ChangeSet[] batch =
        [
            Samples.Write(Samples.Vm(1) with { Name = "changed" }, Samples.Vm(2)),
            Samples.Delete(ObjectType.Host, 0),
            Samples.Sequence(ObjectType.Vm, 666),
            Samples.Write(Samples.Image(7) with { Name = "image changed" }),
            Samples.Write(Samples.Vm(666)),
            Samples.Write(Samples.Vm(667)),
        ];
        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.CommitAsync(batch, model.Version + batch.Length, Ct));
        Assert.Contains("injected failure", error.Message, StringComparison.Ordinal);

        AssertState(model, await store.LoadAsync(Ct));
        AssertState(model, await LoadFreshAsync());

        // Once the cause is gone the same batch goes through on the same instance.
        await ExecuteSqlAsync(RemoveFailureSql);
        model = await CommitAsync(store, model, batch);
        AssertState(model, await LoadFreshAsync());
    }

    [BackendFact]
    public async Task A_cancelled_commit_writes_nothing()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write(Samples.Vm(1)));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.CommitAsync([Samples.Write(Samples.Vm(2)), Samples.Delete(ObjectType.Vm, 1)], 2, cancelled.Token));
        AssertState(model, await LoadFreshAsync());
    }

    [BackendFact]
    public async Task Migrations_are_idempotent_across_initializations_and_reopens()
    {
        var store = await OpenAsync();
        await store.InitializeAsync(Ct); // again on the same instance
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write([.. Samples.OneOfEach(0)]));
        await store.InitializeAsync(Ct);
        AssertState(model, await store.LoadAsync(Ct));

        for (var i = 0; i < 2; i++) AssertState(model, await LoadFreshAsync());
        Assert.Equal(LatestSchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            await QueryScalarAsync("SELECT value FROM meta WHERE key = 'schema_version'"));
        Assert.Equal(1L, Convert.ToInt64(await QueryScalarAsync("SELECT count(*) FROM meta WHERE key = 'schema_version'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [BackendFact]
    public async Task A_database_with_a_newer_schema_is_refused()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write(Samples.Vm(1)));
        var newer = LatestSchemaVersion + 7;
        await ExecuteSqlAsync($"UPDATE meta SET value = '{newer}' WHERE key = 'schema_version'");

        await using var next = StateStoreFactory.Create(Location);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => next.InitializeAsync(Ct));
        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {LatestSchemaVersion}", error.Message, StringComparison.Ordinal);
        // A refused store stays refused: no reading or writing a format it does not know.
        await Assert.ThrowsAsync<InvalidOperationException>(() => next.LoadAsync(Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => next.CommitAsync([Samples.Write(Samples.Vm(2))], 9, Ct));

        // Nothing was touched: put the version back and the data is all there.
        Assert.Equal($"{newer}", await QueryScalarAsync("SELECT value FROM meta WHERE key = 'schema_version'"));
        await ExecuteSqlAsync($"UPDATE meta SET value = '{LatestSchemaVersion}' WHERE key = 'schema_version'");
        AssertState(model, await LoadFreshAsync());
    }

    [BackendFact]
    public async Task ReplaceAll_installs_exactly_the_given_state()
    {
        var store = await OpenAsync();
        _ = await CommitAsync(store, StateSnapshot.Empty,
            Samples.Write([.. Samples.OneOfEach(0), .. Samples.OneOfEach(1)]),
            Samples.Sequence(ObjectType.Vm, 1), Samples.Sequence(ObjectType.Host, 1), Samples.Sequence(ObjectType.Image, 50));

        // The snapshot: some objects the same id with other content, some new, some gone; lower sequences too.
        var objects = new List<PoolObject>
        {
            Samples.Vm(1) with { Name = "from the leader" }, Samples.Vm(9), Samples.User(0), Samples.VNet(4), Samples.Image(2),
        };
        var snapshot = new StoredState(objects, new Dictionary<ObjectType, int> { [ObjectType.Vm] = 9, [ObjectType.VNet] = 4, [ObjectType.Image] = 2 }, 1000);
        await store.ReplaceAllAsync(snapshot, Ct);

        var expected = StateSnapshot.Load(objects, snapshot.Sequences, 1000);
        AssertState(expected, await store.LoadAsync(Ct));
        AssertState(expected, await LoadFreshAsync());

        // Commits go on from the installed state.
        expected = await CommitAsync(store, expected, Samples.Write(Samples.Vm(10)), Samples.Sequence(ObjectType.Vm, 10));
        Assert.Equal(1002, expected.Version);
        AssertState(expected, await LoadFreshAsync());

        // And an empty snapshot empties the store.
        await store.ReplaceAllAsync(new StoredState([], new Dictionary<ObjectType, int>(), 5), Ct);
        AssertState(StateSnapshot.Load([], new Dictionary<ObjectType, int>(), 5), await LoadFreshAsync());
    }

    [BackendFact]
    public async Task A_second_instance_sees_every_committed_batch_without_the_first_being_disposed()
    {
        var writer = await OpenAsync();
        var model = StateSnapshot.Empty;
        for (var i = 1; i <= 20; i++)
        {
            model = await CommitAsync(writer, model,
                Samples.Write(Samples.Vm(i), Samples.Image(i)),
                i % 3 == 0 ? Samples.Delete(ObjectType.Vm, i - 1) : Samples.Sequence(ObjectType.Vm, i));
        }

        // No dispose, no checkpoint, no copy: a second opener (a restarted process) sees it all.
        var reader = await OpenAsync();
        AssertState(model, await reader.LoadAsync(Ct));
        model = await CommitAsync(writer, model, Samples.Write(Samples.Vm(100)), Samples.Sequence(ObjectType.Vm, 100));
        AssertState(model, await reader.LoadAsync(Ct));
    }

    [BackendFact]
    public async Task A_writer_killed_with_SIGKILL_loses_no_acknowledged_batch()
    {
        // The child commits batch after batch and prints "ack N" after each CommitAsync returns;
        // it is killed (SIGKILL, no chance to flush or dispose) once it has acknowledged a few.
        const int killAfter = 25;
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("kill-writer");
        psi.ArgumentList.Add(Location);
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child writer");
        var stderr = child.StandardError.ReadToEndAsync(Ct);
        long acknowledged = 0;
        try
        {
            while (acknowledged < killAfter)
            {
                var line = await child.StandardOutput.ReadLineAsync(Ct);
                if (line is null)
                {
                    await child.WaitForExitAsync(Ct);
                    Assert.Fail($"the child writer exited ({child.ExitCode}) after {acknowledged} batches: {await stderr}");
                }
                if (line.StartsWith("ack ", StringComparison.Ordinal)) acknowledged = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: false); // SIGKILL on Unix
            await child.WaitForExitAsync(Ct);
        }

        var loaded = await LoadFreshAsync();
        Assert.True(loaded.Version >= acknowledged, $"acknowledged {acknowledged} batches, stored version {loaded.Version}");
        // Whole batches only: each batch N wrote Vm N and Image N and moved the Vm sequence to N.
        var expected = StateSnapshot.Load(
            KillWriter.Expected(loaded.Version), new Dictionary<ObjectType, int> { [ObjectType.Vm] = (int)loaded.Version }, loaded.Version);
        AssertState(expected, loaded);
    }

    [BackendFact]
    public async Task Owner_columns_are_filled_for_SQL_queries()
    {
        var store = await OpenAsync();
        await CommitAsync(store, StateSnapshot.Empty, Samples.Write([.. Samples.OneOfEach(4)]));
        long Scalar(object? o) => Convert.ToInt64(o, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, Scalar(await QueryScalarAsync($"SELECT uid FROM objects WHERE type = {(int)ObjectType.Vm} AND id = 4")));
        Assert.Equal(1, Scalar(await QueryScalarAsync($"SELECT gid FROM objects WHERE type = {(int)ObjectType.Vm} AND id = 4")));
        Assert.Equal(-1, Scalar(await QueryScalarAsync($"SELECT uid FROM objects WHERE type = {(int)ObjectType.Host} AND id = 4")));
        Assert.Equal(-1, Scalar(await QueryScalarAsync($"SELECT gid FROM objects WHERE type = {(int)ObjectType.User} AND id = 4")));
        Assert.Equal("node-4.example.org", await QueryScalarAsync($"SELECT name FROM objects WHERE type = {(int)ObjectType.Host} AND id = 4"));
        Assert.Equal(5, Scalar(await QueryScalarAsync($"SELECT count(*) FROM objects WHERE uid = 2 AND gid = 1"))); // image, template, VM, VM group, VN template
    }

    [BackendFact]
    public async Task Thousands_of_objects_in_batches_round_trip()
    {
        // A volume check, not a timing one: 3,000 VMs in 30 batches of 100, every 7th deleted later.
        var store = await OpenAsync();
        var model = StateSnapshot.Empty;
        for (var b = 0; b < 30; b++)
        {
            var batch = Enumerable.Range(b * 100, 100).Select(i => Samples.Write(Samples.Vm(i))).Append(Samples.Sequence(ObjectType.Vm, (b * 100) + 99)).ToArray();
            model = await CommitAsync(store, model, batch);
        }
        model = await CommitAsync(store, model, [.. Enumerable.Range(0, 3000).Where(i => i % 7 == 0).Select(i => Samples.Delete(ObjectType.Vm, i))]);
        var loaded = await LoadFreshAsync();
        Assert.Equal(3000 - 429, loaded.Objects.Count);
        AssertState(model, loaded);
    }

    /// <summary>The dotnet host running this test, to start the child writer with.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }
}
