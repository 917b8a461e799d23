using System.CommandLine;
using System.Globalization;
using EdgeCloud.Cli.Commands;

namespace EdgeCloud.Cli.Client;

/// <summary>
/// A VM template given as flags, the way OpenNebula's CLI builds one (<c>--cpu 1 --memory 512 --disk IMAGE --nic VNET</c>),
/// for <c>vm create</c>, <c>template create</c> and <c>template instantiate</c>. Images and networks may be names or ids;
/// extra disk/NIC attributes follow the name after colons (<c>--disk web:size=2048</c>).
/// </summary>
public sealed class VmTemplateFlags
{
    private readonly Option<string?> _name;
    private readonly Option<string?> _cpu = Verbs.Text("--cpu", "Physical CPU share, e.g. 0.5 or 1", "CPU");
    private readonly Option<string?> _vcpu = Verbs.Text("--vcpu", "Number of virtual CPUs", "N");
    private readonly Option<string?> _memory = Verbs.Text("--memory", "Memory in MB, or with a unit (512M, 2G)", "SIZE");
    private readonly Option<string[]> _disk = new("--disk")
    {
        Description = "Disks from images: IMAGE[:KEY=VALUE...], comma separated or repeated (e.g. --disk base:size=4096)",
        HelpName = "IMAGE",
    };
    private readonly Option<string[]> _nic = new("--nic")
    {
        Description = "NICs on virtual networks: VNET[:KEY=VALUE...], comma separated or repeated (e.g. --nic private:ip=10.0.0.5)",
        HelpName = "VNET",
    };
    private readonly Option<string[]> _context = new("--context")
    {
        Description = "Contextualization attributes KEY=VALUE (repeat for more)",
        HelpName = "KEY=VALUE",
    };
    private readonly Option<bool> _netContext = Verbs.Flag("--net-context", "Add network contextualization (CONTEXT NETWORK=YES)");
    private readonly Option<string?> _ssh = new("--ssh")
    {
        Description = "Add an SSH public key to the context: a key file, or none for the user's SSH_PUBLIC_KEY",
        HelpName = "FILE",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<bool> _vnc = Verbs.Flag("--vnc", "Add a VNC graphics console");
    private readonly Option<string?> _description = Verbs.Text("--description", "A description", "TEXT");

    public VmTemplateFlags(string nameDescription)
    {
        _name = Verbs.Text("--name", nameDescription, "NAME");
    }

    public Option<string?> NameOption => _name;

    public IEnumerable<Symbol> Symbols => [_name, _cpu, _vcpu, _memory, _disk, _nic, _context, _netContext, _ssh, _vnc, _description];

    /// <summary>True when any template flag (other than --name) was given.</summary>
    public bool Any(CliContext c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Get(_cpu) is not null || c.Get(_vcpu) is not null || c.Get(_memory) is not null || c.Get(_disk) is { Length: > 0 }
               || c.Get(_nic) is { Length: > 0 } || c.Get(_context) is { Length: > 0 } || c.Get(_netContext) || SshGiven(c) || c.Get(_vnc)
               || c.Get(_description) is not null;
    }

    private bool SshGiven(CliContext c) => c.Parse.GetResult(_ssh) is { Implicit: false };

    /// <summary>The template text of the flags (one attribute per line); --name only when <paramref name="withName"/>.</summary>
    public async Task<string> BuildAsync(CliContext c, bool withName)
    {
        ArgumentNullException.ThrowIfNull(c);
        var lines = new List<string>();
        if (withName && c.Get(_name) is { } name) lines.Add("NAME=" + TemplateInput.Quote(name));
        if (c.Get(_cpu) is { } cpu) lines.Add("CPU=" + Number(cpu, "--cpu", integer: false));
        if (c.Get(_vcpu) is { } vcpu) lines.Add("VCPU=" + Number(vcpu, "--vcpu", integer: true));
        if (c.Get(_memory) is { } mem) lines.Add("MEMORY=" + TemplateInput.MemoryMb(mem).ToString(CultureInfo.InvariantCulture));
        if (c.Get(_description) is { } d) lines.Add("DESCRIPTION=" + TemplateInput.Quote(d));
        foreach (var disk in Split(c.Get(_disk)))
        {
            var (target, attrs) = Spec(disk, "--disk");
            var id = await c.ResolveAsync(ImageCommands.Kind, target).ConfigureAwait(false);
            lines.Add(TemplateInput.Vector("DISK", [("IMAGE_ID", Inv(id)), .. attrs]));
        }
        foreach (var nic in Split(c.Get(_nic)))
        {
            var (target, attrs) = Spec(nic, "--nic");
            var id = await c.ResolveAsync(VNetCommands.Kind, target).ConfigureAwait(false);
            lines.Add(TemplateInput.Vector("NIC", [("NETWORK_ID", Inv(id)), .. attrs]));
        }
        var context = new List<(string, string)>();
        if (c.Get(_netContext)) context.Add(("NETWORK", "YES"));
        if (SshGiven(c))
        {
            var file = c.Get(_ssh);
            context.Add(("SSH_PUBLIC_KEY", file is null ? "$USER[SSH_PUBLIC_KEY]" : ReadKey(file)));
        }
        foreach (var kv in c.Get(_context) ?? []) context.Add(TemplateInput.KeyValue(kv, "--context"));
        if (context.Count > 0) lines.Add(TemplateInput.Vector("CONTEXT", context));
        if (c.Get(_vnc)) lines.Add(TemplateInput.Vector("GRAPHICS", [("TYPE", "VNC"), ("LISTEN", "0.0.0.0")]));
        return TemplateInput.Join(lines);
    }

    private static string Inv(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static (string Target, List<(string, string)> Attributes) Spec(string text, string flag)
    {
        var parts = text.Split(':');
        var attrs = parts.Skip(1).Select(p => TemplateInput.KeyValue(p, flag + " attribute")).ToList();
        return (parts[0], attrs);
    }

    private static string Number(string text, string flag, bool integer)
    {
        var ok = integer
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i > 0
            : double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d) && d > 0;
        return ok ? text : throw new CliException($"bad {flag} \"{text}\": use a positive {(integer ? "whole number" : "number")}");
    }

    private static string ReadKey(string file)
    {
        if (!File.Exists(file)) throw new CliException($"{file}: no such file");
        return File.ReadAllText(file).Trim();
    }
}
