using System.Text;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

/// <summary>
/// Marketplaces and their apps (one.market.*, one.marketapp.*). MARKET_MAD "http" is a catalogue
/// (catalogue.json) at ENDPOINT, listed as apps by the front-end's marketplace driver; with a
/// PUBLIC_DIR (a folder the front-end writes and `edgecloud market serve` publishes) images can be
/// exported into it. Importing an app is one.image.allocate with FROM_APP (as OpenNebula's
/// `onemarketapp export`): the image downloads from the app's SOURCE, checked by its checksums.
/// </summary>
public sealed partial class Cloud
{
    public static readonly string[] MarketDrivers = ["http"];

    public Task<int> MarketAllocateAsync(Caller caller, string text, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        var name = t.Get("NAME") ?? throw CloudException.Allocate(ObjectType.Market, "No NAME in template.");
        ValidateName(ObjectType.Market, name);
        var mad = t.Get("MARKET_MAD") ?? throw CloudException.Allocate(ObjectType.Market, "No MARKET_MAD in template.");
        if (!MarketDrivers.Contains(mad))
            throw CloudException.Allocate(ObjectType.Market, $"Unknown MARKET_MAD \"{mad}\"; this front-end has: {string.Join(", ", MarketDrivers)}.");
        var endpoint = t.Get("ENDPOINT") ?? "";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw CloudException.Allocate(ObjectType.Market, $"An http marketplace needs ENDPOINT, the http(s) URL of its catalogue (got \"{endpoint}\").");
        if (t.Get("PUBLIC_DIR") is { Length: > 0 } dir && !System.IO.Path.IsPathRooted(dir))
            throw CloudException.Allocate(ObjectType.Market, $"PUBLIC_DIR must be an absolute path (got \"{dir}\").");
        t.Remove("NAME");
        return bus.ExecuteAsync(tx =>
        {
            DemandCreate(tx, caller, ObjectType.Market);
            CheckNameFreeForAllocate(tx, ObjectType.Market, name, caller.Uid);
            var id = tx.NextId(ObjectType.Market);
            tx.Put(Stamp(new Market { Id = id, Name = name, MarketMad = mad, Template = t, State = MarketState.ENABLED }, tx, caller));
            tx.Raise(new MarketChanged(id));
            return id;
        }, ct);
    }

