namespace EdgeCloud.Core.State;

/// <summary>
/// Whether this front-end may decide state changes and run the cloud's active work (scheduler,
/// host failure handling, driver dispatch). A single front-end is always the leader
/// (<see cref="AlwaysLeader"/>); in a Raft cluster only the elected leader is, and it stops being
/// one the moment it loses an election or its quorum.
/// </summary>
public interface ILeadership
{
    bool IsLeader { get; }

    /// <summary>Raised (on a background thread) each time <see cref="IsLeader"/> changes, with its new value.</summary>
    event Action<bool>? Changed;
}

/// <summary>The single front-end: leader from start to stop.</summary>
public sealed class AlwaysLeader : ILeadership
{
    public static readonly AlwaysLeader Instance = new();

    public bool IsLeader => true;

    public event Action<bool>? Changed { add { } remove { } }
}
