using System.CommandLine;
using System.Globalization;
using System.Text;
using EdgeCloud.Cli.Client;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud user</c>: users, passwords, groups, quotas and login tokens (OpenNebula's <c>oneuser</c>).</summary>
public static class UserCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "user",
        Noun = "user",
        Prefix = "user",
        PoolMethod = "one.userpool.info",
        Element = "USER",
        Columns =
        [
            new("ID", e => S(e, "ID")) { Right = true },
            new("NAME", e => S(e, "NAME")) { Shrink = true },
            new("ENAB", e => S(e, "ENABLED") == "1" ? "yes" : "no"),
            new("GROUP", e => S(e, "GNAME")) { Shrink = true },
            new("AUTH", e => S(e, "AUTH_DRIVER")),
            new("GROUPS", e => Ids(e, "GROUPS")) { Default = false },
        ],
        Decoders = new Dictionary<string, Func<string, string>> { ["ENABLED"] = YesNo },
        Skip = new HashSet<string> { "DEFAULT_USER_QUOTAS" },
    };

    public static Command Build() => Verbs.Object(Kind, "Users: accounts, passwords, groups, quotas and login tokens",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind, selfWhenOmitted: true),
        Verbs.Update(Kind),
        Verbs.Delete(Kind),
        Passwd(),
        Login(),
        Group("chgrp", "Change the primary group of users", "chgrp"),
        Group("addgroup", "Add users to a secondary group", "addgroup"),
        Group("delgroup", "Remove users from a secondary group", "delgroup"),
        Verbs.Call(Kind, "enable", "Enable users", "enable", true),
        Verbs.Call(Kind, "disable", "Disable users (they can no longer log in)", "enable", false),
        Quota(Kind),
        Chauth(),
    ]);

    private static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "User name" };
        var password = new Argument<string?>("PASSWORD") { Description = "Password (may be left out for external drivers)", Arity = ArgumentArity.ZeroOrOne };
        var driver = Verbs.Text("--driver", "Authentication driver (default core)", "DRIVER");
        var group = new Option<string[]>("--group", "-g") { Description = "Groups (the first is the primary one), comma separated or repeated", HelpName = "GROUP" };
        return Verbs.Make("create", "Create a user", [name, password, driver, group], async c =>
        {
            var gids = new List<int>();
            foreach (var g in (c.Get(group) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                gids.Add(await c.ResolveAsync(GroupCommands.Kind, g).ConfigureAwait(false));
            var id = await c.CallIntAsync("one.user.allocate", c.Get(name)!, c.Get(password) ?? "", c.Get(driver) ?? "core", gids.ToArray()).ConfigureAwait(false);
            Verbs.PrintId(id);
        });
    }

    private static Command Passwd()
    {
        var user = Verbs.Id(Kind, "USER");
        var password = new Argument<string>("PASSWORD") { Description = "The new password" };
        return Verbs.Make("passwd", "Change a user's password", [user, password], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(user)!).ConfigureAwait(false);
            await c.CallAsync("one.user.passwd", id, c.Get(password)!).ConfigureAwait(false);
        });
    }

    private static Command Group(string verb, string description, string method)
    {
        var group = new Argument<string>("GROUP") { Description = "A group name or id" };
        return Verbs.ForEach(Kind, verb, description, [group], async (c, id) =>
        {
            var gid = await c.ResolveAsync(GroupCommands.Kind, c.Get(group)!).ConfigureAwait(false);
            await c.CallAsync($"one.user.{method}", id, gid).ConfigureAwait(false);
        });
    }

    /// <summary><c>user quota</c> / <c>group quota</c>: sets quotas from a file (VM = [ VMS = 4, MEMORY = 2048 ] ...).</summary>
    internal static Command Quota(OneKind kind)
    {
        var id = Verbs.Id(kind);
        var file = new Argument<string?>("FILE")
        {
            Description = "Quota template, e.g. VM = [ VMS = 4, CPU = 2, MEMORY = 2048 ] ('-' or none: standard input)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        return Verbs.Make("quota", $"Set the quotas of a {kind.Noun} (see show for the current ones)", [id, file], async c =>
        {
            var text = Verbs.ReadTemplateArgument(c.Get(file));
            var oid = await c.ResolveAsync(kind, c.Get(id)!).ConfigureAwait(false);
            await c.CallAsync(kind.Method("quota"), oid, text).ConfigureAwait(false);
        });
    }

    private static Command Chauth()
    {
        var user = Verbs.Id(Kind, "USER");
        var driver = new Argument<string>("DRIVER") { Description = "Authentication driver, e.g. core" };
        var password = new Argument<string?>("PASSWORD") { Description = "New password (default: unchanged)", Arity = ArgumentArity.ZeroOrOne };
        return Verbs.Make("chauth", "Change a user's authentication driver", [user, driver, password], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(user)!).ConfigureAwait(false);
            await c.CallAsync("one.user.chauth", id, c.Get(driver)!, c.Get(password) ?? "").ConfigureAwait(false);
        });
    }

    /// <summary>
    /// <c>user login</c>: <c>one.user.login(user, "", seconds, egid)</c> authenticated with the user's password, then
    /// writes <c>user:token</c> to <c>$ONE_AUTH</c> (or <c>~/.one/one_auth</c>) as OpenNebula's <c>oneuser login</c> does.
    /// </summary>
    private static Command Login()
    {
        var user = new Argument<string?>("USER") { Description = "User to log in as (default: --user, or the user of your credentials)", Arity = ArgumentArity.ZeroOrOne };
        var stdin = Verbs.Flag("--stdin-password", "Read the password from standard input");
        var time = new Option<long>("--time") { Description = "Token lifetime in seconds (-1: no expiry)", DefaultValueFactory = _ => 36000, HelpName = "SECONDS" };
        var group = Verbs.Text("--group", "Scope the token to this group", "GROUP");
        var print = Verbs.Flag("--print", "Only print the token; do not write the credentials file");
        return Verbs.Make("login", "Get a login token and store it as your credentials", [user, stdin, time, group, print], async c =>
        {
            var envSession = CliContext.EnvironmentSession();
            var envUser = envSession?.Split(':', 2)[0];
            var name = c.Get(user) ?? CliContext.Global(c.Parse, GlobalOptions.UserName) ?? envUser
                       ?? throw new CliException("give the user to log in as");
            var password = CliContext.Global(c.Parse, GlobalOptions.PasswordName);
            if (password is null && c.Get(stdin)) password = Console.In.ReadLine()?.TrimEnd('\r', '\n');
            if (password is null && name == envUser) password = envSession!.Split(':', 2) is [_, var secret] ? secret : null;
            if (password is null && !Console.IsInputRedirected)
            {
                Console.Error.Write($"Password for {name}: ");
                password = ReadHidden();
            }
            if (string.IsNullOrEmpty(password)) throw new CliException("give the password with --password or --stdin-password");

            var session = c.ClientWithSession($"{name}:{password}");
            var egid = -1;
            if (c.Get(group) is { } g)
            {
                // Resolve the group with the user's own session: it is the one that must see it.
                egid = int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                    : (int)L((await session.CallXmlAsync("one.grouppool.info", [], c.Ct).ConfigureAwait(false)).Root!
                        .Elements("GROUP").FirstOrDefault(x => S(x, "NAME") == g) ?? throw new CliException($"group \"{g}\" not found", CliExit.Server), "ID");
            }
            var token = await session.CallStringAsync("one.user.login", [name, "", c.Get(time), egid], c.Ct).ConfigureAwait(false);
            if (c.Get(print))
            {
                CliContext.Out.WriteLine(token);
                return;
            }
            var file = CliContext.AuthFile();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            await File.WriteAllTextAsync(file, $"{name}:{token}\n", c.Ct).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            CliContext.Out.WriteLine($"Logged in as {name}; token written to {file}" +
                                     (c.Get(time) > 0 ? string.Create(CultureInfo.InvariantCulture, $" (valid {c.Get(time)} s)") : ""));
        });
    }

    private static string ReadHidden()
    {
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (sb.Length > 0) sb.Length--; }
            else sb.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return sb.ToString();
    }
}
