using EdgeCloud.Core.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Frontend.HighAvailability;

/// <summary>
/// Runs a background service only while this front-end leads: started when leadership is gained,
/// stopped (its token canceled) the moment it is lost. With a single front-end the service runs as is.
/// </summary>
public sealed class LeaderOnlyService : IHostedService, IDisposable
{
    private readonly ILeadership _leadership;
    private readonly IHostedService _inner;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _running;
    private bool _stopped;

    private LeaderOnlyService(ILeadership leadership, IHostedService inner, ILogger logger)
    {
        _leadership = leadership;
        _inner = inner;
        _logger = logger;
    }

    /// <summary>The service itself when this front-end is always the leader; otherwise a gate around it.</summary>
    public static IHostedService Wrap(ILeadership leadership, IHostedService inner, ILoggerFactory loggers) =>
        leadership is AlwaysLeader ? inner : new LeaderOnlyService(leadership, inner, loggers.CreateLogger<LeaderOnlyService>());

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _leadership.Changed += OnChanged;
        await SwitchAsync(_leadership.IsLeader).ConfigureAwait(false);
    }

    private void OnChanged(bool leader) => _ = SwitchAsync(leader);

    private async Task SwitchAsync(bool leader)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // The flag may have moved again while we waited: follow its latest value.
            leader = _leadership.IsLeader && !_stopped;
            if (leader == _running) return;
            if (leader) await _inner.StartAsync(CancellationToken.None).ConfigureAwait(false);
            else await _inner.StopAsync(CancellationToken.None).ConfigureAwait(false);
            _running = leader;
            _logger.LogInformation("{Service} {Action}", _inner.GetType().Name, leader ? "started: this server leads" : "stopped: this server no longer leads");
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Could not switch {Service}", _inner.GetType().Name);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _leadership.Changed -= OnChanged;
        _stopped = true;
        await SwitchAsync(false).ConfigureAwait(false);
    }

    public void Dispose() => _gate.Dispose();
}
