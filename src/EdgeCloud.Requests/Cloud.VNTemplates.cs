using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>
/// one.vntemplate.*: virtual network templates. As oned (VNTemplate.cc, RequestManagerVNTemplate.cc):
/// NAME is the object's and is not kept in its TEMPLATE; VN_MAD is required (and PHYDEV for 802.1Q and
/// vxlan); instantiate makes a network owned by the caller from the template merged with the extra
/// template, through the same checks as one.vn.allocate. update, chmod, chown, rename, lock and delete
/// are the shared owned-object methods.
/// </summary>
public sealed partial class Cloud
{
    public Task<int> VNTemplateAllocateAsync(Caller caller, string text, CancellationToken ct = default)
    {
        CheckVnMad(ObjectType.VNTemplate, ParseTemplate(text));
        return AllocateOwnedAsync(caller, ObjectType.VNTemplate, text, (id, name, t) => new VNTemplate { Id = id, Name = name, Template = t },
            (tx, o) => tx.Put(o with { RegTime = tx.Now }), ct);
    }

    /// <summary>one.vntemplate.clone: USE on the source (its lock does not matter, as one.template.clone), CREATE for the copy.</summary>
    public Task<int> VNTemplateCloneAsync(Caller caller, int id, string name, CancellationToken ct = default)
    {
        ValidateName(ObjectType.VNTemplate, name);
        return bus.ExecuteAsync(tx =>
        {
            var src = Demand<VNTemplate>(tx, caller, ObjectType.VNTemplate, id, AuthOp.Use, checkLock: false);
            DemandCreate(tx, caller, ObjectType.VNTemplate);
            CheckNameFreeForAllocate(tx, ObjectType.VNTemplate, name, caller.Uid);
            var nid = tx.NextId(ObjectType.VNTemplate);
            tx.Put(Stamp(new VNTemplate { Id = nid, Name = name, Template = src.Template.Clone(), RegTime = tx.Now }, tx, caller));
            return nid;
        }, ct);
    }

    /// <summary>
    /// one.vntemplate.instantiate: USE on the template; the network is the template merged with
    /// <paramref name="extra"/>, named <paramref name="name"/> (oned drops the template's NAME: no name is an
    /// allocate error), with TEMPLATE_NAME and TEMPLATE_ID, in the template's CLUSTER_IDS (those that exist)
    /// or the default cluster. Returns the network's id.
    /// </summary>
    public Task<int> VNTemplateInstantiateAsync(Caller caller, int id, string name, string extra, CancellationToken ct = default)
    {
        var extraT = string.IsNullOrWhiteSpace(extra) ? new Template() : ParseTemplate(extra);
        return bus.ExecuteAsync(tx =>
        {
            var tpl = Demand<VNTemplate>(tx, caller, ObjectType.VNTemplate, id, AuthOp.Use);
            var t = tpl.Template.Clone();
            t.Merge(extraT);
            t.Remove("NAME");
            t.Set("TEMPLATE_NAME", tpl.Name);
            t.Set("TEMPLATE_ID", tpl.Id);
            if (!string.IsNullOrEmpty(name)) t.Set("NAME", name);
            var clusters = (tpl.Template.Get("CLUSTER_IDS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.TryParse(s, out var v) ? v : -1).Where(c => c >= 0 && tx.Get<Cluster>(ObjectType.Cluster, c) is not null).Distinct().ToList();
            if (tpl.Template.Get("CLUSTER_IDS") is not { Length: > 0 }) clusters = [DefaultClusterId];
            return CreateVNet(tx, caller, PrepareVNet(t), clusters);
        }, ct);
    }
}
