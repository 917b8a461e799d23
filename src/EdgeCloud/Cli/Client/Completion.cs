using System.CommandLine;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// <c>edgecloud completion bash|zsh</c>: prints a script that completes commands, verbs and options by asking the
/// binary itself through System.CommandLine's <c>[suggest]</c> directive.
/// </summary>
public static class Completion
{
    private const string Bash = """
        # edgecloud completion for bash. Load it with:  source <(edgecloud completion bash)
        _edgecloud_complete()
        {
            local IFS=$'\n'
            local line="${COMP_LINE:0:$COMP_POINT}"
            local words
            words=$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)
            COMPREPLY=( $(compgen -W "$words" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _edgecloud_complete edgecloud

        """;

    private const string Zsh = """
        # edgecloud completion for zsh. Load it with:  source <(edgecloud completion zsh)
        autoload -U +X bashcompinit && bashcompinit

        """;

    public static Command Build()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var cmd = new Command("completion", "Print a shell completion script: source <(edgecloud completion bash)") { shell };
        cmd.SetAction(parse =>
        {
            var script = parse.GetValue(shell) == "zsh" ? Zsh + Bash : Bash;
            Console.Out.Write(script.Replace("\r\n", "\n", StringComparison.Ordinal));
            return 0;
        });
        return cmd;
    }
}
