using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// one.vntemplate.*: allocate (NAME is the object's, VN_MAD required), info and pool (XSD-valid), update,
/// clone, chmod, chown, rename, lock, instantiate (a working network owned by the caller, through
/// one.vn.allocate's checks), delete, and USE / MANAGE for another user.
/// </summary>
public abstract class VNTemplatesTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private static string Body(string ip = "10.77.0.1", int size = 8) =>
        $"VN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nDESCRIPTION = \"a \\\"quoted\\\" word\"\nAR = [ TYPE = \"IP4\", IP = \"{ip}\", SIZE = \"{size}\" ]\n";

    private async Task<(int Id, string Name)> NewVnTemplateAsync(string? body = null)
    {
        var name = Unique("vnt");
        return (await Admin.CallIntAsync("one.vntemplate.allocate", $"NAME = \"{name}\"\n{body ?? Body()}"), name);
    }

    [BackendFact]
    public async Task Allocate_InfoAndPool_XsdValidWithOwnerTemplateAndRegtime()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var (id, name) = await NewVnTemplateAsync();

        var t = await Admin.InfoAsync("one.vntemplate.info", id, false);

        Assert.Equal((id, name), (t.Int("ID"), t.Str("NAME")));
        Assert.Equal((0, 0, "oneadmin", "oneadmin"), (t.Int("UID"), t.Int("GID"), t.Str("UNAME"), t.Str("GNAME")));
        Assert.InRange(t.Long("REGTIME"), before - 1, before + 60);
        Assert.Equal("dummy", t.Str("TEMPLATE/VN_MAD"));
        Assert.Equal("a \"quoted\" word", t.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal("10.77.0.1", t.Str("TEMPLATE/AR/IP"));
        Assert.False(t.Has("TEMPLATE/NAME")); // oned erases NAME from a VN template's body
        Assert.False(t.Has("LOCK"));
        Schemas.AssertValid(t.ToString(), "vntemplate.xsd");
        var pool = await Admin.InfoAsync("one.vntemplatepool.info", -2, -1, -1);
        Assert.Contains(id, pool.EntryIds());
        Schemas.AssertValid(pool.ToString(), "vntemplate_pool.xsd");
        Assert.Equal([id], (await Admin.InfoAsync("one.vntemplatepool.info", -2, id, id)).EntryIds());
    }

    [BackendFact]
    public async Task Allocate_NoVnMadOrNoName_AllocateErrorAndNothingChanges()
    {
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.allocate", $"NAME = \"{Unique("vnt")}\"\nBRIDGE = \"br0\"\n"), Err.Allocate,
            "[one.vntemplate.allocate] Error allocating a new virtual network template. No VN_MAD in template.");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.allocate", Body()), Err.Allocate, "No NAME in template.");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.allocate", $"NAME = \"{Unique("vnt")}\"\nVN_MAD = \"nope\"\n"), Err.Allocate, "Unknown VN_MAD \"nope\"");
    }

    [BackendFact]
    public async Task Update_MergeAndReplace()
    {
        var (id, _) = await NewVnTemplateAsync();

        await Admin.CallAsync("one.vntemplate.update", id, "DESCRIPTION = \"merged\"\nNOTE = \"x\"\n", 1);
        var t = (await Admin.InfoAsync("one.vntemplate.info", id)).At("TEMPLATE");
        Assert.Equal(("merged", "x", "dummy"), (t.Str("DESCRIPTION"), t.Str("NOTE"), t.Str("VN_MAD")));

        await Admin.CallAsync("one.vntemplate.update", id, "VN_MAD = \"bridge\"\nONLY = \"this\"\n", 0);
        t = (await Admin.InfoAsync("one.vntemplate.info", id)).At("TEMPLATE");
        Assert.Equal(("bridge", "this"), (t.Str("VN_MAD"), t.Str("ONLY")));
        Assert.False(t.Has("DESCRIPTION"));
        Assert.False(t.Has("AR"));
    }

    [BackendFact]
    public async Task Clone_CopiesTheTemplateUnderANewNameOwnedByTheCaller()
    {
        var (id, _) = await NewVnTemplateAsync();
        var name = Unique("vntc");

        var copy = await Admin.CallIntAsync("one.vntemplate.clone", id, name);

        Assert.NotEqual(id, copy);
        var c = await Admin.InfoAsync("one.vntemplate.info", copy);
        Assert.Equal((name, "dummy", "10.77.0.1"), (c.Str("NAME"), c.Str("TEMPLATE/VN_MAD"), c.Str("TEMPLATE/AR/IP")));
        Schemas.AssertValid(c.ToString(), "vntemplate.xsd");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.clone", 99999, Unique("c")), Err.NoExists, "Error getting virtual network template [99999].");
    }

    [BackendFact]
    public async Task ChmodChownRename_Applied()
    {
        var (id, _) = await NewVnTemplateAsync();
        var (uid, _) = await NewUserAsync();
        var gid = await NewGroupAsync();
        var name = Unique("vntr");

        await Admin.CallAsync("one.vntemplate.chmod", id, 1, 1, 0, 1, 0, 0, 1, 0, 0);
        await Admin.CallAsync("one.vntemplate.chown", id, uid, gid);
        await Admin.CallAsync("one.vntemplate.rename", id, name);

        var t = await Admin.InfoAsync("one.vntemplate.info", id);
        Assert.Equal((1, 1, 0), (t.Int("PERMISSIONS/OWNER_U"), t.Int("PERMISSIONS/OWNER_M"), t.Int("PERMISSIONS/OWNER_A")));
        Assert.Equal((1, 0, 1), (t.Int("PERMISSIONS/GROUP_U"), t.Int("PERMISSIONS/GROUP_M"), t.Int("PERMISSIONS/OTHER_U")));
        Assert.Equal((uid, gid, name), (t.Int("UID"), t.Int("GID"), t.Str("NAME")));
        Schemas.AssertValid(t.ToString(), "vntemplate.xsd");
    }

    [BackendFact]
    public async Task Lock_BlocksInstantiateAndDelete_UnlockAllowsThem()
    {
        var (id, _) = await NewVnTemplateAsync();

        await Admin.CallAsync("one.vntemplate.lock", id, 1, false);

        var t = await Admin.InfoAsync("one.vntemplate.info", id);
        Assert.Equal(1, t.Int("LOCK/LOCKED"));
        Schemas.AssertValid(t.ToString(), "vntemplate.xsd");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", id, Unique("n"), ""), Err.Locked,
            $"The resource virtual network template is locked. [{id}].");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.delete", id), Err.Locked);

        await Admin.CallAsync("one.vntemplate.unlock", id);

        await Admin.CallIntAsync("one.vntemplate.instantiate", id, Unique("n"), "");
        await Admin.CallAsync("one.vntemplate.delete", id);
    }

    [BackendFact]
    public async Task Instantiate_ByAUserWithUse_AWorkingNetworkOwnedByTheUserWithTheExtraTemplate()
    {
        var (id, tname) = await NewVnTemplateAsync(Body("10.78.0.1", 4));
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.vntemplate.chmod", id, 1, 1, 0, 0, 0, 0, 1, 0, 0); // others may USE
        var netName = Unique("vntnet");

        var net = await user.CallIntAsync("one.vntemplate.instantiate", id, netName, "DESCRIPTION = \"from extra\"\nAR = [ TYPE = \"IP4\", IP = \"10.79.0.1\", SIZE = \"2\" ]\n");

        var n = await Wait.ForAsync(() => Admin.InfoAsync("one.vn.info", net), x => x.Int("STATE") == 1, $"network {net} READY");
        Assert.Equal((netName, uid), (n.Str("NAME"), n.Int("UID")));
        Assert.Equal(("from extra", "dummy"), (n.Str("TEMPLATE/DESCRIPTION"), n.Str("VN_MAD")));
        Assert.Equal((tname, id), (n.Str("TEMPLATE/TEMPLATE_NAME"), n.Int("TEMPLATE/TEMPLATE_ID")));
        Assert.Equal("10.79.0.1", n.Str("AR_POOL/AR/IP")); // the extra AR replaced the template's
        Assert.Contains(0, n.Ids("CLUSTERS"));
        Schemas.AssertValid(n.ToString(), "vnet.xsd");

        var vm = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true, client: user);
        Assert.Equal("10.79.0.1", (await Admin.InfoAsync("one.vm.info", vm)).Str("TEMPLATE/NIC/IP"));
        Assert.Equal(1, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES"));

        // the template is untouched, and a second instantiate with the same name is the usual name clash
        Assert.Equal("10.78.0.1", (await Admin.InfoAsync("one.vntemplate.info", id)).Str("TEMPLATE/AR/IP"));
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.instantiate", id, netName, ""), Err.Allocate);
    }

    [BackendFact]
    public async Task AnotherUser_WithoutUse_IsDeniedAndNothingChanges()
    {
        var (id, _) = await NewVnTemplateAsync();
        var (uid, user) = await NewUserAsync();

        await FailsAsync(() => user.CallAsync("one.vntemplate.info", id, false), Err.Authorization,
            $"[one.vntemplate.info] User [{uid}] : Not authorized to perform USE VNTEMPLATE [{id}].");
        Assert.DoesNotContain(id, (await user.InfoAsync("one.vntemplatepool.info", -2, -1, -1)).EntryIds());
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.instantiate", id, Unique("n"), ""), Err.Authorization);
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.clone", id, Unique("c")), Err.Authorization);

        await Admin.CallAsync("one.vntemplate.chmod", id, 1, 1, 0, 0, 0, 0, 1, 0, 0); // USE is not MANAGE
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.update", id, "X = 1", 1), Err.Authorization);
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.delete", id), Err.Authorization);
        await FailsUnchangedAsync(() => user.CallAsync("one.vntemplate.rename", id, Unique("r")), Err.Authorization);
    }

    [BackendFact]
    public async Task Instantiate_BadTemplate_SameErrorsAsVnAllocateAndNothingChanges()
    {
        var (id, _) = await NewVnTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", id, "", ""), Err.Allocate,
            "[one.vntemplate.instantiate] Error allocating a new virtual network. No NAME in template.");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", id, Unique("n"), "VN_MAD = \"nope\""), Err.Allocate, "Unknown VN_MAD \"nope\"");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", id, Unique("n"), "AR = [ TYPE = \"IP4\", IP = \"10.0.0.1\", SIZE = \"0\" ]"), Err.Action,
            "AR needs a positive SIZE.");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", id, Unique("n"), "SECURITY_GROUPS = \"4242\""), Err.Allocate,
            "Security group 4242 does not exist.");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vntemplate.instantiate", 99999, Unique("n"), ""), Err.NoExists,
            "Error getting virtual network template [99999].");
    }

    [BackendFact]
    public async Task Delete_RemovesTheTemplateNotItsNetworks()
    {
        var (id, _) = await NewVnTemplateAsync();
        var net = await Admin.CallIntAsync("one.vntemplate.instantiate", id, Unique("n"), "");

        await Admin.CallAsync("one.vntemplate.delete", id);

        await FailsAsync(() => Admin.CallAsync("one.vntemplate.info", id), Err.NoExists, $"[one.vntemplate.info] Error getting virtual network template [{id}].");
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.vntemplatepool.info", -2, -1, -1)).EntryIds());
        Assert.Equal(net, (await Admin.InfoAsync("one.vn.info", net)).Int("ID"));
    }
}

public sealed class VNTemplatesTests_Sqlite(SqliteFrontend fixture) : VNTemplatesTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class VNTemplatesTests_Postgres(PostgresFrontend fixture) : VNTemplatesTests(fixture), IClassFixture<PostgresFrontend>;
