using Grpc.Core;

namespace EdgeCloud.AgentProtocol;

/// <summary>
/// How a front-end that does not lead its Raft zone turns an agent away: status UNAVAILABLE with the leader's
/// agent endpoint (when known) and the zone's agent endpoints in the trailers. The agent goes to the leader
/// at once, or, with no leader named, tries the zone's other front-ends with backoff.
/// </summary>
public static class LeaderRedirect
{
    public const string LeaderKey = "edgecloud-leader";
    public const string FrontendsKey = "edgecloud-frontends";

    public static RpcException Create(string? leader, IReadOnlyCollection<string> frontends)
    {
        var trailers = new Metadata();
        if (leader is { Length: > 0 }) trailers.Add(LeaderKey, leader);
        if (frontends.Count > 0) trailers.Add(FrontendsKey, string.Join(',', frontends));
        var detail = leader is { Length: > 0 }
            ? $"This front-end does not lead the zone: the leader's agent endpoint is {leader}."
            : "This front-end does not lead the zone and no leader is known yet (an election is under way): try again.";
        return new RpcException(new Status(StatusCode.Unavailable, detail), trailers);
    }

    /// <summary>The leader a refusal names (null when it is not a redirect or names none).</summary>
    public static string? LeaderOf(RpcException ex) =>
        ex.StatusCode == StatusCode.Unavailable && ex.Trailers.GetValue(LeaderKey) is { Length: > 0 } l ? l : null;

    /// <summary>The zone's agent endpoints a refusal lists (empty when none).</summary>
    public static IReadOnlyList<string> FrontendsOf(RpcException ex) =>
        ex.Trailers.GetValue(FrontendsKey) is { Length: > 0 } f ? f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
}
