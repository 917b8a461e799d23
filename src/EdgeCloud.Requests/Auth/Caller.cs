using System.Collections.Immutable;

namespace EdgeCloud.Requests.Auth;

/// <summary>
/// The authenticated identity of a request. <see cref="Groups"/> are the groups the session acts in:
/// all the user's groups, or only the token's group when the token is scoped (EGID).
/// </summary>
public sealed record Caller(int Uid, string Uname, int Gid, string Gname, ImmutableSortedSet<int> Groups)
{
    public const int OneAdminUid = 0;
    public const int OneAdminGid = 0;
    public const int UsersGid = 1;

    /// <summary>oneadmin, or any member of the oneadmin group: every check passes (OpenNebula's self-authorize).</summary>
    public bool IsAdmin => Uid == OneAdminUid || Groups.Contains(OneAdminGid);

    /// <summary>The front-end's own internal actions (scheduler, monitor, life-cycle) run as oneadmin.</summary>
    public static readonly Caller System = new(OneAdminUid, "oneadmin", OneAdminGid, "oneadmin", [OneAdminGid]);
}
