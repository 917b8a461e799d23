using System.Xml.Linq;
using EdgeCloud.Core.Drivers;
using EdgeCloud.Testing;

namespace EdgeCloud.Hypervisor.Tests;

public sealed class DomainXmlTests
{
    private static VmSpec Spec(Func<VmSpec, VmSpec>? change = null)
    {
        var spec = new VmSpec
        {
            VmId = 7,
            Name = "web <1> & co",
            VmDir = "/var/lib/one/datastores/0/7",
            Cpu = 0.5,
            Vcpu = 2,
            MemoryMb = 256,
            Disks =
            [
                new DiskSpec { DiskId = 0, Path = "/var/lib/one/datastores/0/7/disk.0", Target = "vda", Format = "qcow2", Cache = "none" },
                new DiskSpec { DiskId = 1, Path = "/var/lib/one/datastores/0/7/disk.1", Target = "sdb", Format = "raw", ReadOnly = true },
                new DiskSpec { DiskId = 2, Path = "/var/lib/one/datastores/0/7/disk.2", Target = "hdb", Device = "cdrom", Format = "raw" },
            ],
            Nics =
            [
                new NicSpec { NicId = 0, Mac = "02:00:0A:00:00:07", Bridge = "onebr0", Target = "one-7-0", Mtu = 1450 },
                new NicSpec { NicId = 1, Mac = "02:00:0a:00:01:07", Bridge = "onebr1", Target = "one-7-1", Model = "e1000" },
            ],
        };
        return change is null ? spec : change(spec);
    }

    private static XElement Build(VmSpec spec, string type = "qemu") => DomainXml.BuildElement(spec, type);

    [Fact]
    public void Domain_TypeNameMetadata_FromSpec()
    {
        var d = Build(Spec());
        Assert.Equal("qemu", (string?)d.Attribute("type"));
        Assert.Equal("one-7", d.Element("name")!.Value);
        var vm = d.Element("metadata")!.Element(DomainXml.MetadataNs + "vm")!;
        Assert.Equal("7", vm.Element(DomainXml.MetadataNs + "id")!.Value);
        Assert.Equal("web <1> & co", vm.Element(DomainXml.MetadataNs + "name")!.Value);
        Assert.Equal("kvm", (string?)Build(Spec(), "kvm").Attribute("type"));
    }

    [Fact]
    public void MemoryAndVcpu_MaxAndCurrent()
    {
        var d = Build(Spec());
        Assert.Equal("262144", d.Element("memory")!.Value);
        Assert.Equal("KiB", (string?)d.Element("memory")!.Attribute("unit"));
        Assert.Equal("262144", d.Element("currentMemory")!.Value);
        Assert.Equal("2", d.Element("vcpu")!.Value);
        Assert.Null(d.Element("vcpu")!.Attribute("current"));
        Assert.Equal("512", d.Element("cputune")!.Element("shares")!.Value);

        var hot = Build(Spec(s => s with { VcpuMax = 4, MemoryMaxMb = 1024 }));
        Assert.Equal("4", hot.Element("vcpu")!.Value);
        Assert.Equal("2", (string?)hot.Element("vcpu")!.Attribute("current"));
        Assert.Equal("1048576", hot.Element("memory")!.Value);
        Assert.Equal("262144", hot.Element("currentMemory")!.Value);
    }

    [Fact]
    public void Cpu_HostPassthroughOnlyWithKvm_CustomModelAlways()
    {
        var pt = Spec(s => s with { CpuModel = "host-passthrough" });
        Assert.Equal("host-passthrough", (string?)Build(pt, "kvm").Element("cpu")!.Attribute("mode"));
        Assert.Null(Build(pt, "qemu").Element("cpu"));
        var custom = Build(Spec(s => s with { CpuModel = "qemu64" }), "qemu").Element("cpu")!;
        Assert.Equal("custom", (string?)custom.Attribute("mode"));
        Assert.Equal("qemu64", custom.Element("model")!.Value);
        Assert.Null(Build(Spec()).Element("cpu"));
    }

