using System.Collections.Concurrent;
using System.Text.Json;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Frontend;
using EdgeCloud.Testing;
using EdgeCloud.Testing.Xsd;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// A front-end with real external network drivers in its own directories: IPAM_MAD "fileipam" (a python
/// IPAM keeping its state in a file, Integration/NetworkDrivers/fileipam.py), "broken" (every action
/// fails), "flaky" (registers ranges, then refuses addresses); elastic-IP hooks "eip" (records its calls)
/// and "eipfail" (always fails).
/// </summary>
public abstract class NetworkDriversFrontend(Backend backend) : FrontendFixture(backend)
{
    public string Root { get; } = Directory.CreateTempSubdirectory("ec-netdrv-").FullName;

    public string IpamDir(string name) => Path.Combine(Root, "ipam", name);

    public string HookLog => Path.Combine(Root, "elastic-ip", "calls.log");

    protected override FrontendOptions Configure(FrontendOptions options)
    {
        var src = Path.Combine(AppContext.BaseDirectory, "Integration", "NetworkDrivers");
        string[] actions = ["register_address_range", "unregister_address_range", "get_address", "allocate_address", "free_address"];
        void Install(string from, string to)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to, overwrite: true);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        void Script(string to, string text)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.WriteAllText(to, text);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        foreach (var a in actions)
        {
            Install(Path.Combine(src, "fileipam.py"), Path.Combine(IpamDir("fileipam"), a));
            Script(Path.Combine(IpamDir("broken"), a), "#!/bin/sh\necho 'IPAM service unreachable' >&2\nexit 1\n");
            if (a == "register_address_range") Install(Path.Combine(src, "fileipam.py"), Path.Combine(IpamDir("flaky"), a));
            else Script(Path.Combine(IpamDir("flaky"), a), "#!/bin/sh\necho \"flaky IPAM refuses $0\" >&2\nexit 3\n");
        }
        Install(Path.Combine(src, "eip.sh"), Path.Combine(Root, "elastic-ip", "eip"));
        Install(Path.Combine(src, "eip-fail.sh"), Path.Combine(Root, "elastic-ip", "eipfail"));
        return options with { IpamDrivers = Path.Combine(Root, "ipam"), ElasticIpHooks = Path.Combine(Root, "elastic-ip") };
    }
}

public sealed class NetworkDriversSqlite() : NetworkDriversFrontend(Backend.Sqlite);

public sealed class NetworkDriversPostgres() : NetworkDriversFrontend(Backend.Postgres);

/// <summary>
/// External IPAM (IPAM_MAD), NIC_ALIAS, automatic NIC selection of a cluster's public network and the
/// elastic-IP hook, through the API with real driver executables.
/// </summary>
public abstract class NetworkDriversTests(NetworkDriversFrontend fixture) : ApiSuite(fixture)
{
    private NetworkDriversFrontend Drivers => fixture;

