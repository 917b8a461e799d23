using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Objects;

/// <summary>
/// Base of every stored object. Objects are immutable: a change makes a new instance
/// (<c>with</c>), which goes into the state as part of one committed <see cref="State.ChangeSet"/>.
/// </summary>
public abstract record PoolObject
{
    public required int Id { get; init; }
    public required string Name { get; init; }

    /// <summary>The object's TEMPLATE. Never mutate the instance of a committed object; clone it.</summary>
    public Template Template { get; init; } = new();

    public abstract ObjectType Type { get; }

    public LockInfo? Lock { get; init; }
}

/// <summary>An object with an owner, a group and permission bits.</summary>
public abstract record OwnedObject : PoolObject
{
    public int Uid { get; init; }
    public int Gid { get; init; }
    public string Uname { get; init; } = "";
    public string Gname { get; init; } = "";
    public Permissions Permissions { get; init; }
}
