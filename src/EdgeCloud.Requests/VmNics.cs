using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCloud.Core.Templates;

namespace EdgeCloud.Requests;

/// <summary>
/// OpenNebula's NIC naming and NIC_ALIAS model. Every NIC has a NAME (default <c>NIC&lt;NIC_ID&gt;</c>);
/// a NIC_ALIAS names its parent with PARENT = that NAME and gets NIC_ID (from the VM's NIC ids),
/// PARENT_ID, ALIAS_ID and NAME <c>NIC&lt;PARENT_ID&gt;_ALIAS&lt;NIC_ID&gt;</c>; the parent lists its
/// aliases' NIC_IDs in ALIAS_IDS. An alias is an extra address on the parent's interface: it has its
/// own lease (any network) but no interface (no TARGET) of its own.
/// </summary>
internal static partial class VmNics
{
    [GeneratedRegex("^NIC[0-9]+(_ALIAS[0-9]+)?$")]
    private static partial Regex InternalName();

    /// <summary>NETWORK_MODE = auto: the network is chosen when the VM is placed.</summary>
    public static bool IsAuto(VectorAttribute nic) => (nic["NETWORK_MODE"] ?? "").Equals("auto", StringComparison.OrdinalIgnoreCase);

    /// <summary>As oned: a given NAME that looks like an internal one is prefixed with "_"; no NAME becomes NIC&lt;id&gt;.</summary>
    public static void SetName(VectorAttribute nic)
    {
        if (nic["NAME"] is { Length: > 0 } name)
        {
            if (InternalName().IsMatch(name)) nic.Set("NAME", "_" + name);
            return;
        }
        nic.Set("NAME", "NIC" + nic["NIC_ID"]);
    }

    /// <summary>An auto NIC of a new VM: only its id and name until the VM is placed.</summary>
    public static VectorAttribute AutoNic(VectorAttribute n, int nicId)
    {
        var nic = n.CloneVector();
        nic.Set("NIC_ID", nicId);
        nic.Set("NETWORK_MODE", "auto");
        SetName(nic);
        return nic;
    }

    /// <summary>The NIC (not an alias) whose NAME is the alias's PARENT.</summary>
    public static VectorAttribute? ParentOf(IEnumerable<VectorAttribute> nics, VectorAttribute alias) =>
        alias["PARENT"] is { Length: > 0 } parent ? nics.FirstOrDefault(n => n.Name == "NIC" && n["NAME"] == parent) : null;

    /// <summary>
    /// The alias request with PARENT_ID and ALIAS_ID set (the lease fills in the rest): ALIAS_ID counts a
    /// parent's aliases from 0 at creation; on attach oned uses 0 for a parent's first alias and else
    /// the VM's highest ALIAS_ID + 1.
    /// </summary>
    public static VectorAttribute AliasRequest(VectorAttribute alias, VectorAttribute parent, IEnumerable<VectorAttribute> all, bool attaching = false)
    {
        var a = alias.CloneVector();
        var aliases = all.Where(x => x.Name == "NIC_ALIAS").ToList();
        var parentId = parent["NIC_ID"];
        int aliasId;
        if (!attaching) aliasId = aliases.Count(x => x["PARENT_ID"] == parentId);
        else aliasId = string.IsNullOrEmpty(parent["ALIAS_IDS"]) ? 0 : aliases.Select(x => x.GetInt("ALIAS_ID") ?? -1).DefaultIfEmpty(-1).Max() + 1;
        a.Set("PARENT_ID", parentId ?? "");
        a.Set("ALIAS_ID", aliasId);
        return a;
    }

    /// <summary>Names a leased alias and adds its NIC_ID to the parent's ALIAS_IDS.</summary>
    public static void LinkAlias(VectorAttribute parent, VectorAttribute alias)
    {
        if (alias["NAME"] is { Length: > 0 } name) { if (InternalName().IsMatch(name)) alias.Set("NAME", "_" + name); }
        else alias.Set("NAME", $"NIC{alias["PARENT_ID"]}_ALIAS{alias["NIC_ID"]}");
        var ids = AliasIds(parent).Append(alias.GetInt("NIC_ID") ?? -1);
        parent.Set("ALIAS_IDS", string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture))));
    }

    /// <summary>Takes an alias's NIC_ID out of its parent's ALIAS_IDS (the attribute goes when none is left).</summary>
    public static void UnlinkAlias(VectorAttribute parent, int aliasNicId)
    {
        var ids = AliasIds(parent).Where(i => i != aliasNicId).ToList();
        if (ids.Count == 0) parent.Remove("ALIAS_IDS");
        else parent.Set("ALIAS_IDS", string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture))));
    }

    public static IEnumerable<int> AliasIds(VectorAttribute parent) =>
        (parent["ALIAS_IDS"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : -1).Where(i => i >= 0);
}
