namespace EdgeCloud.Core.Objects;

// Numbers and names are OpenNebula's: clients compare them.

public enum VmState
{
    INIT = 0, PENDING = 1, HOLD = 2, ACTIVE = 3, STOPPED = 4, SUSPENDED = 5, DONE = 6,
    POWEROFF = 8, UNDEPLOYED = 9, CLONING = 10, CLONING_FAILURE = 11,
}

public enum LcmState
{
    LCM_INIT = 0, PROLOG = 1, BOOT = 2, RUNNING = 3, MIGRATE = 4, SAVE_STOP = 5, SAVE_SUSPEND = 6,
    SAVE_MIGRATE = 7, PROLOG_MIGRATE = 8, PROLOG_RESUME = 9, EPILOG_STOP = 10, EPILOG = 11, SHUTDOWN = 12,
    CLEANUP_RESUBMIT = 15, UNKNOWN = 16, HOTPLUG = 17, SHUTDOWN_POWEROFF = 18, BOOT_UNKNOWN = 19,
    BOOT_POWEROFF = 20, BOOT_SUSPENDED = 21, BOOT_STOPPED = 22, CLEANUP_DELETE = 23, HOTPLUG_SNAPSHOT = 24,
    HOTPLUG_NIC = 25, HOTPLUG_SAVEAS = 26, HOTPLUG_SAVEAS_POWEROFF = 27, HOTPLUG_SAVEAS_SUSPENDED = 28,
    SHUTDOWN_UNDEPLOY = 29, EPILOG_UNDEPLOY = 30, PROLOG_UNDEPLOY = 31, BOOT_UNDEPLOY = 32,
    HOTPLUG_PROLOG_POWEROFF = 33, HOTPLUG_EPILOG_POWEROFF = 34, BOOT_MIGRATE = 35, BOOT_FAILURE = 36,
    BOOT_MIGRATE_FAILURE = 37, PROLOG_MIGRATE_FAILURE = 38, PROLOG_FAILURE = 39, EPILOG_FAILURE = 40,
    EPILOG_STOP_FAILURE = 41, EPILOG_UNDEPLOY_FAILURE = 42, PROLOG_MIGRATE_POWEROFF = 43,
    PROLOG_MIGRATE_POWEROFF_FAILURE = 44, PROLOG_MIGRATE_SUSPEND = 45, PROLOG_MIGRATE_SUSPEND_FAILURE = 46,
    BOOT_UNDEPLOY_FAILURE = 47, BOOT_STOPPED_FAILURE = 48, PROLOG_RESUME_FAILURE = 49,
    PROLOG_UNDEPLOY_FAILURE = 50, DISK_SNAPSHOT_POWEROFF = 51, DISK_SNAPSHOT_REVERT_POWEROFF = 52,
    DISK_SNAPSHOT_DELETE_POWEROFF = 53, DISK_SNAPSHOT_SUSPENDED = 54, DISK_SNAPSHOT_DELETE_SUSPENDED = 56,
    DISK_SNAPSHOT = 57, DISK_SNAPSHOT_DELETE = 59, PROLOG_MIGRATE_UNKNOWN = 60,
    PROLOG_MIGRATE_UNKNOWN_FAILURE = 61, DISK_RESIZE = 62, DISK_RESIZE_POWEROFF = 63,
    DISK_RESIZE_UNDEPLOYED = 64, HOTPLUG_NIC_POWEROFF = 65, HOTPLUG_RESIZE = 66,
    HOTPLUG_SAVEAS_UNDEPLOYED = 67, HOTPLUG_SAVEAS_STOPPED = 68, BACKUP = 69, BACKUP_POWEROFF = 70,
    RESTORE = 71,
}

public enum HostState
{
    INIT = 0, MONITORING_MONITORED = 1, MONITORED = 2, ERROR = 3, DISABLED = 4, MONITORING_ERROR = 5,
    MONITORING_INIT = 6, MONITORING_DISABLED = 7, OFFLINE = 8,
}

public enum ImageState
{
    INIT = 0, READY = 1, USED = 2, DISABLED = 3, LOCKED = 4, ERROR = 5, CLONE = 6, DELETE = 7,
    USED_PERS = 8, LOCKED_USED = 9, LOCKED_USED_PERS = 10,
}

public enum ImageType { OS = 0, CDROM = 1, DATABLOCK = 2, KERNEL = 3, RAMDISK = 4, CONTEXT = 5, BACKUP = 6, FILESYSTEM = 7 }

public enum DatastoreType { IMAGE_DS = 0, SYSTEM_DS = 1, FILE_DS = 2, BACKUP_DS = 3 }

public enum DatastoreState { READY = 0, DISABLED = 1 }

public enum VNetState { INIT = 0, READY = 1, LOCK_CREATE = 2, LOCK_DELETE = 3, DONE = 4, ERROR = 5, UPDATE_FAILURE = 6 }

public static class StateNames
{
    /// <summary>Four-letter short form that <c>onevm list</c> prints.</summary>
    public static string Short(VmState state, LcmState lcm) => state switch
    {
        VmState.ACTIVE => ShortLcm(lcm),
        VmState.INIT => "init", VmState.PENDING => "pend", VmState.HOLD => "hold", VmState.STOPPED => "stop",
        VmState.SUSPENDED => "susp", VmState.DONE => "done", VmState.POWEROFF => "poff",
        VmState.UNDEPLOYED => "unde", VmState.CLONING => "clon", VmState.CLONING_FAILURE => "fail",
        _ => "unkn",
    };

    public static string ShortLcm(LcmState lcm)
    {
        var name = lcm.ToString();
        if (name.EndsWith("FAILURE", StringComparison.Ordinal)) return "fail";
        return lcm switch
        {
            LcmState.LCM_INIT => "init", LcmState.RUNNING => "runn", LcmState.UNKNOWN => "unkn",
            LcmState.DISK_RESIZE or LcmState.DISK_RESIZE_POWEROFF or LcmState.DISK_RESIZE_UNDEPLOYED => "drsz",
            LcmState.RESTORE => "rest",
            _ when name.StartsWith("PROLOG_MIGRATE", StringComparison.Ordinal) || lcm == LcmState.MIGRATE => "migr",
            _ when name.StartsWith("PROLOG", StringComparison.Ordinal) => "prol",
            _ when name.StartsWith("BOOT", StringComparison.Ordinal) => "boot",
            _ when name.StartsWith("SAVE", StringComparison.Ordinal) => "save",
            _ when name.StartsWith("EPILOG", StringComparison.Ordinal) => "epil",
            _ when name.StartsWith("SHUTDOWN", StringComparison.Ordinal) => "shut",
            _ when name.StartsWith("CLEANUP", StringComparison.Ordinal) => "clea",
            _ when name.Contains("SNAPSHOT", StringComparison.Ordinal) => "snap",
            _ when name.StartsWith("HOTPLUG", StringComparison.Ordinal) => "hotp",
            _ when name.StartsWith("BACKUP", StringComparison.Ordinal) => "back",
            _ => "unkn",
        };
    }
}
