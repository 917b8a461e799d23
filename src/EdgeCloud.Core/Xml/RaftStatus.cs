namespace EdgeCloud.Core.Xml;

/// <summary>
/// The RAFT document of one.zone.raftstatus (raftstatus.xsd). State numbers are OpenNebula's:
/// 0 SOLO, 1 CANDIDATE, 2 FOLLOWER, 3 LEADER. A stand-alone front-end answers SOLO with
/// SERVER_ID -1, as oned does without HA.
/// </summary>
public sealed record RaftStatus(
    int ServerId = -1,
    int State = RaftStatus.Solo,
    long Term = 0,
    int VotedFor = -1,
    long Commit = 0,
    long LogIndex = 0,
    long LogTerm = 0,
    long FedlogIndex = -1)
{
    public const int Solo = 0;
    public const int Candidate = 1;
    public const int Follower = 2;
    public const int Leader = 3;
}
