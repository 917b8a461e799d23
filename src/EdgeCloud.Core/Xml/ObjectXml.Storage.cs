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
        w.Start("SNAPSHOTS");
        w.Element("ALLOW_ORPHANS", "NO");
        w.Element("CURRENT_BASE", -1);
        w.Element("NEXT_SNAPSHOT", 0);
        w.End("SNAPSHOTS");
        w.Empty("BACKUP_INCREMENTS");
        w.End("IMAGE");
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
