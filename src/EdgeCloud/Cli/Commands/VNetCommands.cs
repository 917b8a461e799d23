using System.CommandLine;
using System.Globalization;
using System.Xml.Linq;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud vnet</c>: virtual networks and their address ranges (OpenNebula's <c>onevnet</c>).</summary>
public static class VNetCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "vnet",
        Noun = "virtual network",
        Prefix = "vn",
        PoolMethod = "one.vnpool.info",
        PoolArgs = [-2, -1, -1],
        Element = "VNET",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("CLUSTERS", e => Ids(e, "CLUSTERS")) { Shrink = true },
            new("BRIDGE", e => S(e, "BRIDGE")) { Shrink = true },
            new("STATE", e => Short(S(e, "STATE"))),
            new("LEASES", e => S(e, "USED_LEASES")) { Right = true },
            new("VN_MAD", e => S(e, "VN_MAD")) { Default = false },
            new("PARENT", e => S(e, "PARENT_NETWORK_ID")) { Default = false },
        ],
        Decoders = new Dictionary<string, Func<string, string>>
        {
            ["STATE"] = EnumName<VNetState>,
            ["PREV_STATE"] = EnumName<VNetState>,
        },
        Skip = new HashSet<string> { "AR_POOL" },
        Sections = Sections,
    };

    private static string Short(string state) => EnumName<VNetState>(state) switch
    {
        "INIT" => "init",
        "READY" => "rdy",
        "LOCK_CREATE" or "LOCK_DELETE" => "lock",
        "DONE" => "done",
        "ERROR" => "err",
        "UPDATE_FAILURE" => "fail",
        var other => other,
    };

    private static IEnumerable<ShowSection> Sections(XElement e)
    {
        var ars = e.Element("AR_POOL")?.Elements("AR").ToList() ?? [];
        if (ars.Count == 0) yield break;
        yield return new ShowSection("ADDRESS RANGES")
        {
            TableHeader = ["AR", "TYPE", "SIZE", "USED", "IP", "MAC"],
            TableRows = ars.Select(a => (IReadOnlyList<string>)
                [S(a, "AR_ID"), S(a, "TYPE"), S(a, "SIZE"), S(a, "USED_LEASES"), S(a, "IP"), S(a, "MAC")]).ToList(),
        };
    }

    public static Command Build() => Verbs.Object(Kind, "Virtual networks: address ranges, leases and reservations",
    [
        Verbs.CreateFromFile(Kind, ClusterCommands.Kind),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        AddAr(),
        RmAr(),
        UpdateAr(),
        Lease("hold", "Hold an address (no VM will get it)"),
        Lease("release", "Release a held address"),
        Reserve(),
        .. Verbs.Locking(Kind),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);

    private static Command AddAr()
    {
        var vnet = Verbs.Id(Kind, "VNET");
        var ip = Verbs.Text("--ip", "First IPv4 address", "IP");
        var size = Verbs.Text("--size", "Number of addresses", "N", "-s");
        var mac = Verbs.Text("--mac", "First MAC address", "MAC");
        var ip6 = Verbs.Text("--ip6", "First IPv6 address (static IPv6 ranges)", "IP6");
        var prefix = Verbs.Text("--prefix-length", "IPv6 prefix length (with --ip6)", "N");
        var file = Verbs.Text("--file", "A file with the AR attribute instead", "FILE");
        return Verbs.Make("addar", "Add an address range to a virtual network", [vnet, ip, size, mac, ip6, prefix, file], async c =>
        {
            string text;
            if (c.Get(file) is { } f)
            {
                text = TemplateInput.Read(f);
            }
            else
            {
                if (c.Get(size) is not { } n || !int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
                    throw new CliException("give --size N (a positive number of addresses), or --file FILE");
                var type = (c.Get(ip), c.Get(ip6)) switch
                {
                    (not null, not null) => "IP4_6_STATIC",
                    (not null, null) => "IP4",
                    (null, not null) => "IP6_STATIC",
                    _ => "ETHER",
                };
                var attrs = new List<(string, string)> { ("TYPE", type), ("SIZE", n) };
                if (c.Get(ip) is { } a) attrs.Add(("IP", a));
                if (c.Get(mac) is { } m) attrs.Add(("MAC", m));
                if (c.Get(ip6) is { } a6) attrs.Add(("IP6", a6));
                if (c.Get(prefix) is { } p) attrs.Add(("PREFIX_LENGTH", p));
                text = TemplateInput.Vector("AR", attrs);
            }
            var id = await c.ResolveAsync(Kind, c.Get(vnet)!).ConfigureAwait(false);
            await c.CallAsync("one.vn.add_ar", id, text).ConfigureAwait(false);
        });
    }

    private static Command RmAr()
    {
        var vnet = Verbs.Id(Kind, "VNET");
        var ar = new Argument<int>("AR_ID") { Description = "The address range's id (see vnet show)" };
        var force = Verbs.Flag("--force", "Remove it even if addresses are in use");
        return Verbs.Make("rmar", "Remove an address range from a virtual network", [vnet, ar, force], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(vnet)!).ConfigureAwait(false);
            await c.CallAsync("one.vn.rm_ar", id, c.Get(ar), c.Get(force)).ConfigureAwait(false);
        });
    }

    private static Command UpdateAr()
    {
        var vnet = Verbs.Id(Kind, "VNET");
        var file = new Argument<string?>("FILE") { Description = "File with AR = [ AR_ID = n, ... ] ('-' or none: standard input)", Arity = ArgumentArity.ZeroOrOne };
        return Verbs.Make("updatear", "Update the attributes of an address range", [vnet, file], async c =>
        {
            var text = Verbs.ReadTemplateArgument(c.Get(file));
            var id = await c.ResolveAsync(Kind, c.Get(vnet)!).ConfigureAwait(false);
            await c.CallAsync("one.vn.update_ar", id, text).ConfigureAwait(false);
        });
    }

    /// <summary><c>hold</c>/<c>release</c>: <c>LEASES = [ IP = a ]</c> as OpenNebula's CLI sends.</summary>
    private static Command Lease(string verb, string description)
    {
        var vnet = Verbs.Id(Kind, "VNET");
        var address = new Argument<string>("ADDRESS") { Description = "IPv4 or MAC address" };
        var ar = new Option<int?>("--ar-id", "-a") { Description = "Address range to look in", HelpName = "AR_ID" };
        return Verbs.Make(verb, description, [vnet, address, ar], async c =>
        {
            var a = c.Get(address)!;
            var attrs = new List<(string, string)> { (a.Contains(':', StringComparison.Ordinal) ? "MAC" : "IP", a) };
            if (c.Get(ar) is { } arId) attrs.Add(("AR_ID", arId.ToString(CultureInfo.InvariantCulture)));
            var id = await c.ResolveAsync(Kind, c.Get(vnet)!).ConfigureAwait(false);
            await c.CallAsync($"one.vn.{verb}", id, TemplateInput.Vector("LEASES", attrs)).ConfigureAwait(false);
        });
    }

    private static Command Reserve()
    {
        var vnet = Verbs.Id(Kind, "VNET");
        var name = Verbs.Text("--name", "Name of the new reservation network", "NAME", "-n");
        var size = Verbs.Text("--size", "Number of addresses to reserve", "N", "-s");
        var ar = Verbs.Text("--ar-id", "Address range to reserve from", "AR_ID", "-a");
        var ip = Verbs.Text("--ip", "First address to reserve", "IP");
        var mac = Verbs.Text("--mac", "First MAC to reserve", "MAC");
        var into = Verbs.Text("--into", "Add to this existing reservation instead of creating one", "VNET");
        size.Required = true;
        return Verbs.Make("reserve", "Reserve addresses of a network as a new (or existing) reservation network", [vnet, name, size, ar, ip, mac, into], async c =>
        {
            var lines = new List<string> { "SIZE=" + TemplateInput.Quote(c.Get(size)!) };
            if (c.Get(name) is { } n) lines.Add("NAME=" + TemplateInput.Quote(n));
            if (c.Get(ar) is { } a) lines.Add("AR_ID=" + TemplateInput.Quote(a));
            if (c.Get(ip) is { } i) lines.Add("IP=" + TemplateInput.Quote(i));
            if (c.Get(mac) is { } m) lines.Add("MAC=" + TemplateInput.Quote(m));
            if (c.Get(into) is { } target)
                lines.Add("NETWORK_ID=" + (await c.ResolveAsync(Kind, target).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture));
            else if (c.Get(name) is null) throw new CliException("give --name for the new reservation (or --into an existing one)");
            var id = await c.ResolveAsync(Kind, c.Get(vnet)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.vn.reserve", id, TemplateInput.Join(lines)).ConfigureAwait(false));
        });
    }
}
