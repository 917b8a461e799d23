using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.State;

/// <summary>OpenNebula's error codes, as sent in the third element of a failed answer.</summary>
public enum ErrorCode
{
    Success = 0x0000,
    Authentication = 0x0100,
    Authorization = 0x0200,
    NoExists = 0x0400,
    Action = 0x0800,
    RpcApi = 0x1000,
    Internal = 0x2000,
    Allocate = 0x4000,
    Locked = 0x8000,
    Replication = 0x10000,
}

/// <summary>
/// The one product exception: a request that cannot be carried out, with the OpenNebula error code and
/// the message text after the "[method] " prefix (which the API edge adds).
/// </summary>
public sealed class CloudException(ErrorCode code, string message, int objectId = -1) : Exception(message)
{
    public ErrorCode Code { get; } = code;
    public int ObjectId { get; } = objectId;

    public static CloudException NotFound(ObjectType type, int id) =>
        new(ErrorCode.NoExists, $"Error getting {type.ErrorName()} [{id}].", id);

    public static CloudException Action(string message, int id = -1) => new(ErrorCode.Action, message, id);

    public static CloudException Authentication(string message) => new(ErrorCode.Authentication, message);

    public static CloudException Api(string message, int id = -1) => new(ErrorCode.RpcApi, message, id);

    public static CloudException Internal(string message, int id = -1) => new(ErrorCode.Internal, message, id);

    public static CloudException Allocate(ObjectType type, string detail) =>
        new(ErrorCode.Allocate, $"Error allocating a new {type.ErrorName()}. {detail}");
}