    [Fact]
    public void Os_DefaultMachineAndDiskBoot()
    {
        var os = Build(Spec()).Element("os")!;
        Assert.Equal("hvm", os.Element("type")!.Value);
        Assert.Equal("pc", (string?)os.Element("type")!.Attribute("machine"));
        Assert.Equal("x86_64", (string?)os.Element("type")!.Attribute("arch"));
        Assert.Equal("hd", (string?)os.Element("boot")!.Attribute("dev"));
        Assert.Null(os.Element("kernel"));
    }

    [Fact]
    public void Os_DirectKernelBoot_AndFirmware()
    {
        var os = Build(Spec(s => s with
        {
            Os = new OsSpec { Machine = "q35", Kernel = "/k/vmlinuz", Initrd = "/k/initrd", KernelCmd = "console=ttyS0 ro", Firmware = "/usr/share/OVMF/OVMF_CODE.fd" },
        })).Element("os")!;
        Assert.Equal("q35", (string?)os.Element("type")!.Attribute("machine"));
        Assert.Equal("/k/vmlinuz", os.Element("kernel")!.Value);
        Assert.Equal("/k/initrd", os.Element("initrd")!.Value);
        Assert.Equal("console=ttyS0 ro", os.Element("cmdline")!.Value);
        Assert.Equal("/usr/share/OVMF/OVMF_CODE.fd", os.Element("loader")!.Value);
        Assert.Null(os.Element("boot"));
    }

    [Fact]
    public void BootOrder_PerDevice_FromOsBoot()
    {
        var d = Build(Spec(s => s with { Os = new OsSpec { Boot = "nic1,disk0" } }));
        Assert.Null(d.Element("os")!.Element("boot"));
        var devices = d.Element("devices")!;
        Assert.Equal("2", (string?)devices.Elements("disk").First().Element("boot")!.Attribute("order"));
        Assert.Equal("1", (string?)devices.Elements("interface").ElementAt(1).Element("boot")!.Attribute("order"));
        Assert.Null(devices.Elements("interface").First().Element("boot"));
        var e = Assert.Throws<HostDriverException>(() => Build(Spec(s => s with { Os = new OsSpec { Boot = "cdrom" } })));
        Assert.Contains("cdrom", e.Message);
    }

    [Fact]
    public void Features_AcpiByDefault_OthersWhenYes()
    {
        var f = Build(Spec()).Element("features")!;
        Assert.NotNull(f.Element("acpi"));
        Assert.Null(f.Element("apic"));
        Assert.Equal("utc", (string?)Build(Spec()).Element("clock")!.Attribute("offset"));

        var all = Build(Spec(s => s with
        {
            Features = new Dictionary<string, string> { ["ACPI"] = "no", ["APIC"] = "yes", ["PAE"] = "YES", ["HYPERV"] = "yes", ["LOCALTIME"] = "yes", ["GUEST_AGENT"] = "yes" },
        }));
        var features = all.Element("features")!;
        Assert.Null(features.Element("acpi"));
        Assert.NotNull(features.Element("apic"));
        Assert.NotNull(features.Element("pae"));
        Assert.NotNull(features.Element("hyperv")!.Element("relaxed"));
        Assert.Equal("localtime", (string?)all.Element("clock")!.Attribute("offset"));
        Assert.Contains(all.Element("devices")!.Elements("channel"),
            c => (string?)c.Element("target")!.Attribute("name") == "org.qemu.guest_agent.0");
        Assert.Throws<HostDriverException>(() => Build(Spec(s => s with { Features = new Dictionary<string, string> { ["ACPI"] = "maybe" } })));
    }

