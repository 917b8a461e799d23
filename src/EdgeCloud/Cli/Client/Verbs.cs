using System.CommandLine;
using System.CommandLine.Completions;
using System.Globalization;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// The verbs most objects share (list, show, update, rename, delete, chown, chgrp, chmod, lock, unlock, create from a
/// file), built from the object's <see cref="OneKind"/>, with the arguments OpenNebula's CLI sends.
/// </summary>
public static class Verbs
{
    /// <summary>The object command (<c>edgecloud vm</c>) with the connection options and its verbs.</summary>
    public static Command Object(OneKind kind, string description, params IEnumerable<Command> verbs)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var cmd = new Command(kind.Command, description);
        GlobalOptions.AddTo(cmd);
        foreach (var v in verbs) cmd.Subcommands.Add(v);
        return cmd;
    }

    /// <summary>A verb: its arguments and options, and a body run with error reporting.</summary>
    public static Command Make(string name, string description, IEnumerable<Symbol> symbols, Func<CliContext, Task> body, params string[] aliases)
    {
        var cmd = new Command(name, description);
        foreach (var alias in aliases) cmd.Aliases.Add(alias);
        foreach (var s in symbols)
        {
            switch (s)
            {
                case Option o: cmd.Options.Add(o); break;
                case Argument a: cmd.Arguments.Add(a); break;
                default: throw new ArgumentException($"unexpected symbol {s.Name}", nameof(symbols));
            }
        }
        cmd.SetAction((parse, ct) => CliContext.RunAsync(parse, ct, body));
        return cmd;
    }

    public static Argument<string> Id(OneKind kind, string? name = null, string? description = null)
    {
        var arg = new Argument<string>(name ?? kind.Command.ToUpperInvariant()) { Description = description ?? $"The {kind.Noun}: a name or a numeric id" };
        arg.CompletionSources.Add(ctx => Names(kind, ctx));
        return arg;
    }

    public static Argument<string> Ids(OneKind kind, string? name = null)
    {
        var arg = new Argument<string>(name ?? kind.Command.ToUpperInvariant()) { Description = $"The {kind.Plural}: names or ids, comma separated, ranges like 3..7" };
        arg.CompletionSources.Add(ctx => Names(kind, ctx));
        return arg;
    }

    /// <summary>Shell completion of object names: one pool call with a short timeout; nothing when the cloud is not reachable.</summary>
    private static IEnumerable<CompletionItem> Names(OneKind kind, CompletionContext context)
    {
        // Only for the [suggest] directive: help also asks for completions, and must not call the server.
        if (!kind.ByName || context is not TextCompletionContext) return [];
        try
        {
            using var client = CliContext.CompletionClient(context.ParseResult);
            if (client is null) return [];
            var pool = client.CallXmlAsync(kind.PoolMethod, kind.PoolArgs, CancellationToken.None).GetAwaiter().GetResult().Root;
            return pool?.Elements(kind.Element).Select(e => Fmt.S(e, "NAME")).Where(n => n.Length > 0 && !n.Contains(' ', StringComparison.Ordinal))
                       .Distinct().Order(StringComparer.Ordinal).Select(n => new CompletionItem(n)).ToList() ?? [];
        }
        catch (Exception)
        {
            // Completion is best effort: never an error while the user types.
            return [];
        }
    }

    public static Option<bool> Flag(string name, string description, params string[] aliases)
    {
        var o = new Option<bool>(name, aliases) { Description = description };
        return o;
    }

    public static Option<string?> Text(string name, string description, string? helpName = null, params string[] aliases) =>
        new(name, aliases) { Description = description, HelpName = helpName };

    /// <summary>Prints <c>ID: n</c> (what OpenNebula's create commands print).</summary>
    public static void PrintId(int id, string label = "ID") => CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {id}"));

    public static Command List(OneKind kind, string? description = null)
    {
        var filterFlag = kind.Owned
            ? new Argument<string?>("FILTER")
            {
                Description = "Whose: a (all, default), m (mine), g (mine and my groups'), G (my group's), or a user name or id",
                Arity = ArgumentArity.ZeroOrOne,
            }
            : null;
        var json = Flag("--json", "Print the pool as JSON", "-j");
        var xml = Flag("--xml", "Print the pool as XML", "-x");
        var list = Text("--list", "Columns to show, comma separated (e.g. ID,NAME)", "COL,COL", "-l");
        var filter = new Option<string[]>("--filter", "-f")
        {
            Description = "Keep rows where COL=value (or COL!=value; * matches anything); repeat or comma-separate",
            HelpName = "COL=VALUE",
        };
        var symbols = new List<Symbol> { json, xml, list, filter };
        if (filterFlag is not null) symbols.Insert(0, filterFlag);
        var columnNames = string.Join(",", kind.Columns.Select(c => c.Name));
        return Make("list", description ?? $"List {kind.Plural} (columns: {columnNames})", symbols, async c =>
        {
            object?[]? args = null;
            if (filterFlag is not null && c.Get(filterFlag) is { } who)
            {
                args = [.. kind.PoolArgs];
                args[0] = await FilterFlagAsync(c, who).ConfigureAwait(false);
            }
            var pool = await c.PoolAsync(kind, args).ConfigureAwait(false);
            var filters = c.Get(filter);
            var columns = Table.Select(kind.Columns, c.Get(list));
            var rows = Table.Filter(kind.Columns, pool.Elements(kind.Element), filters).ToList();
            if (c.Get(xml) || c.Get(json))
            {
                if (filters is { Length: > 0 })
                {
                    var keep = rows.ToHashSet();
                    pool = new XElement(pool.Name, pool.Elements().Where(e => e.Name.LocalName != kind.Element || keep.Contains(e)));
                }
                CliContext.Out.WriteLine(c.Get(xml) ? pool.ToString() : XmlJson.Convert(pool, kind.Element));
                return;
            }
            CliContext.Out.Write(Table.Render(columns, rows, Table.Width()));
        });
    }

    /// <summary><c>show</c>; with <paramref name="selfWhenOmitted"/> the argument may be left out for id -1 (the caller or its group).</summary>
    public static Command Show(OneKind kind, bool selfWhenOmitted = false)
    {
        var id = Id(kind);
        if (selfWhenOmitted)
        {
            id.Arity = ArgumentArity.ZeroOrOne;
            id.Description += " (default: your own)";
        }
        var json = Flag("--json", "Print the object as JSON", "-j");
        var xml = Flag("--xml", "Print the object as XML", "-x");
        return Make("show", $"Show a {kind.Noun}", [id, json, xml], async c =>
        {
            var text = c.Get(id);
            var oid = text is null ? -1 : await c.ResolveAsync(kind, text).ConfigureAwait(false);
            var e = await c.InfoAsync(kind, oid).ConfigureAwait(false);
            if (c.Get(xml)) CliContext.Out.WriteLine(e.ToString());
            else if (c.Get(json)) CliContext.Out.WriteLine(XmlJson.Convert(e));
            else CliContext.Out.Write(ShowView.Render(kind, e, Table.Width()));
        });
    }

    /// <summary>Runs <paramref name="act"/> for each object of a list argument (<c>3,5..7,web</c>).</summary>
    public static Command ForEach(OneKind kind, string name, string description, IEnumerable<Symbol> extra, Func<CliContext, int, Task> act, params string[] aliases)
    {
        var ids = Ids(kind);
        return Make(name, description, [ids, .. extra], async c =>
        {
            foreach (var oid in await c.ResolveManyAsync(kind, c.Get(ids)!).ConfigureAwait(false))
                await act(c, oid).ConfigureAwait(false);
        }, aliases);
    }

    /// <summary>A verb on one object that calls <c>one.{prefix}.{method}(id, args...)</c>.</summary>
    public static Command Call(OneKind kind, string name, string description, string method, params object?[] args) =>
        ForEach(kind, name, description, [], (c, id) => c.CallAsync(kind.Method(method), [id, .. args]));

    public static Command Delete(OneKind kind, params object?[] extra) =>
        Call(kind, "delete", $"Delete {kind.Plural}", "delete", extra);

    public static Command Update(OneKind kind, int defaultAppend = 0)
    {
        var id = Id(kind);
        var file = new Argument<string?>("FILE") { Description = "Template file ('-' or none: standard input)", Arity = ArgumentArity.ZeroOrOne };
        var append = Flag("--append", "Merge into the current template instead of replacing it", "-a");
        return Make("update", $"Replace (or with --append merge) the template of a {kind.Noun}", [id, file, append], async c =>
        {
            var oid = await c.ResolveAsync(kind, c.Get(id)!).ConfigureAwait(false);
            var text = ReadTemplateArgument(c.Get(file));
            await c.CallAsync(kind.Method("update"), oid, text, c.Get(append) ? 1 : defaultAppend).ConfigureAwait(false);
        });
    }

    /// <summary>A template from a FILE argument, or standard input when it is '-' or omitted and piped.</summary>
    public static string ReadTemplateArgument(string? file)
    {
        if (file is null && !Console.IsInputRedirected)
            throw new CliException("give a template file (or '-' and the template on standard input)");
        var text = TemplateInput.Read(file ?? "-");
        // A script without input must not replace a template with nothing by accident.
        if (file is null && string.IsNullOrWhiteSpace(text))
            throw new CliException("give a template file (standard input was empty)");
        return text;
    }

    public static Command Rename(OneKind kind)
    {
        var id = Id(kind);
        var name = new Argument<string>("NAME") { Description = "The new name" };
        return Make("rename", $"Rename a {kind.Noun}", [id, name], async c =>
        {
            var oid = await c.ResolveAsync(kind, c.Get(id)!).ConfigureAwait(false);
            await c.CallAsync(kind.Method("rename"), oid, c.Get(name)!).ConfigureAwait(false);
        });
    }

    /// <summary>chown, chgrp and chmod; <paramref name="chmodExtra"/> are trailing chmod arguments (templates: recursive).</summary>
    public static IEnumerable<Command> Ownership(OneKind kind, OneKind users, OneKind groups, params object?[] chmodExtra)
    {
        var user = new Argument<string>("USER") { Description = "New owner: a user name or id" };
        var group = new Argument<string?>("GROUP") { Description = "New group: a group name or id (default: unchanged)", Arity = ArgumentArity.ZeroOrOne };
        yield return ForEach(kind, "chown", $"Change the owner (and group) of {kind.Plural}", [user, group], async (c, oid) =>
        {
            var uid = await c.ResolveAsync(users, c.Get(user)!).ConfigureAwait(false);
            var gid = c.Get(group) is { } g ? await c.ResolveAsync(groups, g).ConfigureAwait(false) : -1;
            await c.CallAsync(kind.Method("chown"), oid, uid, gid).ConfigureAwait(false);
        });

        var newGroup = new Argument<string>("GROUP") { Description = "New group: a group name or id" };
        yield return ForEach(kind, "chgrp", $"Change the group of {kind.Plural}", [newGroup], async (c, oid) =>
        {
            var gid = await c.ResolveAsync(groups, c.Get(newGroup)!).ConfigureAwait(false);
            await c.CallAsync(kind.Method("chown"), oid, -1, gid).ConfigureAwait(false);
        });

        var octet = new Argument<string>("OCTET") { Description = "Permissions as three octal digits, e.g. 640 (4 use, 2 manage, 1 admin)" };
        yield return ForEach(kind, "chmod", $"Change the permissions of {kind.Plural}", [octet], async (c, oid) =>
        {
            var bits = ChmodBits(c.Get(octet)!);
            await c.CallAsync(kind.Method("chmod"), [oid, .. bits.Cast<object?>(), .. chmodExtra]).ConfigureAwait(false);
        });
    }

    /// <summary>The nine chmod arguments of an octal string: each digit gives use (4), manage (2), admin (1).</summary>
    public static int[] ChmodBits(string octet)
    {
        if (octet.Length != 3 || octet.Any(ch => ch is < '0' or > '7'))
            throw new CliException($"bad permissions \"{octet}\": use three octal digits like 640");
        var bits = new int[9];
        for (var i = 0; i < 3; i++)
        {
            var d = octet[i] - '0';
            bits[i * 3] = (d & 4) != 0 ? 1 : 0;
            bits[i * 3 + 1] = (d & 2) != 0 ? 1 : 0;
            bits[i * 3 + 2] = (d & 1) != 0 ? 1 : 0;
        }
        return bits;
    }

    public static IEnumerable<Command> Locking(OneKind kind)
    {
        var use = Flag("--use", "Lock use, manage and admin actions (default)");
        var manage = Flag("--manage", "Lock manage and admin actions");
        var admin = Flag("--admin", "Lock admin actions");
        var all = Flag("--all", "Lock every action");
        yield return ForEach(kind, "lock", $"Lock {kind.Plural} against changes", [use, manage, admin, all], (c, oid) =>
        {
            var level = c.Get(all) ? 4 : c.Get(admin) ? 3 : c.Get(manage) ? 2 : 1;
            return c.CallAsync(kind.Method("lock"), oid, level, false);
        });
        yield return Call(kind, "unlock", $"Unlock {kind.Plural}", "unlock");
    }

    /// <summary><c>create FILE</c> → <c>one.{prefix}.allocate(template[, cluster])</c>; prints the new id.</summary>
    public static Command CreateFromFile(OneKind kind, OneKind? clusters = null)
    {
        var file = new Argument<string?>("FILE") { Description = "Template file ('-' or none: standard input)", Arity = ArgumentArity.ZeroOrOne };
        var cluster = clusters is null ? null : Text("--cluster", "Cluster to add it to (default: the default cluster)", "CLUSTER");
        var symbols = new List<Symbol> { file };
        if (cluster is not null) symbols.Add(cluster);
        return Make("create", $"Create a {kind.Noun} from a template file", symbols, async c =>
        {
            var text = ReadTemplateArgument(c.Get(file));
            object?[] args = [text];
            if (cluster is not null)
                args = [text, c.Get(cluster) is { } cl ? await c.ResolveAsync(clusters!, cl).ConfigureAwait(false) : -1];
            PrintId(await c.CallIntAsync(kind.Method("allocate"), args).ConfigureAwait(false));
        });
    }

    private static async Task<int> FilterFlagAsync(CliContext c, string who) => who switch
    {
        "a" or "all" => -2,
        "m" or "mine" => -3,
        "g" or "group" => -1,
        "G" or "primary" => -4,
        _ => await c.ResolveAsync(Commands.UserCommands.Kind, who).ConfigureAwait(false),
    };
}
