using System.Globalization;
using System.Net;

namespace EdgeCloud.Raft;

/// <summary>How one front-end takes part in a Raft cluster.</summary>
public sealed record RaftSettings
{
    /// <summary>This server's Raft address (one of <see cref="Peers"/>).</summary>
    public required IPEndPoint Self { get; init; }

    /// <summary>
    /// The servers the cluster starts with (their ids are their positions here: 0, 1, 2...). Used on the first
    /// start only: from then on the membership is the one persisted in DATA/raft/members (changed at run time by
    /// one.zone.addserver / delserver). With <see cref="Join"/> it may be empty.
    /// </summary>
    public required IReadOnlyList<IPEndPoint> Peers { get; init; }

    /// <summary>
    /// This server joins an existing cluster: it starts as a non-voting standby with no membership of its own and
    /// waits until the leader adds it (one.zone.addserver), catches up, and only then votes and counts in the quorum.
    /// </summary>
    public bool Join { get; init; }

    /// <summary>Directory for the Raft log and snapshots (DATA/raft).</summary>
    public required string Directory { get; init; }

    /// <summary>This server's XML-RPC endpoint, which followers forward writes to when it leads.</summary>
    public required string XmlRpcEndpoint { get; init; }

    /// <summary>This server's host agents' endpoint (https://HOST:PORT), told to the others and to agents; empty without one.</summary>
    public string AgentEndpoint { get; init; } = "";

    /// <summary>Election timeout range, milliseconds. A follower that hears no leader for this long starts a (pre-)vote.</summary>
    public int ElectionTimeoutMinMs { get; init; } = 300;

    public int ElectionTimeoutMaxMs { get; init; } = 600;

    /// <summary>A snapshot of the whole state is taken every this many applied entries; the log before it is compacted.</summary>
    public long SnapshotEvery { get; init; } = 10_000;

    /// <summary>How long a write waits for its entry to commit before it fails with a REPLICATION error.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int SelfId => Peers.ToList().FindIndex(p => p.Equals(Self));

    /// <summary>Parses "HOST:PORT" (an IP address or a name resolved now).</summary>
    public static IPEndPoint ParseEndPoint(string text)
    {
        var s = text.Trim();
        var colon = s.LastIndexOf(':');
        if (colon <= 0 || colon == s.Length - 1 || !int.TryParse(s[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"Invalid Raft address \"{text}\": expected HOST:PORT");
        var host = s[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, port);
        try
        {
            var addresses = Dns.GetHostAddresses(host);
            var a = addresses.FirstOrDefault(x => x.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return a is null ? throw new ArgumentException($"Raft address \"{text}\": host \"{host}\" has no address") : new IPEndPoint(a, port);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ArgumentException($"Raft address \"{text}\": cannot resolve \"{host}\" ({ex.Message})");
        }
    }

    /// <summary>Checks the settings; throws <see cref="ArgumentException"/> with an operator-readable message.</summary>
    public void Validate()
    {
        if (Peers.Distinct().Count() != Peers.Count) throw new ArgumentException("--peers lists the same address twice");
        if (!Join)
        {
            if (Peers.Count < 1) throw new ArgumentException("--peers lists no server (a server that joins a running cluster starts with --join)");
            if (SelfId < 0) throw new ArgumentException($"--raft {Self} is not one of --peers ({string.Join(",", Peers)})");
        }
        else if (SelfId >= 0)
        {
            throw new ArgumentException($"--join: --raft {Self} must not be in --peers (the leader adds it with one.zone.addserver)");
        }
        if (ElectionTimeoutMinMs < 50 || ElectionTimeoutMaxMs <= ElectionTimeoutMinMs)
            throw new ArgumentException("Raft election timeout: the minimum must be at least 50 ms and below the maximum");
        if (SnapshotEvery < 10) throw new ArgumentException("RaftSnapshotEvery must be at least 10 entries");
    }
}
