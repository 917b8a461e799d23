using System.Collections.Immutable;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Objects;

public sealed record VmTemplate : OwnedObject
{
    public override ObjectType Type => ObjectType.Template;
    public long RegTime { get; init; }
}

/// <summary>One placement of a VM on a host (HISTORY element). Times are epoch seconds; 0 = not yet.</summary>
public sealed record HistoryRecord
{
    public int Oid { get; init; }
    public int Seq { get; init; }
    public string Hostname { get; init; } = "";
    public int Hid { get; init; }
    public int Cid { get; init; }
    public long Stime { get; init; }
    public long Etime { get; init; }
    public string VmMad { get; init; } = "";
    public string TmMad { get; init; } = "";
    public int DsId { get; init; }
    public long Pstime { get; init; }
    public long Petime { get; init; }
    public long Rstime { get; init; }
    public long Retime { get; init; }
    public long Estime { get; init; }
    public long Eetime { get; init; }
    /// <summary>The VM action that closed this record (OpenNebula's VMActions::Action number).</summary>
    public int Action { get; init; }
    public int Uid { get; init; } = -1;
    public int Gid { get; init; } = -1;
    public int RequestId { get; init; } = -1;
}

/// <summary>A system snapshot (TEMPLATE/SNAPSHOT in OpenNebula's XML).</summary>
public sealed record VmSnapshot(int SnapshotId, string Name, long Time, string HypervisorId, bool Active);

public sealed record Vm : OwnedObject
{
    public override ObjectType Type => ObjectType.Vm;
    public long LastPoll { get; init; }
    public VmState State { get; init; }
    public LcmState LcmState { get; init; }
    public VmState PrevState { get; init; }
    public LcmState PrevLcmState { get; init; }
    public int Resched { get; init; }
    public long Stime { get; init; }
    public long Etime { get; init; }
    public string DeployId { get; init; } = "";
    /// <summary>How many driver actions the VM has been sent: the id of the latest (see DriverRequest.ActionId).</summary>
    public long DriverActions { get; init; }
    /// <summary>The latest driver action asked for and its argument, so an interrupted one can be sent again as it was.</summary>
    public Drivers.DriverOp? DriverOp { get; init; }
    public string DriverArgument { get; init; } = "";
    public Template UserTemplate { get; init; } = new();
    public ImmutableList<HistoryRecord> History { get; init; } = [];
    public ImmutableList<VmSnapshot> Snapshots { get; init; } = [];
    /// <summary>Disk snapshots, one list per disk that has any (VM/SNAPSHOTS).</summary>
    public ImmutableList<DiskSnapshotList> DiskSnapshots { get; init; } = [];
    /// <summary>BACKUPS/BACKUP_IDS: the BACKUP images holding this VM's backups.</summary>
    public ImmutableSortedSet<int> BackupIds { get; init; } = [];

    public HistoryRecord? LastHistory => History.Count == 0 ? null : History[^1];

    /// <summary>Host the VM is on (last history), or -1.</summary>
    public int HostId => History.Count == 0 ? -1 : History[^1].Hid;
}
