using System.Text.Json;
using System.Threading.Channels;
using EdgeCloud.AgentProtocol;
using EdgeCloud.Core.Drivers;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Agent;

/// <summary>
/// The agent's life: keep one stream open to the front-end (dialled by the agent, reconnected with
/// backoff), run the commands that come down, send results (journaled first, resent until
/// acknowledged), and push monitoring on an interval. While the front-end is away nothing stops:
/// VMs keep running, results wait in the journal, and the state is reported when the link returns.
/// </summary>
public sealed class AgentService(AgentIdentity identity, LocalState state, CommandExecutor executor, HostFactsReader facts, AgentOptions options, ILogger logger)
{
    public const string Version = "1.0";

    private TimeSpan _monitorInterval = TimeSpan.FromSeconds(options.MonitorInterval);
    private readonly Dictionary<string, (long CpuNs, long At)> _cpu = new(StringComparer.Ordinal);

    /// <summary>Facts this agent adds to its host's template (AGENT_ENDPOINT: where its peers fetch migrating VMs' files).</summary>
    public IReadOnlyDictionary<string, string> ExtraFacts { get; init; } = new Dictionary<string, string>();

    /// <summary>This host's store of the cluster's VM checkpoints (used when it is the cluster's replica host).</summary>
    public CheckpointStore? CheckpointStore { get; init; }

    /// <summary>True while a stream is open (for tests and the status line).</summary>
    public bool Connected { get; private set; }

    /// <summary>The front-end the current (or last) stream went to.</summary>
    public string CurrentFrontend { get; private set; } = identity.FrontendUrl;

