using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Abstractions;
using static EdgeCloud.EndToEnd.AgentProtocolTests;
using static EdgeCloud.EndToEnd.HostTools;

namespace EdgeCloud.EndToEnd;

/// <summary>
/// A persistent image is the VM's disk: a front-end and a kvm agent as processes, a persistent qcow2 DATABLOCK of
/// an fs datastore as a VM's only disk. The running VM writes a pattern (through QEMU's block layer: qemu-io in
/// the monitor), takes a disk snapshot, writes another; on terminate the host writes the disk back, so the image
/// file in the datastore has the last pattern and the snapshot. A second VM of the image on the same host (whose
/// replica cache held the old version) gets the new content; one.image.snapshotrevert brings the snapshot's
/// content back in the image file.
/// </summary>
[Collection("real guests")] // one TCG guest test at a time: 2 cores
public sealed class PersistentImageTests : IDisposable
{
    private const HostNeeds Needs = HostNeeds.Root | HostNeeds.Qemu | HostNeeds.Libvirt;
    private const int Active = 3, Running = 3, Done = 6, Ready = 1, UsedPers = 8;

    private readonly ITestOutputHelper _out;
    private readonly GuestWorkDir _work = new("ec-pers-");

    public PersistentImageTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _work.Dispose();

    [HostFact(Needs)]
    public async Task PersistentDisk_WrittenBackOnTerminate_WithSnapshot_NextVmSeesIt_ImageSnapshotRevert()
    {
        HostPrerequisites.Require(Needs);
        var agentDir = Path.Combine(_work.Path, "agent");
        var fe = await FrontendProcess.StartAsync(Path.Combine(_work.Path, "fe"), FrontendProcess.FreePort(), "--agent-port", FrontendProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        AgentProcess? agent = null;
        try
        {
            using var c = fe.Client();
            var (hostId, token) = await AddHostAsync(c, "kvm-host");
            agent = AgentProcess.Start(agentDir, fe.AgentUrl, token, "kvm");
            var a = agent;
            string Logs() => "agent:\n" + a.Output + "\nfront-end:\n" + fe.Output;
            await WaitHostMonitoredAsync(c, hostId, TimeSpan.FromSeconds(60), Logs);

            var images = await c.CallIntAsync("one.datastore.allocate", "NAME=images\nDS_MAD=fs\nTM_MAD=qcow2\nTYPE=IMAGE_DS", -1);
            var image = await c.CallIntAsync("one.image.allocate", "NAME=data\nTYPE=DATABLOCK\nSIZE=8\nFORMAT=qcow2\nPERSISTENT=YES", images, false);
            var file = (await ImageStateAsync(c, image, Ready)).Element("SOURCE")!.Value;
            var firstSha = Sha(await ImageStateAsync(c, image, Ready));

            // ---- VM 1 writes 0xaa, takes a disk snapshot, writes 0xbb
            var vm1 = await RunningVmAsync(c, image, "writer", Logs);
            Assert.Equal(UsedPers, Int(await ImageAsync(c, image), "STATE"));
            Write(vm1, 0xaa);
            var snap = await c.CallIntAsync("one.vm.disksnapshotcreate", vm1, 0, "with-aa");
            await WaitForAsync(c, vm1, v => Int(v, "LCM_STATE") == Running && Int(v, "PREV_LCM_STATE") == 57, "disk snapshot taken", Logs);
            Write(vm1, 0xbb);

            // ---- terminate: the disk goes back to the image (with its snapshot), which is READY again
            await c.CallIntAsync("one.vm.action", "terminate-hard", vm1);
            await WaitVmAsync(c, vm1, Done, -1, TimeSpan.FromSeconds(120), Logs);
            var img = await ImageStateAsync(c, image, Ready);
            Assert.NotEqual(firstSha, Sha(img));
            Assert.Contains("read 1048576/1048576", Read(file, 0xbb), StringComparison.Ordinal);
            Assert.Contains($"snap-{snap}", RunAll("qemu-img", "snapshot", "-l", file), StringComparison.Ordinal);
            Assert.Equal("with-aa", img.Element("SNAPSHOTS")!.Element("SNAPSHOT")!.Element("NAME")!.Value);
            Assert.Contains($"written back from host {hostId}", fe.Output, StringComparison.Ordinal);

            // ---- VM 2 on the same host (its cache held the image's first version) gets the written-back content
            var vm2 = await RunningVmAsync(c, image, "reader", Logs);
            var disk2 = Path.Combine(agentDir, "datastores", "0", vm2.ToString(CultureInfo.InvariantCulture), "disk.0");
            Assert.Contains("read 1048576/1048576", RunAll("qemu-io", "-r", "-U", "-f", "qcow2", "-c", "read -P 0xbb 1M 1M", disk2), StringComparison.Ordinal);
            Assert.Equal("with-aa", (await VmAsync(c, vm2)).Element("SNAPSHOTS")!.Element("SNAPSHOT")!.Element("NAME")!.Value);
            await c.CallIntAsync("one.vm.action", "terminate-hard", vm2);
            await WaitVmAsync(c, vm2, Done, -1, TimeSpan.FromSeconds(120), Logs);
            await ImageStateAsync(c, image, Ready);

            // ---- the image's snapshot revert works on its file: 0xaa is back
            await c.CallIntAsync("one.image.snapshotrevert", image, snap);
            await Wait.ForAsync(async () => Int(await ImageAsync(c, image), "STATE") == Ready && !Read(file, 0xaa).Contains("verification failed", StringComparison.Ordinal),
                "image snapshot reverted", TimeSpan.FromSeconds(60));
            Assert.Contains("read 1048576/1048576", Read(file, 0xaa), StringComparison.Ordinal);
        }
        catch
        {
            _out.WriteLine("agent output:\n" + agent?.Output);
            _out.WriteLine("front-end output:\n" + fe.Output);
            throw;
        }
        finally
        {
            if (agent is not null) await agent.DisposeAsync();
            await fe.DisposeAsync();
        }
    }

    private async Task<int> RunningVmAsync(OneClient c, int image, string name, Func<string> logs)
    {
        var vm = await c.CallIntAsync("one.vm.allocate", $"NAME={name}\nCPU=0.5\nMEMORY=64\nDISK=[IMAGE_ID={image}]", false);
        _work.Own($"one-{vm}");
        await WaitVmAsync(c, vm, Active, Running, TimeSpan.FromSeconds(120), logs);
        return vm;
    }

    /// <summary>1 MiB of <paramref name="pattern"/> at 1 MiB of the running VM's disk, through QEMU's block layer (as the guest's writes go).</summary>
    private static void Write(int vm, int pattern)
    {
        var io = RunAll("virsh", "-c", "qemu:///system", "qemu-monitor-command", $"one-{vm}", "--hmp",
            $"qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend \"write -P 0x{pattern:x2} 1M 1M\"");
        Assert.DoesNotContain("rror", io, StringComparison.Ordinal);
    }

    private static string Read(string file, int pattern) =>
        RunAll("qemu-io", "-r", "-f", "qcow2", "-c", $"read -P 0x{pattern:x2} 1M 1M", file);

    private static int Int(XElement e, string name) => int.Parse(e.Element(name)!.Value, CultureInfo.InvariantCulture);

    private static string Sha(XElement image) => image.Element("TEMPLATE")!.Element("SHA256")!.Value;

    private static async Task<XElement> ImageAsync(OneClient c, int id) => XElement.Parse(await c.CallStringAsync("one.image.info", id));

    private static async Task<XElement> ImageStateAsync(OneClient c, int id, int state)
    {
        XElement? image = null;
        await Wait.ForAsync(async () => Int(image = await ImageAsync(c, id), "STATE") is var s && (s == state || s == 5), $"image {id} in state {state}", TimeSpan.FromSeconds(120));
        Assert.True(Int(image!, "STATE") == state, $"image {id}: {image}");
        return image!;
    }

    private static async Task<XElement> WaitForAsync(OneClient c, int id, Func<XElement, bool> done, string what, Func<string> context)
    {
        XElement? last = null;
        try
        {
            await Wait.ForAsync(async () => done(last = await VmAsync(c, id)), what, TimeSpan.FromSeconds(120));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{what}: VM {id} is {last}\n{context()}");
        }
        return last!;
    }
}
