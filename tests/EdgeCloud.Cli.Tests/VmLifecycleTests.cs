using System.Text.Json;

namespace EdgeCloud.Cli.Tests;

/// <summary>A VM's life through the CLI, each step waited for with --wait, as an operator drives it.</summary>
public sealed class VmLifecycleTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task A_vm_goes_through_its_life_cycle_with_wait()
    {
        await cloud.OkAsync("template", "create", "--name", "small", "--cpu", "0.5", "--memory", "128", "--disk", "img", "--nic", "net");

        var created = await cloud.OkAsync("template", "instantiate", "small", "--name", "web", "--wait", "RUNNING");
        Assert.Matches(@"^VM ID: (\d+)\nVM \1: RUNNING\n$", created);
        var id = created.Split('\n')[0]["VM ID: ".Length..];

        var list = await cloud.OkAsync("vm", "list");
        Assert.Matches(@"(?m)^ID +USER +GROUP +NAME +STAT +CPU +MEM +HOST +TIME$", list);
        Assert.Matches($@"(?m)^ *{id} oneadmin +oneadmin +web +runn +0\.5 +128M +h[12] +0d 00h0\d$", list);

        foreach (var (verb, state) in new[] { ("poweroff", "POWEROFF"), ("resume", "RUNNING"), ("suspend", "SUSPENDED"), ("resume", "RUNNING"),
                                               ("undeploy", "UNDEPLOYED"), ("resume", "RUNNING"), ("stop", "STOPPED"), ("resume", "RUNNING") })
        {
            Assert.Equal($"VM {id}: {state}\n", await cloud.OkAsync("vm", verb, "web", "--wait", state));
        }

        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "disk-attach", "web", "--image", "img", "--wait", "RUNNING"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "nic-attach", "web", "--network", "net", "--wait", "RUNNING"));
        var shown = await cloud.OkAsync("vm", "show", "web");
        Assert.Contains("VM DISKS", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^1 +default +vdb +img +1G +FILE", shown);
        // The history names the actions as onevm does (HISTORY/ACTION numbers in the XML).
        Assert.Matches(@"(?m)^0 +h[12] +(resume|stop|undeploy|suspend|poweroff|deploy) +\d{4}-", shown);
        Assert.Matches(@"(?m)^1 +net +br0 +10\.0\.0\.\d+ ", shown);
        // An alias of the new NIC (NAME NIC1): NIC_ALIAS NIC_ID 2, detached by that id.
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "nic-attach", "web", "--network", "net", "--alias", "NIC1", "--wait", "RUNNING"));
        Assert.Matches(@"<NIC_ALIAS>.*<PARENT>(<!\[CDATA\[)?NIC1(\]\]>)?</PARENT>", (await cloud.OkAsync("vm", "show", "web", "--xml")).ReplaceLineEndings(""));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "nic-detach", "web", "2", "--wait", "RUNNING"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "disk-detach", "web", "1", "--wait", "RUNNING"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "nic-detach", "web", "1", "--wait", "RUNNING"));

        Assert.Equal($"SNAPSHOT ID: 0\nVM {id}: RUNNING\n", await cloud.OkAsync("vm", "snapshot-create", "web", "before", "--wait", "RUNNING"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "snapshot-revert", "web", "before", "--wait", "RUNNING"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "snapshot-delete", "web", "0", "--wait", "RUNNING"));

        var host = (await cloud.OkAsync("vm", "list", "--list", "HOST", "--filter", "NAME=web")).Split('\n')[1].Trim();
        var other = host == "h1" ? "h2" : "h1";
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "migrate", "web", other, "--wait", "RUNNING"));
        Assert.Equal($"HOST\n{other}\n", await cloud.OkAsync("vm", "list", "-l", "HOST", "-f", "NAME=web"));
        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "migrate", "web", host, "--live", "--wait", "RUNNING"));

        await cloud.OkAsync("vm", "poweroff", "web", "--wait", "POWEROFF");
        await cloud.OkAsync("vm", "resize", "web", "--cpu", "1", "--memory", "1G");
        var json = JsonDocument.Parse(await cloud.OkAsync("vm", "show", "web", "--json")).RootElement.GetProperty("VM");
        Assert.Equal("1024", json.GetProperty("TEMPLATE").GetProperty("MEMORY").GetString());
        Assert.Equal("8", json.GetProperty("STATE").GetString());

        Assert.Equal($"VM {id}: DONE\n", await cloud.OkAsync("vm", "terminate", "web", "--hard", "--wait", "DONE"));
        Assert.DoesNotContain(" web ", await cloud.OkAsync("vm", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vm_created_from_flags_on_hold_is_deployed_by_hand()
    {
        var output = await cloud.OkAsync("vm", "create", "--name", "held", "--cpu", "1", "--memory", "64", "--nic", "net:ip=10.0.0.50", "--context", "ROLE=db", "--hold", "--wait", "HOLD");
        Assert.Matches(@"^ID: (\d+)\nVM \1: HOLD\n$", output);
        var id = int.Parse(output.Split('\n')[0][4..], System.Globalization.CultureInfo.InvariantCulture);
        var vm = await cloud.InfoAsync("one.vm.info", id);
        Assert.Equal("10.0.0.50", vm.Element("TEMPLATE")!.Element("NIC")!.Element("IP")!.Value);
        Assert.Equal("db", vm.Element("TEMPLATE")!.Element("CONTEXT")!.Element("ROLE")!.Value);

        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "deploy", "held", "h2", "--wait", "RUNNING"));
        Assert.Equal($"HOST\nh2\n", await cloud.OkAsync("vm", "list", "--list", "host", "--filter", "NAME=held"));
        await cloud.OkAsync("vm", "terminate", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wait", "DONE");
    }

    [Fact]
    public async Task Vm_metadata_verbs_and_recover()
    {
        var id = await cloud.CreateAsync("vm", "create", "--name", "meta", "--cpu", "1", "--memory", "64", "--hold");
        var sid = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await cloud.OkAsync("vm", "rename", "meta", "meta2");
        await cloud.OkAsync("vm", "update", "meta2", cloud.WriteFile("vmupd.txt", "DESCRIPTION=\"hello\"\n"));
        await cloud.OkAsync("vm", "chmod", "meta2", "640");
        await cloud.OkAsync("vm", "chgrp", "meta2", "users");
        await cloud.OkAsync("vm", "chown", "meta2", "oneadmin", "oneadmin");
        await cloud.OkAsync("vm", "lock", "meta2");
        var locked = (await cloud.RunAsync("vm", "release", "meta2")).Fails(255);
        Assert.Equal($"[one.vm.action] The resource virtual machine is locked. [{sid}].", locked);
        await cloud.OkAsync("vm", "unlock", "meta2");

        var vm = await cloud.InfoAsync("one.vm.info", id);
        Assert.Equal("meta2", vm.Element("NAME")!.Value);
        Assert.Equal("hello", vm.Element("USER_TEMPLATE")!.Element("DESCRIPTION")!.Value);
        Assert.Equal("1", vm.Element("PERMISSIONS")!.Element("GROUP_U")!.Value);

        var shown = await cloud.OkAsync("vm", "show", sid);
        Assert.Contains("VIRTUAL MACHINE " + sid + " INFORMATION", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^STATE +: HOLD$", shown);
        Assert.Matches(@"(?m)^OWNER +: um-$", shown);
        Assert.Matches(@"(?m)^DESCRIPTION=""hello""$", shown);

        Assert.Equal($"VM {sid}: DONE\n", await cloud.OkAsync("vm", "recover", "meta2", "--delete", "--wait", "DONE"));
    }

    [Fact]
    public async Task Wait_times_out_or_stops_at_a_state_the_vm_cannot_leave()
    {
        var id = await cloud.CreateAsync("vm", "create", "--name", "waiter", "--cpu", "1", "--memory", "64", "--hold");

        var timedOut = (await cloud.RunAsync("vm", "release", "waiter", "--wait", "POWEROFF", "--timeout", "1")).Fails(1);
        Assert.StartsWith($"timed out after 1 s waiting for VM {id} to reach POWEROFF; it is ", timedOut, StringComparison.Ordinal);

        var gone = (await cloud.RunAsync("vm", "terminate", "waiter", "--hard", "--wait", "RUNNING")).Fails(255);
        Assert.Equal($"VM {id} is DONE; it will not reach RUNNING (see: edgecloud vm show {id})", gone);

        var done = (await cloud.RunAsync("vm", "resume", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wait", "runn")).Fails(255);
        Assert.StartsWith("[one.vm.action] Error performing action \"resume\"", done, StringComparison.Ordinal);

        var typo = (await cloud.RunAsync("vm", "hold", "waiter", "--wait", "RUNING")).Fails(1);
        Assert.Equal("unknown VM state \"RUNING\" for --wait (e.g. RUNNING, POWEROFF, DONE, HOLD)", typo);
    }

    [Fact]
    public async Task Actions_take_lists_and_ranges_of_vms()
    {
        var a = await cloud.CreateAsync("vm", "create", "--name", "many-a", "--cpu", "1", "--memory", "64", "--hold");
        var b = await cloud.CreateAsync("vm", "create", "--name", "many-b", "--cpu", "1", "--memory", "64", "--hold");
        Assert.Equal(a + 1, b);
        var output = await cloud.OkAsync("vm", "terminate", $"{a}..{b}", "--hard", "--wait", "DONE");
        Assert.Equal($"VM {a}: DONE\nVM {b}: DONE\n", output);

        var c = await cloud.CreateAsync("vm", "create", "--name", "dup", "--cpu", "1", "--memory", "64", "--hold");
        var d = await cloud.CreateAsync("vm", "create", "--name", "dup", "--cpu", "1", "--memory", "64", "--hold");
        var ambiguous = (await cloud.RunAsync("vm", "show", "dup")).Fails(255);
        Assert.Equal($"there are 2 virtual machines named \"dup\" (ids {c}, {d}); use an id", ambiguous);
        await cloud.OkAsync("vm", "terminate", $"{c},{d}", "--hard");
    }
}
