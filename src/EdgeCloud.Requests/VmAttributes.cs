using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>How a VM's submitted template is split and read, as oned does.</summary>
public static class VmAttributes
{
    /// <summary>
    /// Attributes that oned moves to the VM's (system) TEMPLATE; everything else stays in USER_TEMPLATE
    /// (SCHED_REQUIREMENTS, DESCRIPTION, LABELS...).
    /// </summary>
    public static readonly HashSet<string> System = new(StringComparer.Ordinal)
    {
        "AUTOMATIC_DS_REQUIREMENTS", "AUTOMATIC_NIC_REQUIREMENTS", "AUTOMATIC_REQUIREMENTS", "CLONING_TEMPLATE_ID",
        "CONTEXT", "CPU", "CPU_COST", "DISK", "DISK_COST", "EMULATOR", "FEATURES", "HYPERV_OPTIONS", "GRAPHICS",
        "VIDEO", "IMPORTED", "INPUT", "MEMORY", "MEMORY_COST", "MEMORY_MAX", "MEMORY_SLOTS", "MEMORY_RESIZE_MODE",
        "NIC", "NIC_ALIAS", "NIC_DEFAULT", "NUMA_NODE", "OS", "PCI", "RAW", "SECURITY_GROUP_RULE",
        "SPICE_OPTIONS", "SUBMIT_ON_HOLD", "TEMPLATE_ID", "TM_MAD_SYSTEM", "TOPOLOGY", "TPM", "VCPU", "VCPU_MAX",
        "VMGROUP", "VMID", "VROUTER_ID", "VROUTER_KEEPALIVED_ID", "VROUTER_KEEPALIVED_PASSWORD", "SCHED_ACTION",
        "BACKUP_CONFIG",
    };

    public static (Template System, Template User) Split(Template submitted)
    {
        var sys = new Template();
        var user = new Template();
        foreach (var a in submitted.Attributes)
            (System.Contains(a.Name) ? sys : user).Add(a.Clone());
        return (sys, user);
    }

    public static double Cpu(Template t) => t.TryGetDouble("CPU", out var c) ? c : 0;

    public static long MemoryMb(Template t) => t.TryGetLong("MEMORY", out var m) ? m : 0;

    /// <summary>Sum of the sizes (MiB) of volatile disks and disks copied to the system datastore.</summary>
    public static long SystemDiskMb(Template t)
    {
        long total = 0;
        foreach (var d in t.Vectors("DISK"))
        {
            var onSystemDs = d["TYPE"] is "fs" or "swap" || d["CLONE"] == "YES";
            if (onSystemDs && long.TryParse(d["SIZE"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) total += s;
        }
        return total;
    }

    public static Dictionary<string, double> VmQuotaDelta(Vm vm, double sign) => new()
    {
        ["VMS"] = sign,
        ["CPU"] = sign * Cpu(vm.Template),
        ["MEMORY"] = sign * MemoryMb(vm.Template),
        ["SYSTEM_DISK_SIZE"] = sign * SystemDiskMb(vm.Template),
    };

    public static Dictionary<string, double> RunningQuotaDelta(Vm vm, double sign) => new()
    {
        ["RUNNING_VMS"] = sign,
        ["RUNNING_CPU"] = sign * Cpu(vm.Template),
        ["RUNNING_MEMORY"] = sign * MemoryMb(vm.Template),
    };

    /// <summary>VMs that count in the RUNNING_* quotas: those ACTIVE on a host (booting, running, migrating...).</summary>
    public static bool CountsAsRunning(VmState s) => s is VmState.ACTIVE;
}
