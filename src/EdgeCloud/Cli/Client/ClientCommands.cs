using System.CommandLine;
using EdgeCloud.Cli.Commands;

namespace EdgeCloud.Cli.Client;

/// <summary>The client verbs of the <c>edgecloud</c> binary: one command per kind of object, plus shell completion.</summary>
public static class ClientCommands
{
    public static IEnumerable<Command> All() =>
    [
        VmCommands.Build(),
        HostCommands.Build(),
        ClusterCommands.Build(),
        DatastoreCommands.Build(),
        ImageCommands.Build(),
        TemplateCommands.Build(),
        VNetCommands.Build(),
        VNTemplateCommands.Build(),
        SecGroupCommands.Build(),
        UserCommands.Build(),
        GroupCommands.Build(),
        AclCommands.Build(),
        VmGroupCommands.Build(),
        ZoneCommands.Build(),
        MarketCommands.Build(),
        MarketCommands.BuildApps(),
        Completion.Build(),
    ];
}
