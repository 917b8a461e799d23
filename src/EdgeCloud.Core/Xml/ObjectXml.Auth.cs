using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>
    /// USER (user.xsd). one.user.info carries the user's quotas and the DEFAULT_USER_QUOTAS block inside
    /// USER; the pool lists USER without quotas followed by a QUOTAS element (user_pool.xsd), which is
    /// what oned's pool dump does (it joins the user and quota tables).
    /// </summary>
    private static void WriteUser(OneXmlWriter w, User u, RenderContext ctx, RenderMode mode)
    {
        w.Start("USER");
        w.Element("ID", u.Id);
        w.Element("GID", u.Gid);
        w.Start("GROUPS");
        if (u.Groups.Count == 0) w.Element("ID", u.Gid); // user.xsd requires at least one: the primary group
        else
            foreach (var g in u.Groups) w.Element("ID", g);
        w.End("GROUPS");
        w.Element("GNAME", u.Gname);
        w.Element("NAME", u.Name);
        w.Element("PASSWORD", u.Password);
        w.Element("AUTH_DRIVER", u.AuthDriver);
        w.Element("ENABLED", u.Enabled);
        foreach (var t in u.LoginTokens)
        {
            w.Start("LOGIN_TOKEN");
            w.Element("TOKEN", t.Token);
            w.Element("EXPIRATION_TIME", t.ExpirationTime);
            w.Element("EGID", t.Egid);
            w.End("LOGIN_TOKEN");
        }
        TemplateXml.Write(w, u.Template);
        if (mode == RenderMode.Full)
        {
            WriteQuotas(w, u.Quotas);
            WriteDefaultQuotas(w, "DEFAULT_USER_QUOTAS", ctx.DefaultUserQuotas);
        }
        w.End("USER");
        if (mode == RenderMode.PoolEntry) WritePoolQuotas(w, u.Id, u.Quotas);
    }

    /// <summary>
    /// GROUP (group.xsd): quotas, VLAN_RULES and DEFAULT_GROUP_QUOTAS in one.group.info; the pool lists
    /// GROUP without them followed by a QUOTAS element (group_pool.xsd).
    /// </summary>
    private static void WriteGroup(OneXmlWriter w, Group g, RenderContext ctx, RenderMode mode)
    {
        w.Start("GROUP");
        w.Element("ID", g.Id);
        w.Element("NAME", g.Name);
        TemplateXml.Write(w, g.Template);
        WriteIds(w, "USERS", g.Users);
        WriteIds(w, "ADMINS", g.Admins);
        if (mode == RenderMode.Full)
        {
            WriteQuotas(w, g.Quotas);
            // group.xsd (7.5) requires VLAN_RULES; its ID is the owning group's, like QUOTAS/ID. The model has
            // no VLAN rules yet, so the element holds the id only.
            w.Start("VLAN_RULES");
            w.Element("ID", g.Id);
            w.End("VLAN_RULES");
            WriteDefaultQuotas(w, "DEFAULT_GROUP_QUOTAS", ctx.DefaultGroupQuotas);
        }
        w.End("GROUP");
        if (mode == RenderMode.PoolEntry) WritePoolQuotas(w, g.Id, g.Quotas);
    }

    /// <summary>ACL (acl_pool.xsd): the four numbers as upper-case hex without prefix, then the text form.</summary>
    private static void WriteAcl(OneXmlWriter w, AclRule a)
    {
        w.Start("ACL");
        w.Element("ID", a.Id);
        w.ElementHex("USER", a.User);
        w.ElementHex("RESOURCE", a.Resource);
        w.ElementHex("RIGHTS", a.Rights);
        w.ElementHex("ZONE", a.Zone);
        w.Element("STRING", AclText.ToText(a));
        w.End("ACL");
    }

    /// <summary>
    /// ZONE (zone.xsd). one.zone.info adds each server's Raft state when the context knows it
    /// (<see cref="RenderContext.ZoneServers"/>); ZONE_POOL lists servers with ENDPOINT, ID, NAME only.
    /// </summary>
    private static void WriteZone(OneXmlWriter w, Zone z, RenderContext ctx, RenderMode mode)
    {
        w.Start("ZONE");
        w.Element("ID", z.Id);
        w.Element("NAME", z.Name);
        w.Element("STATE", z.State);
        TemplateXml.Write(w, z.Template);
        if (z.Servers.Count == 0)
        {
            w.Empty("SERVER_POOL");
        }
        else
        {
            w.Start("SERVER_POOL");
            foreach (var s in z.Servers)
            {
                w.Start("SERVER");
                w.Element("ENDPOINT", s.Endpoint);
                w.Element("ID", s.Id);
                w.Element("NAME", s.Name);
                if (mode == RenderMode.Full && ctx.ZoneServers.TryGetValue(s.Id, out var raft))
                {
                    w.Element("STATE", raft.State);
                    w.Element("TERM", raft.Term);
                    w.Element("VOTEDFOR", raft.VotedFor);
                    w.Element("COMMIT", raft.Commit);
                    w.Element("LOG_INDEX", raft.LogIndex);
                    w.Element("FEDLOG_INDEX", raft.FedlogIndex);
                }
                w.End("SERVER");
            }
            w.End("SERVER_POOL");
        }
        w.End("ZONE");
    }
}
