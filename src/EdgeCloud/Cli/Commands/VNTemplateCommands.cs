using System.CommandLine;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud vntemplate</c>: virtual network templates and instantiating networks from them (OpenNebula's <c>onevntemplate</c>).</summary>
public static class VNTemplateCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "vntemplate",
        Noun = "virtual network template",
        Prefix = "vntemplate",
        PoolMethod = "one.vntemplatepool.info",
        PoolArgs = [-2, -1, -1],
        Element = "VNTEMPLATE",
        TemplateTitle = "TEMPLATE CONTENTS",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("REGTIME", e => Date(L(e, "REGTIME"))),
            new("VN_MAD", e => S(e, "TEMPLATE/VN_MAD")) { Default = false },
        ],
    };

    public static Command Build() => Verbs.Object(Kind, "Virtual network templates: create them and instantiate networks from them",
    [
        Verbs.CreateFromFile(Kind),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Verbs.Delete(Kind),
        Instantiate(),
        Clone(),
        .. Verbs.Locking(Kind),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);

    private static Command Instantiate()
    {
        var template = Verbs.Id(Kind, "VNTEMPLATE");
        var file = new Argument<string?>("FILE") { Description = "Extra template merged into the network's ('-': standard input)", Arity = ArgumentArity.ZeroOrOne };
        var name = Verbs.Text("--name", "Name of the new network", "NAME", "-n");
        return Verbs.Make("instantiate", "Create a virtual network from a template (the extra template overrides its attributes)", [template, file, name], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(template)!).ConfigureAwait(false);
            var extra = c.Get(file) is { } f ? TemplateInput.Read(f) : "";
            Verbs.PrintId(await c.CallIntAsync("one.vntemplate.instantiate", id, c.Get(name) ?? "", extra).ConfigureAwait(false), "VN ID");
        });
    }

    private static Command Clone()
    {
        var template = Verbs.Id(Kind, "VNTEMPLATE");
        var name = new Argument<string>("NAME") { Description = "Name of the copy" };
        return Verbs.Make("clone", "Copy a virtual network template", [template, name], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(template)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.vntemplate.clone", id, c.Get(name)!).ConfigureAwait(false));
        });
    }
}
