namespace EdgeCloud.Frontend;

/// <summary>
/// Node-local settings of one front-end, with their defaults. The common ones have command-line
/// flags (--data, --port, --db); every one can be set in a YAML file given with --config, keyed by
/// the property name (docs/configuration.md lists them). To add a setting: a property here with
/// its default and a doc comment, and a line in docs/configuration.md.
/// </summary>
public sealed record FrontendOptions
{
    /// <summary>Directory holding the whole state of this front-end (database, one_auth, datastores).</summary>
    public required string DataDir { get; init; }

    /// <summary>XML-RPC port (OpenNebula's is 2633). 0 picks a free port (tests).</summary>
    public int Port { get; init; } = 2633;

    /// <summary>Address to listen on.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>Port of the host agents' gRPC endpoint (mutual TLS; agents dial it). 0 picks a free port (tests); -1 disables it.</summary>
    public int AgentPort { get; init; } = 2634;

    /// <summary>Address the agents' endpoint listens on (empty = the same as ListenAddress).</summary>
    public string AgentListenAddress { get; init; } = "";

    /// <summary>Names and addresses agents use to reach this front-end (put in its TLS certificate), besides the listen address.</summary>
    public IReadOnlyList<string> AgentServerNames { get; init; } = [];

    /// <summary>Seconds a VM action on an agent host may take (including waiting for the agent to connect) before it fails.</summary>
    public double AgentActionTimeout { get; init; } = 600;

    /// <summary>Log lines: "json" (one JSON object per line), "text", or "auto" (JSON unless the output is a terminal).</summary>
    public string LogFormat { get; init; } = "auto";

    /// <summary>Database: empty = SQLite file DATA/edgecloud.db; a PostgreSQL connection string selects PostgreSQL.</summary>
    public string Database { get; init; } = "";

    /// <summary>Seconds between scheduler cycles (a pending VM also triggers one at once).</summary>
    public double SchedulerInterval { get; init; } = 5;

    /// <summary>Seconds between host monitoring probes.</summary>
    public double MonitorInterval { get; init; } = 10;

    /// <summary>
    /// Host-failure recovery (leader only): the VMs of a host in ERROR for longer than <see cref="HostErrorGrace"/>
    /// restart on another host of its cluster (from their last checkpoint, else recreated). On by default.
    /// </summary>
    public bool HostErrorRecovery { get; init; } = true;

    /// <summary>Seconds a host stays in ERROR before its VMs are moved; negative = five monitoring intervals (OpenNebula's host_error hook: -p 5).</summary>
    public double HostErrorGrace { get; init; } = -1;

    /// <summary>Dummy VM driver: seconds each action takes.</summary>
    public double DummyActionDelay { get; init; } = 0.05;

    /// <summary>Dummy host probe: CPU of a simulated host, percent (100 = one core).</summary>
    public long DummyHostCpu { get; init; } = 1600;

    /// <summary>Dummy host probe: memory of a simulated host, MiB.</summary>
    public long DummyHostMemoryMb { get; init; } = 64 * 1024;

    /// <summary>Dummy host probe: disk of a simulated host's system datastore, MiB.</summary>
    public long DummyHostDiskMb { get; init; } = 1024 * 1024;

    /// <summary>Scheduler default policy: packing, striping, load-aware (or custom with SchedulerRank).</summary>
    public string SchedulerPolicy { get; init; } = "striping";

    public string SchedulerRank { get; init; } = "";

    /// <summary>At most this many VMs dispatched per cycle (0 = no limit).</summary>
    public int MaxDispatchPerCycle { get; init; }

    /// <summary>At most this many VMs dispatched to one host per cycle (0 = no limit).</summary>
    public int MaxDispatchPerHost { get; init; }

    // ---- storage (image datastores, marketplaces)

    /// <summary>Seconds between reads of each http marketplace's catalogue (it is also read when the marketplace is created or enabled).</summary>
    public double MarketRefreshInterval { get; init; } = 600;

    /// <summary>Seconds between updates of an image's TEMPLATE/TRANSFER_PROGRESS while it is copied in.</summary>
    public double TransferProgressInterval { get; init; } = 1;

    /// <summary>qemu-img executable the fs datastore driver uses to check and create images.</summary>
    public string QemuImg { get; init; } = "qemu-img";

    // ---- networking (external IPAM, elastic IPs) ----

    /// <summary>Directory of external IPAM drivers: IPAM_MAD = NAME runs the actions in DIR/NAME/ (empty = DATA/ipam).</summary>
    public string IpamDrivers { get; init; } = "";

    /// <summary>Directory of elastic-IP hooks: ELASTIC_IP_HOOK = NAME runs DIR/NAME (empty = DATA/elastic-ip).</summary>
    public string ElasticIpHooks { get; init; } = "";

    /// <summary>Seconds an IPAM driver action or an elastic-IP hook may take before it fails.</summary>
    public double NetworkDriverTimeout { get; init; } = 30;

    // ---- High availability (Raft) ----

    /// <summary>This server's Raft address, HOST:PORT (one of <see cref="Peers"/>). Empty: a stand-alone front-end.</summary>
    public string Raft { get; init; } = "";

    /// <summary>
    /// Every server's Raft address, comma-separated, the same list in the same order on every server; ids are positions (0, 1, 2...).
    /// Read on the first start only: later the persisted membership (changed by one.zone.addserver / delserver) rules.
    /// </summary>
    public string Peers { get; init; } = "";

    /// <summary>This server joins a running cluster: it waits, as a standby, until the leader adds it (one.zone.addserver).</summary>
    public bool RaftJoin { get; init; }

    /// <summary>Raft election timeout, lower bound in milliseconds (a follower that hears no leader this long starts a pre-vote).</summary>
    public int RaftElectionTimeoutMin { get; init; } = 300;

    /// <summary>Raft election timeout, upper bound in milliseconds.</summary>
    public int RaftElectionTimeoutMax { get; init; } = 600;

    /// <summary>Raft snapshot (and log compaction) every this many applied log entries.</summary>
    public long RaftSnapshotEvery { get; init; } = 10_000;

    /// <summary>Seconds a write waits for a majority to commit it before it fails with a REPLICATION error.</summary>
    public double RaftCommitTimeout { get; init; } = 10;
}
