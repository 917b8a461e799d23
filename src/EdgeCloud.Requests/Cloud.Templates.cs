using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    /// <summary>Allocates an object that is just a named template with an owner (VM templates, security groups, VM groups...).</summary>
    private Task<int> AllocateOwnedAsync<T>(Caller caller, ObjectType type, string text, Func<int, string, Template, T> make, Action<StateTransaction, T>? after = null, CancellationToken ct = default)
        where T : OwnedObject
    {
        var t = ParseTemplate(text);
        var name = t.Get("NAME");
        if (string.IsNullOrEmpty(name)) throw CloudException.Allocate(type, "No NAME in template.");
        ValidateName(type, name);
        return bus.ExecuteAsync(tx =>
        {
            DemandCreate(tx, caller, type);
            CheckNameFreeForAllocate(tx, type, name, caller.Uid);
            var id = tx.NextId(type);
            var body = t.Clone();
            if (type != ObjectType.Template) body.Remove("NAME"); // the name is the object's, not its template's (as oned)
            var o = Stamp(make(id, name, body), tx, caller);
            tx.Put(o);
            after?.Invoke(tx, o);
            return id;
        }, ct);
    }

    public Task<int> TemplateAllocateAsync(Caller caller, string text, CancellationToken ct = default) =>
        AllocateOwnedAsync(caller, ObjectType.Template, text, (id, name, t) => new VmTemplate { Id = id, Name = name, Template = t, RegTime = 0 },
            (tx, o) => tx.Put(o with { RegTime = tx.Now }), ct);

    /// <summary>
    /// one.template.clone; recursive=true also copies every image its disks use (named
    /// "&lt;new template&gt;-disk-&lt;n&gt;") and points the new template's disks at the copies.
    /// </summary>
    public Task<int> TemplateCloneAsync(Caller caller, int id, string name, bool recursive, CancellationToken ct = default)
    {
        ValidateName(ObjectType.Template, name);
        return bus.ExecuteAsync(tx => CloneTemplate(tx, caller, Demand<VmTemplate>(tx, caller, ObjectType.Template, id, AuthOp.Use, checkLock: false), name, recursive, persistentImages: false), ct);
    }

    private int CloneTemplate(StateTransaction tx, Caller caller, VmTemplate src, string name, bool recursive, bool persistentImages)
    {
        DemandCreate(tx, caller, ObjectType.Template);
        CheckNameFreeForAllocate(tx, ObjectType.Template, name, caller.Uid);
        var nid = tx.NextId(ObjectType.Template);
        var t = src.Template.Clone();
        t.Set("NAME", name);
        if (recursive)
        {
            var n = 0;
            foreach (var disk in t.Vectors("DISK").ToList())
            {
                if (ResolveImage(tx, caller, disk) is not { } image) { n++; continue; }
                var copy = CloneImage(tx, caller, image.Id, $"{name}-disk-{n++}", -1);
                if (persistentImages)
                {
                    var ci = Require<Image>(tx, ObjectType.Image, copy);
                    var ct = ci.Template.Clone();
                    ct.Set("PERSISTENT", "YES");
                    tx.Put(ci with { Persistent = true, Template = ct });
                }
                var d = new VectorAttribute("DISK", disk.Values.Where(kv => kv.Key is not ("IMAGE" or "IMAGE_ID" or "IMAGE_UNAME" or "IMAGE_UID")));
                d.Set("IMAGE_ID", copy);
                t.Remove(disk);
                t.Add(d);
            }
        }
        tx.Put(Stamp(new VmTemplate { Id = nid, Name = name, Template = t, RegTime = tx.Now }, tx, caller));
        return nid;
    }

    /// <summary>
    /// one.template.delete; recursive=true also deletes the images its disks use. Every image must be
    /// deletable (MANAGE, not in use), or nothing is deleted.
    /// </summary>
    public Task<int> TemplateDeleteAsync(Caller caller, int id, bool recursive, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var tpl = Demand<VmTemplate>(tx, caller, ObjectType.Template, id, AuthOp.Manage);
            if (recursive)
            {
                foreach (var disk in tpl.Template.Vectors("DISK"))
                {
                    if (ResolveImage(tx, caller, disk) is not { } image) continue;
                    Authorizer.Demand(caller, image, AuthOp.Manage, Acls(tx));
                    CheckLock(image, AuthOp.Manage);
                    DeleteImage(tx, image);
                }
            }
            tx.Delete(ObjectType.Template, id);
            return id;
        }, ct);

    /// <summary>Deletes an owned object that nothing else refers to (templates, security groups, VM groups).</summary>
    public Task<int> DeleteOwnedAsync(Caller caller, ObjectType type, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var o = Demand<OwnedObject>(tx, caller, type, id, AuthOp.Manage);
            switch (o)
            {
                case SecGroup when id == 0:
                    throw CloudException.Action("The default security group (0) cannot be deleted.", id);
                case SecGroup sg when tx.All<VNet>(ObjectType.VNet).Any(n => SecGroupsOf(n.Template).Contains(id)) || !sg.UpdatedVms.IsEmpty:
                    throw CloudException.Action($"Cannot delete security group {id}: it is in use.", id);
                case VmGroup g when g.Roles.Any(r => !r.Vms.IsEmpty):
                    throw CloudException.Action($"Cannot delete VM group {id}: it has VMs ({string.Join(",", g.Roles.SelectMany(r => r.Vms))}).", id);
            }
            tx.Delete(type, id);
            return id;
        }, ct);

    private static IEnumerable<int> SecGroupsOf(Template t) => SecGroupIds(t.Get("SECURITY_GROUPS"));

    /// <summary>
    /// one.template.instantiate: the template merged with the extra template, a VM owned by the caller;
    /// name "" = "&lt;template name&gt;-&lt;vm id&gt;". persistent=true is refused until persistent copies exist.
    /// </summary>
    public Task<int> TemplateInstantiateAsync(Caller caller, int id, string name, bool hold, string extra, bool persistent, CancellationToken ct = default)
    {
        var extraT = string.IsNullOrWhiteSpace(extra) ? new Template() : ParseTemplate(extra);
        // Leasing: the command may run twice (IPAM discovery first), so it changes no captured variable.
        return ExecuteLeasingAsync(tx =>
        {
            var tid = id;
            var tpl = Demand<VmTemplate>(tx, caller, ObjectType.Template, tid, AuthOp.Use);
            if (persistent)
            {
                // As oned: a private copy of the template whose images are persistent copies; the VM runs from it.
                var copyName = !string.IsNullOrEmpty(name) ? name : $"{tpl.Name}-persistent-{tx.Snapshot.LastId(ObjectType.Template) + 1}";
                var copyId = CloneTemplate(tx, caller, tpl, copyName, recursive: true, persistentImages: true);
                tpl = Require<VmTemplate>(tx, ObjectType.Template, copyId);
                tid = copyId;
            }
            DemandCreate(tx, caller, ObjectType.Vm);
            var t = tpl.Template.Clone();
            t.Merge(extraT);
            var vmName = !string.IsNullOrEmpty(name) ? name : extraT.Get("NAME") is { Length: > 0 } en ? en : null;
            if (vmName is null) t.Set("NAME", $"{tpl.Name}-%i");
            else t.Set("NAME", vmName);
            return CreateVm(tx, caller, t, hold, tid, null);
        }, msg => CloudException.Allocate(ObjectType.Vm, msg), ct);
    }
}
