using System.Collections.Immutable;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;

namespace EdgeCloud.Requests.Auth;

/// <summary>
/// Checks the session string ("user:password" or "user:token") of every call against the current
/// state. Authentication happens before anything else, for every method.
/// </summary>
public sealed class Authenticator(TimeProvider time)
{
    private volatile UserIndex? _index;

    /// <summary>The caller, or null when the session does not authenticate.</summary>
    public Caller? Authenticate(StateSnapshot state, string session)
    {
        var colon = session.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return null;
        var name = session[..colon];
        var secret = session[(colon + 1)..];

        var index = IndexFor(state);
        if (!index.ByName.TryGetValue(name, out var user) || !user.Enabled) return null;

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        int? egid = null;
        var ok = false;
        foreach (var t in user.LoginTokens)
        {
            if (t.Token == secret && (t.ExpirationTime < 0 || t.ExpirationTime > now))
            {
                ok = true;
                if (t.Egid >= 0) egid = t.Egid;
                break;
            }
        }
        if (!ok && user.AuthDriver is "core" or "")
            ok = PasswordHash.Matches(user.Password, PasswordHash.Sha256Hex(secret))
                 || (user.Password.Length == 40 && PasswordHash.Matches(user.Password, PasswordHash.Sha1Hex(secret)));
        if (!ok) return null;

        var groups = egid is int g && user.Groups.Contains(g) ? ImmutableSortedSet.Create(g) : user.Groups;
        var gid = egid ?? user.Gid;
        var gname = state.Get<Group>(ObjectType.Group, gid)?.Name ?? user.Gname;
        return new Caller(user.Id, user.Name, gid, gname, groups);
    }

    private UserIndex IndexFor(StateSnapshot state)
    {
        var pool = state.Pool(ObjectType.User);
        var index = _index;
        if (index is not null && ReferenceEquals(index.Pool, pool)) return index;
        index = new UserIndex(pool, pool.Values.Cast<User>().ToDictionary(u => u.Name, StringComparer.Ordinal));
        _index = index;
        return index;
    }

    private sealed record UserIndex(ImmutableSortedDictionary<int, PoolObject> Pool, Dictionary<string, User> ByName);
}
