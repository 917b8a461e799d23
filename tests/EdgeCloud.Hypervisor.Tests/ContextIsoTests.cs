using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;

namespace EdgeCloud.Hypervisor.Tests;

public sealed class ContextIsoTests
{
    private static VmSpec Spec(string vmDir = "/tmp/none") => new()
    {
        VmId = 12,
        VmDir = vmDir,
        Nics =
        [
            new NicSpec { NicId = 1, Mac = "02:00:0A:00:00:0C", Bridge = "br1", Ip = "10.0.1.5", PrefixLength = 16, Gateway = "10.0.0.1", Dns = "10.0.0.2 10.0.0.3", Mtu = 1400 },
            new NicSpec { NicId = 0, Mac = "02:00:0a:00:00:0b", Bridge = "br0", Ip = "192.168.5.20", PrefixLength = 24 },
        ],
        Context = new Dictionary<string, string>
        {
            ["SET_HOSTNAME"] = "web-1",
            ["SSH_PUBLIC_KEY"] = "ssh-ed25519 AAAA user@host",
            ["START_SCRIPT"] = "echo 'it''s here' > /tmp/x; echo $HOME",
            ["START_SCRIPT_BASE64"] = "ZWNobyBoaQ==",
            ["eth0_gateway"] = "192.168.5.1",
        },
    };

    [Fact]
    public void Variables_NicsInIdOrder_ThenContextKeysOverriding()
    {
        var vars = ContextIso.Variables(Spec());
        var keys = vars.Select(v => v.Key).ToList();
        Assert.Equal(["ETH0_MAC", "ETH0_IP", "ETH0_MASK", "ETH1_MAC", "ETH1_IP", "ETH1_MASK", "ETH1_GATEWAY", "ETH1_DNS", "ETH1_MTU",
            "SET_HOSTNAME", "SSH_PUBLIC_KEY", "START_SCRIPT", "START_SCRIPT_BASE64", "ETH0_GATEWAY"], keys);
        var d = vars.ToDictionary(v => v.Key, v => v.Value);
        Assert.Equal("02:00:0a:00:00:0c", d["ETH1_MAC"]);
        Assert.Equal("255.255.0.0", d["ETH1_MASK"]);
        Assert.Equal("255.255.255.0", d["ETH0_MASK"]);
        Assert.Equal("192.168.5.1", d["ETH0_GATEWAY"]); // from CONTEXT (key upper-cased), none on the NIC
        Assert.Equal("10.0.0.2 10.0.0.3", d["ETH1_DNS"]);
    }

    [Fact]
    public void Aliases_AsOpenNebulaNamesThem_EthParentAliasId_WithExternalFlag()
    {
        var nic = new NicSpec
        {
            NicId = 0, Mac = "02:00:0a:00:00:0b", Bridge = "br0", Ip = "10.0.0.11", PrefixLength = 24,
            Aliases =
            [
                new NicAliasSpec { NicId = 2, AliasId = 1, Mac = "02:00:CB:00:71:02", Ip = "203.0.113.2", PrefixLength = 24, Gateway = "203.0.113.254" },
                new NicAliasSpec { NicId = 3, AliasId = 2, Ip = "198.51.100.7", External = true },
            ],
        };
        var d = ContextIso.Variables(new VmSpec { VmId = 1, VmDir = "/tmp/none", Nics = [nic], Context = new Dictionary<string, string>() })
            .ToDictionary(v => v.Key, v => v.Value);
        Assert.Equal(("02:00:cb:00:71:02", "203.0.113.2", "255.255.255.0", "203.0.113.254"),
            (d["ETH0_ALIAS1_MAC"], d["ETH0_ALIAS1_IP"], d["ETH0_ALIAS1_MASK"], d["ETH0_ALIAS1_GATEWAY"]));
        Assert.Equal(("198.51.100.7", "YES"), (d["ETH0_ALIAS2_IP"], d["ETH0_ALIAS2_EXTERNAL"]));
        Assert.False(d.ContainsKey("ETH0_ALIAS1_EXTERNAL"));
        Assert.False(d.ContainsKey("ETH2_IP")); // an alias is no interface of its own
    }

    [Fact]
    public void ContextSh_SingleQuotesEveryValue()
    {
        var sh = ContextIso.ContextSh(Spec());
        Assert.StartsWith("# Context variables", sh, StringComparison.Ordinal);
        Assert.Contains("SET_HOSTNAME='web-1'\n", sh, StringComparison.Ordinal);
        Assert.Contains(@"START_SCRIPT='echo '\''it'\'''\''s here'\'' > /tmp/x; echo $HOME'" + "\n", sh, StringComparison.Ordinal);
        Assert.Contains("ETH1_DNS='10.0.0.2 10.0.0.3'\n", sh, StringComparison.Ordinal);
    }

    [Fact]
    public void NoContext_NoVariables_AndBadKeysRejected()
    {
        Assert.Empty(ContextIso.Variables(Spec() with { Context = null }));
        var bad = Spec() with { Context = new Dictionary<string, string> { ["1BAD-KEY"] = "x" } };
        var e = Assert.Throws<HostDriverException>(() => ContextIso.Variables(bad));
        Assert.Contains("1BAD-KEY", e.Message);
    }

    [HostFact(HostNeeds.IsoTools)]
    public async Task BuildAsync_WritesIsoLabelledContext_WithContextSh()
    {
        HostPrerequisites.Require(HostNeeds.IsoTools);
        var dir = Directory.CreateTempSubdirectory("edgecloud-ctx-").FullName;
        try
        {
            var spec = Spec(dir);
            var iso = await ContextIso.BuildAsync(spec, TestHost.Run, CancellationToken.None);
            Assert.Equal(Path.Combine(dir, "context.iso"), iso);
            var info = await TestHost.Run.CheckedAsync("isoinfo", ["-d", "-i", iso!], CancellationToken.None);
            Assert.Contains("Volume id: CONTEXT", info, StringComparison.Ordinal);
            var content = await TestHost.Run.CheckedAsync("isoinfo", ["-R", "-i", iso!, "-x", "/context.sh"], CancellationToken.None);
            Assert.Equal(ContextIso.ContextSh(spec), content);
            // The shell reads back exactly what was given.
            await File.WriteAllTextAsync(Path.Combine(dir, "ctx.sh"), content);
            var echoed = await TestHost.Run.CheckedAsync("sh", ["-c", ". \"$0\"; printf '%s|%s' \"$START_SCRIPT\" \"$ETH1_DNS\"", Path.Combine(dir, "ctx.sh")], CancellationToken.None);
            Assert.Equal("echo 'it''s here' > /tmp/x; echo $HOME|10.0.0.2 10.0.0.3", echoed);
            Assert.DoesNotContain(Directory.GetFileSystemEntries(dir), e => Path.GetFileName(e).StartsWith(".context", StringComparison.Ordinal)); // no staging left
        }
        finally
        {
            TestHost.TryDelete(dir);
        }
    }
}