    /// <summary>Deletes a marketplace with the apps listed from its catalogue; refused while it holds exported apps.</summary>
    public Task<int> MarketDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var m = Demand<Market>(tx, caller, ObjectType.Market, id, AuthOp.Admin);
            var apps = m.Apps.Select(a => tx.Get<MarketApp>(ObjectType.MarketApp, a)).OfType<MarketApp>().ToList();
            var exported = apps.Where(a => !a.FromCatalogue).Select(a => a.Id).ToList();
            if (exported.Count > 0)
                throw CloudException.Action($"Cannot delete marketplace {id}: it has exported apps ({string.Join(",", exported)}); delete them first.", id);
            foreach (var a in apps) tx.Delete(ObjectType.MarketApp, a.Id);
            tx.Delete(ObjectType.Market, id);
            return id;
        }, ct);

    public Task<int> MarketEnableAsync(Caller caller, int id, bool enable, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var m = Demand<Market>(tx, caller, ObjectType.Market, id, AuthOp.Admin);
            var state = enable ? MarketState.ENABLED : MarketState.DISABLED;
            if (m.State != state)
            {
                tx.Put(m with { State = state });
                if (enable) tx.Raise(new MarketChanged(id));
            }
            return id;
        }, ct);

    /// <summary>
    /// one.marketapp.allocate: exports image ORIGIN_ID into the marketplace (it must have a PUBLIC_DIR).
    /// The app is LOCKED until the marketplace driver has copied the image, then READY (or ERROR).
    /// </summary>
    public Task<int> MarketAppAllocateAsync(Caller caller, string text, int marketId, CancellationToken ct = default)
    {
        var t = ParseTemplate(text);
        var name = t.Get("NAME") ?? throw CloudException.Allocate(ObjectType.MarketApp, "No NAME in template.");
        ValidateName(ObjectType.MarketApp, name);
        if (!t.TryGetLong("ORIGIN_ID", out var origin) || origin < 0)
            throw CloudException.Allocate(ObjectType.MarketApp, "No ORIGIN_ID in template: give the id of the image to export.");
        var type = (t.Get("TYPE") ?? "IMAGE").ToUpperInvariant();
        if (type != "IMAGE") throw CloudException.Allocate(ObjectType.MarketApp, $"Only IMAGE apps can be created (TYPE {type}).");
        t.Remove("NAME");
        return bus.ExecuteAsync(tx =>
        {
            var market = Demand<Market>(tx, caller, ObjectType.Market, marketId, AuthOp.Use);
            if (market.State != MarketState.ENABLED) throw CloudException.Allocate(ObjectType.MarketApp, $"Marketplace {marketId} is disabled.");
            if (market.Template.Get("PUBLIC_DIR") is not { Length: > 0 })
                throw CloudException.Allocate(ObjectType.MarketApp, $"Marketplace {marketId} has no PUBLIC_DIR: images can only be exported to a private marketplace.");
            DemandCreate(tx, caller, ObjectType.MarketApp);
            var image = Demand<Image>(tx, caller, ObjectType.Image, (int)origin, AuthOp.Use, checkLock: false);
            if (image.State is not (ImageState.READY or ImageState.USED or ImageState.USED_PERS))
                throw CloudException.Allocate(ObjectType.MarketApp, $"Image {image.Id} is {image.State}; only READY or USED images can be exported.");
            if (market.Apps.Select(a => tx.Get<MarketApp>(ObjectType.MarketApp, a)).Any(a => a?.Name == name))
                throw CloudException.Allocate(ObjectType.MarketApp, $"Marketplace {marketId} already has an app named \"{name}\".");
            var id = tx.NextId(ObjectType.MarketApp);
            var appTemplate = t.Get("APPTEMPLATE64") ?? Convert.ToBase64String(Encoding.UTF8.GetBytes(
                $"TYPE = \"{image.ImageType}\"\n" + (image.Template.Get("DEV_PREFIX") is { } dp ? $"DEV_PREFIX = \"{dp}\"\n" : "")));
            var app = Stamp(new MarketApp
            {
                Id = id, Name = name, Template = t, RegTime = tx.Now, OriginId = image.Id, MarketId = market.Id, MarketName = market.Name,
                State = MarketAppState.LOCKED, AppType = MarketAppType.IMAGE, Description = t.Get("DESCRIPTION") ?? "",
                Version = t.Get("VERSION") ?? "", Format = image.Format, Size = image.Size, AppTemplate64 = appTemplate,
            }, tx, caller);
            tx.Put(app);
            tx.Put(market with { Apps = market.Apps.Add(id) });
            var imageNow = Require<Image>(tx, ObjectType.Image, image.Id);
            tx.Put(imageNow with { AppClones = imageNow.AppClones.Add(id) });
            tx.Raise(new MarketAppExportRequested(id));
            return id;
        }, ct);
    }

    /// <summary>The marketplace driver finished an export: READY with where the image is, or ERROR with why.</summary>
    public Task MarketAppExportedAsync(int id, bool ok, string source, string md5, string sha256, long sizeMb, string format, string error, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<MarketApp>(ObjectType.MarketApp, id) is not { State: MarketAppState.LOCKED } app) return;
            var t = app.Template.Clone();
            if (!ok)
            {
                t.Set("ERROR", error);
                tx.Put(app with { State = MarketAppState.ERROR, Template = t });
                return;
            }
            t.Remove("ERROR");
            if (sha256.Length > 0) t.Set("SHA256", sha256);
            tx.Put(app with { State = MarketAppState.READY, Source = source, Md5 = md5, Size = sizeMb, Format = format, Template = t });
            if (tx.Get<Image>(ObjectType.Image, app.OriginId) is { } image) tx.Put(image with { AppClones = image.AppClones.Remove(id) });
        }, ct);

    public Task<int> MarketAppDeleteAsync(Caller caller, int id, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var app = Demand<MarketApp>(tx, caller, ObjectType.MarketApp, id, AuthOp.Manage);
            if (tx.Get<Market>(ObjectType.Market, app.MarketId) is { } m) tx.Put(m with { Apps = m.Apps.Remove(id) });
            if (tx.Get<Image>(ObjectType.Image, app.OriginId) is { } image && image.AppClones.Contains(id)) tx.Put(image with { AppClones = image.AppClones.Remove(id) });
            tx.Delete(ObjectType.MarketApp, id);
            if (!app.FromCatalogue) tx.Raise(new MarketAppDeleted(id, app.MarketId, app.Name));
            return id;
        }, ct);

    public Task<int> MarketAppEnableAsync(Caller caller, int id, bool enable, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            var app = Demand<MarketApp>(tx, caller, ObjectType.MarketApp, id, AuthOp.Manage);
            if (enable && app.State == MarketAppState.DISABLED) tx.Put(app with { State = MarketAppState.READY });
            else if (!enable && app.State == MarketAppState.READY) tx.Put(app with { State = MarketAppState.DISABLED });
            else if (app.State != (enable ? MarketAppState.READY : MarketAppState.DISABLED))
                throw CloudException.Action($"Marketplace app {id} cannot be {(enable ? "enabled" : "disabled")} in state {app.State}.", id);
            return id;
        }, ct);

    /// <summary>
    /// The marketplace driver read the catalogue: apps it lists are created or brought up to date (owned by
    /// oneadmin; everyone may USE them through the default ACL), catalogue apps it no longer lists are
    /// removed. A failed read only records the error in the marketplace's TEMPLATE/ERROR.
    /// </summary>
    public Task MarketCatalogueReadAsync(int marketId, IReadOnlyList<CatalogueApp>? apps, string error, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<Market>(ObjectType.Market, marketId) is not { } market) return;
            if (apps is null)
            {
                if (market.Template.Get("ERROR") != error)
                {
                    var et = market.Template.Clone();
                    et.Set("ERROR", error);
                    tx.Put(market with { Template = et });
                }
                return;
            }
            var current = market.Apps.Select(a => tx.Get<MarketApp>(ObjectType.MarketApp, a)).OfType<MarketApp>().ToDictionary(a => a.Name);
            var ids = market.Apps;
            var listed = new HashSet<string>();
            foreach (var c in apps)
            {
                listed.Add(c.Name);
                var appTemplate = Convert.ToBase64String(Encoding.UTF8.GetBytes(c.ImageTemplate));
                var size = (c.Size + (1 << 20) - 1) >> 20;
                if (current.TryGetValue(c.Name, out var existing))
                {
                    if (!existing.FromCatalogue) continue; // an export of ours, now listed: it is already described
                    if (existing.Source == c.Url && existing.Template.Get("SHA256") == c.Sha256 && existing.Version == c.Version
                        && existing.Description == c.Description && existing.Md5 == c.Md5 && existing.Size == size && existing.Format == c.Format
                        && existing.AppTemplate64 == appTemplate && (existing.Template.Get("VMTEMPLATE64") ?? "") == Vm64(c)) continue;
                    tx.Put(existing with
                    {
                        Source = c.Url, Md5 = c.Md5, Size = size, Format = c.Format, Version = c.Version, Description = c.Description,
                        AppTemplate64 = appTemplate, Template = CatalogueTemplate(c),
                    });
                    continue;
                }
                var id = tx.NextId(ObjectType.MarketApp);
                var owner = tx.Get<User>(ObjectType.User, 0);
                tx.Put(new MarketApp
                {
                    Id = id, Name = c.Name, Uid = 0, Gid = 0, Uname = owner?.Name ?? "oneadmin", Gname = "oneadmin",
                    Permissions = Permissions.FromUmask(settings.DefaultUmask), RegTime = tx.Now, MarketId = market.Id, MarketName = market.Name,
                    Source = c.Url, Md5 = c.Md5, Size = size, Format = c.Format, Version = c.Version, Description = c.Description,
                    AppTemplate64 = appTemplate, Template = CatalogueTemplate(c), State = MarketAppState.READY, AppType = MarketAppType.IMAGE,
                    FromCatalogue = true,
                });
                ids = ids.Add(id);
            }
            foreach (var gone in current.Values.Where(a => a.FromCatalogue && !listed.Contains(a.Name)))
            {
                tx.Delete(ObjectType.MarketApp, gone.Id);
                ids = ids.Remove(gone.Id);
            }
            var t = market.Template;
            if (t.Get("ERROR") is not null)
            {
                t = t.Clone();
                t.Remove("ERROR");
            }
            if (ids != market.Apps || !ReferenceEquals(t, market.Template)) tx.Put(market with { Apps = ids, Template = t });
        }, ct);

    private static string Vm64(CatalogueApp c) => c.VmTemplate.Length > 0 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(c.VmTemplate)) : "";

    private static Template CatalogueTemplate(CatalogueApp c)
    {
        var t = new Template();
        if (c.Sha256.Length > 0) t.Set("SHA256", c.Sha256);
        if (Vm64(c) is { Length: > 0 } vm) t.Set("VMTEMPLATE64", vm);
        t.Set("IMPORTED", "YES");
        return t;
    }

    /// <summary>
    /// one.image.allocate with FROM_APP = app id (what `onemarketapp export` sends): the image takes the app's
    /// SOURCE as PATH, its FORMAT, MD5 and SHA256 (checked after the download) and the attributes of its
    /// APPTEMPLATE64 that the request does not set. The caller needs USE on the app; it must be READY.
    /// </summary>
    private void ApplyFromApp(Caller caller, Template t)
    {
        if (t.Get("FROM_APP") is not { } fromApp) return;
        if (!int.TryParse(fromApp, out var appId)) throw CloudException.Allocate(ObjectType.Image, $"FROM_APP must be a marketplace app id (got \"{fromApp}\").");
        var s = bus.Current;
        var app = s.Get<MarketApp>(ObjectType.MarketApp, appId) ?? throw CloudException.NotFound(ObjectType.MarketApp, appId);
        Authorizer.Demand(caller, app, AuthOp.Use, Acls(s));
        if (app.State != MarketAppState.READY) throw CloudException.Allocate(ObjectType.Image, $"Marketplace app {appId} is {app.State}, not READY.");
        if (app.AppType != MarketAppType.IMAGE) throw CloudException.Allocate(ObjectType.Image, $"Marketplace app {appId} is not an image.");
        if (app.AppTemplate64.Length > 0)
        {
            Template fromTemplate;
            try { fromTemplate = Template.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(app.AppTemplate64))); }
            catch (Exception ex) when (ex is FormatException or TemplateParseException) { fromTemplate = new Template(); }
            foreach (var a in fromTemplate.Attributes)
                if (!t.Contains(a.Name)) t.Add(a.Clone());
        }
        t.Set("PATH", app.Source);
        if (app.Format.Length > 0 && t.Get("FORMAT") is null) t.Set("FORMAT", app.Format);
        if (app.Md5.Length > 0) t.Set("MD5", app.Md5);
        if (app.Template.Get("SHA256") is { Length: > 0 } sha) t.Set("SHA256", sha);
        t.Set("FROM_APP_NAME", app.Name);
    }
}

/// <summary>A marketplace was created or enabled: its driver reads the catalogue now.</summary>
public sealed record MarketChanged(int MarketId);

/// <summary>An image export into a marketplace was asked for.</summary>
public sealed record MarketAppExportRequested(int AppId);

/// <summary>An exported app was deleted: the driver removes it from the marketplace's folder and catalogue.</summary>
public sealed record MarketAppDeleted(int AppId, int MarketId, string Name);
