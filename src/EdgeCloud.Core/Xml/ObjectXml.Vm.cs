using System.Collections.Frozen;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>
    /// Element order of vm.xsd's VM/TEMPLATE. Unlike the other TEMPLATE elements (xs:anyType, oned's sorted
    /// order) the VM's TEMPLATE is a closed sequence that is *not* alphabetical (HYPERV_OPTIONS before
    /// GRAPHICS, VIDEO after GRAPHICS, MEMORY_ENCRYPTION after TPM, SCHED_ACTION last), so the renderer orders
    /// the VM's system template by this table. Attributes the XSD does not know keep their alphabetical
    /// place relative to the known ones (they cannot validate wherever they go).
    /// </summary>
    private static readonly FrozenDictionary<string, int> VmTemplateOrder = new[]
    {
        "AUTOMATIC_DS_REQUIREMENTS", "AUTOMATIC_NIC_REQUIREMENTS", "AUTOMATIC_REQUIREMENTS", "CLONING_TEMPLATE_ID",
        "CONTEXT", "CPU", "CPU_COST", "DISK", "DISK_COST", "EMULATOR", "FEATURES", "HYPERV_OPTIONS", "GRAPHICS",
        "VIDEO", "IMPORTED", "INPUT", "MEMORY", "MEMORY_COST", "MEMORY_MAX", "MEMORY_SLOTS", "MEMORY_RESIZE_MODE",
        "NIC", "NIC_ALIAS", "NIC_DEFAULT", "NUMA_NODE", "OS", "PCI", "QEMU_GA_EXEC", "RAW", "SECURITY_GROUP_RULE",
        "SNAPSHOT", "SPICE_OPTIONS", "SUBMIT_ON_HOLD", "TEMPLATE_ID", "TM_MAD_SYSTEM", "TOPOLOGY", "TPM",
        "MEMORY_ENCRYPTION", "VCPU", "VCPU_MAX", "VMGROUP", "VMID", "VROUTER_ID", "VROUTER_KEEPALIVED_ID",
        "VROUTER_KEEPALIVED_PASSWORD", "SCHED_ACTION",
    }.Select((name, i) => (name, i)).ToFrozenDictionary(x => x.name, x => x.i, StringComparer.Ordinal);

    /// <summary>DISK sub-attributes of the short VM body (one.vmpool.info), as oned's <c>to_xml_short</c>.</summary>
    private static readonly FrozenSet<string> ShortDiskKeys = FrozenSet.Create(StringComparer.Ordinal,
        "CLONE", "CLONE_TARGET", "DATASTORE", "DATASTORE_ID", "DISK_ID", "DISK_SNAPSHOT_TOTAL_SIZE", "IMAGE",
        "IMAGE_ID", "LN_TARGET", "SIZE", "TYPE");

    /// <summary>NIC sub-attributes of the short VM body (addresses for <c>onevm list</c>'s IP column).</summary>
    private static readonly FrozenSet<string> ShortNicKeys = FrozenSet.Create(StringComparer.Ordinal,
        "EXTERNAL_IP", "IP", "IP6", "IP6_GLOBAL", "IP6_LINK", "IP6_ULA", "MAC", "NETWORK", "NETWORK_ID", "NIC_ID",
        "SECURITY_GROUPS");

    /// <summary>
    /// TYPE for a DISK that has none. OpenNebula's CLI reads every disk's TYPE (<c>onevm show</c>'s disk
    /// table fails without it); FILE is what oned sets for file-based image disks.
    /// </summary>
    private const string DefaultDiskType = "FILE";

    private static void WriteVm(OneXmlWriter w, Vm vm, RenderContext ctx, RenderMode mode)
    {
        if (mode == RenderMode.PoolEntry)
        {
            WriteVmShort(w, vm, ctx);
            return;
        }

        w.Start("VM");
        WriteOwnedHead(w, vm);
        WritePermissions(w, vm.Permissions);
        w.Element("LAST_POLL", vm.LastPoll);
        w.Element("STATE", (int)vm.State);
        w.Element("LCM_STATE", (int)vm.LcmState);
        w.Element("PREV_STATE", (int)vm.PrevState);
        w.Element("PREV_LCM_STATE", (int)vm.PrevLcmState);
        w.Element("RESCHED", vm.Resched);
        w.Element("STIME", vm.Stime);
        w.Element("ETIME", vm.Etime);
        w.Element("DEPLOY_ID", vm.DeployId);
        WriteLock(w, vm.Lock);
        WriteVmMonitoring(w, vm.Id, ctx.Monitoring.Vm(vm.Id));
        w.Empty("SCHED_ACTIONS"); // scheduled actions stay as SCHED_ACTION vectors in the TEMPLATE for now
        WriteVmTemplate(w, vm);
        TemplateXml.Write(w, vm.UserTemplate, "USER_TEMPLATE");

        if (vm.History.Count == 0)
        {
            w.Empty("HISTORY_RECORDS");
        }
        else
        {
            w.Start("HISTORY_RECORDS");
            foreach (var h in vm.History) WriteHistory(w, h);
            w.End("HISTORY_RECORDS");
        }

        foreach (var list in vm.DiskSnapshots) WriteDiskSnapshots(w, list, withDiskId: true);

        // BACKUPS is required by vm.xsd; oned moves the template's BACKUP_CONFIG in here.
        w.Start("BACKUPS");
        var backupConfig = vm.Template.Vector("BACKUP_CONFIG");
        if (backupConfig is null) w.Empty("BACKUP_CONFIG");
        else TemplateXml.WriteVector(w, backupConfig);
        WriteIds(w, "BACKUP_IDS", vm.BackupIds);
        w.End("BACKUPS");
        w.End("VM");
    }

    /// <summary>
    /// The VM's TEMPLATE in vm.xsd order. System snapshots are rendered from <see cref="Vm.Snapshots"/>
    /// (SNAPSHOT vectors in the template are ignored), VMID is added when the template lacks it (oned adds it
    /// at allocation), BACKUP_CONFIG goes to BACKUPS, and every DISK gets a TYPE.
    /// TM_MAD_SYSTEM is written only if the template has it: oned sets it at the first deploy, so a VM that
    /// was never deployed lacks it although vm.xsd requires it (a known oned deviation in the schema tests).
    /// </summary>
    private static void WriteVmTemplate(OneXmlWriter w, Vm vm)
    {
        var attrs = vm.Template.Attributes;
        var items = new List<VmTemplateItem>(attrs.Count + vm.Snapshots.Count + 1);
        var lastRank = -1;
        var seq = 0;
        var hasVmid = false;
        foreach (var a in attrs)
        {
            if (a.Name is "SNAPSHOT" or "BACKUP_CONFIG") continue;
            hasVmid |= a.Name == "VMID";
            if (VmTemplateOrder.TryGetValue(a.Name, out var rank))
            {
                lastRank = rank;
                items.Add(new VmTemplateItem(rank, 0, seq++, a, -1));
            }
            else
            {
                items.Add(new VmTemplateItem(lastRank, 1, seq++, a, -1));
            }
        }
        var snapshotRank = VmTemplateOrder["SNAPSHOT"];
        for (var i = 0; i < vm.Snapshots.Count; i++) items.Add(new VmTemplateItem(snapshotRank, 0, seq++, null, i));
        if (!hasVmid) items.Add(new VmTemplateItem(VmTemplateOrder["VMID"], 0, seq++, new SingleAttribute("VMID", vm.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), -1));
        items.Sort(static (x, y) => x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Sub != y.Sub ? x.Sub.CompareTo(y.Sub) : x.Seq.CompareTo(y.Seq));

        if (items.Count == 0)
        {
            w.Empty("TEMPLATE");
            return;
        }
        w.Start("TEMPLATE");
        foreach (var item in items)
        {
            if (item.Snapshot >= 0) WriteVmSnapshot(w, vm.Snapshots[item.Snapshot]);
            else if (item.Attribute is VectorAttribute { Name: "DISK" } disk) WriteDisk(w, disk, reduced: false);
            else TemplateXml.WriteAttribute(w, item.Attribute!);
        }
        w.End("TEMPLATE");
    }

    private readonly record struct VmTemplateItem(int Rank, int Sub, int Seq, TemplateAttribute? Attribute, int Snapshot);

    /// <summary>
    /// A system snapshot as oned keeps it in TEMPLATE/SNAPSHOT. SYSTEM_DISK_SIZE (required by vm.xsd) is not
    /// in the model yet and is written as 0; ACTIVE=YES marks the snapshot an operation is working on.
    /// </summary>
    private static void WriteVmSnapshot(OneXmlWriter w, VmSnapshot s)
    {
        w.Start("SNAPSHOT");
        if (s.Active) w.Element("ACTIVE", "YES");
        w.Element("HYPERVISOR_ID", s.HypervisorId);
        w.Element("NAME", s.Name);
        w.Element("SNAPSHOT_ID", s.SnapshotId);
        w.Element("SYSTEM_DISK_SIZE", 0);
        w.Element("TIME", s.Time);
        w.End("SNAPSHOT");
    }

    /// <summary>A DISK vector (sorted sub-elements) with TYPE guaranteed; <paramref name="reduced"/> keeps the short-body keys only.</summary>
    private static void WriteDisk(OneXmlWriter w, VectorAttribute disk, bool reduced)
    {
        w.Start("DISK");
        var hasType = disk.Values.ContainsKey("TYPE");
        foreach (var (k, v) in disk.Values)
        {
            if (reduced && !ShortDiskKeys.Contains(k)) continue;
            if (!hasType && string.CompareOrdinal(k, "TYPE") > 0)
            {
                w.Element("TYPE", DefaultDiskType);
                hasType = true;
            }
            w.Element(k, v);
        }
        if (!hasType) w.Element("TYPE", DefaultDiskType);
        w.End("DISK");
    }

    /// <summary>
    /// The short VM body of one.vmpool.info (vm_pool.xsd), oned's <c>VirtualMachine::to_xml_short</c>: no
    /// PERMISSIONS/PREV_STATE, a TEMPLATE with CPU, MEMORY, VCPU, reduced DISK and NIC entries and GRAPHICS,
    /// and at most the last HISTORY (the CLI's list code reads that single HISTORY as a hash, so several
    /// records would break <c>onevm list</c>). USER_TEMPLATE is written whole (oned trims it to a few
    /// scheduler attributes; the superset costs little and no client minds).
    /// </summary>
    private static void WriteVmShort(OneXmlWriter w, Vm vm, RenderContext ctx)
    {
        w.Start("VM");
        w.Element("ID", vm.Id);
        w.Element("UID", vm.Uid);
        w.Element("GID", vm.Gid);
        w.Element("UNAME", vm.Uname);
        w.Element("GNAME", vm.Gname);
        w.Element("NAME", vm.Name);
        w.Element("LAST_POLL", vm.LastPoll);
        w.Element("STATE", (int)vm.State);
        w.Element("LCM_STATE", (int)vm.LcmState);
        w.Element("RESCHED", vm.Resched);
        w.Element("STIME", vm.Stime);
        w.Element("ETIME", vm.Etime);
        w.Element("DEPLOY_ID", vm.DeployId);
        WriteLock(w, vm.Lock);

        var attrs = vm.Template.Attributes;
        w.Start("TEMPLATE");
        // The XSD order is CPU, MEMORY, VCPU, DISK*, NIC*, GRAPHICS; the template is sorted by name, so one
        // pass per group (no allocation; a VM template has a few dozen attributes at most).
        WriteFirstSingle(w, attrs, "CPU");
        WriteFirstSingle(w, attrs, "MEMORY");
        WriteFirstSingle(w, attrs, "VCPU");
        foreach (var a in attrs)
            if (a is VectorAttribute { Name: "DISK" } disk) WriteDisk(w, disk, reduced: true);
        foreach (var a in attrs)
        {
            if (a is not VectorAttribute { Name: "NIC" } nic) continue;
            w.Start("NIC");
            foreach (var (k, v) in nic.Values)
                if (ShortNicKeys.Contains(k)) w.Element(k, v);
            w.End("NIC");
        }
        foreach (var a in attrs)
        {
            if (a is VectorAttribute { Name: "GRAPHICS" } graphics)
            {
                TemplateXml.WriteVector(w, graphics);
                break;
            }
        }
        w.End("TEMPLATE");

        WriteVmMonitoring(w, vm.Id, ctx.Monitoring.Vm(vm.Id));
        TemplateXml.Write(w, vm.UserTemplate, "USER_TEMPLATE");

        var last = vm.LastHistory;
        if (last is null)
        {
            w.Empty("HISTORY_RECORDS");
        }
        else
        {
            w.Start("HISTORY_RECORDS");
            w.Start("HISTORY");
            w.Element("OID", last.Oid);
            w.Element("SEQ", last.Seq);
            w.Element("HOSTNAME", last.Hostname);
            w.Element("HID", last.Hid);
            w.Element("CID", last.Cid);
            w.Element("DS_ID", last.DsId);
            w.Element("VM_MAD", last.VmMad);
            w.Element("TM_MAD", last.TmMad);
            w.Element("ACTION", last.Action);
            w.End("HISTORY");
            w.End("HISTORY_RECORDS");
        }
        w.End("VM");
    }

    private static void WriteFirstSingle(OneXmlWriter w, IReadOnlyList<TemplateAttribute> attrs, string name)
    {
        foreach (var a in attrs)
        {
            if (a is SingleAttribute s && s.Name == name)
            {
                w.Element(name, s.Value);
                return;
            }
        }
    }

    /// <summary>A full HISTORY record. PLAN_ID and ACTION_ID (DRS plans) are not modelled: -1, as oned without a plan.</summary>
    private static void WriteHistory(OneXmlWriter w, HistoryRecord h)
    {
        w.Start("HISTORY");
        w.Element("OID", h.Oid);
        w.Element("SEQ", h.Seq);
        w.Element("HOSTNAME", h.Hostname);
        w.Element("HID", h.Hid);
        w.Element("CID", h.Cid);
        w.Element("STIME", h.Stime);
        w.Element("ETIME", h.Etime);
        w.Element("VM_MAD", h.VmMad);
        w.Element("TM_MAD", h.TmMad);
        w.Element("DS_ID", h.DsId);
        w.Element("PLAN_ID", -1);
        w.Element("ACTION_ID", -1);
        w.Element("PSTIME", h.Pstime);
        w.Element("PETIME", h.Petime);
        w.Element("RSTIME", h.Rstime);
        w.Element("RETIME", h.Retime);
        w.Element("ESTIME", h.Estime);
        w.Element("EETIME", h.Eetime);
        w.Element("ACTION", h.Action);
        w.Element("UID", h.Uid);
        w.Element("GID", h.Gid);
        w.Element("REQUEST_ID", h.RequestId);
        w.End("HISTORY");
    }

    /// <summary>
    /// A VM MONITORING element: oned keeps it as a template that includes ID and TIMESTAMP, so the elements
    /// come sorted by name (the order of vm.xsd and monitoring_data.xsd). <c>&lt;MONITORING/&gt;</c> without a sample.
    /// </summary>
    internal static void WriteVmMonitoring(OneXmlWriter w, int vmId, VmMonitoring? m)
    {
        if (m is null)
        {
            w.Empty("MONITORING");
            return;
        }
        w.Start("MONITORING");
        w.ElementDecimal("CPU", m.Cpu);
        w.Element("DISKRDBYTES", m.DiskRdBytes);
        w.Element("DISKRDIOPS", m.DiskRdIops);
        w.Element("DISKWRBYTES", m.DiskWrBytes);
        w.Element("DISKWRIOPS", m.DiskWrIops);
        w.Element("ID", vmId);
        w.Element("MEMORY", m.Memory);
        w.Element("NETRX", m.NetRx);
        w.Element("NETTX", m.NetTx);
        w.Element("TIMESTAMP", m.Timestamp);
        w.End("MONITORING");
    }
}
