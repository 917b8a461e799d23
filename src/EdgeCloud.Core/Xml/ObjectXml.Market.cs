using EdgeCloud.Core.Objects;

namespace EdgeCloud.Core.Xml;

public static partial class ObjectXml
{
    /// <summary>MARKETPLACE (marketplace.xsd).</summary>
    private static void WriteMarket(OneXmlWriter w, Market m)
    {
        w.Start("MARKETPLACE");
        WriteOwnedHead(w, m);
        w.Element("STATE", (int)m.State);
        w.Element("MARKET_MAD", m.MarketMad);
        w.Element("ZONE_ID", m.ZoneId);
        w.Element("TOTAL_MB", m.TotalMb);
        w.Element("FREE_MB", m.FreeMb);
        w.Element("USED_MB", m.UsedMb);
        WriteIds(w, "MARKETPLACEAPPS", m.Apps);
        WritePermissions(w, m.Permissions);
        TemplateXml.Write(w, m.Template);
        w.End("MARKETPLACE");
    }

    /// <summary>MARKETPLACEAPP (marketplaceapp.xsd): LOCK comes after GNAME and before REGTIME in this document.</summary>
    private static void WriteMarketApp(OneXmlWriter w, MarketApp a)
    {
        w.Start("MARKETPLACEAPP");
        w.Element("ID", a.Id);
        w.Element("UID", a.Uid);
        w.Element("GID", a.Gid);
        w.Element("UNAME", a.Uname);
        w.Element("GNAME", a.Gname);
        WriteLock(w, a.Lock);
        w.Element("REGTIME", a.RegTime);
        w.Element("NAME", a.Name);
        w.Element("ZONE_ID", a.ZoneId);
        w.Element("ORIGIN_ID", a.OriginId);
        w.Element("SOURCE", a.Source);
        w.Element("MD5", a.Md5);
        w.Element("SIZE", a.Size);
        w.Element("DESCRIPTION", a.Description);
        w.Element("VERSION", a.Version);
        w.Element("FORMAT", a.Format);
        w.Element("APPTEMPLATE64", a.AppTemplate64);
        w.Element("MARKETPLACE_ID", a.MarketId);
        w.Element("MARKETPLACE", a.MarketName);
        w.Element("STATE", (int)a.State);
        w.Element("TYPE", (int)a.AppType);
        WritePermissions(w, a.Permissions);
        TemplateXml.Write(w, a.Template);
        w.End("MARKETPLACEAPP");
    }
}
