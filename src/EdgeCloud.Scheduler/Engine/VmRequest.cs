using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Scheduler.Engine;

/// <summary>
/// What one VM asks of the cycle, read once from its templates: capacity (CPU in percent,
/// memory in KiB, system-datastore disk in MiB), PCI devices, expressions, and VM group.
/// SCHED_* attributes live in USER_TEMPLATE in OpenNebula (the template is the fallback);
/// AUTOMATIC_* are set by the core in TEMPLATE.
/// </summary>
internal sealed class VmRequest
{
    public VmRequest(Vm vm)
    {
        Vm = vm;
        IsResched = vm.State == VmState.ACTIVE;
        CurrentHostId = IsResched ? vm.HostId : -1;

        // One pass over each template (names are already upper-case): Template.Get would
        // normalise the name and rescan the list per attribute, ten times per VM.
        var t = Read(vm.Template);
        var u = Read(vm.UserTemplate);
        Priority = int.TryParse(u.Priority ?? t.Priority, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 0;
        Cpu = double.TryParse(t.Cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu) && cpu > 0 ? (long)Math.Round(cpu * 100) : 0;
        Mem = double.TryParse(t.Memory, NumberStyles.Float, CultureInfo.InvariantCulture, out var mem) && mem > 0 ? (long)Math.Round(mem * 1024) : 0;
        DiskMb = SystemDiskMb(t.Disks);
        Pci = t.Pci is null ? [] : PciRequest.FromVectors(t.Pci);

        SchedRequirements = u.SchedRequirements ?? t.SchedRequirements;
        AutomaticRequirements = t.AutomaticRequirements ?? u.AutomaticRequirements;
        Rank = u.Rank ?? t.Rank;
        DsRequirements = u.DsRequirements ?? t.DsRequirements;
        AutomaticDsRequirements = t.AutomaticDsRequirements ?? u.AutomaticDsRequirements;
        DsRank = u.DsRank ?? t.DsRank;

        // A resched VM keeps its system datastore; so does a stopped/undeployed VM being resumed,
        // whose disks are still there (OpenNebula does not move them on resume either).
        var last = vm.LastHistory;
        if (last is not null && (IsResched || vm.PrevState is VmState.STOPPED or VmState.UNDEPLOYED))
            FixedDsId = last.DsId;

        GroupRef = t.Group ?? u.Group;
    }

    public Vm Vm { get; }
    public int Id => Vm.Id;
    public bool IsResched { get; }
    public int CurrentHostId { get; }
    public int Priority { get; }
    public long Cpu { get; }
    public long Mem { get; }
    public long DiskMb { get; }
    public PciRequest[] Pci { get; }
    public string? SchedRequirements { get; }
    public string? AutomaticRequirements { get; }
    public string? Rank { get; }
    public string? DsRequirements { get; }
    public string? AutomaticDsRequirements { get; }
    public string? DsRank { get; }
    public int FixedDsId { get; } = -1;
    public VectorAttribute? GroupRef { get; }

    public bool Processed { get; set; }
    public bool Placed { get; set; }
    public PlacementClass Class { get; set; } = null!;
    public RoleState? Role { get; set; }
    public string? GroupError { get; set; }

    /// <summary>The attributes placement reads from one template.</summary>
    private struct Fields
    {
        public string? Cpu, Memory, Priority, SchedRequirements, AutomaticRequirements, Rank, DsRequirements, AutomaticDsRequirements, DsRank;
        public List<VectorAttribute>? Disks, Pci;
        public VectorAttribute? Group;
    }

    private static Fields Read(Template template)
    {
        var f = default(Fields);
        foreach (var a in template.Attributes)
        {
            if (a is VectorAttribute v)
            {
                switch (v.Name)
                {
                    case "DISK": (f.Disks ??= []).Add(v); break;
                    case "PCI": (f.Pci ??= []).Add(v); break;
                    case "VMGROUP": f.Group ??= v; break;
                }
                continue;
            }
            var value = ((SingleAttribute)a).Value;
            switch (a.Name)
            {
                case "CPU": f.Cpu ??= value; break;
                case "MEMORY": f.Memory ??= value; break;
                case "USER_PRIORITY": f.Priority ??= value; break;
                case "SCHED_REQUIREMENTS": f.SchedRequirements ??= Clean(value); break;
                case "AUTOMATIC_REQUIREMENTS": f.AutomaticRequirements ??= Clean(value); break;
                case "SCHED_RANK": f.Rank ??= Clean(value); break;
                case "SCHED_DS_REQUIREMENTS": f.DsRequirements ??= Clean(value); break;
                case "AUTOMATIC_DS_REQUIREMENTS": f.AutomaticDsRequirements ??= Clean(value); break;
                case "SCHED_DS_RANK": f.DsRank ??= Clean(value); break;
            }
        }
        return f;
    }

    private static string? Clean(string v) => string.IsNullOrWhiteSpace(v) ? null : v.Trim();

    /// <summary>
    /// MiB the VM's disks take on the system datastore: volatile disks, and image disks whose
    /// copy lives there (CLONE_TARGET, or LN_TARGET for non-cloned images, is SYSTEM or unset).
    /// Disks that stay in their image datastore (SELF, NONE: Ceph, shared persistent images) do not count.
    /// </summary>
    private static long SystemDiskMb(List<VectorAttribute>? disks)
    {
        long total = 0;
        if (disks is null) return 0;
        foreach (var d in disks)
        {
            if (!double.TryParse(d["SIZE"], NumberStyles.Float, CultureInfo.InvariantCulture, out var size) || size <= 0) continue;
            var isVolatile = d["IMAGE_ID"] is null && d["IMAGE"] is null;
            var target = string.Equals(d["CLONE"], "NO", StringComparison.OrdinalIgnoreCase) ? d["LN_TARGET"] : d["CLONE_TARGET"];
            if (isVolatile || target is null || string.Equals(target, "SYSTEM", StringComparison.OrdinalIgnoreCase))
                total += (long)Math.Ceiling(size);
        }
        return total;
    }
}
