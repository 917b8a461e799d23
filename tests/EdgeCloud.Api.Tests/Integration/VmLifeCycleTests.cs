using System.Xml.Linq;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// The VM life cycle on dummy drivers: scheduling, every one.vm.action, deploy, migrate, resize, disk
/// and NIC hotplug, snapshots, recover; illegal actions fail with ACTION and change nothing.
/// </summary>
public abstract class VmLifeCycleTests(FrontendFixture fixture) : ApiSuite(fixture)
{
    private Task<int> HostA() => SharedHostAsync("vmhosta");

    private Task<int> HostB() => SharedHostAsync("vmhostb");

    private async Task<XElement> VmAsync(int id) => await Admin.InfoAsync("one.vm.info", id, false);

    private static int Hid(XElement vm) => vm.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("HID");

    // ------------------------------------------------------------------ scheduling

    [BackendFact]
    public async Task VmAllocate_NoMatchingHost_PendingUntilTheSchedulerCanPlaceIt()
    {
        var a = await HostA();
        var vm = await NewVmAsync("SCHED_REQUIREMENTS = \"NAME = \\\"no-such-host\\\"\"\n");

        var pending = await Wait.ForAsync(() => VmAsync(vm), v => v.Has("USER_TEMPLATE/SCHED_MESSAGE"), "the scheduler's message");
        Assert.Equal((VmState.Pending, Lcm.Init), (pending.Int("STATE"), pending.Int("LCM_STATE")));
        Assert.False(pending.At("HISTORY_RECORDS").HasElements);

        await Admin.CallAsync("one.vm.update", vm, $"SCHED_REQUIREMENTS = \"ID = {a}\"", 1);

        var running = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal(a, Hid(running));
        Assert.Equal($"one-{vm}", running.Str("DEPLOY_ID"));
        Assert.Equal("dummy", running.Str("TEMPLATE/TM_MAD_SYSTEM"));
        Assert.Contains(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));
        Schemas.AssertValid(running.ToString(), "vm.xsd");
    }

    [BackendFact]
    public async Task VmAllocate_Hold_StaysInHoldUntilReleased()
    {
        var a = await HostA();
        var vm = await PinnedVmAsync(a, hold: true);

        Assert.Equal(VmState.Hold, (await VmAsync(vm)).Int("STATE"));

        await Admin.CallAsync("one.vm.action", "release", vm);

        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
    }

    [BackendFact]
    public async Task VmAllocate_NoMemory_AllocateErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", "NAME = \"nomem\"\nCPU = 1\n", false), Err.Allocate,
            "[one.vm.allocate] Error allocating a new virtual machine.");

    [BackendFact]
    public async Task VmAllocate_SyntaxError_ParseErrorAndNothingChanges() =>
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", "NAME = \"x\nMEMORY = 64", false), Err.Internal, "Parse error");

    // ------------------------------------------------------------------ actions

    [BackendFact]
    public async Task VmActionTerminate_Running_ShutdownEpilogDoneAndHostFreed()
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);
        var memBefore = (await Admin.InfoAsync("one.host.info", a)).Long("HOST_SHARE/MEM_USAGE");

        Assert.Equal(vm, await Admin.CallIntAsync("one.vm.action", "terminate", vm));

        var done = await WaitVmAsync(vm, VmState.Done);
        Assert.True(done.Long("ETIME") > 0);
        Assert.True(done.At("HISTORY_RECORDS").Elements("HISTORY").Last().Long("ETIME") > 0);
        var host = await Admin.InfoAsync("one.host.info", a);
        Assert.DoesNotContain(vm, host.Ids("VMS"));
        Assert.Equal(memBefore - 64 * 1024, host.Long("HOST_SHARE/MEM_USAGE"));
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, -1, "")).EntryIds());
        Assert.Contains(vm, (await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, -2, "")).EntryIds());
    }

    [BackendFact]
    public async Task VmActionTerminateHard_Running_Done()
    {
        var vm = await RunningOnAsync(await HostA());

        await Admin.CallAsync("one.vm.action", "terminate-hard", vm);

        var done = await WaitVmAsync(vm, VmState.Done);
        Assert.Equal(28, done.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("ACTION"));
    }

    [BackendFact]
    public async Task VmActionTerminate_Held_DoneAtOnce()
    {
        var vm = await NewVmAsync(hold: true);

        await Admin.CallAsync("one.vm.action", "terminate", vm);

        Assert.Equal(VmState.Done, (await VmAsync(vm)).Int("STATE"));
    }

    [BackendTheory]
    [InlineData("undeploy")]
    [InlineData("undeploy-hard")]
    public async Task VmActionUndeploy_Running_UndeployedThenResumeRunsAgain(string action)
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);

        await Admin.CallAsync("one.vm.action", action, vm);

        await WaitVmAsync(vm, VmState.Undeployed);
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));

        await Admin.CallAsync("one.vm.action", "resume", vm);
        var running = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal(2, running.At("HISTORY_RECORDS").Elements("HISTORY").Count());
    }

    [BackendTheory]
    [InlineData("poweroff")]
    [InlineData("poweroff-hard")]
    public async Task VmActionPoweroff_Running_PoweroffKeepsTheHostThenResume(string action)
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);

        await Admin.CallAsync("one.vm.action", action, vm);

        await WaitVmAsync(vm, VmState.Poweroff);
        Assert.Contains(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));

        await Admin.CallAsync("one.vm.action", "resume", vm);
        var running = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Single(running.At("HISTORY_RECORDS").Elements("HISTORY"));
    }

    [BackendTheory]
    [InlineData("reboot", 15)]
    [InlineData("reboot-hard", 16)]
    public async Task VmActionReboot_Running_StaysRunningAndRecordsTheAction(string action, int actionId)
    {
        var vm = await RunningOnAsync(await HostA());

        await Admin.CallAsync("one.vm.action", action, vm);

        var v = await VmAsync(vm);
        Assert.Equal((VmState.Active, Lcm.Running), (v.Int("STATE"), v.Int("LCM_STATE")));
        Assert.Equal(actionId, v.At("HISTORY_RECORDS").Elements("HISTORY").Last().Int("ACTION"));
    }

    [BackendFact]
    public async Task VmActionSuspendResume_SuspendedThenRunning()
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);

        await Admin.CallAsync("one.vm.action", "suspend", vm);
        await WaitVmAsync(vm, VmState.Suspended);
        Assert.Contains(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));

        await Admin.CallAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
    }

    [BackendFact]
    public async Task VmActionStopResume_StoppedLeavesTheHostThenRunsAgain()
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);

        await Admin.CallAsync("one.vm.action", "stop", vm);
        await WaitVmAsync(vm, VmState.Stopped);
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));

        await Admin.CallAsync("one.vm.action", "resume", vm);
        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Contains(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));
    }

    [BackendFact]
    public async Task VmActionHoldRelease_PendingVm_HoldThenPending()
    {
        var vm = await NewVmAsync("SCHED_REQUIREMENTS = \"NAME = \\\"no-such-host\\\"\"\n");

        await Admin.CallAsync("one.vm.action", "hold", vm);
        Assert.Equal(VmState.Hold, (await VmAsync(vm)).Int("STATE"));

        await Admin.CallAsync("one.vm.action", "release", vm);
        Assert.Equal(VmState.Pending, (await VmAsync(vm)).Int("STATE"));
        await Admin.CallAsync("one.vm.action", "terminate", vm);
    }

    [BackendFact]
    public async Task VmActionReschedUnresched_FlagSetAndCleared()
    {
        var vm = await RunningOnAsync(await HostA());

        await Admin.CallAsync("one.vm.action", "resched", vm);
        Assert.Equal(1, (await VmAsync(vm)).Int("RESCHED"));

        await Admin.CallAsync("one.vm.action", "unresched", vm);
        Assert.Equal(0, (await VmAsync(vm)).Int("RESCHED"));
    }

    [BackendFact]
    public async Task VmAction_IllegalInHold_ActionErrorNamingTheStateAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);

        foreach (var action in new[] { "suspend", "poweroff", "poweroff-hard", "stop", "undeploy", "reboot", "resume", "resched", "hold" })
        {
            await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", action, vm), Err.Action,
                $"[one.vm.action] Error performing action \"{action}\": This action is not available for state HOLD");
        }
    }

    [BackendFact]
    public async Task VmAction_IllegalWhileRunning_ActionErrorNamingTheStateAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());

        foreach (var action in new[] { "release", "hold", "resume" })
        {
            await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", action, vm), Err.Action,
                $"Error performing action \"{action}\": This action is not available for state RUNNING");
        }
    }

    [BackendFact]
    public async Task VmAction_IllegalInPoweroff_ActionErrorNamingTheStateAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());
        await Admin.CallAsync("one.vm.action", "poweroff", vm);
        await WaitVmAsync(vm, VmState.Poweroff);

        foreach (var action in new[] { "suspend", "reboot", "poweroff", "release" })
        {
            await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", action, vm), Err.Action,
                $"Error performing action \"{action}\": This action is not available for state POWEROFF");
        }
    }

    [BackendFact]
    public async Task VmAction_OnDoneVm_ActionErrorAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);
        await Admin.CallAsync("one.vm.action", "terminate", vm);

        foreach (var action in new[] { "terminate", "resume", "release" })
        {
            await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", action, vm), Err.Action,
                $"Error performing action \"{action}\": This action is not available for state DONE");
        }
    }

    [BackendFact]
    public async Task VmAction_UnknownAction_ActionErrorAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", "explode", vm), Err.Action, "[one.vm.action] Action \"explode\" is not supported");
    }

    // ------------------------------------------------------------------ deploy, migrate

    [BackendFact]
    public async Task VmDeploy_HeldVmToAChosenHost_RunsThere()
    {
        var b = await HostB();
        var vm = await NewVmAsync(hold: true);

        Assert.Equal(vm, await Admin.CallIntAsync("one.vm.deploy", vm, b, false, -1, ""));

        var running = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal(b, Hid(running));
        Assert.Equal(0, running.Int("HISTORY_RECORDS/HISTORY/DS_ID"));
    }

    [BackendFact]
    public async Task VmDeploy_RunningVm_ActionErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());
        var b = await HostB();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.deploy", vm, b, false, -1, ""), Err.Action, "This action is not available for state RUNNING");
    }

    [BackendFact]
    public async Task VmDeploy_UnknownHost_NoExistsAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.deploy", vm, 99999, false, -1, ""), Err.NoExists, "Error getting host [99999].");
    }

    [BackendFact]
    public async Task VmDeploy_ByPlainOwner_AuthorizationErrorAndNothingChanges()
    {
        var (_, user) = await NewUserAsync();
        var vm = await NewVmAsync(hold: true, client: user);
        var b = await HostB();

        await FailsUnchangedAsync(() => user.CallAsync("one.vm.deploy", vm, b, false, -1, ""), Err.Authorization);
    }

    [BackendTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VmMigrate_Running_RunsOnTheOtherHostWithTwoHistories(bool live)
    {
        var a = await HostA();
        var b = await HostB();
        var vm = await RunningOnAsync(a);

        await Admin.CallAsync("one.vm.migrate", vm, b, live, false, -1, 0);

        var moved = await Wait.ForAsync(() => VmAsync(vm), v => v.Int("LCM_STATE") == Lcm.Running && Hid(v) == b, $"VM {vm} running on host {b}");
        var histories = moved.At("HISTORY_RECORDS").Elements("HISTORY").ToList();
        Assert.Equal(2, histories.Count);
        Assert.Equal((a, b), (histories[0].Int("HID"), histories[1].Int("HID")));
        Assert.Equal(live ? 2 : 1, histories[1].Int("ACTION"));
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));
        Assert.Contains(vm, (await Admin.InfoAsync("one.host.info", b)).Ids("VMS"));
        var shortBody = (await Admin.InfoAsync("one.vmpool.info", -2, vm, vm, -1, "")).Entry(vm);
        Assert.Equal(b, Assert.Single(shortBody.At("HISTORY_RECORDS").Elements("HISTORY")).Int("HID"));
        Assert.Equal(2, (await Admin.InfoAsync("one.vmpool.infoextended", -2, vm, vm, -1, "")).Entry(vm).At("HISTORY_RECORDS").Elements("HISTORY").Count());
        Schemas.AssertValid(moved.ToString(), "vm.xsd");
    }

    [BackendFact]
    public async Task VmMigrate_Poweroff_MovesColdAndStaysOff()
    {
        var a = await HostA();
        var b = await HostB();
        var vm = await RunningOnAsync(a);
        await Admin.CallAsync("one.vm.action", "poweroff", vm);
        await WaitVmAsync(vm, VmState.Poweroff);

        await Admin.CallAsync("one.vm.migrate", vm, b, false, false, -1, 0);

        var moved = await Wait.ForAsync(() => VmAsync(vm), v => v.Int("STATE") == VmState.Poweroff && Hid(v) == b, $"VM {vm} off on host {b}");
        Assert.Equal(2, moved.At("HISTORY_RECORDS").Elements("HISTORY").Count());
    }

    [BackendFact]
    public async Task VmMigrate_ToTheSameHost_ActionErrorAndNothingChanges()
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.migrate", vm, a, false, false, -1, 0), Err.Action);
    }

    [BackendFact]
    public async Task VmMigrate_HeldVm_ActionErrorAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);
        var b = await HostB();

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.migrate", vm, b, true, false, -1, 0), Err.Action, "not available for state HOLD");
    }

    // ------------------------------------------------------------------ resize

    [BackendFact]
    public async Task VmResize_Poweroff_NewSizeAndHostCapacityFollow()
    {
        var a = await HostA();
        var vm = await RunningOnAsync(a);
        await Admin.CallAsync("one.vm.action", "poweroff", vm);
        await WaitVmAsync(vm, VmState.Poweroff);
        var before = (await Admin.InfoAsync("one.host.info", a)).At("HOST_SHARE");

        await Admin.CallAsync("one.vm.resize", vm, "CPU = 0.5\nMEMORY = 256\n", false);

        var v = await VmAsync(vm);
        Assert.Equal(VmState.Poweroff, v.Int("STATE"));
        Assert.Equal(("0.5", "256"), (v.Str("TEMPLATE/CPU"), v.Str("TEMPLATE/MEMORY")));
        var after = (await Admin.InfoAsync("one.host.info", a)).At("HOST_SHARE");
        Assert.Equal(before.Long("MEM_USAGE") + (256 - 64) * 1024, after.Long("MEM_USAGE"));
        Assert.Equal(before.Long("CPU_USAGE") + 40, after.Long("CPU_USAGE"));
    }

    [BackendFact]
    public async Task VmResize_Running_HotResizeBackToRunning()
    {
        var vm = await RunningOnAsync(await HostA());

        await Admin.CallAsync("one.vm.resize", vm, "CPU = 1.0\nMEMORY = 256\n", false);

        var v = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal("256", v.Str("TEMPLATE/MEMORY"));
        Assert.Equal(1.0, v.Double("TEMPLATE/CPU"));
    }

    [BackendFact]
    public async Task VmResize_Suspended_ActionErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());
        await Admin.CallAsync("one.vm.action", "suspend", vm);
        await WaitVmAsync(vm, VmState.Suspended);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.resize", vm, "MEMORY = 128", false), Err.Action, "not available for state SUSPENDED");
    }

    // ------------------------------------------------------------------ disks and NICs

    [BackendFact]
    public async Task VmAttachDetach_ImageDisk_ImageUsedThenReady()
    {
        var vm = await RunningOnAsync(await HostA());
        var image = await NewImageAsync();

        await Admin.CallAsync("one.vm.attach", vm, $"DISK = [ IMAGE_ID = {image} ]");

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.At("TEMPLATE").Elements("DISK").Any(), "the disk attached");
        var disk = Assert.Single(v.At("TEMPLATE").Elements("DISK"));
        Assert.Equal(image, disk.Int("IMAGE_ID"));
        Assert.Equal("FILE", disk.Str("TYPE"));
        Assert.False(disk.Has("ATTACH"));
        var img = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((2, 1), (img.Int("STATE"), img.Int("RUNNING_VMS")));
        Assert.Equal([vm], img.Ids("VMS"));

        await Admin.CallAsync("one.vm.detach", vm, disk.Int("DISK_ID"));

        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && !x.At("TEMPLATE").Elements("DISK").Any(), "the disk detached");
        img = await Admin.InfoAsync("one.image.info", image);
        Assert.Equal((1, 0), (img.Int("STATE"), img.Int("RUNNING_VMS")));
    }

    [BackendFact]
    public async Task VmAttach_VolatileDisk_GetsAnId()
    {
        var vm = await RunningOnAsync(await HostA(), "DISK = [ TYPE = \"fs\", SIZE = \"10\" ]\n");

        await Admin.CallAsync("one.vm.attach", vm, "DISK = [ TYPE = \"swap\", SIZE = \"20\" ]");

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.At("TEMPLATE").Elements("DISK").Count() == 2, "the second disk");
        var disks = v.At("TEMPLATE").Elements("DISK").ToList();
        Assert.Equal([0, 1], disks.Select(d => d.Int("DISK_ID")));
        Assert.Equal("swap", disks[1].Str("TYPE"));
    }

    [BackendFact]
    public async Task VmAllocateAndAttach_Disks_GetTargetsAsOnedAssignsThem()
    {
        var vm = await RunningOnAsync(await HostA(),
            "DISK = [ TYPE = \"fs\", SIZE = \"10\" ]\nDISK = [ TYPE = \"fs\", SIZE = \"10\", TARGET = \"vda\" ]\n" +
            "DISK = [ TYPE = \"swap\", SIZE = \"10\", DEV_PREFIX = \"sd\" ]\n");
        var disks = (await VmAsync(vm)).At("TEMPLATE").Elements("DISK").ToList();
        Assert.Equal(["vdb", "vda", "sda"], disks.Select(d => d.Str("TARGET")));

        await Admin.CallAsync("one.vm.detach", vm, 0);
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.At("TEMPLATE").Elements("DISK").Count() == 2, "disk 0 detached");
        await Admin.CallAsync("one.vm.attach", vm, "DISK = [ TYPE = \"fs\", SIZE = \"10\" ]");
        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.At("TEMPLATE").Elements("DISK").Count() == 3, "a disk attached");
        Assert.Equal("vdb", v.At("TEMPLATE").Elements("DISK").Single(d => d.Int("DISK_ID") == 3).Str("TARGET"));
        Schemas.AssertValid(v.ToString(), "vm.xsd");

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.attach", vm, "DISK = [ TYPE = fs, SIZE = 10, TARGET = vda ]"), Err.Action, "Target vda of DISK 4 is already in use");
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.allocate", "NAME = twice\nMEMORY = 64\nCPU = 1\nDISK = [ TYPE = fs, SIZE = 1, TARGET = vdc ]\nDISK = [ TYPE = fs, SIZE = 1, TARGET = vdc ]", false),
            Err.Allocate, "Target vdc of DISK 1 is already in use");
    }

    [BackendFact]
    public async Task VmDetach_UnknownDisk_ActionErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.detach", vm, 7), Err.Action);
    }

    [BackendFact]
    public async Task VmAttach_HeldVm_ActionErrorAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.attach", vm, "DISK = [ TYPE = fs, SIZE = 10 ]"), Err.Action, "not available for state HOLD");
    }

    [BackendFact]
    public async Task VmAttachnicDetachnic_LeaseTakenThenFreed()
    {
        var vm = await RunningOnAsync(await HostA());
        var net = await NewNetAsync(4, "10.20.0.1");

        await Admin.CallAsync("one.vm.attachnic", vm, $"NIC = [ NETWORK_ID = {net}]");

        var v = await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && x.At("TEMPLATE").Elements("NIC").Any(), "the NIC attached");
        var nic = Assert.Single(v.At("TEMPLATE").Elements("NIC"));
        Assert.Equal("10.20.0.1", nic.Str("IP"));
        Assert.Equal(net, nic.Int("NETWORK_ID"));
        var ar = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR");
        Assert.Equal(1, ar.Int("USED_LEASES"));
        Assert.Equal(vm, ar.At("LEASES/LEASE").Int("VM"));

        await Admin.CallAsync("one.vm.detachnic", vm, nic.Int("NIC_ID"));

        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && !x.At("TEMPLATE").Elements("NIC").Any(), "the NIC detached");
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", net)).Int("AR_POOL/AR/USED_LEASES"));
    }

    // ------------------------------------------------------------------ snapshots

    [BackendFact]
    public async Task VmSnapshot_CreateRevertDelete()
    {
        var vm = await RunningOnAsync(await HostA());

        var snap = await Admin.CallIntAsync("one.vm.snapshotcreate", vm, "snap1");

        var v = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        var s = v.At("TEMPLATE/SNAPSHOT");
        Assert.Equal((snap, "snap1"), (s.Int("SNAPSHOT_ID"), s.Str("NAME")));

        await Admin.CallAsync("one.vm.snapshotrevert", vm, snap);
        Assert.Equal(snap, (await WaitVmAsync(vm, VmState.Active, Lcm.Running)).Int("TEMPLATE/SNAPSHOT/SNAPSHOT_ID"));

        await Admin.CallAsync("one.vm.snapshotdelete", vm, snap);
        await Wait.ForAsync(() => VmAsync(vm), x => x.Int("LCM_STATE") == Lcm.Running && !x.Has("TEMPLATE/SNAPSHOT"), "the snapshot deleted");
    }

    [BackendFact]
    public async Task VmSnapshotRevert_UnknownSnapshot_ActionErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.snapshotrevert", vm, 42), Err.Action);
    }

    // ------------------------------------------------------------------ recover

    [BackendFact]
    public async Task VmRecover_DeployFailure_RetryFailsAgainUntilFixedThenRuns()
    {
        var vm = await PinnedVmAsync(await HostA(), "DUMMY_FAIL = \"deploy\"\n");

        var failed = await WaitVmAsync(vm, VmState.Active, Lcm.BootFailure);
        Assert.Contains("DUMMY_FAIL", failed.Str("USER_TEMPLATE/ERROR"), StringComparison.Ordinal);

        // Clear ERROR (keeping DUMMY_FAIL) so the next failure is the retry's own.
        var requirements = $"SCHED_REQUIREMENTS = \"{failed.Str("USER_TEMPLATE/SCHED_REQUIREMENTS")}\"";
        await Admin.CallAsync("one.vm.update", vm, $"{requirements}\nDUMMY_FAIL = \"deploy\"", 0);
        await Admin.CallAsync("one.vm.recover", vm, 2);
        await Wait.ForAsync(() => VmAsync(vm), v => v.Int("LCM_STATE") == Lcm.BootFailure && v.Has("USER_TEMPLATE/ERROR"), "the retry to fail again");

        await Admin.CallAsync("one.vm.update", vm, requirements, 0);
        await Admin.CallAsync("one.vm.recover", vm, 2);

        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
    }

    [BackendFact]
    public async Task VmRecover_SuccessFromBootFailure_Running()
    {
        var vm = await PinnedVmAsync(await HostA(), "DUMMY_FAIL = \"deploy\"\n");
        await WaitVmAsync(vm, VmState.Active, Lcm.BootFailure);

        await Admin.CallAsync("one.vm.recover", vm, 1);

        await WaitVmAsync(vm, VmState.Active, Lcm.Running);
    }

    [BackendFact]
    public async Task VmRecover_DeleteFromBootFailure_DoneAndHostFreed()
    {
        var a = await HostA();
        var vm = await PinnedVmAsync(a, "DUMMY_FAIL = \"deploy\"\n");
        await WaitVmAsync(vm, VmState.Active, Lcm.BootFailure);

        await Admin.CallAsync("one.vm.recover", vm, 3);

        await WaitVmAsync(vm, VmState.Done);
        Assert.DoesNotContain(vm, (await Admin.InfoAsync("one.host.info", a)).Ids("VMS"));
    }

    [BackendFact]
    public async Task VmRecover_RunningVm_ActionErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.recover", vm, 2), Err.Action, "not available for state RUNNING");
    }

    [BackendFact]
    public async Task VmRecover_UnknownOperation_ApiErrorAndNothingChanges()
    {
        var vm = await RunningOnAsync(await HostA());

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.recover", vm, 9), Err.Api);
    }

    [BackendFact]
    public async Task VmRecover_FailureRetrySuccess_OnTransientStatesOfASlowDriver()
    {
        // Driver actions that take a minute keep the VM in its transient states long enough to recover them.
        await using var slow = await FrontendHandle.StartAsync(Backend, o => o with { DummyActionDelay = 60 });
        var admin = slow.Admin;
        var host = await admin.CallIntAsync("one.host.allocate", Unique("slow"), "dummy", "dummy", -1);
        await Wait.ForAsync(() => admin.InfoAsync("one.host.info", host), h => h.Int("STATE") == 2, "the slow host MONITORED");
        var vm = await admin.CallIntAsync("one.vm.allocate", VmTemplate(), true);
        await admin.CallAsync("one.vm.deploy", vm, host, false, -1, "");
        async Task<(int, int)> StateAsync() { var v = await admin.InfoAsync("one.vm.info", vm); return (v.Int("STATE"), v.Int("LCM_STATE")); }
        Assert.Equal((VmState.Active, Lcm.Prolog), await StateAsync());

        await admin.CallAsync("one.vm.recover", vm, 0);
        Assert.Equal((VmState.Active, Lcm.PrologFailure), await StateAsync());

        await admin.CallAsync("one.vm.recover", vm, 2);
        Assert.Equal((VmState.Active, Lcm.Prolog), await StateAsync());

        await admin.CallAsync("one.vm.recover", vm, 1);
        Assert.Equal((VmState.Active, Lcm.Boot), await StateAsync());

        await admin.CallAsync("one.vm.recover", vm, 1);
        Assert.Equal((VmState.Active, Lcm.Running), await StateAsync());

        await admin.CallAsync("one.vm.recover", vm, 3);
        Assert.Equal((VmState.Done, Lcm.Init), await StateAsync());
    }

    // ------------------------------------------------------------------ update, rename, chown, chmod, lock

    [BackendFact]
    public async Task VmUpdate_ReplaceAndMergeTheUserTemplate()
    {
        var vm = await NewVmAsync("LABEL = \"a\"\n", hold: true);

        await Admin.CallAsync("one.vm.update", vm, "DESCRIPTION = \"updated by cli\"\nOWNER_NOTE = \"x\"\n", 1);
        var merged = (await VmAsync(vm)).At("USER_TEMPLATE");
        Assert.Equal(("a", "updated by cli"), (merged.Str("LABEL"), merged.Str("DESCRIPTION")));

        await Admin.CallAsync("one.vm.update", vm, "ONLY = \"this\"", 0);
        var replaced = await VmAsync(vm);
        Assert.Equal(["ONLY"], replaced.At("USER_TEMPLATE").Elements().Select(e => e.Name.LocalName));
        Assert.Equal("64", replaced.Str("TEMPLATE/MEMORY")); // the system template is not the user template
    }

    [BackendFact]
    public async Task VmUpdate_SyntaxError_ActionParseErrorAndNothingChanges()
    {
        var vm = await NewVmAsync(hold: true);

        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.update", vm, "A = \"open", 1), Err.Action, "Parse error");
    }

    [BackendFact]
    public async Task VmRenameChownChmod_ChangeTheVm()
    {
        var vm = await NewVmAsync(hold: true);
        var (uid, _) = await NewUserAsync();
        var name = Unique("renamed");

        await Admin.CallAsync("one.vm.rename", vm, name);
        await Admin.CallAsync("one.vm.chown", vm, uid, 1);
        await Admin.CallAsync("one.vm.chmod", vm, 1, 1, 0, 1, 0, 0, 0, 0, 0);

        var v = await VmAsync(vm);
        Assert.Equal(name, v.Str("NAME"));
        Assert.Equal((uid, 1), (v.Int("UID"), v.Int("GID")));
        Assert.Equal("640", v.Octal());
        Assert.Equal(1, (await Admin.InfoAsync("one.user.info", uid)).Int("VM_QUOTA/VM/VMS_USED"));
    }

    [BackendFact]
    public async Task VmLockUnlock_LockedVmRefusesActions()
    {
        var vm = await NewVmAsync(hold: true);

        await Admin.CallAsync("one.vm.lock", vm, 1, false);

        Assert.Equal(1, (await VmAsync(vm)).Int("LOCK/LOCKED"));
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vm.action", "release", vm), Err.Locked, $"The resource virtual machine is locked. [{vm}].");
        await Admin.CallAsync("one.vm.unlock", vm);
        await Admin.CallAsync("one.vm.action", "release", vm);
        Assert.Equal(VmState.Pending, (await VmAsync(vm)).Int("STATE"));
        await Admin.CallAsync("one.vm.action", "terminate", vm);
    }

    // ------------------------------------------------------------------ documents

    [BackendFact]
    public async Task VmPoolDocuments_ValidateAgainstTheXsds()
    {
        await RunningOnAsync(await HostA());

        var shortPool = await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, 3, "");
        var fullPool = await Admin.InfoAsync("one.vmpool.infoextended", -2, -1, -1, 3, "");

        Assert.All(shortPool.Entries(), v => Assert.True(v.At("HISTORY_RECORDS").Elements("HISTORY").Count() <= 1));
        Assert.All(shortPool.Entries().SelectMany(v => v.At("TEMPLATE").Elements("DISK")), d => Assert.True(d.Has("TYPE")));
        Schemas.AssertValid(shortPool.ToString(), "vm_pool.xsd");
        Schemas.AssertValid(fullPool.ToString(), "vm_pool_extended.xsd");
    }

    [BackendFact]
    public async Task VmMonitoring_RunningVm_ReturnsAMonitoringDocument()
    {
        var vm = await RunningOnAsync(await HostA());

        var one = await Admin.InfoAsync("one.vm.monitoring", vm);
        var all = await Admin.InfoAsync("one.vmpool.monitoring", -2, 0);

        Assert.Equal("MONITORING_DATA", one.Name.LocalName);
        Assert.Equal("MONITORING_DATA", all.Name.LocalName);
        Schemas.AssertValid(one.ToString(), "monitoring_data.xsd");
    }

    [BackendFact]
    public async Task VmpoolInfoset_ListedIds_OnlyThose()
    {
        var a = await NewVmAsync(hold: true);
        var b = await NewVmAsync(hold: true);
        await NewVmAsync(hold: true);

        var shortSet = await Admin.InfoAsync("one.vmpool.infoset", $"{a},{b}", false);
        var fullSet = await Admin.InfoAsync("one.vmpool.infoset", $"{b}", true);

        Assert.Equal([a, b], shortSet.EntryIds());
        Assert.Equal([b], fullSet.EntryIds());
        Assert.True(fullSet.Entry(b).Has("PERMISSIONS"));
        Assert.False(shortSet.Entry(a).Has("PERMISSIONS"));
    }

    [BackendFact]
    public async Task VmUpdateconf_HeldVm_ReplacesAndMergesSections()
    {
        var vm = await NewVmAsync("OS = [ ARCH = \"x86_64\", BOOT = \"disk0\" ]\nGRAPHICS = [ TYPE = \"VNC\" ]\n", hold: true);

        await Admin.CallIntAsync("one.vm.updateconf", vm, "OS = [ BOOT = \"nic0\" ]", 1);
        var merged = await Admin.InfoAsync("one.vm.info", vm);
        await Admin.CallIntAsync("one.vm.updateconf", vm, "OS = [ ARCH = \"aarch64\" ]", 0);
        var replaced = await Admin.InfoAsync("one.vm.info", vm);

        Assert.Equal(("x86_64", "nic0"), (merged.Str("TEMPLATE/OS/ARCH"), merged.Str("TEMPLATE/OS/BOOT")));
        Assert.Equal("aarch64", replaced.Str("TEMPLATE/OS/ARCH"));
        Assert.False(replaced.Has("TEMPLATE/OS/BOOT"));
        Assert.False(replaced.Has("TEMPLATE/GRAPHICS")); // replace drops the sections not given
    }

    [BackendFact]
    public async Task VmUpdateconf_RunningVmOsChange_ActionErrorAndNothingChanges()
    {
        await SharedHostAsync("lifecycle");
        var vm = await RunningVmAsync();

        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vm.updateconf", vm, "OS = [ ARCH = \"aarch64\" ]", 1), 0x800, "not available for state RUNNING");
        await Admin.CallIntAsync("one.vm.updateconf", vm, "CONTEXT = [ HOSTNAME = \"web1\" ]", 1);
        Assert.Equal("web1", (await Admin.InfoAsync("one.vm.info", vm)).Str("TEMPLATE/CONTEXT/HOSTNAME"));
    }

    [BackendFact]
    public async Task VmUpdateconf_AttributeOutsideTheSections_ActionErrorNamingIt()
    {
        var vm = await NewVmAsync(hold: true);

        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vm.updateconf", vm, "MEMORY = 4096", 1), 0x800, "MEMORY cannot be changed with updateconf");
    }

    [BackendFact]
    public async Task MarketInfo_NoMarketplaces_NoExists()
    {
        await FailsUnchangedAsync(() => Admin.CallStringAsync("one.market.info", 0, false), 0x400, "[one.market.info] Error getting marketplace [0].");
        await FailsUnchangedAsync(() => Admin.CallStringAsync("one.marketapp.info", 3, false), 0x400, "[one.marketapp.info] Error getting marketplace app [3].");
    }

    [BackendFact]
    public async Task Resched_BetterHostExists_SchedulerMigratesTheVm()
    {
        // A cluster of its own with a system datastore and two hosts; the default striping policy prefers the emptier host.
        var cluster = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
        await Admin.CallIntAsync("one.datastore.allocate", $"NAME = \"{Unique("sys")}\"\nTYPE = \"SYSTEM_DS\"\nTM_MAD = \"dummy\"\n", cluster);
        var busy = await NewHostAsync(cluster: cluster);
        var vms = new List<int>();
        for (var i = 0; i < 2; i++)
        {
            var vm = await NewVmAsync($"SCHED_REQUIREMENTS = \"CLUSTER_ID = {cluster}\"\n", hold: true);
            await Admin.CallIntAsync("one.vm.deploy", vm, busy, false, -1, "");
            await WaitVmAsync(vm, VmState.Active, Lcm.Running);
            vms.Add(vm);
        }
        var idle = await NewHostAsync(cluster: cluster);

        await Admin.CallIntAsync("one.vm.action", "resched", vms[0]);

        var moved = await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", vms[0]),
            v => v.Int("STATE") == VmState.Active && v.Int("LCM_STATE") == Lcm.Running && v.Elements("HISTORY_RECORDS").Elements("HISTORY").Last().Int("HID") == idle,
            "VM rescheduled to the idle host", TimeSpan.FromSeconds(20));
        Assert.Equal(0, moved.Int("RESCHED"));
        Assert.Equal(2, moved.Elements("HISTORY_RECORDS").Elements("HISTORY").Count());
        var busyHost = await Admin.InfoAsync("one.host.info", busy);
        Assert.Equal(1, busyHost.Int("HOST_SHARE/RUNNING_VMS")); // the old host gave its capacity back
    }
}

public sealed class VmLifeCycleTests_Sqlite(SqliteFrontend fixture) : VmLifeCycleTests(fixture), IClassFixture<SqliteFrontend>;

[RequiresPostgres]
public sealed class VmLifeCycleTests_Postgres(PostgresFrontend fixture) : VmLifeCycleTests(fixture), IClassFixture<PostgresFrontend>;
