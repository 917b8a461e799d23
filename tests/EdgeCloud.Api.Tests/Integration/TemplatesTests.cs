using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.template.*: allocate, update (replace, merge), clone, instantiate (name, hold, extra template in text and XML), delete.</summary>
public abstract class TemplatesTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private const string Body = "CPU = \"0.5\"\nVCPU = \"1\"\nMEMORY = \"128\"\nDESCRIPTION = \"a \\\"quoted\\\" word\"\nCONTEXT = [ NETWORK = \"YES\", SSH_PUBLIC_KEY = \"$USER[SSH_PUBLIC_KEY]\" ]\n";

    private async Task<(int Id, string Name)> NewTemplateAsync(string extra = "")
    {
        var name = Unique("tpl");
        return (await Admin.CallIntAsync("one.template.allocate", $"NAME = \"{name}\"\n{Body}{extra}"), name);
    }

    [BackendFact]
    public async Task TemplateAllocate_Info_HasTheTemplateAndOwner()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var (id, name) = await NewTemplateAsync();

        var t = await Admin.InfoAsync("one.template.info", id, false, false);

        Assert.Equal(name, t.Str("NAME"));
        Assert.Equal((0, 0, "oneadmin", "oneadmin"), (t.Int("UID"), t.Int("GID"), t.Str("UNAME"), t.Str("GNAME")));
        Assert.InRange(t.Long("REGTIME"), before - 1, before + 60);
        Assert.Equal("0.5", t.Str("TEMPLATE/CPU"));
        Assert.Equal("128", t.Str("TEMPLATE/MEMORY"));
        Assert.Equal("a \"quoted\" word", t.Str("TEMPLATE/DESCRIPTION"));
        Assert.Equal("YES", t.Str("TEMPLATE/CONTEXT/NETWORK"));
        Assert.Equal(name, t.Str("TEMPLATE/NAME"));
        Schemas.AssertValid(t.ToString(), "vmtemplate.xsd");
        Schemas.AssertValid((await Admin.InfoAsync("one.templatepool.info", -2, -1, -1)).ToString(), "vmtemplate_pool.xsd");
    }

    [BackendFact]
    public async Task TemplateAllocate_SyntaxError_InternalParseErrorWithLineAndColumnAndNothingChanges()
    {
        var ex = await FailsUnchangedAsync(() => Admin.CallAsync("one.template.allocate", "NAME = \"x\"\nCPU = [ A = \"1\"\n"), Err.Internal, "Parse error");

        Assert.Matches("line \\d+", ex.Message);
        Assert.Matches("column \\d+", ex.Message);
    }

    [BackendFact]
    public async Task TemplateAllocate_NoName_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.allocate", "CPU = 1\nMEMORY = 64"), Err.Allocate,
            "[one.template.allocate] Error allocating a new template.");

    [BackendFact]
    public async Task TemplateAllocate_XmlForm_ParsedLikeText()
    {
        var name = Unique("xmltpl");

        var id = await Admin.CallIntAsync("one.template.allocate",
            $"<TEMPLATE><NAME><![CDATA[{name}]]></NAME><CPU>1</CPU><MEMORY><![CDATA[64]]></MEMORY><DISK><TYPE>fs</TYPE><SIZE>10</SIZE></DISK></TEMPLATE>");

        var t = await Admin.InfoAsync("one.template.info", id);
        Assert.Equal(name, t.Str("NAME"));
        Assert.Equal("64", t.Str("TEMPLATE/MEMORY"));
        Assert.Equal("fs", t.Str("TEMPLATE/DISK/TYPE"));
    }

    [BackendFact]
    public async Task TemplateUpdate_Merge_KeepsOtherAttributes()
    {
        var (id, _) = await NewTemplateAsync();

        await Admin.CallAsync("one.template.update", id, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);

        var t = (await Admin.InfoAsync("one.template.info", id)).At("TEMPLATE");
        Assert.Equal("updated by cli", t.Str("DESCRIPTION"));
        Assert.Equal("x", t.Str("OWNER_NOTE"));
        Assert.Equal("128", t.Str("MEMORY"));
    }

    [BackendFact]
    public async Task TemplateUpdate_Replace_DropsEverythingElse()
    {
        var (id, _) = await NewTemplateAsync();

        await Admin.CallAsync("one.template.update", id, "MEMORY = \"256\"\nCPU = \"2\"", 0);

        var t = (await Admin.InfoAsync("one.template.info", id)).At("TEMPLATE");
        Assert.Equal("256", t.Str("MEMORY"));
        Assert.False(t.Has("DESCRIPTION"));
        Assert.False(t.Has("CONTEXT"));
    }

    [BackendFact]
    public async Task TemplateUpdate_WrongUpdateType_ApiErrorAndNothingChanges()
    {
        var (id, _) = await NewTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", id, "A = 1", 2), Err.Api);
    }

    [BackendFact]
    public async Task TemplateUpdate_SyntaxError_ParseErrorAndNothingChanges()
    {
        var (id, _) = await NewTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", id, "A = \"unterminated", 1), Err.Internal, "Parse error");
    }

    [BackendFact]
    public async Task TemplateClone_CopiesTheTemplateUnderTheNewName()
    {
        var (id, _) = await NewTemplateAsync();
        var (uid, user) = await NewUserAsync();
        await Admin.CallAsync("one.template.chmod", id, 1, 1, 0, 0, 0, 0, 1, 0, 0);
        var cloneName = Unique("clone");

        var clone = await user.CallIntAsync("one.template.clone", id, cloneName, false);

        Assert.NotEqual(id, clone);
        var t = await Admin.InfoAsync("one.template.info", clone);
        Assert.Equal(cloneName, t.Str("NAME"));
        Assert.Equal(uid, t.Int("UID"));
        Assert.Equal("128", t.Str("TEMPLATE/MEMORY"));
        Assert.Equal("YES", t.Str("TEMPLATE/CONTEXT/NETWORK"));
    }

    [BackendFact]
    public async Task TemplateClone_UnknownTemplate_NoExistsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.clone", 99999, Unique("c"), false), Err.NoExists, "Error getting template [99999].");

    [BackendFact]
    public async Task TemplateInstantiate_WithName_VmFromTheTemplate()
    {
        var (id, _) = await NewTemplateAsync();
        var vmName = Unique("vm");

        var vm = await Admin.CallIntAsync("one.template.instantiate", id, vmName, false, $"NAME=\"{vmName}\"", false);

        var v = await Admin.InfoAsync("one.vm.info", vm, false);
        Assert.Equal(vmName, v.Str("NAME"));
        Assert.Equal(id, v.Int("TEMPLATE/TEMPLATE_ID"));
        Assert.Equal("128", v.Str("TEMPLATE/MEMORY"));
        Assert.Equal("0.5", v.Str("TEMPLATE/CPU"));
        Assert.Equal("YES", v.Str("TEMPLATE/CONTEXT/NETWORK"));
        Assert.Equal("a \"quoted\" word", v.Str("USER_TEMPLATE/DESCRIPTION"));
        Assert.Contains(v.Int("STATE"), new[] { VmState.Pending, VmState.Active });
    }

    [BackendFact]
    public async Task TemplateInstantiate_EmptyName_TemplateNameDashVmId()
    {
        var (id, name) = await NewTemplateAsync();

        var vm = await Admin.CallIntAsync("one.template.instantiate", id, "", true, "", false);

        Assert.Equal($"{name}-{vm}", (await Admin.InfoAsync("one.vm.info", vm)).Str("NAME"));
    }

    [BackendFact]
    public async Task TemplateInstantiate_Hold_VmStaysInHold()
    {
        var (id, _) = await NewTemplateAsync();

        var vm = await Admin.CallIntAsync("one.template.instantiate", id, Unique("held"), true, "", false);

        var v = await Admin.InfoAsync("one.vm.info", vm);
        Assert.Equal((VmState.Hold, Lcm.Init), (v.Int("STATE"), v.Int("LCM_STATE")));
        Schemas.AssertValid(v.ToString(), "vm.xsd", KnownOnedDeviations.VmTemplateWithoutTmMadSystem);
    }

    [BackendFact]
    public async Task TemplateInstantiate_ExtraTemplateText_OverridesAndAdds()
    {
        var (id, _) = await NewTemplateAsync();

        var vm = await Admin.CallIntAsync("one.template.instantiate", id, Unique("extra"), true, "MEMORY = \"512\"\nLABEL = \"web\"\n", false);

        var v = await Admin.InfoAsync("one.vm.info", vm);
        Assert.Equal("512", v.Str("TEMPLATE/MEMORY"));
        Assert.Equal("web", v.Str("USER_TEMPLATE/LABEL"));
        Assert.Equal("128", (await Admin.InfoAsync("one.template.info", id)).Str("TEMPLATE/MEMORY")); // the template itself is untouched
    }

    [BackendFact]
    public async Task TemplateInstantiate_ExtraTemplatePyoneXml_CdataValuesArrive()
    {
        var (id, _) = await NewTemplateAsync();

        var vm = await Admin.CallIntAsync("one.template.instantiate", id, Unique("pyvm"), false,
            "<TEMPLATE><CONTEXT><A><![CDATA[b]]></A></CONTEXT><NOTE><![CDATA[x & <y>]]></NOTE></TEMPLATE>");

        var v = await Admin.InfoAsync("one.vm.info", vm);
        Assert.Equal("b", v.Str("TEMPLATE/CONTEXT/A"));
        Assert.Equal("x & <y>", v.Str("USER_TEMPLATE/NOTE"));
    }

    [BackendFact]
    public async Task TemplateInstantiate_ExtraTemplateSyntaxError_ParseErrorAndNothingChanges()
    {
        var (id, _) = await NewTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.instantiate", id, Unique("bad"), false, "MEMORY = [", false), Err.Internal, "Parse error");
    }

    [BackendFact]
    public async Task TemplateInstantiate_WithoutUseRight_AuthorizationErrorAndNothingChanges()
    {
        var (id, _) = await NewTemplateAsync();
        var (_, user) = await NewUserAsync();

        await FailsUnchangedAsync(() => user.CallAsync("one.template.instantiate", id, Unique("x"), false, "", false), Err.Authorization);
    }

    [BackendFact]
    public async Task TemplateInstantiate_InvalidMemory_AllocateErrorAndNothingChanges()
    {
        var (id, _) = await NewTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.instantiate", id, Unique("x"), false, "MEMORY = \"-5\"", false), Err.Allocate,
            "Error allocating a new virtual machine.");
    }

    [BackendFact]
    public async Task TemplateRenameChmodChown_ChangeTheTemplate()
    {
        var (id, _) = await NewTemplateAsync();
        var (uid, _) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.template.rename", id, name);
        await Admin.CallAsync("one.template.chmod", id, 1, 1, 0, 1, 1, 0, 0, 0, 0, false);
        await Admin.CallAsync("one.template.chown", id, uid, 1);

        var t = await Admin.InfoAsync("one.template.info", id);
        Assert.Equal(name, t.Str("NAME"));
        Assert.Equal("660", t.Octal());
        Assert.Equal((uid, 1), (t.Int("UID"), t.Int("GID")));
    }

    [BackendFact]
    public async Task TemplateRename_NameTakenBySameOwner_ActionErrorAndNothingChanges()
    {
        var (a, _) = await NewTemplateAsync();
        var (_, nameB) = await NewTemplateAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.rename", a, nameB), Err.Action);
    }

    [BackendFact]
    public async Task TemplateDelete_IsGone()
    {
        var (id, _) = await NewTemplateAsync();

        Assert.Equal(id, await Admin.CallIntAsync("one.template.delete", id, false));

        await FailsAsync(() => Admin.CallAsync("one.template.info", id), Err.NoExists, $"[one.template.info] Error getting template [{id}].");
        Assert.DoesNotContain(id, (await Admin.InfoAsync("one.templatepool.info", -2, -1, -1)).EntryIds());
    }

    [BackendFact]
    public async Task TemplateLockUnlock_LockedTemplateRefusesUpdate()
    {
        var (id, _) = await NewTemplateAsync();

        await Admin.CallAsync("one.template.lock", id, 1, false);
        Assert.Equal(1, (await Admin.InfoAsync("one.template.info", id)).Int("LOCK/LOCKED"));
        Schemas.AssertValid((await Admin.InfoAsync("one.template.info", id)).ToString(), "vmtemplate.xsd");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.template.update", id, "X = 1", 1), Err.Locked, $"The resource template is locked. [{id}].");

        await Admin.CallAsync("one.template.unlock", id);
        await Admin.CallAsync("one.template.update", id, "X = 1", 1);
        Assert.False((await Admin.InfoAsync("one.template.info", id)).Has("LOCK"));
    }

    [BackendFact]
    public async Task TemplateClone_Recursive_CopiesTheImagesAndPointsTheCloneAtThem()
    {
        var image = await NewImageAsync();
        var tpl = await Admin.CallIntAsync("one.template.allocate", VmTemplate(Unique("tpl"), $"DISK = [ IMAGE_ID = {image}, TARGET = \"vda\" ]\n"));
        var name = Unique("deep");

        var clone = await Admin.CallIntAsync("one.template.clone", tpl, name, true);

        var disk = (await Admin.InfoAsync("one.template.info", clone, false, false)).At("TEMPLATE/DISK");
        var copy = disk.Int("IMAGE_ID");
        Assert.NotEqual(image, copy);
        Assert.Equal("vda", disk.Str("TARGET"));
        var copied = await WaitImageStateAsync(copy, 1);
        Assert.Equal($"{name}-disk-0", copied.Str("NAME"));
        Assert.Equal(image, (await Admin.InfoAsync("one.template.info", tpl, false, false)).Int("TEMPLATE/DISK/IMAGE_ID")); // the original is untouched
    }

    [BackendFact]
    public async Task TemplateInstantiate_Persistent_VmUsesPersistentCopiesAndTheOriginalIsUntouched()
    {
        var image = await NewImageAsync();
        var tpl = await Admin.CallIntAsync("one.template.allocate", VmTemplate(Unique("tpl"), $"DISK = [ IMAGE_ID = {image} ]\n"));
        var name = Unique("pvm");

        var vm = await Admin.CallIntAsync("one.template.instantiate", tpl, name, true, "", true);

        // CLONING until the copy is READY, then HOLD as asked.
        var held = await WaitVmAsync(vm, VmState.Hold);
        var copy = held.Int("TEMPLATE/DISK/IMAGE_ID");
        Assert.NotEqual(image, copy);
        var copied = await Admin.InfoAsync("one.image.info", copy);
        Assert.Equal((1, 8), (copied.Int("PERSISTENT"), copied.Int("STATE"))); // persistent and USED_PERS by the VM
        Assert.Equal($"{name}-disk-0", copied.Str("NAME"));
        var original = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((0, 1), (original.Int("PERSISTENT"), original.Int("STATE"))); // READY, not used
        var privateTpl = (await Admin.InfoAsync("one.templatepool.info", -2, -1, -1)).Elements("VMTEMPLATE").Single(t => t.Str("NAME") == name);
        Assert.Equal(privateTpl.Int("ID"), held.Int("TEMPLATE/TEMPLATE_ID"));
    }

    [BackendFact]
    public async Task TemplateDelete_Recursive_DeletesTheImagesToo()
    {
        var image = await NewImageAsync();
        var tpl = await Admin.CallIntAsync("one.template.allocate", VmTemplate(Unique("tpl"), $"DISK = [ IMAGE_ID = {image} ]\n"));

        await Admin.CallIntAsync("one.template.delete", tpl, true);

        await FailsAsync(() => Admin.CallStringAsync("one.template.info", tpl, false, false), Err.NoExists);
        await FailsAsync(() => Admin.CallStringAsync("one.image.info", image, false), Err.NoExists);
    }

    [BackendFact]
    public async Task TemplateDelete_RecursiveWithAnImageInUse_ActionErrorAndNothingDeleted()
    {
        var image = await NewImageAsync();
        var tpl = await Admin.CallIntAsync("one.template.allocate", VmTemplate(Unique("tpl"), $"DISK = [ IMAGE_ID = {image} ]\n"));
        await Admin.CallIntAsync("one.template.instantiate", tpl, "", true, "", false); // the held VM uses the image

        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.template.delete", tpl, true), Err.Action, $"Cannot delete image {image}");
    }
}

public sealed class TemplatesTests_Sqlite(SqliteFrontend fixture) : TemplatesTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class TemplatesTests_Postgres(PostgresFrontend fixture) : TemplatesTests(fixture), IClassFixture<PostgresFrontend>;
