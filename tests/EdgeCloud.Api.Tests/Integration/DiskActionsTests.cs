using System.Xml.Linq;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Disk snapshots, disk resize, disk save-as, backups and restores on dummy drivers: the LCM states each
/// action passes through (PREV_LCM_STATE after it), the SNAPSHOTS / BACKUPS / BACKUP_INCREMENTS documents
/// (validated against the XSDs), and the refusals (wrong state, unknown disk or snapshot, bad datastore
/// type, full datastore) that change nothing.
/// </summary>
public abstract class DiskActionsTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private const int DiskSnapshot = 57, DiskSnapshotPoweroff = 51, DiskSnapshotRevertPoweroff = 52, DiskSnapshotDelete = 59,
        DiskResize = 62, DiskResizePoweroff = 63, HotplugSaveas = 26, Backup = 69, BackupPoweroff = 70;

    private Task<int> Host() => SharedHostAsync("diskhost");

    private async Task<XElement> VmAsync(int id) => await Admin.InfoAsync("one.vm.info", id, false);

    /// <summary>A RUNNING VM with one image disk (DISK_ID 0, 10 MiB) and <paramref name="extra"/> template lines.</summary>
    private async Task<int> VmWithDiskAsync(string extra = "", bool persistent = false)
    {
        var image = await NewImageAsync(persistent: persistent);
        return await RunningOnAsync(await Host(), $"DISK = [ IMAGE_ID = \"{image}\" ]\n{extra}");
    }

    private async Task<XElement> PoweroffAsync(int vm)
    {
        await Admin.CallAsync("one.vm.action", "poweroff", vm);
        return await WaitVmAsync(vm, VmState.Poweroff);
    }

    private static XElement Snapshots(XElement vm, int disk) =>
        vm.Elements("SNAPSHOTS").Single(s => s.Int("DISK_ID") == disk);

    private async Task<int> BackupDatastoreAsync(string mad = "dummy", string extra = "") =>
        await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("backups")}\"\nTYPE = \"BACKUP_DS\"\nDS_MAD = \"{mad}\"\nTM_MAD = \"dummy\"\n{extra}", -1);

    // ------------------------------------------------------------------ disk snapshots

    [BackendFact]
    public async Task DiskSnapshot_RunningVm_CreateThroughDiskSnapshotStateThenTreeAndXml()
    {
        var vm = await VmWithDiskAsync();

        var s0 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "first");
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == DiskSnapshot, "back to RUNNING from DISK_SNAPSHOT");
        var s1 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "");
        v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Elements("SNAPSHOTS").Elements("SNAPSHOT").Count() == 2, "second snapshot");

        Assert.Equal((0, 1), (s0, s1));
        var list = Snapshots(v, 0);
        Assert.Equal(("NO", 2), (list.Str("ALLOW_ORPHANS"), list.Int("NEXT_SNAPSHOT")));
        var first = list.Elements("SNAPSHOT").Single(s => s.Int("ID") == 0);
        var second = list.Elements("SNAPSHOT").Single(s => s.Int("ID") == 1);
        Assert.Equal(("first", -1, "1", false), (first.Str("NAME"), first.Int("PARENT"), first.Str("CHILDREN"), first.Has("ACTIVE")));
        Assert.Equal(("snapshot-1", 0, "YES", 10), (second.Str("NAME"), second.Int("PARENT"), second.Str("ACTIVE"), second.Int("SIZE")));
        Schemas.AssertValid(v.ToString(), "vm.xsd");
    }

    [BackendFact]
    public async Task DiskSnapshotRevert_Running_ActionErrorAsOpenNebula_PoweroffRevertsAndActivates()
    {
        var vm = await VmWithDiskAsync();
        var s0 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "a");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "b");
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Elements("SNAPSHOTS").Elements("SNAPSHOT").Count() == 2, "two snapshots");

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotrevert", vm, 0, s0), Err.Action, "not available for state RUNNING");

        await PoweroffAsync(vm);
        await Admin.CallAsync("one.vm.disksnapshotrevert", vm, 0, s0);
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("STATE") == VmState.Poweroff && x.Int("PREV_LCM_STATE") == DiskSnapshotRevertPoweroff, "reverted");
        Assert.Equal("YES", Snapshots(v, 0).Elements("SNAPSHOT").Single(s => s.Int("ID") == s0).Str("ACTIVE"));

        // A snapshot taken now is a child of the one reverted to.
        var s2 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "c");
        v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("STATE") == VmState.Poweroff && x.Int("PREV_LCM_STATE") == DiskSnapshotPoweroff, "snapshot while powered off");
        Assert.Equal(s0, Snapshots(v, 0).Elements("SNAPSHOT").Single(s => s.Int("ID") == s2).Int("PARENT"));
        Assert.Equal($"1,{s2}", Snapshots(v, 0).Elements("SNAPSHOT").Single(s => s.Int("ID") == s0).Str("CHILDREN"));
        Schemas.AssertValid(v.ToString(), "vm.xsd");
    }

    [BackendFact]
    public async Task DiskSnapshotDelete_ActiveOrWithChildren_Refused_LeafDeleted()
    {
        var vm = await VmWithDiskAsync();
        var s0 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "a");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        var s1 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "b");
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Elements("SNAPSHOTS").Elements("SNAPSHOT").Count() == 2, "two snapshots");

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotdelete", vm, 0, s0), Err.Action, "has children");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotdelete", vm, 0, s1), Err.Action, "active snapshot");

        await PoweroffAsync(vm);
        await Admin.CallAsync("one.vm.disksnapshotrevert", vm, 0, s0);
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("STATE") == VmState.Poweroff && x.Int("PREV_LCM_STATE") == DiskSnapshotRevertPoweroff, "reverted");
        await Admin.CallAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        await Admin.CallAsync("one.vm.disksnapshotdelete", vm, 0, s1);
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == DiskSnapshotDelete, "deleted");
        var only = Assert.Single(Snapshots(v, 0).Elements("SNAPSHOT"));
        Assert.Equal((s0, false), (only.Int("ID"), only.Has("CHILDREN")));
    }

    [BackendFact]
    public async Task DiskSnapshotRename_ChangesTheName_NoStateChange()
    {
        var vm = await VmWithDiskAsync();
        var s0 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "old");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);

        await Admin.CallAsync("one.vm.disksnapshotrename", vm, 0, s0, "new name");

        var v = await VmAsync(vm);
        Assert.Equal("new name", Snapshots(v, 0).Element("SNAPSHOT")!.Str("NAME"));
        Assert.Equal(Lcm.Running, v.Int("LCM_STATE"));
    }

    [BackendFact]
    public async Task DiskSnapshot_UnknownDiskOrSnapshot_WrongState_ActionErrorAndNothingChanges()
    {
        var vm = await VmWithDiskAsync();
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotcreate", vm, 7, "x"), Err.Action, "no DISK with DISK_ID 7");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotdelete", vm, 0, 3), Err.Action, "has no snapshot 3");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotrename", vm, 0, 3, "x"), Err.Action, "has no snapshot 3");
        await PoweroffAsync(vm);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotrevert", vm, 0, 0), Err.Action, "has no snapshot 0");

        var pending = await NewVmAsync("", hold: true);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksnapshotcreate", pending, 0, "x"), Err.Action, "not available for state HOLD");
        await FailsAsync(() => Admin.CallAsync("one.vm.disksnapshotcreate", 999999, 0, "x"), Err.NoExists);
    }

    [BackendFact]
    public async Task DiskSnapshotCreate_DriverFails_SnapshotRemovedErrorKept()
    {
        var vm = await VmWithDiskAsync();
        await Admin.CallAsync("one.vm.update", vm, "DUMMY_FAIL = \"DiskSnapshotCreate\"", 1);

        await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "doomed");

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == DiskSnapshot, "back to RUNNING");
        Assert.Empty(v.Elements("SNAPSHOTS"));
        Assert.Contains("DiskSnapshotCreate", v.Str("USER_TEMPLATE/ERROR"), StringComparison.Ordinal);
    }

    [BackendFact]
    public async Task PersistentImage_VmTerminated_DiskSnapshotsKeptOnImage_ImageSnapshotOps()
    {
        var image = await NewImageAsync(persistent: true);
        var vm = await RunningOnAsync(await Host(), $"DISK = [ IMAGE_ID = \"{image}\" ]\n");
        var s0 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "a");
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        var s1 = await Admin.CallIntAsync("one.vm.disksnapshotcreate", vm, 0, "b");
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Elements("SNAPSHOTS").Elements("SNAPSHOT").Count() == 2, "two snapshots");

        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.snapshotrevert", image, s0), Err.Action, "must be READY");
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);

        var img = await WaitImageStateAsync(image, 1);
        Assert.Equal(2, img.At("SNAPSHOTS").Elements("SNAPSHOT").Count());
        Schemas.AssertValid(img.ToString(), "image.xsd");

        await Admin.CallAsync("one.image.snapshotrevert", image, s0);
        img = await Admin.InfoAsync("one.image.info", image, false);
        Assert.Equal("YES", img.At("SNAPSHOTS").Elements("SNAPSHOT").Single(s => s.Int("ID") == s0).Str("ACTIVE"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.snapshotdelete", image, s0), Err.Action, "active snapshot");
        await Admin.CallAsync("one.image.snapshotdelete", image, s1);
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.snapshotdelete", image, s1), Err.Action, "has no snapshot");
        await Admin.CallAsync("one.image.snapshotflatten", image, s0);
        img = await Admin.InfoAsync("one.image.info", image, false);
        Assert.Empty(img.At("SNAPSHOTS").Elements("SNAPSHOT"));
        Schemas.AssertValid(img.ToString(), "image.xsd");
    }

    [BackendFact]
    public async Task PersistentImage_EpilogFails_EpilogFailureImageStaysUsedPers_RecoverRetryMakesItReady()
    {
        const int UsedPers = 8, EpilogFailure = 40;
        var image = await NewImageAsync(persistent: true);
        var vm = await RunningOnAsync(await Host(), $"DISK = [ IMAGE_ID = \"{image}\" ]\n");
        Assert.Equal(UsedPers, (await Admin.InfoAsync("one.image.info", image, false)).Int("STATE"));
        await FailsUnchangedAsync(() => NewVmAsync($"DISK = [ IMAGE_ID = \"{image}\" ]"), Err.Allocate, "not ready to be used (state USED_PERS)");

        // The epilog (where a host writes the disk back) fails: EPILOG_FAILURE with the reason, the image still the VM's.
        await Admin.CallAsync("one.vm.update", vm, "DUMMY_FAIL = \"epilog\"", 1);
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        var v = await WaitVmAsync(vm, VmState.Active, EpilogFailure);
        Assert.Contains("Epilog", v.At("USER_TEMPLATE").Str("ERROR"), StringComparison.Ordinal);
        Assert.Equal(UsedPers, (await Admin.InfoAsync("one.image.info", image, false)).Int("STATE"));

        // one.vm.recover retry runs the epilog again; it succeeds: DONE, and the image is READY.
        await Admin.CallAsync("one.vm.update", vm, "DUMMY_FAIL = \"\"", 1);
        await Admin.CallAsync("one.vm.recover", vm, 2);
        await WaitVmAsync(vm, VmState.Done);
        await WaitImageStateAsync(image, 1);
    }

    [BackendFact]
    public async Task PersistentImage_Undeployed_StaysTheVmsUntilTerminated()
    {
        const int UsedPers = 8;
        var image = await NewImageAsync(persistent: true);
        var vm = await RunningOnAsync(await Host(), $"DISK = [ IMAGE_ID = \"{image}\" ]\n");
        await Admin.CallAsync("one.vm.action", "undeploy", vm);
        await WaitVmAsync(vm, VmState.Undeployed);
        Assert.Equal(UsedPers, (await Admin.InfoAsync("one.image.info", image, false)).Int("STATE"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.image.snapshotflatten", image, 0), Err.Action, "must be READY");
        await Admin.CallAsync("one.vm.action", "terminate", vm);
        await WaitVmAsync(vm, VmState.Done);
        await WaitImageStateAsync(image, 1);
    }

    // ------------------------------------------------------------------ resize

    [BackendFact]
    public async Task DiskResize_GrowOnly_LiveAndPoweroff()
    {
        var vm = await VmWithDiskAsync();
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.diskresize", vm, 0, "5"), Err.Action, "bigger than current");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.diskresize", vm, 0, "lots"), Err.Action, "Invalid disk size");

        await Admin.CallAsync("one.vm.diskresize", vm, 0, "20");
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == DiskResize, "resized live");
        Assert.Equal(20, v.Int("TEMPLATE/DISK/SIZE"));

        await PoweroffAsync(vm);
        await Admin.CallAsync("one.vm.diskresize", vm, 0, "30");
        v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("STATE") == VmState.Poweroff && x.Int("PREV_LCM_STATE") == DiskResizePoweroff, "resized offline");
        Assert.Equal(30, v.Int("TEMPLATE/DISK/SIZE"));
    }

    // ------------------------------------------------------------------ save-as

    [BackendFact]
    public async Task DiskSaveAs_Running_NewImageLockedThenReady_ErrorWhenTheDriverFails()
    {
        var vm = await VmWithDiskAsync();

        var image = await Admin.CallIntAsync("one.vm.disksaveas", vm, 0, Unique("saved"), "", -1);

        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == HotplugSaveas, "back to RUNNING");
        var img = await WaitImageStateAsync(image, 1);
        Assert.Equal((vm, 0), (img.Int("TEMPLATE/SAVED_VM_ID"), img.Int("TEMPLATE/SAVED_DISK_ID")));
        Assert.Equal(10, img.Int("SIZE"));
        Schemas.AssertValid(img.ToString(), "image.xsd");

        await Admin.CallAsync("one.vm.update", vm, "DUMMY_FAIL = \"DiskSaveAs\"", 1);
        var failed = await Admin.CallIntAsync("one.vm.disksaveas", vm, 0, Unique("saved"), "DATABLOCK", -1);
        var bad = await WaitImageStateAsync(failed, 5);
        Assert.Contains("DiskSaveAs", bad.Str("TEMPLATE/ERROR"), StringComparison.Ordinal);
        Assert.Equal("DATABLOCK", bad.Str("TEMPLATE/TYPE"));
    }

    [BackendFact]
    public async Task DiskSaveAs_BadArguments_ActionErrorAndNothingChanges()
    {
        var vm = await VmWithDiskAsync("DISK = [ TYPE = \"fs\", SIZE = \"5\" ]\n");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksaveas", vm, 1, Unique("x"), "", -1), Err.Action, "volatile disk");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksaveas", vm, 5, Unique("x"), "", -1), Err.Action, "no DISK with DISK_ID 5");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksaveas", vm, 0, Unique("x"), "", 4), Err.Action, "has no snapshot 4");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.disksaveas", vm, 0, Unique("x"), "KERNEL", -1), Err.Action, "Unknown image type");
    }

    // ------------------------------------------------------------------ backups

    [BackendFact]
    public async Task Backup_FullThenIncrements_ResetStartsANewChain_Restore()
    {
        var ds = await BackupDatastoreAsync();
        var vm = await VmWithDiskAsync("BACKUP_CONFIG = [ MODE = \"INCREMENT\" ]\n");

        await Admin.CallAsync("one.vm.backup", vm, ds, false);
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == Backup, "backup done");
        var backup = Assert.Single(v.Ids("BACKUPS/BACKUP_IDS"));
        Assert.Equal((backup, 0), (v.Int("BACKUPS/BACKUP_CONFIG/INCREMENTAL_BACKUP_ID"), v.Int("BACKUPS/BACKUP_CONFIG/LAST_INCREMENT_ID")));
        Schemas.AssertValid(v.ToString(), "vm.xsd");

        await Admin.CallAsync("one.vm.backup", vm, ds, false);
        v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Str("BACKUPS/BACKUP_CONFIG/LAST_INCREMENT_ID") == "1", "increment 1");
        var img = await WaitImageStateAsync(backup, 1);
        Assert.Equal(6, img.Int("TYPE"));
        var incs = img.At("BACKUP_INCREMENTS").Elements("INCREMENT").ToList();
        Assert.Equal(["FULL", "INCREMENT"], incs.Select(i => i.Str("TYPE")));
        Assert.Equal(0, incs[1].Int("PARENT_ID"));
        Assert.Equal([0], img.Ids("BACKUP_DISK_IDS"));
        Schemas.AssertValid(img.ToString(), "image.xsd");

        // A BACKUP image is no disk.
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", VmTemplate(extra: $"DISK = [ IMAGE_ID = \"{backup}\" ]\n"), false), Err.Allocate, "restore it first");

        await Admin.CallAsync("one.vm.backup", vm, ds, true);
        v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Ids("BACKUPS/BACKUP_IDS").Count == 2, "reset: a new chain");
        var second = v.Ids("BACKUPS/BACKUP_IDS").Max();
        Assert.Equal((second, 0), (v.Int("BACKUPS/BACKUP_CONFIG/INCREMENTAL_BACKUP_ID"), v.Int("BACKUPS/BACKUP_CONFIG/LAST_INCREMENT_ID")));

        var restored = await Admin.CallStringAsync("one.image.restore", backup, 1, "NAME = \"" + Unique("rest") + "\"\nINCREMENT_ID = 1");
        var parts = restored.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var newImage = int.Parse(parts["IMAGE_IDS"], System.Globalization.CultureInfo.InvariantCulture);
        var template = int.Parse(parts["TEMPLATE_ID"], System.Globalization.CultureInfo.InvariantCulture);
        var ni = await WaitImageStateAsync(newImage, 1);
        Assert.Equal((backup, 1, 0), (ni.Int("TEMPLATE/RESTORED_FROM"), ni.Int("TEMPLATE/RESTORED_INCREMENT"), ni.Int("TEMPLATE/RESTORED_DISK_ID")));
        var t = await Admin.InfoAsync("one.template.info", template, false);
        Assert.Equal(newImage, t.Int("TEMPLATE/DISK/IMAGE_ID"));
        Assert.Equal("64", t.Str("TEMPLATE/MEMORY"));
        Assert.False(t.Has("TEMPLATE/BACKUP_CONFIG"));
    }

    [BackendFact]
    public async Task Backup_PoweroffVm_FullBackupThroughBackupPoweroff()
    {
        var ds = await BackupDatastoreAsync();
        var vm = await VmWithDiskAsync();
        await PoweroffAsync(vm);

        await Admin.CallAsync("one.vm.backup", vm, ds, false);

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("STATE") == VmState.Poweroff && x.Int("PREV_LCM_STATE") == BackupPoweroff, "backup done");
        var img = await WaitImageStateAsync(Assert.Single(v.Ids("BACKUPS/BACKUP_IDS")), 1);
        Assert.Equal("FULL", img.Str("BACKUP_INCREMENTS/INCREMENT/TYPE"));
        Assert.False(v.Has("BACKUPS/BACKUP_CONFIG/INCREMENTAL_BACKUP_ID")); // MODE is FULL by default
    }

    [BackendFact]
    public async Task Backup_BadDatastoreWrongStateFullDatastore_ActionErrorAndNothingChanges()
    {
        var vm = await VmWithDiskAsync();
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.backup", vm, 1, false), Err.Action, "is not a backup datastore");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.backup", vm, -1, false), Err.Action, "no previous backup");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.backupcancel", vm), Err.Action, "not available for state RUNNING");

        var full = await BackupDatastoreAsync("fs", "LIMIT_MB = 1\n");
        await Wait.ForAsync(() => Admin.InfoAsync("one.datastore.info", full), d => d.Long("TOTAL_MB") > 0, "the fs datastore measured");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.backup", vm, full, false), Err.Action, "Not enough space");

        var held = await NewVmAsync("", hold: true);
        var ds = await BackupDatastoreAsync();
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.backup", held, ds, false), Err.Action, "not available for state HOLD");
        var plain = await NewImageAsync();
        await FailsUnchangedAsync(() => Admin.CallStringAsync("one.image.restore", plain, 1, ""), Err.Action, "not a BACKUP image");
    }

    [BackendFact]
    public async Task Backup_DriverFails_NewBackupImageInErrorVmBackToRunning()
    {
        var ds = await BackupDatastoreAsync();
        var vm = await VmWithDiskAsync("DUMMY_FAIL = \"Backup\"\n");

        await Admin.CallAsync("one.vm.backup", vm, ds, false);

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.Int("PREV_LCM_STATE") == Backup, "back to RUNNING");
        Assert.Empty(v.Ids("BACKUPS/BACKUP_IDS"));
        var images = await Admin.InfoAsync("one.imagepool.info", -2, -1, -1);
        var bad = images.Elements("IMAGE").Single(i => i.Int("DATASTORE_ID") == ds);
        Assert.Equal(5, bad.Int("STATE"));
        Assert.Contains("Backup", bad.Str("TEMPLATE/ERROR"), StringComparison.Ordinal);
    }
}

public sealed class DiskActionsTests_Sqlite(SqliteFrontend fixture) : DiskActionsTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class DiskActionsTests_Postgres(PostgresFrontend fixture) : DiskActionsTests(fixture), IClassFixture<PostgresFrontend>;
