using System.CommandLine;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// The connection options every client verb takes, as OpenNebula's CLI has them (<c>--endpoint</c>, <c>--user</c>,
/// <c>--password</c>); without them the endpoint and credentials come from <c>$ONE_XMLRPC</c>, <c>$ONE_AUTH</c> and
/// <c>~/.one/</c>. They are added, recursively, to each object command and read back by name.
/// </summary>
public static class GlobalOptions
{
    public const string EndpointName = "--endpoint";
    public const string UserName = "--user";
    public const string PasswordName = "--password";

    public static void AddTo(Command objectCommand)
    {
        ArgumentNullException.ThrowIfNull(objectCommand);
        objectCommand.Options.Add(new Option<string?>(EndpointName)
        {
            Description = "XML-RPC endpoint, e.g. http://localhost:2633/RPC2 (default: $ONE_XMLRPC, ~/.one/one_endpoint)",
            HelpName = "URL",
            Recursive = true,
        });
        objectCommand.Options.Add(new Option<string?>(UserName)
        {
            Description = "User name (with --password; default: the credentials in $ONE_AUTH or ~/.one/one_auth)",
            HelpName = "USER",
            Recursive = true,
        });
        objectCommand.Options.Add(new Option<string?>(PasswordName)
        {
            Description = "Password or login token for --user",
            HelpName = "PASSWORD",
            Recursive = true,
        });
    }
}