    [Fact]
    public void Disks_FormatBusCacheReadonlyCdrom()
    {
        var disks = Build(Spec()).Element("devices")!.Elements("disk").ToList();
        Assert.Equal(3, disks.Count);

        var vda = disks[0];
        Assert.Equal("file", (string?)vda.Attribute("type"));
        Assert.Equal("disk", (string?)vda.Attribute("device"));
        Assert.Equal("qcow2", (string?)vda.Element("driver")!.Attribute("type"));
        Assert.Equal("none", (string?)vda.Element("driver")!.Attribute("cache"));
        Assert.Equal("/var/lib/one/datastores/0/7/disk.0", (string?)vda.Element("source")!.Attribute("file"));
        Assert.Equal("vda", (string?)vda.Element("target")!.Attribute("dev"));
        Assert.Equal("virtio", (string?)vda.Element("target")!.Attribute("bus"));
        Assert.Null(vda.Element("readonly"));

        var sdb = disks[1];
        Assert.Equal("scsi", (string?)sdb.Element("target")!.Attribute("bus"));
        Assert.Equal("raw", (string?)sdb.Element("driver")!.Attribute("type"));
        Assert.Null(sdb.Element("driver")!.Attribute("cache"));
        Assert.NotNull(sdb.Element("readonly"));

        var hdb = disks[2];
        Assert.Equal("cdrom", (string?)hdb.Attribute("device"));
        Assert.Equal("ide", (string?)hdb.Element("target")!.Attribute("bus"));
        Assert.NotNull(hdb.Element("readonly"));

        // A SCSI disk brings its virtio-scsi controller.
        Assert.Contains(Build(Spec()).Element("devices")!.Elements("controller"), c => (string?)c.Attribute("model") == "virtio-scsi");
    }

    [Fact]
    public void Disk_BlockDevice_UsesDevSource()
    {
        var disk = DomainXml.Disk(new DiskSpec { DiskId = 3, Path = "/dev/vg0/lv-one-7-3", Target = "vdc", Format = "raw" });
        Assert.Equal("block", (string?)disk.Attribute("type"));
        Assert.Equal("/dev/vg0/lv-one-7-3", (string?)disk.Element("source")!.Attribute("dev"));
    }

    [Fact]
    public void Interfaces_BridgeTargetMacModelMtu()
    {
        var nics = Build(Spec()).Element("devices")!.Elements("interface").ToList();
        Assert.Equal(2, nics.Count);
        var n0 = nics[0];
        Assert.Equal("bridge", (string?)n0.Attribute("type"));
        Assert.Equal("onebr0", (string?)n0.Element("source")!.Attribute("bridge"));
        Assert.Equal("one-7-0", (string?)n0.Element("target")!.Attribute("dev"));
        Assert.Equal("02:00:0a:00:00:07", (string?)n0.Element("mac")!.Attribute("address"));
        Assert.Equal("virtio", (string?)n0.Element("model")!.Attribute("type"));
        Assert.Equal("1450", (string?)n0.Element("mtu")!.Attribute("size"));
        Assert.Equal("e1000", (string?)nics[1].Element("model")!.Attribute("type"));
        Assert.Null(nics[1].Element("mtu"));
    }

    [Fact]
    public void Graphics_VncWithPortOrAutoport()
    {
        Assert.Null(Build(Spec()).Element("devices")!.Element("graphics"));
        var g = Build(Spec(s => s with { Graphics = "VNC", GraphicsPort = 5907 })).Element("devices")!.Element("graphics")!;
        Assert.Equal("vnc", (string?)g.Attribute("type"));
        Assert.Equal("5907", (string?)g.Attribute("port"));
        Assert.Equal("no", (string?)g.Attribute("autoport"));
        Assert.Equal("127.0.0.1", (string?)g.Attribute("listen"));
        var auto = Build(Spec(s => s with { Graphics = "vnc" })).Element("devices")!.Element("graphics")!;
        Assert.Equal("yes", (string?)auto.Attribute("autoport"));
    }

    [Fact]
    public void Serial_PtyLoggedToConsoleLog()
    {
        var spec = Spec();
        var serial = Build(spec).Element("devices")!.Element("serial")!;
        Assert.Equal("pty", (string?)serial.Attribute("type"));
        Assert.Equal(spec.ConsoleLog, (string?)serial.Element("log")!.Attribute("file"));
        Assert.Equal("serial", (string?)Build(spec).Element("devices")!.Element("console")!.Element("target")!.Attribute("type"));
    }

