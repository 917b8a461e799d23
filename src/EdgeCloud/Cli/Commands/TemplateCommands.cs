using System.CommandLine;
using System.Globalization;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud template</c>: VM templates and instantiating them (OpenNebula's <c>onetemplate</c>).</summary>
public static class TemplateCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "template",
        Noun = "template",
        Prefix = "template",
        PoolMethod = "one.templatepool.info",
        PoolArgs = [-2, -1, -1],
        Element = "VMTEMPLATE",
        InfoExtra = [false, false],
        TemplateTitle = "TEMPLATE CONTENTS",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("REGTIME", e => Date(L(e, "REGTIME"))),
            new("CPU", e => S(e, "TEMPLATE/CPU")) { Right = true, Default = false },
            new("MEM", e => Mb(D(e, "TEMPLATE/MEMORY"))) { Right = true, Default = false },
        ],
    };

    public static Command Build() => Verbs.Object(Kind, "VM templates: create them and instantiate VMs from them",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Delete(),
        Instantiate(),
        Clone(),
        .. Verbs.Locking(Kind),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind, false),
    ]);

    private static Command Create()
    {
        var file = new Argument<string?>("FILE") { Description = "Template file ('-': standard input); or use the flags", Arity = ArgumentArity.ZeroOrOne };
        var flags = new VmTemplateFlags("Name of the template");
        return Verbs.Make("create", "Create a template from a file or from flags (--name web --cpu 1 --memory 512 --disk IMAGE --nic VNET)",
            [file, .. flags.Symbols], async c =>
            {
                var text = "";
                if (c.Get(file) is { } f) text = TemplateInput.Read(f);
                else if (!flags.Any(c) && c.Get(flags.NameOption) is null)
                    throw new CliException("give a template file or flags such as --name web --cpu 1 --memory 512 --disk IMAGE --nic VNET");
                if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
                text += await flags.BuildAsync(c, withName: true).ConfigureAwait(false);
                Verbs.PrintId(await c.CallIntAsync("one.template.allocate", text).ConfigureAwait(false));
            });
    }

    private static Command Delete()
    {
        var recursive = Verbs.Flag("--recursive", "Also delete the images the template uses");
        return Verbs.ForEach(Kind, "delete", "Delete templates", [recursive], (c, id) => c.CallAsync("one.template.delete", id, c.Get(recursive)));
    }

    private static Command Instantiate()
    {
        var template = Verbs.Id(Kind, "TEMPLATE");
        var flags = new VmTemplateFlags("Name of the VM (%i is replaced by the VM's number with --multiple)");
        var hold = Verbs.Flag("--hold", "Create the VMs on hold");
        var multiple = new Option<int>("--multiple", "-m") { Description = "How many VMs to create", DefaultValueFactory = _ => 1, HelpName = "N" };
        var persistent = Verbs.Flag("--persistent", "Give each VM its own persistent copy of the template and images");
        var wait = new VmWait();
        return Verbs.Make("instantiate", "Create VMs from a template (flags override the template's attributes)",
            [template, .. flags.Symbols, hold, multiple, persistent, .. wait.Symbols], async c =>
            {
                wait.Check(c);
                var count = c.Get(multiple);
                if (count < 1) throw new CliException("--multiple must be at least 1");
                var id = await c.ResolveAsync(Kind, c.Get(template)!).ConfigureAwait(false);
                await c.InfoAsync(Kind, id).ConfigureAwait(false);
                var overrides = await flags.BuildAsync(c, withName: false).ConfigureAwait(false);
                var ids = new List<int>();
                for (var i = 0; i < count; i++)
                {
                    var name = c.Get(flags.NameOption)?.Replace("%i", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) ?? "";
                    var extra = (name.Length > 0 ? "NAME=" + TemplateInput.Quote(name) + "\n" : "") + overrides;
                    var vm = await c.CallIntAsync("one.template.instantiate", id, name, c.Get(hold), extra, c.Get(persistent)).ConfigureAwait(false);
                    Verbs.PrintId(vm, "VM ID");
                    ids.Add(vm);
                }
                await wait.RunAsync(c, ids).ConfigureAwait(false);
            });
    }

    private static Command Clone()
    {
        var template = Verbs.Id(Kind, "TEMPLATE");
        var name = new Argument<string>("NAME") { Description = "Name of the copy" };
        var recursive = Verbs.Flag("--recursive", "Also copy the template's images");
        return Verbs.Make("clone", "Copy a template", [template, name, recursive], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(template)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.template.clone", id, c.Get(name)!, c.Get(recursive)).ConfigureAwait(false));
        });
    }
}
