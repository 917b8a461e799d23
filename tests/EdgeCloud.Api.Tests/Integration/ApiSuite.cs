using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Sdk;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// Base of every API suite: the shared front-end of the class (<see cref="FrontendFixture"/>), clients
/// for oneadmin and for new users, and the checks every suite needs (a call fails with OpenNebula's
/// code and message; nothing in the store changed; the daemon still answers).
/// </summary>
public abstract class ApiSuite(FrontendFixture fixture)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(FrontendHandle, string), Lazy<Task<int>>> SharedHosts = new();

    private static int _counter;

    protected FrontendFixture Fixture => fixture;

    protected Backend Backend => fixture.Backend;

    protected FrontendHandle Fe => fixture.Frontend;

    protected OneClient Admin => Fe.Admin;

    /// <summary>A name no other test of the run uses.</summary>
    protected static string Unique(string prefix) =>
        $"{prefix}{Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture)}x{Guid.NewGuid().ToString("N")[..6]}";

    // ------------------------------------------------------------------ users

    /// <summary>Creates a user (core driver) and returns its id and a client acting as it.</summary>
    protected async Task<(int Id, OneClient Client)> NewUserAsync(string? name = null, params int[] groups)
    {
        name ??= Unique("user");
        var password = "pw-" + name;
        var id = await Admin.CallIntAsync("one.user.allocate", name, password, "core", groups);
        return (id, Fe.Client($"{name}:{password}"));
    }

    protected async Task<int> NewGroupAsync(string? name = null) => await Admin.CallIntAsync("one.group.allocate", name ?? Unique("group"));

    // ------------------------------------------------------------------ infrastructure

    /// <summary>A dummy host, waited for until MONITORED (state 2).</summary>
    protected async Task<int> NewHostAsync(string? name = null, int cluster = -1, OneClient? client = null)
    {
        var id = await (client ?? Admin).CallIntAsync("one.host.allocate", name ?? Unique("host"), "dummy", "dummy", cluster);
        await WaitHostStateAsync(id, 2);
        return id;
    }

    /// <summary>A dummy host created once per front-end under <paramref name="key"/> and shared by the tests of the class.</summary>
    protected Task<int> SharedHostAsync(string key) =>
        SharedHosts.GetOrAdd((Fe, key), k => new Lazy<Task<int>>(() => NewHostAsync(Unique(k.Item2)))).Value;

    protected async Task<XElement> WaitHostStateAsync(int id, int state, TimeSpan? timeout = null) =>
        await Wait.ForAsync(() => Admin.InfoAsync("one.host.info", id), h => h.Int("STATE") == state, $"host {id} in state {state}", timeout);

    /// <summary>A virtual network of the dummy driver with one IPv4 range, waited for until READY.</summary>
    protected async Task<int> NewNetAsync(int size = 10, string ip = "10.0.0.1", string? name = null, OneClient? client = null)
    {
        var template = $"NAME = \"{name ?? Unique("net")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", IP = \"{ip}\", SIZE = \"{size}\" ]\n";
        var id = await (client ?? Admin).CallIntAsync("one.vn.allocate", template, -1);
        await Wait.ForAsync(() => Admin.InfoAsync("one.vn.info", id), n => n.Int("STATE") == 1, $"network {id} READY");
        return id;
    }

    /// <summary>An OS image in datastore 1, waited for until READY.</summary>
    protected async Task<int> NewImageAsync(string? name = null, OneClient? client = null, bool persistent = false, int size = 10)
    {
        var template = $"NAME = \"{name ?? Unique("img")}\"\nPATH = \"/var/tmp/disk.img\"\nTYPE = \"OS\"\nSIZE = \"{size}\"\n{(persistent ? "PERSISTENT = \"YES\"\n" : "")}";
        var id = await (client ?? Admin).CallIntAsync("one.image.allocate", template, 1, false);
        await WaitImageStateAsync(id, 1);
        return id;
    }

    protected async Task<XElement> WaitImageStateAsync(int id, int state) =>
        await Wait.ForAsync(() => Admin.InfoAsync("one.image.info", id), i => i.Int("STATE") == state, $"image {id} in state {state}");

    // ------------------------------------------------------------------ VMs

    /// <summary>A small VM template text (0.1 CPU, 64 MiB) with extra lines.</summary>
    protected static string VmTemplate(string? name = null, string extra = "") =>
        $"NAME = \"{name ?? Unique("vm")}\"\nCPU = \"0.1\"\nVCPU = \"1\"\nMEMORY = \"64\"\n{extra}";

    /// <summary>one.vm.allocate of <see cref="VmTemplate"/>; hold leaves it in HOLD.</summary>
    protected async Task<int> NewVmAsync(string extra = "", bool hold = false, OneClient? client = null, string? name = null) =>
        await (client ?? Admin).CallIntAsync("one.vm.allocate", VmTemplate(name, extra), hold);

    /// <summary>A VM the scheduler placed and the dummy driver booted (ACTIVE/RUNNING).</summary>
    protected async Task<int> RunningVmAsync(string extra = "", OneClient? client = null)
    {
        var id = await NewVmAsync(extra, client: client);
        await WaitVmAsync(id, VmState.Active, Lcm.Running);
        return id;
    }

    /// <summary>A VM the scheduler may only place on <paramref name="hostId"/> (SCHED_REQUIREMENTS = "ID = n").</summary>
    protected async Task<int> PinnedVmAsync(int hostId, string extra = "", bool hold = false, OneClient? client = null) =>
        await NewVmAsync($"SCHED_REQUIREMENTS = \"ID = {hostId}\"\n{extra}", hold, client);

    /// <summary>A VM running on <paramref name="hostId"/>.</summary>
    protected async Task<int> RunningOnAsync(int hostId, string extra = "", OneClient? client = null)
    {
        var id = await PinnedVmAsync(hostId, extra, client: client);
        await WaitVmAsync(id, VmState.Active, Lcm.Running);
        return id;
    }

    /// <summary>Polls one.vm.info until STATE (and LCM_STATE, unless null) are reached.</summary>
    protected async Task<XElement> WaitVmAsync(int id, int state, int? lcm = null, TimeSpan? timeout = null) =>
        await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", id),
            vm => vm.Int("STATE") == state && (lcm is null || vm.Int("LCM_STATE") == lcm),
            $"VM {id} in STATE {state}{(lcm is null ? "" : $", LCM_STATE {lcm}")}", timeout);

    // ------------------------------------------------------------------ checks

    /// <summary>Runs <paramref name="call"/> and asserts it fails with OpenNebula's <paramref name="code"/> and a message containing <paramref name="contains"/>.</summary>
    protected static async Task<OneException> FailsAsync(Func<Task> call, int code, string? contains = null)
    {
        var ex = await Assert.ThrowsAsync<OneException>(call);
        if (ex.Code != code)
            throw new XunitException($"Expected error code 0x{code:X} but got 0x{ex.Code:X} (fault {ex.FaultCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}): {ex.Message}");
        if (contains is not null) Assert.Contains(contains, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    /// <summary>Asserts a call fails with OpenNebula's code and message, and that it changed nothing in the store.</summary>
    protected async Task<OneException> FailsUnchangedAsync(Func<Task> call, int code, string? contains = null)
    {
        var before = await StoreDump.StableAsync(Fe);
        var ex = await FailsAsync(call, code, contains);
        await AssertServingAsync();
        var after = await StoreDump.TakeAsync(Fe);
        StoreDump.AssertSame(before, after);
        return ex;
    }

    /// <summary>The daemon still answers, and nothing has gone wrong inside it (no error logged).</summary>
    protected async Task AssertServingAsync()
    {
        Assert.Equal("7.5.80", await Admin.CallStringAsync("one.system.version"));
        Assert.Empty(Fe.LoggedErrors);
    }
}

/// <summary>OpenNebula's error codes, as the OCA names them.</summary>
public static class Err
{
    public const int Authentication = 0x100;
    public const int Authorization = 0x200;
    public const int NoExists = 0x400;
    public const int Action = 0x800;
    public const int Api = 0x1000;
    public const int Internal = 0x2000;
    public const int Allocate = 0x4000;
    public const int Locked = 0x8000;
    public const int XmlRpcCall = 0xF002;

    public const string AuthFailed = "User couldn't be authenticated, aborting call.";
}

/// <summary>VM states (STATE).</summary>
public static class VmState
{
    public const int Init = 0, Pending = 1, Hold = 2, Active = 3, Stopped = 4, Suspended = 5, Done = 6, Poweroff = 8, Undeployed = 9, Cloning = 10, CloningFailure = 11;
}

/// <summary>VM LCM states (LCM_STATE).</summary>
public static class Lcm
{
    public const int Init = 0, Prolog = 1, Boot = 2, Running = 3, Migrate = 4, Shutdown = 12, HotplugResize = 66,
        PrologFailure = 39, BootFailure = 36;
}
