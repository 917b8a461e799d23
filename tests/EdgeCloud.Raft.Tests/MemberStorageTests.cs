using System.Net;

namespace EdgeCloud.Raft.Tests;

/// <summary>The persisted Raft membership (DATA/raft/members): seeded once from --peers, then read back as saved.</summary>
public sealed class MemberStorageTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ec-members-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly IPEndPoint[] Peers = [new(IPAddress.Loopback, 2640), new(IPAddress.Parse("10.0.0.2"), 2640), new(IPAddress.Parse("10.0.0.3"), 2641)];

    [Fact]
    public async Task FirstStartSeedsThePeers_AndLaterStartsReadTheFileNotThePeers()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "members");
        using (var first = new MemberStorage(file))
            Assert.Equal(Peers.Cast<EndPoint>().ToHashSet(), (await first.LoadOrSeedAsync(Peers, CancellationToken.None)).ToHashSet());
        Assert.True(File.Exists(file));

        // A later start with another --peers list keeps the persisted membership.
        using var second = new MemberStorage(file);
        var loaded = await second.LoadOrSeedAsync([new IPEndPoint(IPAddress.Loopback, 9999)], CancellationToken.None);
        Assert.Equal(Peers.Cast<EndPoint>().ToHashSet(), loaded.ToHashSet());
    }

    [Fact]
    public async Task JoiningServerStartsWithNoMembership()
    {
        Directory.CreateDirectory(_dir);
        using var storage = new MemberStorage(Path.Combine(_dir, "members"));
        Assert.Empty(await storage.LoadOrSeedAsync([], CancellationToken.None));
    }
}