    [Fact]
    public void Context_CdromOnFirstFreeIdeTarget_OrScsiOnQ35()
    {
        var spec = Spec(s => s with { Context = new Dictionary<string, string> { ["SET_HOSTNAME"] = "web" } });
        var ctx = Build(spec).Element("devices")!.Elements("disk").Last();
        Assert.Equal("cdrom", (string?)ctx.Attribute("device"));
        Assert.Equal(ContextIso.PathFor(spec), (string?)ctx.Element("source")!.Attribute("file"));
        Assert.Equal("hda", (string?)ctx.Element("target")!.Attribute("dev")); // hdb is taken by disk 2
        Assert.Equal("ide", (string?)ctx.Element("target")!.Attribute("bus"));

        var q35 = Build(spec with { Os = new OsSpec { Machine = "q35" } }).Element("devices")!.Elements("disk").Last();
        Assert.Equal("sda", (string?)q35.Element("target")!.Attribute("dev"));
        Assert.Equal("scsi", (string?)q35.Element("target")!.Attribute("bus"));

        var noContext = Build(Spec()).Element("devices")!.Elements("disk");
        Assert.DoesNotContain(noContext, d => ((string?)d.Element("source")!.Attribute("file"))!.EndsWith("context.iso", StringComparison.Ordinal));
    }

    [Fact]
    public void Raw_AppendedToDomain_DevicesMerged()
    {
        var d = Build(Spec(s => s with
        {
            RawData = "<qemu:commandline><qemu:arg value='-no-hpet'/></qemu:commandline><devices><watchdog model='i6300esb'/></devices>",
        }));
        Assert.NotNull(d.Element(DomainXml.QemuNs + "commandline"));
        Assert.Single(d.Elements("devices"));
        Assert.NotNull(d.Element("devices")!.Element("watchdog"));
        var e = Assert.Throws<HostDriverException>(() => Build(Spec(s => s with { RawData = "<devices>" })));
        Assert.Contains("RAW", e.Message);
    }

    [Fact]
    public void Validation_ReportsEveryProblem()
    {
        var e = Assert.Throws<HostDriverException>(() => Build(Spec(s => s with
        {
            Vcpu = 0,
            MemoryMb = 0,
            Disks = [new DiskSpec { DiskId = 0, Path = "/a", Target = "vda" }, new DiskSpec { DiskId = 1, Path = "/b", Target = "vda" }],
        })));
        Assert.Contains("VCPU", e.Message);
        Assert.Contains("MEMORY", e.Message);
        Assert.Contains("share target vda", e.Message);
    }

    [HostFact(HostNeeds.Libvirt)]
    public async Task GeneratedXml_ValidatesAgainstLibvirtSchema()
    {
        HostPrerequisites.Require(HostNeeds.Libvirt);
        var dir = Directory.CreateTempSubdirectory("edgecloud-domxml-").FullName;
        try
        {
            var specs = new[]
            {
                Spec(),
                Spec(s => s with
                {
                    VcpuMax = 4, MemoryMaxMb = 512, CpuModel = "qemu64", Graphics = "vnc", GraphicsPort = 5907,
                    Os = new OsSpec { Machine = "q35", Kernel = "/k", Initrd = "/i", KernelCmd = "console=ttyS0", Boot = "disk0" },
                    Features = new Dictionary<string, string> { ["APIC"] = "yes", ["PAE"] = "yes", ["HYPERV"] = "yes", ["GUEST_AGENT"] = "yes", ["LOCALTIME"] = "yes" },
                    Context = new Dictionary<string, string> { ["A"] = "b" },
                    RawData = "<qemu:commandline><qemu:arg value='-no-hpet'/></qemu:commandline>",
                }),
            };
            foreach (var (spec, i) in specs.Select((s, i) => (s, i)))
            {
                foreach (var type in new[] { "qemu", "kvm" })
                {
                    var file = Path.Combine(dir, $"d{i}-{type}.xml");
                    await File.WriteAllTextAsync(file, DomainXml.Build(spec with { CpuModel = type == "kvm" && i == 0 ? "host-passthrough" : spec.CpuModel }, type));
                    var r = await TestHost.Run.RunAsync("virt-xml-validate", [file, "domain"], CancellationToken.None);
                    Assert.True(r.Ok, $"{file} does not validate: {r.Output}\n{await File.ReadAllTextAsync(file)}");
                }
            }
        }
        finally
        {
            TestHost.TryDelete(dir);
        }
    }
}
