using System.Collections.Immutable;

namespace EdgeCloud.Core.Objects;

/// <summary>A login token issued by one.user.login. Expiration -1 = never.</summary>
public sealed record LoginToken(string Token, long ExpirationTime, int Egid);

public sealed record User : PoolObject
{
    public override ObjectType Type => ObjectType.User;
    public int Gid { get; init; }
    public string Gname { get; init; } = "";
    /// <summary>Primary group first, then the secondary groups, ascending.</summary>
    public ImmutableSortedSet<int> Groups { get; init; } = [];
    /// <summary>sha256 hex of the password for the core driver.</summary>
    public string Password { get; init; } = "";
    public string AuthDriver { get; init; } = "core";
    public bool Enabled { get; init; } = true;
    public ImmutableList<LoginToken> LoginTokens { get; init; } = [];
    public QuotaSet Quotas { get; init; } = QuotaSet.Empty;
}

public sealed record Group : PoolObject
{
    public override ObjectType Type => ObjectType.Group;
    public ImmutableSortedSet<int> Users { get; init; } = [];
    public ImmutableSortedSet<int> Admins { get; init; } = [];
    public QuotaSet Quotas { get; init; } = QuotaSet.Empty;
}

/// <summary>
/// An ACL rule, OpenNebula's encoding: User = 0x100000000|uid (#), 0x200000000|gid (@), 0x400000000 (*);
/// Resource = object-type bits | (#id | @gid | * | %cluster); Rights = USE 1, MANAGE 2, ADMIN 4, CREATE 8;
/// Zone = 0x100000000|zone id or 0x400000000 (all).
/// </summary>
public sealed record AclRule : PoolObject
{
    public override ObjectType Type => ObjectType.Acl;
    public long User { get; init; }
    public long Resource { get; init; }
    public long Rights { get; init; }
    public long Zone { get; init; }

    public const long IndividualId = 0x100000000L;
    public const long GroupId = 0x200000000L;
    public const long All = 0x400000000L;
    public const long ClusterId = 0x800000000L;
    public const long IdMask = 0xFFFFFFFFL;
}

/// <summary>One server of the zone's Raft cluster: its stable id, name, XML-RPC endpoint and Raft address (HOST:PORT).</summary>
public sealed record ZoneServer(int Id, string Name, string Endpoint)
{
    /// <summary>The server's Raft address (HOST:PORT); empty in zones written before membership changes existed.</summary>
    public string Raft { get; init; } = "";
}

public sealed record Zone : PoolObject
{
    public override ObjectType Type => ObjectType.Zone;
    public int State { get; init; }
    public ImmutableList<ZoneServer> Servers { get; init; } = [];
}
