namespace EdgeCloud.Api.OneApi;

/// <summary>
/// A follower of a Raft cluster answers reads from its own state and hands write calls to the leader,
/// as OpenNebula's followers do: the request goes as it is to the leader's XML-RPC endpoint and the
/// leader's answer comes back as it is.
/// </summary>
public interface IWriteForwarder
{
    /// <summary>True while this server is not the leader (its writes must go to the leader).</summary>
    bool MustForward { get; }

    /// <summary>Sends the raw request to the leader; null when no leader is known or it cannot be reached.</summary>
    Task<byte[]?> ForwardAsync(byte[] request, CancellationToken cancellationToken);
}
