using System.Text.Json;
using System.Xml.Linq;

namespace EdgeCloud.Cli.Tests;

/// <summary>Output formats (tables, --list, --filter, --json, --xml, terminal width), settings files, help and completion.</summary>
public sealed class OutputTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task Lists_filter_and_choose_columns()
    {
        await cloud.OkAsync("template", "create", "--name", "out", "--cpu", "1", "--memory", "64");
        foreach (var name in new[] { "alpha-1", "alpha-2", "beta-1" })
            await cloud.OkAsync("template", "instantiate", "out", "--name", name, "--hold");

        Assert.Equal("NAME\nalpha-1\nalpha-2\n", await cloud.OkAsync("vm", "list", "--list", "NAME", "--filter", "NAME=alpha*"));
        Assert.Equal("NAME\nbeta-1\n", await cloud.OkAsync("vm", "list", "-l", "name", "-f", "NAME!=alpha*"));
        Assert.Equal("NAME    STAT\nalpha-2 hold\n", await cloud.OkAsync("vm", "list", "-l", "NAME,STAT", "-f", "NAME=*2", "-f", "STAT=hold"));
        Assert.Equal("NAME\n", await cloud.OkAsync("vm", "list", "-l", "NAME", "--filter", "NAME=gamma"));
        Assert.Matches(@"^ID +USER +GROUP +NAME +STAT +CPU +MEM +HOST +TIME\n( *\d+ oneadmin oneadmin [a-z-]+\d +hold +1 +64M +0d 00h0\d\n){3}$", await cloud.OkAsync("vm", "list", "m"));

        var xml = XElement.Parse(await cloud.OkAsync("vm", "list", "--xml", "--filter", "NAME=beta*"));
        Assert.Equal("VM_POOL", xml.Name.LocalName);
        Assert.Equal(["beta-1"], xml.Elements("VM").Select(v => v.Element("NAME")!.Value));

        var json = JsonDocument.Parse(await cloud.OkAsync("vm", "list", "--json"));
        var vms = json.RootElement.GetProperty("VM_POOL").GetProperty("VM");
        Assert.Equal(JsonValueKind.Array, vms.ValueKind);
        Assert.Equal(3, vms.GetArrayLength());
        Assert.Equal("2", vms[0].GetProperty("STATE").GetString());

        var show = XElement.Parse(await cloud.OkAsync("vm", "show", "alpha-1", "--xml"));
        Assert.Equal("alpha-1", show.Element("NAME")!.Value);
        var showJson = JsonDocument.Parse(await cloud.OkAsync("template", "show", "out", "-j"));
        Assert.Equal("out", showJson.RootElement.GetProperty("VMTEMPLATE").GetProperty("NAME").GetString());
    }

    [Fact]
    public async Task Tables_fit_the_terminal_width()
    {
        await cloud.OkAsync("template", "create", "--name", "a-template-with-a-rather-long-name-that-does-not-fit", "--cpu", "1", "--memory", "64");
        var env = cloud.Env();
        env["COLUMNS"] = "60";
        var narrow = (await Cli.RunAsync(env, null, "template", "list")).Ok();
        var lines = narrow.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.True(l.Length <= 60, $"line longer than 60: '{l}'"));
        Assert.Contains(lines, l => l.Contains('…', StringComparison.Ordinal));

        var wide = await cloud.OkAsync("template", "list");
        Assert.Contains("a-template-with-a-rather-long-name-that-does-not-fit", wide, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_come_from_the_home_directory_like_opennebula()
    {
        var home = Path.Combine(cloud.Dir, "otherhome");
        Directory.CreateDirectory(Path.Combine(home, ".one"));
        await File.WriteAllTextAsync(Path.Combine(home, ".one", "one_auth"), cloud.Server.OneAdminSession + "\n");
        await File.WriteAllTextAsync(Path.Combine(home, ".one", "one_endpoint"), cloud.Server.Endpoint + "\n");
        var env = new Dictionary<string, string?> { ["HOME"] = home, ["ONE_XMLRPC"] = null, ["ONE_AUTH"] = null };
        Assert.Contains("OpenNebula", (await Cli.RunAsync(env, null, "zone", "list")).Ok(), StringComparison.Ordinal);

        // --user/--password need no credentials file.
        var flags = new Dictionary<string, string?> { ["HOME"] = cloud.Home, ["ONE_XMLRPC"] = cloud.Server.Endpoint.ToString(), ["ONE_AUTH"] = null };
        var password = cloud.Server.OneAdminSession.Split(':', 2)[1];
        Assert.Contains("oneadmin", (await Cli.RunAsync(flags, null, "user", "list", "--user", "oneadmin", "--password", password)).Ok(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_and_shell_completion()
    {
        var help = await cloud.OkAsync("--help");
        foreach (var group in new[] { "vm", "host", "cluster", "datastore", "image", "template", "vnet", "vntemplate", "secgroup", "user", "group", "acl", "vmgroup", "zone", "market", "marketapp", "completion" })
            Assert.Matches($@"(?m)^  {group}\b", help);
        Assert.Contains("disk-attach <VM>", await cloud.OkAsync("vm", "--help"), StringComparison.Ordinal);

        var script = await cloud.OkAsync("completion", "bash");
        Assert.Contains("complete -o default -F _edgecloud_complete edgecloud", script, StringComparison.Ordinal);
        Assert.Contains("[suggest:", script, StringComparison.Ordinal);
        Assert.Contains("bashcompinit", await cloud.OkAsync("completion", "zsh"), StringComparison.Ordinal);

        var verbs = await cloud.OkAsync("[suggest:15]", "edgecloud vm po");
        Assert.Equal("poweroff\n", string.Join('\n', verbs.Split('\n').Where(l => !l.StartsWith('-'))));
        var names = await cloud.OkAsync("[suggest:20]", "edgecloud host show ");
        Assert.Contains("h1\n", names, StringComparison.Ordinal);
        Assert.Contains("h2\n", names, StringComparison.Ordinal);
    }
}
