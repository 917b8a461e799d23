using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>one.image.*: LOCKED → READY, used by VMs, persistent, clone, chtype, enable/disable, delete.</summary>
public abstract class ImagesTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    [BackendFact]
    public async Task ImageAllocate_LockedWhileTheDriverCopiesThenReady()
    {
        // A dummy datastore driver that takes 3 s per copy, so LOCKED is seen for sure.
        await using var slow = await FrontendHandle.StartAsync(Backend, o => o with { DummyActionDelay = 3 });
        var name = Unique("img");

        var id = await slow.Admin.CallIntAsync("one.image.allocate", $"TYPE=\"OS\"\nPATH=\"/var/tmp/disk.img\"\nNAME=\"{name}\"\n", 1, false);

        var locked = await slow.Admin.InfoAsync("one.image.info", id, false);
        Assert.Equal(4, locked.Int("STATE"));
        Schemas.AssertValid(locked.ToString(), "image.xsd");
        var ready = await Wait.ForAsync(() => slow.Admin.InfoAsync("one.image.info", id), i => i.Int("STATE") == 1, "the image READY");
        Assert.Equal(name, ready.Str("NAME"));
        Assert.Equal((0, 0), (ready.Int("TYPE"), ready.Int("PERSISTENT")));
        Assert.Equal((1, "default"), (ready.Int("DATASTORE_ID"), ready.Str("DATASTORE")));
        Assert.False(string.IsNullOrEmpty(ready.Str("SOURCE")));
        Assert.Equal("/var/tmp/disk.img", ready.Str("PATH"));
        Assert.Contains(id, (await slow.Admin.InfoAsync("one.datastore.info", 1)).Ids("IMAGES"));
        Schemas.AssertValid(ready.ToString(), "image.xsd");
        Schemas.AssertValid((await slow.Admin.InfoAsync("one.imagepool.info", -2, -1, -1)).ToString(), "image_pool.xsd");
    }

    [BackendFact]
    public async Task ImageAllocate_EmptyDatablock_SizeKept()
    {
        var id = await Admin.CallIntAsync("one.image.allocate", $"NAME = \"{Unique("db")}\"\nTYPE = \"DATABLOCK\"\nSIZE = \"100\"\n", 1, false);

        var image = await WaitImageStateAsync(id, 1);
        Assert.Equal((2, 100), (image.Int("TYPE"), image.Int("SIZE")));
    }

    [BackendFact]
    public async Task ImageAllocate_SystemDatastore_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{Unique("x")}\"\nPATH = \"/tmp/x\"\n", 0, false), Err.Allocate,
            "[one.image.allocate] Error allocating a new image.");

    [BackendFact]
    public async Task ImageAllocate_NoPath_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{Unique("x")}\"\nTYPE = \"OS\"\n", 1, false), Err.Allocate);

    [BackendFact]
    public async Task ImageAllocate_UnknownDatastore_NoExistsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{Unique("x")}\"\nPATH = \"/tmp/x\"\n", 9999, false), Err.NoExists,
            "Error getting datastore [9999].");

    [BackendFact]
    public async Task ImageAllocate_TakenNameForTheSameOwner_AllocateErrorAndNothingChanges()
    {
        var name = Unique("img");
        await NewImageAsync(name);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.allocate", $"NAME = \"{name}\"\nPATH = \"/tmp/x\"\n", 1, false), Err.Allocate);
    }

    [BackendFact]
    public async Task Image_UsedByAVm_UsedWithRunningVmsThenReadyWhenTheVmIsDone()
    {
        var host = await SharedHostAsync("imghost");
        var image = await NewImageAsync();

        var vm = await RunningOnAsync(host, $"DISK = [ IMAGE_ID = {image} ]\n");

        var used = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((2, 1), (used.Int("STATE"), used.Int("RUNNING_VMS")));
        Assert.Equal([vm], used.Ids("VMS"));
        var disk = (await Admin.InfoAsync("one.vm.info", vm)).At("TEMPLATE/DISK");
        Assert.Equal((image, "FILE", "YES"), (disk.Int("IMAGE_ID"), disk.Str("TYPE"), disk.Str("CLONE")));

        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);

        var ready = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((1, 0), (ready.Int("STATE"), ready.Int("RUNNING_VMS")));
        Assert.Empty(ready.Ids("VMS"));
    }

    [BackendFact]
    public async Task ImageDelete_WhileUsed_ActionErrorAndNothingChanges()
    {
        var image = await NewImageAsync();
        var vm = await NewVmAsync($"DISK = [ IMAGE_ID = {image} ]\n", hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.delete", image, false), Err.Action, "[one.image.delete]");

        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await Admin.CallAsync("one.image.delete", image, false);
        await FailsAsync(() => Admin.CallAsync("one.image.info", image), Err.NoExists, $"[one.image.info] Error getting image [{image}].");
        Assert.DoesNotContain(image, (await Admin.InfoAsync("one.datastore.info", 1)).Ids("IMAGES"));
    }

    [BackendFact]
    public async Task ImagePersistent_UsedByOneVm_UsedPersAndASecondVmIsRefused()
    {
        var image = await NewImageAsync();

        await Admin.CallAsync("one.image.persistent", image, true);
        Assert.Equal(1, (await Admin.InfoAsync("one.image.info", image)).Int("PERSISTENT"));

        var vm = await NewVmAsync($"DISK = [ IMAGE_ID = {image} ]\n", hold: true);
        var img = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((8, 1), (img.Int("STATE"), img.Int("RUNNING_VMS")));
        Assert.Equal("NO", (await Admin.InfoAsync("one.vm.info", vm)).Str("TEMPLATE/DISK/CLONE"));

        var ex = await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", VmTemplate(null, $"DISK = [ IMAGE_ID = {image} ]\n"), true), Err.Allocate);
        Assert.Contains($"{image}", ex.Message, StringComparison.Ordinal);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.persistent", image, false), Err.Action);
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        Assert.Equal(1, (await Admin.InfoAsync("one.image.info", image)).Int("STATE"));
    }

    [BackendFact]
    public async Task ImageClone_ReadyImage_NewImageReadyWithTheSameContent()
    {
        var image = await NewImageAsync(size: 42);
        var name = Unique("clone");

        var clone = await Admin.CallIntAsync("one.image.clone", image, name, -1);

        var c = await WaitImageStateAsync(clone, 1);
        Assert.Equal((name, 42, 1), (c.Str("NAME"), c.Int("SIZE"), c.Int("DATASTORE_ID")));
        Assert.Equal(0, c.Int("PERSISTENT"));
    }

    [BackendFact]
    public async Task ImageClone_UnknownImage_NoExistsAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.clone", 99999, Unique("c"), -1), Err.NoExists, "Error getting image [99999].");

    [BackendFact]
    public async Task ImageChtype_OsToDatablockAndToCdrom()
    {
        var image = await NewImageAsync();

        await Admin.CallAsync("one.image.chtype", image, "DATABLOCK");
        Assert.Equal(2, (await Admin.InfoAsync("one.image.info", image)).Int("TYPE"));

        await Admin.CallAsync("one.image.chtype", image, "CDROM");
        var img = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal(1, img.Int("TYPE"));
        Assert.Equal("CDROM", img.Str("TEMPLATE/TYPE"));
    }

    [BackendFact]
    public async Task ImageChtype_KernelInAnImageDatastore_ActionErrorAndNothingChanges()
    {
        var image = await NewImageAsync();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.chtype", image, "KERNEL"), Err.Action);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.chtype", image, "NOSUCHTYPE"), Err.Action);
    }

    [BackendFact]
    public async Task ImageEnable_DisabledImageCannotBeUsedUntilEnabled()
    {
        var image = await NewImageAsync();

        await Admin.CallAsync("one.image.enable", image, false);
        Assert.Equal(3, (await Admin.InfoAsync("one.image.info", image)).Int("STATE"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", VmTemplate(null, $"DISK = [ IMAGE_ID = {image} ]\n"), true), Err.Allocate);

        await Admin.CallAsync("one.image.enable", image, true);
        Assert.Equal(1, (await Admin.InfoAsync("one.image.info", image)).Int("STATE"));
        await NewVmAsync($"DISK = [ IMAGE_ID = {image} ]\n", hold: true);
    }

    [BackendFact]
    public async Task ImageUpdateRenameChmodChown_ChangeTheImage()
    {
        var image = await NewImageAsync();
        var (uid, user) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.image.update", image, "DESCRIPTION = \"d\"", 1);
        await Admin.CallAsync("one.image.rename", image, name);
        await Admin.CallAsync("one.image.chmod", image, 1, 1, 0, 1, 0, 0, 0, 0, 0);
        await Admin.CallAsync("one.image.chown", image, uid, 1);

        var img = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((name, "d", "640"), (img.Str("NAME"), img.Str("TEMPLATE/DESCRIPTION"), img.Octal()));
        Assert.Equal((uid, 1), (img.Int("UID"), img.Int("GID")));
        Assert.Contains(image, (await user.InfoAsync("one.imagepool.info", -3, -1, -1)).EntryIds());
    }

    [BackendFact]
    public async Task ImageLock_LockedImageRefusesDelete()
    {
        var image = await NewImageAsync();

        await Admin.CallAsync("one.image.lock", image, 2, false);

        Assert.Equal(2, (await Admin.InfoAsync("one.image.info", image)).Int("LOCK/LOCKED"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.delete", image, false), Err.Locked, $"The resource image is locked. [{image}].");
        await Admin.CallAsync("one.image.unlock", image);
        await Admin.CallAsync("one.image.delete", image, false);
    }
}

public sealed class ImagesTests_Sqlite(SqliteFrontend fixture) : ImagesTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class ImagesTests_Postgres(PostgresFrontend fixture) : ImagesTests(fixture), IClassFixture<PostgresFrontend>;