    private HashSet<string> IpamUsed(string driver)
    {
        var path = Path.Combine(Drivers.IpamDir(driver), "state.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return [.. doc.RootElement.GetProperty("used").EnumerateArray().Select(e => e.GetString()!)];
    }

    private async Task<int> ReadyNetAsync(string template)
    {
        var id = await Admin.CallIntAsync("one.vn.allocate", template, -1);
        await Wait.ForAsync(() => Admin.InfoAsync("one.vn.info", id), n => n.Int("STATE") == 1, $"network {id} READY");
        return id;
    }

    [BackendFact]
    public async Task ExternalIpam_DecidesTheRange_AndEveryLease_UnderConcurrency_NoAddressTwice_AndIsToldWhenOneIsFreed()
    {
        var net = await ReadyNetAsync($"NAME = \"{Unique("ipam")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", SIZE = \"12\", IPAM_MAD = \"fileipam\" ]\n");
        var vn = await Admin.InfoAsync("one.vn.info", net);
        var ar = vn.At("AR_POOL/AR");
        // register_address_range decided the range and added its attributes.
        Assert.Matches(@"^10\.77\.\d+\.1$", ar.Str("IP"));
        Assert.Equal(12, ar.Int("SIZE"));
        Assert.Equal("fileipam", ar.Str("IPAM_MAD"));
        var prefix = ar.Str("IP")[..^2];
        Assert.Equal(prefix + ".254", ar.Str("GATEWAY"));
        Schemas.AssertValid(vn.ToString(), "vnet.xsd", KnownOnedDeviations.AddressRangeUserAttributes); // GATEWAY, IPAM_MAD in AR, as oned writes them

        // 8 clients at once, 10 VMs: the IPAM hands each address out once; the 12 - 10 left are still free.
        var vms = new ConcurrentBag<int>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < 10; i += 8) vms.Add(await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true));
        })));
        var pool = await Admin.InfoAsync("one.vmpool.info", -2, -1, -1, -1, "");
        var ips = vms.ToDictionary(v => v, v => pool.Entry(v).Elements("TEMPLATE").Elements("NIC").Single().Str("IP"));
        Assert.Equal(10, ips.Values.Distinct().Count());
        Assert.All(ips.Values, ip => Assert.StartsWith(prefix + ".", ip, StringComparison.Ordinal));
        Assert.Equal(ips.Values.Order(), IpamUsed("fileipam").Order());
        var leases = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR/LEASES").Elements("LEASE").ToList();
        Assert.Equal(ips.Values.Order(), leases.Select(l => l.Str("IP")).Order());

        // A requested address goes through allocate_address; one the IPAM has handed out is refused, with its words.
        var wanted = prefix + ".12";
        var specific = await NewVmAsync($"NIC = [ NETWORK_ID = {net}, IP = \"{wanted}\" ]\n", hold: true);
        Assert.Contains(wanted, IpamUsed("fileipam"));
        var taken = ips.Values.First();
        await FailsUnchangedAsync(() => NewVmAsync($"NIC = [ NETWORK_ID = {net}, IP = \"{prefix}.11\" ]\nNIC = [ NETWORK_ID = {net}, IP = \"{prefix}.11\" ]\n", hold: true),
            Err.Allocate, $"address {prefix}.11 is in use");
        Assert.DoesNotContain(prefix + ".11", IpamUsed("fileipam")); // the first NIC's address was given back

        // Terminating a VM frees its lease, and the IPAM is told (free_address).
        var gone = ips.First(kv => kv.Value == taken).Key;
        await Admin.CallAsync("one.vm.action", "terminate-hard", gone);
        await WaitVmAsync(gone, VmState.Done);
        await Wait.ForAsync(() => Task.FromResult(IpamUsed("fileipam")), u => !u.Contains(taken), $"{taken} freed in the IPAM");
        Assert.Equal(10, (await Admin.InfoAsync("one.vn.info", net)).Int("USED_LEASES")); // 10 VMs + the requested address - the terminated VM
        Assert.Contains(specific, (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR/LEASES").Elements("LEASE").Select(l => l.Int("VM")));
    }

    [BackendFact]
    public async Task FailingIpam_ClearFaults_NoNetwork_NoVm_NoLease()
    {
        // register fails: no network.
        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vn.allocate", $"NAME = \"{Unique("b")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"broken\" ]\n", -1),
            Err.Allocate, "IPAM driver \"broken\" could not register the address range: register_address_range failed (exit 1): IPAM service unreachable");
        // an IPAM_MAD nobody configured.
        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vn.allocate", $"NAME = \"{Unique("b")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"nosuch\" ]\n", -1),
            Err.Allocate, "IPAM driver \"nosuch\" is not configured on the front-end (IPAM_MAD); configured: broken, fileipam, flaky.");

        // get_address fails: the VM is refused and nothing is leased, in either network of the VM.
        var flaky = await ReadyNetAsync($"NAME = \"{Unique("flaky")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"flaky\" ]\n");
        var plain = await NewNetAsync(4, "10.78.0.1");
        var ex = await FailsUnchangedAsync(() => NewVmAsync($"NIC = [ NETWORK_ID = {plain} ]\nNIC = [ NETWORK_ID = {flaky} ]\n", hold: true), Err.Allocate,
            $"IPAM driver \"flaky\" could not give an address of address range 0 of virtual network {flaky}");
        Assert.Contains("flaky IPAM refuses", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", plain)).Int("USED_LEASES"));
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", flaky)).Int("USED_LEASES"));
        // A range's IPAM does not change under its leases.
        await FailsUnchangedAsync(() => Admin.CallAsync("one.vn.update_ar", plain, "AR = [ AR_ID = 0, IPAM_MAD = \"fileipam\" ]"), Err.Action, "IPAM_MAD of an address range cannot change");
        await AssertServingAsync();
    }

    private List<string> IpamCalls(string driver)
    {
        var path = Path.Combine(Drivers.IpamDir(driver), "calls.log");
        return File.Exists(path) ? [.. File.ReadAllLines(path)] : [];
    }

    [BackendFact]
    public async Task VNTemplateInstantiate_ExternalIpamAr_RegisteredWithTheDriver_AndLeasesThroughIt()
    {
        var tpl = await Admin.CallIntAsync("one.vntemplate.allocate",
            $"NAME = \"{Unique("ipamtpl")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", SIZE = \"6\", IPAM_MAD = \"fileipam\" ]\n");
        var calls = IpamCalls("fileipam").Count;

        var net = await Admin.CallIntAsync("one.vntemplate.instantiate", tpl, Unique("ipamnet"), "");

        // The driver was asked (register_address_range) and the AR is what it answered, IPAM_MAD kept.
        Assert.Equal(["register_address_range  OK"], IpamCalls("fileipam").Skip(calls));
        var vn = await Wait.ForAsync(() => Admin.InfoAsync("one.vn.info", net), n => n.Int("STATE") == 1, $"network {net} READY");
        var ar = vn.At("AR_POOL/AR");
        Assert.Matches(@"^10\.77\.\d+\.1$", ar.Str("IP"));
        Assert.Equal((6, "fileipam", "from fileipam"), (ar.Int("SIZE"), ar.Str("IPAM_MAD"), ar.Str("IPAM_NOTE")));
        var prefix = ar.Str("IP")[..^2];
        Assert.Equal(prefix + ".254", ar.Str("GATEWAY"));
        Assert.Equal(tpl, vn.Int("TEMPLATE/TEMPLATE_ID"));

        // A VM's lease comes from the driver (get_address).
        var vm = await NewVmAsync($"NIC = [ NETWORK_ID = {net} ]\n", hold: true);
        var ip = (await Admin.InfoAsync("one.vm.info", vm)).At("TEMPLATE/NIC").Str("IP");
        Assert.StartsWith(prefix + ".", ip, StringComparison.Ordinal);
        Assert.Contains(ip, IpamUsed("fileipam"));
        var lease = (await Admin.InfoAsync("one.vn.info", net)).At("AR_POOL/AR/LEASES/LEASE");
        Assert.Equal((vm, ip), (lease.Int("VM"), lease.Str("IP")));
        await AssertServingAsync();
    }

    [BackendFact]
    public async Task VNTemplateInstantiate_RefusingIpam_AllocateFault_NoNetwork_RangesAlreadyRegisteredUnregistered()
    {
        // The first AR registers with fileipam, the second's driver refuses: nothing is created and the first range is unregistered.
        var tpl = await Admin.CallIntAsync("one.vntemplate.allocate",
            $"NAME = \"{Unique("badtpl")}\"\nVN_MAD = \"dummy\"\nAR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"fileipam\" ]\nAR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"broken\" ]\n");
        var calls = IpamCalls("fileipam").Count;

        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vntemplate.instantiate", tpl, Unique("badnet"), ""), Err.Allocate,
            "IPAM driver \"broken\" could not register the address range: register_address_range failed (exit 1): IPAM service unreachable");

        var made = IpamCalls("fileipam").Skip(calls).ToList();
        Assert.Equal(2, made.Count);
        Assert.Equal("register_address_range  OK", made[0]);
        Assert.Matches(@"^unregister_address_range 10\.77\.\d+\.1 OK$", made[1]);

        // An IPAM_MAD nobody configured, given in the extra template: the same fault as one.vn.allocate's, nothing created.
        await FailsUnchangedAsync(() => Admin.CallIntAsync("one.vntemplate.instantiate", tpl, Unique("badnet"), "AR = [ TYPE = \"IP4\", SIZE = \"4\", IPAM_MAD = \"nosuch\" ]\n"),
            Err.Allocate, "IPAM driver \"nosuch\" is not configured on the front-end (IPAM_MAD); configured: broken, fileipam, flaky.");
        Assert.Equal(2, IpamCalls("fileipam").Count - calls);
    }

    [BackendFact]
    public async Task NicAlias_InTemplate_AttachAndDetach_AsOpenNebulaModelsIt()
    {
        var priv = await NewNetAsync(10, "10.79.0.1");
        var pub = await NewNetAsync(10, "203.0.113.1");
        var vm = await RunningOnAsync(await SharedHostAsync("netdrv"), $"NIC = [ NETWORK_ID = {priv} ]\nNIC_ALIAS = [ NETWORK_ID = {pub}, PARENT = \"NIC0\" ]\nCONTEXT = [ NETWORK = \"YES\" ]\n");
        var x = await Admin.InfoAsync("one.vm.info", vm);
        Schemas.AssertValid(x.ToString(), "vm.xsd");
        var nic = x.At("TEMPLATE/NIC");
        var alias = x.At("TEMPLATE/NIC_ALIAS");
        Assert.Equal(("NIC0", "1", "0"), (nic.Str("NAME"), nic.Str("ALIAS_IDS"), nic.Str("NIC_ID")));
        Assert.Equal(("1", "NIC0", "0", "0", "NIC0_ALIAS1", "203.0.113.1"),
            (alias.Str("NIC_ID"), alias.Str("PARENT"), alias.Str("PARENT_ID"), alias.Str("ALIAS_ID"), alias.Str("NAME"), alias.Str("IP")));
        Assert.False(alias.Has("TARGET")); // an address on the parent's interface, not an interface
        var lease = (await Admin.InfoAsync("one.vn.info", pub)).At("AR_POOL/AR/LEASES/LEASE");
        Assert.Equal((vm, "203.0.113.1"), (lease.Int("VM"), lease.Str("IP")));

        // A second alias, hot-attached (onevm nic-attach VM --network NET --alias NIC0), then the first one detached.
        await Admin.CallAsync("one.vm.attachnic", vm, $"NIC_ALIAS = [ NETWORK_ID = {pub}, PARENT = \"NIC0\" ]");
        x = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal("1,2", x.At("TEMPLATE/NIC").Str("ALIAS_IDS"));
        var second = x.At("TEMPLATE").Elements("NIC_ALIAS").Single(a => a.Str("NIC_ID") == "2");
        Assert.Equal(("1", "203.0.113.2"), (second.Str("ALIAS_ID"), second.Str("IP")));
        Assert.False(second.Has("ATTACH"));
        await FailsAsync(() => Admin.CallAsync("one.vm.attachnic", vm, $"NIC_ALIAS = [ NETWORK_ID = {pub}, PARENT = \"NIC7\" ]"), Err.Action, "has no NIC named NIC7");

        await Admin.CallAsync("one.vm.detachnic", vm, 1);
        x = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.Equal("2", x.At("TEMPLATE/NIC").Str("ALIAS_IDS"));
        Assert.Equal(["2"], x.At("TEMPLATE").Elements("NIC_ALIAS").Select(a => a.Str("NIC_ID")));
        Assert.Equal(["203.0.113.2"], (await Admin.InfoAsync("one.vn.info", pub)).At("AR_POOL/AR/LEASES").Elements("LEASE").Select(l => l.Str("IP")));

        // Detaching the parent takes its aliases (and their leases) with it.
        await Admin.CallAsync("one.vm.detachnic", vm, 0);
        x = await WaitVmAsync(vm, VmState.Active, Lcm.Running);
        Assert.False(x.Has("TEMPLATE/NIC_ALIAS"));
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", pub)).Int("USED_LEASES"));
        Assert.Equal(0, (await Admin.InfoAsync("one.vn.info", priv)).Int("USED_LEASES"));
        await FailsUnchangedAsync(() => NewVmAsync($"NIC = [ NETWORK_ID = {priv} ]\nNIC_ALIAS = [ NETWORK_ID = {pub}, PARENT = \"eth9\" ]\n", hold: true), Err.Allocate, "NIC named eth9 not found for alias");
    }

    [BackendFact]
    public async Task AutoNic_TakesThePublicNetworkOfTheClusterTheVmLandsIn()
    {
        var tag = Unique("pub");
        var clusters = new List<int>();
        var hosts = new List<int>();
        var publics = new List<int>();
        for (var i = 0; i < 2; i++)
        {
            var c = await Admin.CallIntAsync("one.cluster.allocate", Unique("cl"));
            clusters.Add(c);
            await Admin.CallAsync("one.cluster.adddatastore", c, 0); // the system datastore
            hosts.Add(await NewHostAsync(cluster: c));
            var n = await ReadyNetAsync($"NAME = \"{Unique("public")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nPUBLIC = \"{tag}\"\nAR = [ TYPE = \"IP4\", IP = \"198.18.{i}.1\", SIZE = \"4\" ]\n");
            await Admin.CallAsync("one.cluster.addvnet", c, n);
            await Admin.CallAsync("one.cluster.delvnet", 0, n);
            publics.Add(n);
        }
        foreach (var i in new[] { 1, 0 })
        {
            var vm = await RunningOnAsync(hosts[i], $"NIC = [ NETWORK_MODE = \"auto\", SCHED_REQUIREMENTS = \"PUBLIC = \\\"{tag}\\\"\" ]\n");
            var nic = (await Admin.InfoAsync("one.vm.info", vm)).At("TEMPLATE/NIC");
            Assert.Equal((publics[i], $"198.18.{i}.1", "auto"), (nic.Int("NETWORK_ID"), nic.Str("IP"), nic.Str("NETWORK_MODE")));
        }
        await FailsUnchangedAsync(() => NewVmAsync("NIC = [ NETWORK_MODE = \"auto\", SCHED_REQUIREMENTS = \"PUBLIC = \\\"none\\\"\" ]\n", hold: true),
            Err.Allocate, "No virtual network matches NETWORK_MODE = auto NIC 0");
    }

    [BackendFact]
    public async Task ElasticIpHook_CalledOnBindAndRelease_AndAFailureIsReportedOnTheVmWithoutTouchingTheLease()
    {
        var host = await SharedHostAsync("netdrv");
        var hostName = (await Admin.InfoAsync("one.host.info", host)).Str("NAME");
        var eipNet = await ReadyNetAsync($"NAME = \"{Unique("eip")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", IP = \"100.64.9.1\", SIZE = \"4\", ELASTIC_IP_HOOK = \"eip\" ]\n");
        var vm = await RunningOnAsync(host, $"NIC = [ NETWORK_ID = {eipNet} ]\n");
        var attach = $"attach 100.64.9.1 {vm} {hostName}";
        await Wait.ForAsync(() => Task.FromResult(File.Exists(Drivers.HookLog) ? File.ReadAllText(Drivers.HookLog) : ""), l => l.Contains(attach, StringComparison.Ordinal), "the attach call");
        await Admin.CallAsync("one.vm.action", "terminate-hard", vm);
        await WaitVmAsync(vm, VmState.Done);
        await Wait.ForAsync(() => Task.FromResult(File.ReadAllText(Drivers.HookLog)), l => l.Contains($"detach 100.64.9.1 {vm} {hostName}", StringComparison.Ordinal), "the detach call");

        var failNet = await ReadyNetAsync($"NAME = \"{Unique("eipf")}\"\nVN_MAD = \"dummy\"\nBRIDGE = \"br0\"\nELASTIC_IP_HOOK = \"eipfail\"\nAR = [ TYPE = \"IP4\", IP = \"100.64.10.1\", SIZE = \"4\" ]\n");
        var bad = await RunningOnAsync(host, $"NIC = [ NETWORK_ID = {failNet} ]\n");
        var x = await Wait.ForAsync(() => Admin.InfoAsync("one.vm.info", bad), v => v.Has("USER_TEMPLATE/ERROR"), "the hook's error on the VM");
        Assert.Contains("Elastic IP hook eipfail could not attach 100.64.10.1", x.Str("USER_TEMPLATE/ERROR"), StringComparison.Ordinal);
        Assert.Contains("provider API refused to move 100.64.10.1", x.Str("USER_TEMPLATE/ERROR"), StringComparison.Ordinal);
        Assert.Equal((VmState.Active, Lcm.Running), (x.Int("STATE"), x.Int("LCM_STATE")));
        var lease = (await Admin.InfoAsync("one.vn.info", failNet)).At("AR_POOL/AR/LEASES/LEASE");
        Assert.Equal((bad, "100.64.10.1"), (lease.Int("VM"), lease.Str("IP")));
    }
}

public sealed class NetworkDriversTests_Sqlite(NetworkDriversSqlite fixture) : NetworkDriversTests(fixture), IClassFixture<NetworkDriversSqlite>;

[RequiresPostgres]
public sealed class NetworkDriversTests_Postgres(NetworkDriversPostgres fixture) : NetworkDriversTests(fixture), IClassFixture<NetworkDriversPostgres>;