    /// <summary>
    /// Keeps a stream open to the zone's leader: a front-end that does not lead turns the agent away naming the
    /// leader, and the agent goes there at once; when a stream breaks or no leader is named, it tries the next
    /// front-end it knows (<see cref="AgentIdentity.Frontends"/>), with backoff once it has tried them all.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        logger.LogInformation("Agent of host {HostId} ({Host}) starting: front-ends {Urls}, {Vms} VMs in local state",
            identity.HostId, identity.HostName, string.Join(",", identity.Frontends), state.Vms.Count);
        var delay = TimeSpan.FromMilliseconds(250);
        var redirects = 0;
        var checkpoints = executor.Checkpoints?.RunAsync(ct) ?? Task.CompletedTask;
        while (!ct.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp(); // monotonic: a clock step must not change the backoff
            string? leader = null;
            try
            {
                await SessionAsync(CurrentFrontend, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex) when (LeaderRedirect.LeaderOf(ex) is { } l && !Same(l, CurrentFrontend))
            {
                identity.LearnFrontends(LeaderRedirect.FrontendsOf(ex));
                leader = l;
            }
            catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                if (ex is RpcException r) identity.LearnFrontends(LeaderRedirect.FrontendsOf(r));
                var next = Next(CurrentFrontend);
                logger.LogWarning("Front-end stream to {Url} lost: {Reason}; trying {Next} in {Delay:0.0} s", CurrentFrontend, Short(ex), next, delay.TotalSeconds);
                CurrentFrontend = next;
            }
            finally
            {
                Connected = false;
            }
            if (leader is not null && ++redirects <= 3)
            {
                // Sent to the leader: go there at once (a few times in a row at most, should two front-ends disagree).
                logger.LogInformation("{Url} does not lead the zone: connecting to the leader {Leader}", CurrentFrontend, leader);
                CurrentFrontend = leader.TrimEnd('/');
                continue;
            }
            if (leader is not null) CurrentFrontend = leader.TrimEnd('/');
            redirects = 0;
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(30)) delay = TimeSpan.FromMilliseconds(250); // it was up a while: retry fast
            try { await Task.Delay(delay, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            delay = TimeSpan.FromMilliseconds(Math.Min(options.MaxReconnectDelay * 1000, delay.TotalMilliseconds * 2));
        }
    }

    private static bool Same(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    /// <summary>The front-end after <paramref name="url"/> in the known list (round robin).</summary>
    private string Next(string url)
    {
        var all = identity.Frontends;
        if (all.Count == 0) return url;
        var i = all.ToList().FindIndex(u => Same(u, url));
        return all[(i + 1) % all.Count];
    }

    private static string Short(Exception ex) => ex is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : ex.Message;

    private async Task SessionAsync(string url, CancellationToken ct)
    {
        using var channel = identity.OpenChannel(url);
        var client = new HostAgent.HostAgentClient(channel);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var call = client.Connect(cancellationToken: session.Token);
        var outbox = Channel.CreateUnbounded<AgentMessage>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteLoopAsync(call.RequestStream, outbox.Reader, session.Token);

        outbox.Writer.TryWrite(new AgentMessage { Hello = new Hello { HostId = identity.HostId, AgentVersion = Version, Hypervisors = { executor.Hypervisor.Name } } });
        // Results the front-end has not acknowledged (it may have restarted, or the link broke).
        foreach (var r in state.Unacked) outbox.Writer.TryWrite(new AgentMessage { Result = r.ToMessage() });
        var monitor = MonitorLoopAsync(outbox.Writer, session.Token);
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(session.Token).ConfigureAwait(false))
            {
                switch (message.BodyCase)
                {
                    case FrontendMessage.BodyOneofCase.Welcome:
                        Connected = true;
                        if (message.Welcome.MonitorIntervalSeconds > 0) _monitorInterval = TimeSpan.FromSeconds(message.Welcome.MonitorIntervalSeconds);
                        identity.LearnFrontends(message.Welcome.Frontends);
                        logger.LogInformation("Connected to the front-end {Url} as host {HostId}", url, message.Welcome.HostId);
                        break;
                    case FrontendMessage.BodyOneofCase.Command:
                        _ = RunCommandAsync(message.Command, outbox.Writer, ct);
                        break;
                    case FrontendMessage.BodyOneofCase.Ack:
                        foreach (var id in message.Ack.CommandIds) state.Ack(id);
                        break;
                }
            }
        }
        finally
        {
            outbox.Writer.TryComplete();
            await session.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(writer, monitor).ConfigureAwait(false); } catch (Exception) { /* the session is over either way */ }
        }
        throw new IOException("the front-end closed the stream");
    }

    private static async Task WriteLoopAsync(IClientStreamWriter<AgentMessage> stream, ChannelReader<AgentMessage> outbox, CancellationToken ct)
    {
        await foreach (var m in outbox.ReadAllAsync(ct).ConfigureAwait(false))
            await stream.WriteAsync(m, ct).ConfigureAwait(false);
    }

    private async Task RunCommandAsync(Command command, ChannelWriter<AgentMessage> outbox, CancellationToken ct)
    {
        // The command runs to its end even if this stream breaks meanwhile: its result is journaled
        // and sent on the next connection.
        var result = await executor.ExecuteAsync(command, ct).ConfigureAwait(false);
        outbox.TryWrite(new AgentMessage { Result = result.ToMessage() });
    }

    private async Task MonitorLoopAsync(ChannelWriter<AgentMessage> outbox, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                outbox.TryWrite(new AgentMessage { Monitoring = await SampleAsync(ct).ConfigureAwait(false) });
            }
            catch (Exception ex) when (ex is HostDriverException or IOException)
            {
                logger.LogWarning("Monitoring failed: {Reason}", ex.Message);
            }
            try { await Task.Delay(_monitorInterval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// One monitoring sample: host facts, and every VM the agent keeps or finds. A VM wanted running whose
    /// domain is gone is reported "missing"; VMs with an action under way, or changed after the domain list
    /// was taken, are left out (their action's result speaks for them).
    /// </summary>
    public async Task<AgentProtocol.Monitoring> SampleAsync(CancellationToken ct)
    {
        var listedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var domains = (await executor.Hypervisor.ListAsync(ct).ConfigureAwait(false)).ToDictionary(d => d.Name, StringComparer.Ordinal);
        var hvFacts = await executor.Hypervisor.FactsAsync(ct).ConfigureAwait(false);
        var merged = new Dictionary<string, string>(hvFacts, StringComparer.Ordinal);
        foreach (var (k, v) in ExtraFacts) merged[k] = v;
        {
            // The replica cache's counters: what crossed from upstream, what was served from the local copy.
            var stats = executor.Disks.Cache.Stats;
            merged["REPLICA_CACHE_FETCHED_BYTES"] = stats.BytesFetched.ToString(System.Globalization.CultureInfo.InvariantCulture);
            merged["REPLICA_CACHE_LOCAL_BYTES"] = stats.BytesServedLocally.ToString(System.Globalization.CultureInfo.InvariantCulture);
            merged["REPLICA_CACHE_IMAGES"] = stats.Entries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        // Checkpoint bytes sent (as a host) and received (as the cluster's replica).
        foreach (var (k, v) in executor.Checkpoints?.Facts() ?? new Dictionary<string, string>()) merged[k] = v;
        foreach (var (k, v) in CheckpointStore?.Facts() ?? new Dictionary<string, string>()) merged[k] = v;
        var hostFacts = facts.Read(executor.Hypervisor.Name, merged);
        var m = new AgentProtocol.Monitoring { Timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), HostFactsJson = JsonSerializer.Serialize(hostFacts, LocalState.Json) };
        var known = new HashSet<int>();
        foreach (var vm in state.Vms)
        {
            known.Add(vm.Spec.VmId);
            if (executor.IsBusy(vm.Spec.VmId) || vm.ChangedAt > listedAt) continue;
            if (domains.TryGetValue(vm.Spec.DomainName, out var d))
                m.Vms.Add(new VmReport
                {
                    VmId = vm.Spec.VmId, State = StateName(d.State), DomainStatusJson = JsonSerializer.Serialize(WithCpu(d), LocalState.Json),
                    CheckpointJson = executor.Checkpoints?.ReportJson(vm.Spec) ?? "",
                });
            else if (vm.Desired == DesiredState.Running)
                m.Vms.Add(new VmReport { VmId = vm.Spec.VmId, State = "missing" });
        }
        // Domains named one-N that the agent does not keep (e.g. its state was lost): reported as found.
        foreach (var d in domains.Values)
            if (d.Name.StartsWith("one-", StringComparison.Ordinal) && int.TryParse(d.Name.AsSpan(4), out var id) && !known.Contains(id))
                m.Vms.Add(new VmReport { VmId = id, State = StateName(d.State), DomainStatusJson = JsonSerializer.Serialize(WithCpu(d), LocalState.Json) });
        return m;
    }

    private static string StateName(DomainState s) => s switch
    {
        DomainState.Running => "running",
        DomainState.Paused => "paused",
        DomainState.Shutoff => "shutoff",
        DomainState.Crashed => "crashed",
        _ => "missing",
    };

    /// <summary>CPU percent from two samples of the domain's CPU time (when the driver did not compute it).</summary>
    private DomainStatus WithCpu(DomainStatus d)
    {
        if (d.CpuPercent > 0 || d.CpuTimeNs <= 0) return d;
        var now = Environment.TickCount64;
        var pct = 0.0;
        if (_cpu.TryGetValue(d.Name, out var last) && now > last.At && d.CpuTimeNs >= last.CpuNs)
            pct = (d.CpuTimeNs - last.CpuNs) / 1e6 / (now - last.At) * 100;
        _cpu[d.Name] = (d.CpuTimeNs, now);
        return d with { CpuPercent = Math.Round(pct, 2) };
    }
}
