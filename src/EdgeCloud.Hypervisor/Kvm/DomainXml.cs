using System.Xml;
using System.Xml.Linq;
using EdgeCloud.Core.Drivers;

namespace EdgeCloud.Hypervisor;

/// <summary>
/// Builds the libvirt domain XML of a <see cref="VmSpec"/>, as OpenNebula's kvm driver builds its
/// deployment file: name one-&lt;VMID&gt;, memory, vCPUs, CPU model, OS and direct kernel boot, features,
/// disks, bridged NICs with the host-side name one-&lt;VMID&gt;-&lt;NICID&gt;, graphics, a serial console
/// logged to <see cref="VmSpec.ConsoleLog"/>, the context CD, and RAW data appended last.
/// Pure: reads nothing from the host (the domain type comes from <see cref="KvmCapability"/>).
/// </summary>
public static class DomainXml
{
    public static readonly XNamespace QemuNs = "http://libvirt.org/schemas/domain/qemu/1.0";
    /// <summary>Namespace of the metadata the driver keeps in the domain (VM id, name, directory).</summary>
    public static readonly XNamespace MetadataNs = "https://edgecloud.dev/xmlns/libvirt/vm/1.0";

    /// <summary>The domain XML as text.</summary>
    /// <param name="domainType">"kvm" or "qemu" (TCG).</param>
    /// <exception cref="HostDriverException">The spec cannot make a valid domain (the message says why).</exception>
    public static string Build(VmSpec spec, string domainType) => BuildElement(spec, domainType).ToString();

