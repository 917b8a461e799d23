using System.Security.Cryptography;
using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Drivers;

/// <summary>
/// The dummy datastore and network drivers (DS_MAD/TM_MAD/VN_MAD = "dummy", as in OpenNebula):
/// an image's copy finishes after the dummy delay and the image becomes READY; a new virtual network
/// is set up at once and becomes READY; datastores report a fixed capacity. Objects still waiting
/// when the front-end starts (LOCKED images, INIT networks) are driven again, so a restart never
/// leaves them stuck.
/// </summary>
public sealed class DummyStorageAndNetwork(Func<Cloud> cloud, FrontendOptions options, TimeProvider time, ILogger<DummyStorageAndNetwork> logger)
    : BackgroundService, IStateObserver
{
    private readonly System.Threading.Channels.Channel<object> _work = System.Threading.Channels.Channel.CreateUnbounded<object>();

    /// <summary>Capacity every dummy datastore reports (MiB).</summary>
    public const long DummyDatastoreMb = 1024 * 1024;

    public void OnCommitted(IReadOnlyList<ChangeSet> changeSets, IReadOnlyList<object> events, StateSnapshot snapshot)
    {
        foreach (var e in events)
        {
            // Datastores with DS_MAD=fs have their own driver (Storage/FsDatastoreDriver).
            if (e is ImageCopyRequested ic && Storage.FsDatastoreDriver.IsFs(snapshot, snapshot.Get<Image>(ObjectType.Image, ic.ImageId)?.DatastoreId)) continue;
            if (e is DatastoreAdded da && Storage.FsDatastoreDriver.IsFs(snapshot, da.DatastoreId)) continue;
            if (e is ImageCopyRequested or VNetCreated or DatastoreAdded) _work.Writer.TryWrite(e);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var state = cloud().State;
        foreach (var i in state.All<Image>(ObjectType.Image).Where(i => i.State == ImageState.LOCKED && !Storage.FsDatastoreDriver.IsFs(state, i.DatastoreId) && !Cloud.FilledByHostOrBackup(i))) _work.Writer.TryWrite(new ImageCopyRequested(i.Id));
        foreach (var n in state.All<VNet>(ObjectType.VNet).Where(n => n.State == VNetState.INIT)) _work.Writer.TryWrite(new VNetCreated(n.Id));
        foreach (var d in state.All<Datastore>(ObjectType.Datastore).Where(d => d.TotalMb == 0 && d.DsMad != Storage.FsDatastoreDriver.DsMad)) _work.Writer.TryWrite(new DatastoreAdded(d.Id));

        await foreach (var item in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                switch (item)
                {
                    case ImageCopyRequested ic: _ = CopyAsync(ic.ImageId, stoppingToken); break;
                    case VNetCreated vc: await cloud().VNetReadyAsync(vc.VNetId, true, "", stoppingToken).ConfigureAwait(false); break;
                    case DatastoreAdded da: await MeasureAsync(da.DatastoreId, stoppingToken).ConfigureAwait(false); break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogError(ex, "Dummy storage/network action {Item} failed", item); }
        }
    }

    private async Task CopyAsync(int imageId, CancellationToken ct)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(options.DummyActionDelay), time, ct).ConfigureAwait(false);
            var c = cloud();
            if (c.State.Get<Image>(ObjectType.Image, imageId) is not { } image) return;
            var ds = c.State.Get<Datastore>(ObjectType.Datastore, image.DatastoreId);
            var size = image.Size > 0 ? image.Size : image.Template.TryGetLong("SIZE", out var s) && s > 0 ? s : 1024;
            var source = $"{ds?.BasePath ?? "datastores/" + image.DatastoreId}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{image.Id}:{image.Path}:{image.RegTime}")))}";
            await c.ImageReadyAsync(imageId, true, source, size, image.Format.Length > 0 ? image.Format : "raw", "", ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { logger.LogError(ex, "Dummy copy of image {ImageId} failed", imageId); }
    }

    private Task MeasureAsync(int datastoreId, CancellationToken ct)
    {
        var c = cloud();
        if (c.State.Get<Datastore>(ObjectType.Datastore, datastoreId) is not { } d) return Task.CompletedTask;
        var used = c.State.All<Image>(ObjectType.Image).Where(i => i.DatastoreId == d.Id).Sum(i => i.Size);
        return c.DatastoresMonitoredAsync([new DatastoreCapacity(d.Id, DummyDatastoreMb, DummyDatastoreMb - used, used)], ct);
    }
}
