using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>
    /// IMAGE (image.xsd). The model keeps no modification time, image snapshots or backup increments yet:
    /// MODTIME is the registration time, SNAPSHOTS is oned's empty snapshot list (ALLOW_ORPHANS NO,
    /// CURRENT_BASE -1, NEXT_SNAPSHOT 0) and BACKUP_INCREMENTS is empty.
    /// </summary>
    private static void WriteImage(OneXmlWriter w, Image i)
    {
        w.Start("IMAGE");
        WriteOwnedHead(w, i);
        WriteLock(w, i.Lock);
        WritePermissions(w, i.Permissions);
        w.Element("TYPE", (int)i.ImageType);
        w.Element("DISK_TYPE", i.DiskType);
        w.Element("PERSISTENT", i.Persistent);
        w.Element("REGTIME", i.RegTime);
        w.Element("MODTIME", i.RegTime);
        w.Element("SOURCE", i.Source);
        w.Element("PATH", i.Path);
        w.Element("FORMAT", i.Format);
        w.Element("FS", i.Fs);
        w.Element("SIZE", i.Size);
        w.Element("STATE", (int)i.State);
        w.Element("PREV_STATE", (int)i.PrevState);
        w.Element("RUNNING_VMS", i.RunningVms);
        w.Element("CLONING_OPS", i.CloningOps);
        w.Element("CLONING_ID", i.CloningId);
        w.Element("TARGET_SNAPSHOT", i.TargetSnapshot);
        w.Element("DATASTORE_ID", i.DatastoreId);
        w.Element("DATASTORE", i.Datastore);
        WriteIds(w, "VMS", i.Vms);
        WriteIds(w, "CLONES", i.Clones);
        WriteIds(w, "APP_CLONES", i.AppClones);
        TemplateXml.Write(w, i.Template);
        WriteDiskSnapshots(w, i.Snapshots, withDiskId: false);
        if (i.BackupIncrements.Count == 0) w.Empty("BACKUP_INCREMENTS");
        else
        {
            w.Start("BACKUP_INCREMENTS");
            foreach (var inc in i.BackupIncrements)
            {
                w.Start("INCREMENT");
                w.Element("DATE", inc.Date);
                w.Element("ID", inc.Id);
                if (inc.ParentId >= 0) w.Element("PARENT_ID", inc.ParentId);
                w.Element("SIZE", inc.SizeMb);
                w.Element("SOURCE", inc.Source);
                w.Element("TYPE", inc.Type);
                w.End("INCREMENT");
            }
            w.End("BACKUP_INCREMENTS");
        }
        if (i.ImageType == ImageType.BACKUP) WriteIds(w, "BACKUP_DISK_IDS", i.BackupDiskIds);
        w.End("IMAGE");
    }

    /// <summary>
    /// A SNAPSHOTS element (oned's <c>Snapshots::to_xml</c>): the VM's has DISK_ID, the image's does not;
    /// the two XSDs order a SNAPSHOT's ACTIVE and CHILDREN differently.
    /// </summary>
    private static void WriteDiskSnapshots(OneXmlWriter w, DiskSnapshotList list, bool withDiskId)
    {
        w.Start("SNAPSHOTS");
        w.Element("ALLOW_ORPHANS", list.AllowOrphans ? "YES" : "NO");
        w.Element("CURRENT_BASE", list.CurrentBase);
        if (withDiskId) w.Element("DISK_ID", list.DiskId);
        w.Element("NEXT_SNAPSHOT", list.NextSnapshot);
        foreach (var s in list.Snapshots)
        {
            w.Start("SNAPSHOT");
            var children = string.Join(",", s.Children);
            if (withDiskId)
            {
                if (s.Active) w.Element("ACTIVE", "YES");
                if (children.Length > 0) w.Element("CHILDREN", children);
            }
            else
            {
                if (children.Length > 0) w.Element("CHILDREN", children);
                if (s.Active) w.Element("ACTIVE", "YES");
            }
            w.Element("DATE", s.Date);
            w.Element("ID", s.Id);
            w.Element("NAME", s.Name);
            w.Element("PARENT", s.Parent);
            w.Element("SIZE", s.SizeMb);
            w.End("SNAPSHOT");
        }
        w.End("SNAPSHOTS");
    }

    /// <summary>VMTEMPLATE (vmtemplate.xsd).</summary>
    private static void WriteVmTemplate(OneXmlWriter w, VmTemplate t)
    {
        w.Start("VMTEMPLATE");
        WriteOwnedHead(w, t);
        WriteLock(w, t.Lock);
        WritePermissions(w, t.Permissions);
        w.Element("REGTIME", t.RegTime);
        TemplateXml.Write(w, t.Template);
        w.End("VMTEMPLATE");
    }
}