    public static XElement BuildElement(VmSpec spec, string domainType)
    {
        Validate(spec, domainType);
        var boot = BootOrder(spec.Os.Boot);
        var features = Features(spec.Features);
        var kvm = domainType == "kvm";

        var maxVcpu = Math.Max(spec.Vcpu, spec.VcpuMax);
        var maxMemKb = Math.Max(spec.MemoryMb, spec.MemoryMaxMb) * 1024;
        var vcpu = new XElement("vcpu", new XAttribute("placement", "static"), maxVcpu);
        if (maxVcpu != spec.Vcpu) vcpu.Add(new XAttribute("current", spec.Vcpu));

        var domain = new XElement("domain",
            new XAttribute("type", domainType),
            new XAttribute(XNamespace.Xmlns + "qemu", QemuNs.NamespaceName),
            new XElement("name", spec.DomainName),
            new XElement("metadata",
                new XElement(MetadataNs + "vm",
                    new XAttribute(XNamespace.Xmlns + "edgecloud", MetadataNs.NamespaceName),
                    new XElement(MetadataNs + "id", spec.VmId),
                    new XElement(MetadataNs + "name", spec.Name),
                    new XElement(MetadataNs + "vmdir", spec.VmDir))),
            new XElement("memory", new XAttribute("unit", "KiB"), maxMemKb),
            new XElement("currentMemory", new XAttribute("unit", "KiB"), spec.MemoryMb * 1024),
            vcpu,
            new XElement("cputune", new XElement("shares", Math.Max(2, (int)Math.Round(spec.Cpu * 1024)))));

        domain.Add(Os(spec, boot.Count > 0));
        var featuresElement = new XElement("features");
        if (features.Contains("ACPI")) featuresElement.Add(new XElement("acpi"));
        if (features.Contains("APIC")) featuresElement.Add(new XElement("apic"));
        if (features.Contains("PAE")) featuresElement.Add(new XElement("pae"));
        if (features.Contains("HYPERV"))
        {
            featuresElement.Add(new XElement("hyperv", new XAttribute("mode", "custom"),
                new XElement("relaxed", new XAttribute("state", "on")),
                new XElement("vapic", new XAttribute("state", "on")),
                new XElement("spinlocks", new XAttribute("state", "on"), new XAttribute("retries", 4096))));
        }
        if (featuresElement.HasElements) domain.Add(featuresElement);
        if (Cpu(spec.CpuModel, kvm) is { } cpu) domain.Add(cpu);
        domain.Add(new XElement("clock", new XAttribute("offset", features.Contains("LOCALTIME") ? "localtime" : "utc")));
        domain.Add(new XElement("on_poweroff", "destroy"), new XElement("on_reboot", "restart"), new XElement("on_crash", "destroy"));

        var devices = new XElement("devices");
        var disks = spec.Disks.ToList();
        if (ContextDisk(spec) is { } ctx) disks.Add(ctx);
        foreach (var d in disks)
            devices.Add(Disk(d, boot.TryGetValue($"disk{d.DiskId}", out var o) ? o : null));
        if (disks.Any(d => Bus(d) == "scsi"))
            devices.Add(new XElement("controller", new XAttribute("type", "scsi"), new XAttribute("index", 0), new XAttribute("model", "virtio-scsi")));
        foreach (var n in spec.Nics)
            devices.Add(Interface(n, boot.TryGetValue($"nic{n.NicId}", out var o) ? o : null));

        devices.Add(new XElement("serial", new XAttribute("type", "pty"),
            new XElement("log", new XAttribute("file", spec.ConsoleLog), new XAttribute("append", "on")),
            new XElement("target", new XAttribute("port", 0))));
        devices.Add(new XElement("console", new XAttribute("type", "pty"),
            new XElement("target", new XAttribute("type", "serial"), new XAttribute("port", 0))));

        if (spec.Graphics.Length > 0)
        {
            var g = new XElement("graphics", new XAttribute("type", spec.Graphics.ToLowerInvariant()));
            if (spec.GraphicsPort >= 0) g.Add(new XAttribute("port", spec.GraphicsPort), new XAttribute("autoport", "no"));
            else g.Add(new XAttribute("autoport", "yes"));
            if (spec.GraphicsListen.Length > 0) g.Add(new XAttribute("listen", spec.GraphicsListen));
            devices.Add(g);
        }
        if (features.Contains("GUEST_AGENT"))
        {
            devices.Add(new XElement("channel", new XAttribute("type", "unix"),
                new XElement("source", new XAttribute("mode", "bind")),
                new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", "org.qemu.guest_agent.0"))));
        }
        devices.Add(new XElement("memballoon", new XAttribute("model", "virtio"),
            new XElement("stats", new XAttribute("period", 5))));
        domain.Add(devices);

        AppendRaw(domain, devices, spec.RawData);
        return domain;
    }

    /// <summary>The disk element, as given to the domain and to attach-device/detach-device.</summary>
    public static XElement Disk(DiskSpec d, int? bootOrder = null)
    {
        var cdrom = d.Device == "cdrom";
        var block = d.Path.StartsWith("/dev/", StringComparison.Ordinal);
        var driver = new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", cdrom ? "raw" : Format(d)));
        if (d.Cache.Length > 0) driver.Add(new XAttribute("cache", d.Cache));
        var disk = new XElement("disk",
            new XAttribute("type", block ? "block" : "file"),
            new XAttribute("device", cdrom ? "cdrom" : "disk"),
            driver,
            new XElement("source", new XAttribute(block ? "dev" : "file", d.Path)),
            new XElement("target", new XAttribute("dev", d.Target), new XAttribute("bus", Bus(d))));
        if (cdrom || d.ReadOnly) disk.Add(new XElement("readonly"));
        if (bootOrder is { } o) disk.Add(new XElement("boot", new XAttribute("order", o)));
        return disk;
    }

    /// <summary>The interface element: a tap named <see cref="NicSpec.Target"/> on <see cref="NicSpec.Bridge"/>.</summary>
    public static XElement Interface(NicSpec n, int? bootOrder = null)
    {
        if (string.IsNullOrWhiteSpace(n.Bridge)) throw new HostDriverException($"NIC {n.NicId}: no bridge given");
        var nic = new XElement("interface", new XAttribute("type", "bridge"),
            new XElement("source", new XAttribute("bridge", n.Bridge)));
        if (n.Target.Length > 0) nic.Add(new XElement("target", new XAttribute("dev", n.Target)));
        nic.Add(new XElement("mac", new XAttribute("address", n.Mac.ToLowerInvariant())));
        nic.Add(new XElement("model", new XAttribute("type", n.Model.Length > 0 ? n.Model : "virtio")));
        if (n.Mtu > 0) nic.Add(new XElement("mtu", new XAttribute("size", n.Mtu)));
        if (bootOrder is { } o) nic.Add(new XElement("boot", new XAttribute("order", o)));
        return nic;
    }

    /// <summary>Bus from the target's prefix as OpenNebula's DEV_PREFIX (vd → virtio, sd → scsi, hd → ide), else <see cref="DiskSpec.Bus"/>.</summary>
    public static string Bus(DiskSpec d) =>
        d.Target.StartsWith("vd", StringComparison.Ordinal) ? "virtio"
        : d.Target.StartsWith("sd", StringComparison.Ordinal) ? (d.Bus is "sata" or "usb" ? d.Bus : "scsi")
        : d.Target.StartsWith("hd", StringComparison.Ordinal) ? "ide"
        : d.Bus.Length > 0 ? d.Bus : "virtio";

    /// <summary>
    /// The context CD of a VM with a CONTEXT: <c>context.iso</c> in the VM's directory, on IDE
    /// (the first free of hda..hdd) for machine pc, on virtio-scsi (sd*) for q35, which has no IDE;
    /// CONTEXT/TARGET chooses the target explicitly. Its disk id is one past the last disk's.
    /// </summary>
    public static DiskSpec? ContextDisk(VmSpec spec)
    {
        if (spec.Context is null) return null;
        var used = spec.Disks.Select(d => d.Target).ToHashSet();
        string target;
        if (spec.Context.TryGetValue("TARGET", out var t) && t.Length > 0) target = t;
        else
        {
            var prefix = spec.Os.Machine.Contains("q35", StringComparison.Ordinal) ? "sd" : "hd";
            var max = prefix == "hd" ? 'd' : 'z';
            target = "";
            for (var c = 'a'; c <= max; c++)
            {
                if (!used.Contains(prefix + c)) { target = prefix + c; break; }
            }
            if (target.Length == 0) throw new HostDriverException($"no free {prefix}* target for the context CD");
        }
        return new DiskSpec
        {
            DiskId = spec.Disks.Count == 0 ? 0 : spec.Disks.Max(d => d.DiskId) + 1,
            Path = ContextIso.PathFor(spec),
            Target = target,
            Device = "cdrom",
            Format = "raw",
            ReadOnly = true,
        };
    }

    /// <summary>OS/BOOT ("disk0,nic1") as device → boot order (1-based).</summary>
    public static IReadOnlyDictionary<string, int> BootOrder(string boot)
    {
        var order = new Dictionary<string, int>();
        foreach (var item in boot.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var key = item.ToLowerInvariant();
            if (!(key.StartsWith("disk", StringComparison.Ordinal) && int.TryParse(key[4..], out _))
                && !(key.StartsWith("nic", StringComparison.Ordinal) && int.TryParse(key[3..], out _)))
                throw new HostDriverException($"OS/BOOT: '{item}' is not diskN or nicN");
            order.TryAdd(key, order.Count + 1);
        }
        return order;
    }

    private static XElement Os(VmSpec spec, bool perDeviceBoot)
    {
        var os = new XElement("os",
            new XElement("type", new XAttribute("arch", spec.Os.Arch.Length > 0 ? spec.Os.Arch : "x86_64"),
                new XAttribute("machine", spec.Os.Machine.Length > 0 ? spec.Os.Machine : "pc"), "hvm"));
        if (spec.Os.Firmware.Length > 0)
            os.Add(new XElement("loader", new XAttribute("readonly", "yes"), new XAttribute("type", "pflash"), spec.Os.Firmware));
        if (spec.Os.Kernel.Length > 0)
        {
            os.Add(new XElement("kernel", spec.Os.Kernel));
            if (spec.Os.Initrd.Length > 0) os.Add(new XElement("initrd", spec.Os.Initrd));
            if (spec.Os.KernelCmd.Length > 0) os.Add(new XElement("cmdline", spec.Os.KernelCmd));
        }
        else if (!perDeviceBoot)
        {
            os.Add(new XElement("boot", new XAttribute("dev", "hd")));
        }
        return os;
    }

    /// <summary>CPU_MODEL: host-passthrough/host-model only where kvm runs (TCG cannot pass the host CPU through).</summary>
    private static XElement? Cpu(string model, bool kvm)
    {
        if (model.Length == 0) return null;
        if (model is "host-passthrough" or "host-model")
            return kvm ? new XElement("cpu", new XAttribute("mode", model)) : null;
        return new XElement("cpu", new XAttribute("mode", "custom"), new XAttribute("match", "exact"), new XAttribute("check", "none"),
            new XElement("model", new XAttribute("fallback", "allow"), model));
    }

    /// <summary>FEATURES set to yes; ACPI is on unless turned off (it is how shutdown reaches the guest), the rest off unless on.</summary>
    private static HashSet<string> Features(IReadOnlyDictionary<string, string> given)
    {
        var on = new HashSet<string>(StringComparer.Ordinal) { "ACPI" };
        foreach (var (k, v) in given)
        {
            var key = k.ToUpperInvariant();
            var value = v.Trim().ToLowerInvariant();
            if (value is "yes" or "true" or "1" or "on") on.Add(key);
            else if (value is "no" or "false" or "0" or "off" or "") on.Remove(key);
            else throw new HostDriverException($"FEATURES/{key}: '{v}' is not yes or no");
        }
        return on;
    }

    private static string Format(DiskSpec d) => d.Format.Length > 0 ? d.Format.ToLowerInvariant() : "raw";

    /// <summary>RAW DATA: elements appended to the domain; &lt;devices&gt; children join the domain's devices.</summary>
    private static void AppendRaw(XElement domain, XElement devices, string raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return;
        XElement wrapper;
        try
        {
            wrapper = XElement.Parse($"<raw xmlns:qemu='{QemuNs.NamespaceName}'>{raw}</raw>");
        }
        catch (XmlException e)
        {
            throw new HostDriverException($"RAW DATA is not a valid XML fragment: {e.Message}", e);
        }
        foreach (var e in wrapper.Elements().ToList())
        {
            e.Remove();
            if (e.Name == "devices") devices.Add(e.Elements());
            else domain.Add(e);
        }
    }

    private static void Validate(VmSpec spec, string domainType)
    {
        var problems = new List<string>();
        if (domainType is not ("kvm" or "qemu")) problems.Add($"domain type '{domainType}' is not kvm or qemu");
        if (spec.VmId < 0) problems.Add("VM id is negative");
        if (spec.Vcpu < 1) problems.Add("VCPU must be at least 1");
        if (spec.MemoryMb < 1) problems.Add("MEMORY must be at least 1 MiB");
        if (string.IsNullOrWhiteSpace(spec.VmDir)) problems.Add("no VM directory");
        foreach (var g in spec.Disks.GroupBy(d => d.Target).Where(g => g.Count() > 1))
            problems.Add($"disks {string.Join(", ", g.Select(d => d.DiskId))} share target {g.Key}");
        foreach (var d in spec.Disks.Where(d => d.Target.Length == 0 || d.Path.Length == 0))
            problems.Add($"disk {d.DiskId} has no {(d.Path.Length == 0 ? "path" : "target")}");
        foreach (var g in spec.Nics.GroupBy(n => n.Mac.ToLowerInvariant()).Where(g => g.Count() > 1))
            problems.Add($"NICs {string.Join(", ", g.Select(n => n.NicId))} share MAC {g.Key}");
        if (spec.Os.Kernel.Length == 0 && (spec.Os.Initrd.Length > 0 || spec.Os.KernelCmd.Length > 0))
            problems.Add("OS/INITRD or KERNEL_CMD given without OS/KERNEL");
        if (problems.Count > 0)
            throw new HostDriverException($"VM {spec.VmId}: {string.Join("; ", problems)}");
    }
}
