using System.Threading.Channels;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Core.Objects;
using EdgeCloud.Requests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Host = EdgeCloud.Core.Objects.Host;

namespace EdgeCloud.Frontend.Drivers;

/// <summary>
/// Runs the VM driver actions that committed state changes asked for, many at a time, and feeds each
/// answer back to the life cycle as a command. A driver that throws counts as a failed action, so a
/// VM never waits forever on a crashed driver call.
/// </summary>
public sealed class DriverRunner(Func<Cloud> cloud, IEnumerable<IVmDriver> drivers, ILogger<DriverRunner> logger)
    : BackgroundService, IDriverDispatcher
{
    private readonly Channel<DriverRequest> _queue = Channel.CreateUnbounded<DriverRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, IVmDriver> _drivers = drivers.ToDictionary(d => d.Name, StringComparer.Ordinal);
    private readonly SemaphoreSlim _parallel = new(2048);

    public void Enqueue(DriverRequest request) => _queue.Writer.TryWrite(request);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var request in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            await _parallel.WaitAsync(stoppingToken).ConfigureAwait(false);
            _ = RunAsync(request, stoppingToken);
        }
    }

    private async Task RunAsync(DriverRequest request, CancellationToken ct)
    {
        try
        {
            var c = cloud();
            var state = c.State;
            var vm = state.Get<Vm>(ObjectType.Vm, request.VmId);
            var host = state.Get<Host>(ObjectType.Host, request.HostId);
            DriverReply reply;
            if (vm is null || host is null)
                reply = new DriverReply(false, vm is null ? "VM no longer exists" : $"Host {request.HostId} no longer exists");
            else if (!_drivers.TryGetValue(host.VmMad, out var driver) && !_drivers.TryGetValue(DriverFamily(host.VmMad), out driver))
                reply = new DriverReply(false, $"No VM driver \"{host.VmMad}\" is available on this front-end (is the host's agent connected?)");
            else
            {
                try { reply = await driver.ExecuteAsync(request, vm, host, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Driver {Driver} failed {Op} for VM {VmId}", host.VmMad, request.Op, request.VmId);
                    reply = new DriverReply(false, ex.Message);
                }
            }
            if (request.Seq < 0) return; // fire-and-forget clean-up (recover --delete)
            await c.OnDriverResultAsync(request, reply, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Driver result for VM {VmId} ({Op}) could not be applied", request.VmId, request.Op);
        }
        finally
        {
            _parallel.Release();
        }
    }

    private static string DriverFamily(string vmMad) => vmMad == "qemu" ? "kvm" : vmMad;

    public override void Dispose()
    {
        _parallel.Dispose();
        base.Dispose();
    }
}
