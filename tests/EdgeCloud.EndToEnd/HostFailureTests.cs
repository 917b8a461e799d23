using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// Periodic checkpoints and host-failure recovery, end to end: a front-end, the cluster's replica host (an
/// agent with the dummy hypervisor: it only stores) and two kvm hosts as processes. A VM with
/// CHECKPOINT=[INTERVAL] on host A writes a file to its disk; checkpoints reach the replica; host A dies
/// (its agent SIGKILLed, its QEMU killed). The leader's recovery restarts the VM on host B from the last
/// checkpoint: the guest finds its file. Every checkpoint moved only the blocks written since the one before.
/// When the VM is terminated at the end, the replica drops its chains (those of a VM that still exists stay).
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed partial class HostFailureTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt | HostNeeds.IsoTools;
    private const int Active = 3, Running = 3, Done = 6;

    // Run by the guest's context on every boot: the first boot leaves a file on the disk, a later boot reports it.
    private const string StartScript = """
        mkdir -p /mnt/d
        for d in /dev/vda1 /dev/sda1 /dev/hda1; do [ -b $d ] && mount -t vfat $d /mnt/d && break; done
        if [ -f /mnt/d/ckpt.txt ]; then echo "CKPT-FILE-FOUND $(cat /mnt/d/ckpt.txt)"
        else echo written-before-checkpoint > /mnt/d/ckpt.txt; sync; umount /mnt/d; sync; echo CKPT-FILE-WRITTEN; fi
        """;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-hafail-");
    private int _vm = -1;

    public HostFailureTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task HostDies_ItsVmRestartsOnTheOtherHostFromTheLastCheckpoint_CheckpointsMovedOnlyChangedBlocks_AndItsEndDropsTheChains()
    {
        HostPrerequisites.Require(Needs);
        var guest = await TestGuestImage.GetAsync();
        var config = Path.Combine(_work.Path, "fe.yaml");
        await File.WriteAllTextAsync(config, "monitor-interval: 1\nscheduler-interval: 1\nhost-error-grace: 3\n");
        await using var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort(), "--config", config);
        using var c = fe.Client();
        await c.CallIntAsync("one.cluster.update", 0, "REPLICA_HOST=replica", 1);
        var (replica, tokenR) = await AddHostAsync(c, "replica");
        var (hostA, tokenA) = await AddHostAsync(c, "host-a");
        var (hostB, tokenB) = await AddHostAsync(c, "host-b");
        await using var r = AgentProcess.Start(Path.Combine(_work.Path, "replica"), fe.AgentUrl, tokenR, "dummy");
        var a = AgentProcess.Start(Path.Combine(_work.Path, "agent-a"), fe.AgentUrl, tokenA, "kvm");
        await using var b = AgentProcess.Start(Path.Combine(_work.Path, "agent-b"), fe.AgentUrl, tokenB, "kvm");
        string Logs() => $"A:\n{a.Output}\nB:\n{b.Output}\nreplica:\n{r.Output}\nfront-end:\n{fe.Output}";
        try
        {
            foreach (var h in new[] { replica, hostA, hostB }) await WaitHostMonitoredAsync(c, h, TimeSpan.FromSeconds(60), Logs);
            await Wait.ForAsync(async () => HostAttr(await HostAsync(c, replica), "AGENT_ENDPOINT").Length > 0, "the replica reports its endpoint", TimeSpan.FromSeconds(30));
            await c.CallIntAsync("one.host.status", replica, 1); // the replica stores; it does not run VMs

            var ds = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
            var image = await c.CallIntAsync("one.image.allocate", $"NAME=tg\nPATH=\"{guest.Disk}\"\nTYPE=OS", ds, false);
            await Wait.ForAsync(async () => (int)XElement.Parse(await c.CallStringAsync("one.image.info", image)).Element("STATE")! == 1, "image READY", TimeSpan.FromSeconds(60));
            var script = Convert.ToBase64String(Encoding.UTF8.GetBytes(StartScript.ReplaceLineEndings("\n")));
            _vm = await c.CallIntAsync("one.vm.allocate",
                $"NAME=ha\nCPU=0.5\nMEMORY=128\nDISK=[IMAGE_ID={image}]\nSCHED_REQUIREMENTS=\"ID={hostA}\"\nCHECKPOINT=[INTERVAL=4]\nCONTEXT=[START_SCRIPT_BASE64=\"{script}\"]", false);
            _work.Own($"one-{_vm}");
            var vmDir = _vm.ToString(CultureInfo.InvariantCulture);
            await WaitVmAsync(c, _vm, Active, Running, TimeSpan.FromSeconds(120), Logs);
            await ForConsoleAsync(Path.Combine(_work.Path, "agent-a", "datastores", "0", vmDir, "console.log"), "CKPT-FILE-WRITTEN", seconds: 150);

            // Two checkpoints begun after the file was written (the first may have been under way already).
            var seq0 = CheckpointSeq(await VmAsync(c, _vm));
            await Wait.ForAsync(async () => CheckpointSeq(await VmAsync(c, _vm)) >= seq0 + 2, "two checkpoints after the write", TimeSpan.FromSeconds(90));
            var recorded = (await VmAsync(c, _vm)).Element("USER_TEMPLATE")!.Element("CHECKPOINT_LAST")!;
            _out.WriteLine("before the failure: " + recorded);

            // ---- host A dies: its agent without a word, then its QEMU (both agents share this machine's libvirtd:
            //      only host A's domain is killed).
            a.Kill9();
            var pid = int.Parse(File.ReadAllText($"/run/libvirt/qemu/one-{_vm}.pid").Trim(), CultureInfo.InvariantCulture);
            Process.GetProcessById(pid).Kill();

            // ---- the VM comes back RUNNING on host B by itself, booted from the checkpointed disk.
            await Wait.ForAsync(async () =>
            {
                var x = await VmAsync(c, _vm);
                return (int)x.Element("STATE")! == Active && (int)x.Element("LCM_STATE")! == Running
                       && (int)x.Element("HISTORY_RECORDS")!.Elements("HISTORY").Last().Element("HID")! == hostB;
            }, "the VM RUNNING on host B", TimeSpan.FromSeconds(180));
            await ForConsoleAsync(Path.Combine(_work.Path, "agent-b", "datastores", "0", vmDir, "console.log"), "CKPT-FILE-FOUND written-before-checkpoint", seconds: 150);
            var vm = await VmAsync(c, _vm);
            Assert.Contains("from checkpoint", vm.Element("USER_TEMPLATE")!.Element("HOST_FAILURE_RECOVERY")!.Value, StringComparison.Ordinal);
            Assert.Equal(14, (int)vm.Element("HISTORY_RECORDS")!.Elements("HISTORY").Single(h => (int)h.Element("HID")! == hostA).Element("ACTION")!); // delete-recreate
            Assert.Contains("restored from checkpoint", b.Output, StringComparison.Ordinal);

            // ---- only deltas moved: each checkpoint after the first of a chain carried the blocks written since the
            //      one before, and all of host A's checkpoints together are far smaller than the disk.
            var sent = Sent().Matches(a.Output).Select(m => (Bytes: long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Full: m.Groups[2].Value == "new chain")).ToList();
            _out.WriteLine("checkpoints of host A: " + string.Join(", ", sent.Select(s => $"{s.Bytes}{(s.Full ? " (new chain)" : "")}")));
            Assert.True(sent.Count >= 3, "at least three checkpoints on host A");
            Assert.Contains(sent, s => !s.Full);
            var baseSize = new FileInfo(guest.Disk).Length;
            var received = Num(await HostAsync(c, replica), "CHECKPOINT_RECEIVED_BYTES");
            Assert.True(received >= sent.Sum(s => s.Bytes), $"the replica received {received} bytes, host A logged {sent.Sum(s => s.Bytes)}");
            Assert.True(received < baseSize, $"all checkpoints ({received} bytes) moved less than one copy of the disk ({baseSize} bytes)");
            Assert.All(sent.Where(s => !s.Full), s => Assert.True(s.Bytes < baseSize / 8, $"a delta of {s.Bytes} bytes"));

            // ---- the VM ends: the replica drops its chains; those of a VM that still exists (on hold) stay.
            var held = await c.CallIntAsync("one.vm.allocate", "NAME=held\nCPU=0.1\nMEMORY=64", true);
            var heldChain = Path.Combine(_work.Path, "replica", "checkpoints", held.ToString(CultureInfo.InvariantCulture), "0");
            Directory.CreateDirectory(heldChain);
            File.WriteAllText(Path.Combine(heldChain, "chain.json"), """{"imageId":0,"deltas":[{"seq":1,"file":"1.qcow2","bytes":0,"at":1}],"generation":1}""");
            var chains = Path.Combine(_work.Path, "replica", "checkpoints", vmDir);
            Assert.True(Directory.Exists(chains), "the replica holds the VM's chains");
            await c.CallIntAsync("one.vm.action", "terminate-hard", _vm);
            await WaitVmAsync(c, _vm, Done, -1, TimeSpan.FromSeconds(60), Logs);
            await Wait.ForAsync(() => Task.FromResult(!Directory.Exists(chains)), "the replica drops the ended VM's checkpoints", TimeSpan.FromSeconds(30));
            Assert.True(File.Exists(Path.Combine(heldChain, "chain.json")), "the chain of the VM on hold stays");
        }
        catch
        {
            _out.WriteLine(Logs());
            throw;
        }
        finally
        {
            await a.DisposeAsync();
        }
    }

    [GeneratedRegex(@"checkpoint \d+ sent to the replica: (\d+) bytes \((new chain|changed blocks)\)")]
    private static partial Regex Sent();

    private static long CheckpointSeq(XElement vm) =>
        long.TryParse(vm.Element("USER_TEMPLATE")?.Element("CHECKPOINT_LAST")?.Element("SEQ")?.Value, CultureInfo.InvariantCulture, out var s) ? s : 0;

}
