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
    /// or the default cluster. Address ranges with an external IPAM_MAD are registered with their IPAM first,
    /// as one.vn.allocate does (the AR becomes the IPAM's answer; a refusal is an ALLOCATE fault, nothing is
    /// created and ranges already registered are unregistered). Returns the network's id.
    /// </summary>
    public async Task<int> VNTemplateInstantiateAsync(Caller caller, int id, string name, string extra, CancellationToken ct = default)
    {
        var extraT = string.IsNullOrWhiteSpace(extra) ? new Template() : ParseTemplate(extra);
        Template Merged(VNTemplate tpl)
        {
            var t = tpl.Template.Clone();
            t.Merge(extraT);
            t.Remove("NAME");
            t.Set("TEMPLATE_NAME", tpl.Name);
            t.Set("TEMPLATE_ID", tpl.Id);
            if (!string.IsNullOrEmpty(name)) t.Set("NAME", name);
            return t;
        }
        int Create(StateTransaction tx, VNTemplate tpl, Template t)
        {
            var clusters = (tpl.Template.Get("CLUSTER_IDS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.TryParse(s, out var v) ? v : -1).Where(c => c >= 0 && tx.Get<Cluster>(ObjectType.Cluster, c) is not null).Distinct().ToList();
            if (tpl.Template.Get("CLUSTER_IDS") is not { Length: > 0 }) clusters = [DefaultClusterId];
            return CreateVNet(tx, caller, PrepareVNet(t), clusters);
        }

        // Rights are checked before any IPAM is asked; without an external AR the command runs in one pass.
        var scratch = new StateTransaction(bus.Current, time.GetUtcNow().ToUnixTimeSeconds());
        var seen = Demand<VNTemplate>(scratch, caller, ObjectType.VNTemplate, id, AuthOp.Use);
        var merged = Merged(seen);
        var asked = ArsText(merged);
        if (!merged.Vectors("AR").Any(a => IpamScope.ExternalMad(a) is not null))
        {
            return await bus.ExecuteAsync(tx =>
            {
                var tpl = Demand<VNTemplate>(tx, caller, ObjectType.VNTemplate, id, AuthOp.Use);
                var t = Merged(tpl);
                if (t.Vectors("AR").Any(a => IpamScope.ExternalMad(a) is not null)) throw ChangedFault(); // appeared meanwhile: not registered
                return Create(tx, tpl, t);
            }, ct).ConfigureAwait(false);
        }
        DemandCreate(scratch, caller, ObjectType.VNet);
        var registered = await RegisterTemplateArsAsync(merged, msg => CloudException.Allocate(ObjectType.VNet, msg), ct).ConfigureAwait(false);
        var ars = merged.Vectors("AR").ToList();
        return await UnregisterOnFailureAsync(registered, () => bus.ExecuteAsync(tx =>
        {
            // The template as it is now, with the address ranges its IPAMs registered (they must be the ones asked for).
            var tpl = Demand<VNTemplate>(tx, caller, ObjectType.VNTemplate, id, AuthOp.Use);
            var t = Merged(tpl);
            if (ArsText(t) != asked) throw ChangedFault();
            t.Remove("AR");
            foreach (var ar in ars) t.Add(ar.CloneVector());
            return Create(tx, tpl, t);
        }, ct)).ConfigureAwait(false);

        static string ArsText(Template t) => new Template(t.Vectors("AR").Select(a => a.Clone())).ToText();
        CloudException ChangedFault() => CloudException.Allocate(ObjectType.VNet,
            $"The address ranges of virtual network template {id} changed while the network was being instantiated; try again.");
    }
}
