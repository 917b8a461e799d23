using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Store.Tests;

/// <summary>
/// The store under the real CommandBus (SQLite): many concurrent commands grouped into batches by
/// the bus, then a restart from the file gives exactly the state the bus had published.
/// </summary>
public sealed class CommandBusIntegrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgecloud-store-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_restart_from_the_store_gives_the_published_state()
    {
        var path = Path.Combine(_dir, "state.db");
        StateSnapshot published;
        await using (var store = StateStoreFactory.Create(path))
        {
            await store.InitializeAsync(CancellationToken.None);
            var bus = new CommandBus(StateSnapshot.Empty, new StoreChangeLog(store), TimeProvider.System, NullLogger<CommandBus>.Instance);
            try
            {
                var created = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => bus.ExecuteAsync(tx =>
                {
                    var id = tx.NextId(ObjectType.Vm);
                    tx.Put(Samples.Vm(id) with { Name = $"vm-{i}" });
                    return id;
                })));
                Assert.Equal(Enumerable.Range(0, 300), created.Order());

                await Task.WhenAll(created.Where(id => id % 5 == 0).Select(id => bus.ExecuteAsync(tx => tx.Delete(ObjectType.Vm, id))));
                await Task.WhenAll(created.Where(id => id % 5 == 1).Select(id => bus.ExecuteAsync(tx =>
                    tx.Put(tx.Get<Vm>(ObjectType.Vm, id)! with { State = VmState.POWEROFF }))));
                // A refused command changes nothing and does not disturb the others.
                await Assert.ThrowsAsync<InvalidOperationException>(() => bus.ExecuteAsync(_ => throw new InvalidOperationException("refused")));
                published = bus.Current;
            }
            finally
            {
                await bus.DisposeAsync();
            }
        }

        await using var reopened = StateStoreFactory.Create(path);
        await reopened.InitializeAsync(CancellationToken.None);
        var loaded = await reopened.LoadAsync(CancellationToken.None);
        Assert.Equal(published.Version, loaded.Version);
        Assert.Equal(240, loaded.Objects.Count);
        Assert.Equal(299, loaded.Sequences[ObjectType.Vm]);
        var restarted = StateSnapshot.Load(loaded.Objects, loaded.Sequences, loaded.Version);
        Assert.Equal(Samples.Canonical(published.AllObjects()), Samples.Canonical(restarted.AllObjects()));
        Assert.Equal(published.Sequences(), restarted.Sequences());
    }
}
