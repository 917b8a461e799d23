namespace EdgeCloud.Cli.Tests;

/// <summary>
/// Bad input for every verb group: unknown ids and names, malformed templates, an unreachable endpoint, a wrong
/// password, missing credentials and misuse. Each is exactly one line on stderr, no stack trace, and a non-zero
/// exit: 255 for what the server (or name resolution) refuses, as OpenNebula's CLI, 1 for local and transport errors.
/// </summary>
public sealed class ErrorTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    public static TheoryData<string, string> Groups => new()
    {
        { "vm", "virtual machine" }, { "host", "host" }, { "cluster", "cluster" }, { "datastore", "datastore" }, { "image", "image" },
        { "template", "template" }, { "vnet", "virtual network" }, { "vntemplate", "virtual network template" }, { "secgroup", "security group" }, { "user", "user" }, { "group", "group" },
        { "vmgroup", "VM group" }, { "zone", "zone" }, { "market", "marketplace" }, { "marketapp", "marketplace app" },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Unknown_names_are_one_line(string group, string noun)
    {
        var error = (await cloud.RunAsync(group, "show", "no-such-thing")).Fails(255);
        Assert.Equal($"{noun} \"no-such-thing\" not found", error);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Unknown_ids_are_the_servers_one_line(string group, string noun)
    {
        _ = noun;
        var error = (await cloud.RunAsync(group, "show", "99999")).Fails(255);
        Assert.StartsWith("[one.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_ids_name_the_method_and_object()
    {
        Assert.Equal("[one.vm.info] Error getting virtual machine [4242].", (await cloud.RunAsync("vm", "show", "4242")).Fails(255));
        Assert.Equal("[one.vm.action] Error getting virtual machine [4242].", (await cloud.RunAsync("vm", "poweroff", "4242")).Fails(255));
        Assert.Equal("[one.host.status] Error getting host [4242].", (await cloud.RunAsync("host", "disable", "4242")).Fails(255));
        Assert.Equal("[one.image.persistent] Error getting image [4242].", (await cloud.RunAsync("image", "persistent", "4242")).Fails(255));
        Assert.StartsWith("[one.acl.delrule] ", (await cloud.RunAsync("acl", "delete", "4242")).Fails(255), StringComparison.Ordinal);
        Assert.Equal("host \"nowhere\" not found", (await cloud.RunAsync("vm", "deploy", "0", "nowhere")).Fails(255));
        Assert.Equal("image \"missing\" not found", (await cloud.RunAsync("vm", "create", "--cpu", "1", "--memory", "64", "--disk", "missing")).Fails(255));
        Assert.Equal("virtual network \"missing\" not found", (await cloud.RunAsync("template", "create", "--name", "x", "--nic", "missing")).Fails(255));
        Assert.Equal("group \"missing\" not found", (await cloud.RunAsync("user", "create", "carol", "pw", "--group", "missing")).Fails(255));
    }

    public static TheoryData<string[]> TemplateVerbs => new()
    {
        new[] { "template", "create", "FILE" },
        new[] { "vm", "create", "FILE" },
        new[] { "vm", "update", "0", "FILE" },
        new[] { "vnet", "create", "FILE" },
        new[] { "vntemplate", "create", "FILE" },
        new[] { "datastore", "create", "FILE" },
        new[] { "secgroup", "create", "FILE" },
        new[] { "vmgroup", "create", "FILE" },
        new[] { "image", "create", "FILE", "--datastore", "default" },
        new[] { "host", "update", "h1", "FILE" },
        new[] { "user", "quota", "oneadmin", "FILE" },
        new[] { "vnet", "addar", "net", "--file", "FILE" },
    };

    [Theory]
    [MemberData(nameof(TemplateVerbs))]
    public async Task Malformed_templates_name_the_file_line_and_column(string[] args)
    {
        var file = cloud.WriteFile($"bad-{args[0]}-{args[1]}.txt", "NAME = \"broken\"\nCPU = [ 1\nMEMORY = 64\n");
        var error = (await cloud.RunAsync(args.Select(a => a == "FILE" ? file : a).ToArray())).Fails(1);
        Assert.Equal($"{file}: Parse error: syntax error, unexpected 'M', expecting '=' at line 3, columns 1:2", error);
    }

    [Fact]
    public async Task Malformed_templates_on_standard_input_and_missing_files()
    {
        var stdin = await cloud.RunWithInputAsync("A = \"unclosed\nB = [ C = 1,, ]\n", "template", "create", "-");
        Assert.StartsWith("standard input: Parse error: ", stdin.Fails(1), StringComparison.Ordinal);
        Assert.Matches(@"at line \d+, columns \d+:\d+$", stdin.StderrLines[0]);
        Assert.Equal("/no/such/file.tpl: no such file", (await cloud.RunAsync("template", "create", "/no/such/file.tpl")).Fails(1));
    }

    [Theory]
    [InlineData("vm")]
    [InlineData("host")]
    [InlineData("cluster")]
    [InlineData("datastore")]
    [InlineData("image")]
    [InlineData("template")]
    [InlineData("vnet")]
    [InlineData("secgroup")]
    [InlineData("user")]
    [InlineData("group")]
    [InlineData("acl")]
    [InlineData("vmgroup")]
    [InlineData("zone")]
    [InlineData("market")]
    [InlineData("marketapp")]
    public async Task An_unreachable_endpoint_is_one_line_naming_it(string group)
    {
        var endpoint = $"http://127.0.0.1:{CloudFixture.ClosedPort()}/RPC2";
        var result = await Cli.RunAsync(cloud.Env(endpoint: endpoint), null, group, "list");
        Assert.Equal($"cannot reach {endpoint}: connection refused", result.Fails(1));
    }

    [Fact]
    public async Task The_endpoint_flag_overrides_the_environment()
    {
        var endpoint = $"http://127.0.0.1:{CloudFixture.ClosedPort()}/RPC2";
        Assert.Equal($"cannot reach {endpoint}: connection refused", (await cloud.RunAsync("vm", "show", "vm1", "--endpoint", endpoint)).Fails(1));
        Assert.Equal("cannot reach http://no-such-host.invalid:2633/RPC2: host not found",
            (await cloud.RunAsync("host", "list", "--endpoint", "http://no-such-host.invalid:2633/RPC2")).Fails(1));
        Assert.Equal("the endpoint \"localhost:2633\" is not an http(s) URL like http://localhost:2633/RPC2",
            (await cloud.RunAsync("host", "list", "--endpoint", "localhost:2633")).Fails(1));
        var works = await Cli.RunAsync(cloud.Env(endpoint: "http://127.0.0.1:1/RPC2"), null, "zone", "list", "--endpoint", cloud.Server.Endpoint.ToString());
        Assert.Contains("OpenNebula", works.Ok(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_is_the_servers_one_line()
    {
        var auth = cloud.WriteFile("wrong_auth", "oneadmin:not-the-password\n");
        Assert.Equal("[one.vmpool.info] User couldn't be authenticated, aborting call.",
            (await Cli.RunAsync(cloud.Env(auth: auth), null, "vm", "list")).Fails(255));
        Assert.Equal("[one.hostpool.info] User couldn't be authenticated, aborting call.",
            (await cloud.RunAsync("host", "show", "h1", "--user", "oneadmin", "--password", "nope")).Fails(255));
        Assert.Equal("[one.template.allocate] User couldn't be authenticated, aborting call.",
            (await cloud.RunAsync("template", "create", "--name", "x", "--cpu", "1", "--user", "nobody", "--password", "x")).Fails(255));
    }

    [Fact]
    public async Task Missing_credentials_are_one_line()
    {
        var env = cloud.Env(auth: "/nonexistent/one_auth");
        var error = (await Cli.RunAsync(env, null, "vm", "list")).Fails(1);
        Assert.StartsWith("No OpenNebula credentials: none of /nonexistent/one_auth, ", error, StringComparison.Ordinal);
        Assert.Equal("--user and --password must be given together", (await cloud.RunAsync("vm", "list", "--user", "oneadmin")).Fails(1));
    }

    [Fact]
    public async Task Misuse_is_one_line()
    {
        Assert.Equal("give --cpu, --vcpu or --memory", (await cloud.RunAsync("vm", "resize", "0")).Fails(1));
        Assert.Equal("give a template file or flags such as --cpu 1 --memory 512 --disk IMAGE --nic VNET", (await cloud.RunAsync("vm", "create")).Fails(1));
        Assert.Equal("bad memory size \"lots\": use MB (512) or a unit (512M, 2G)", (await cloud.RunAsync("vm", "create", "--cpu", "1", "--memory", "lots")).Fails(1));
        Assert.Equal("bad --cpu \"-1\": use a positive number", (await cloud.RunAsync("template", "create", "--name", "x", "--cpu=-1")).Fails(1));
        Assert.Equal("bad permissions \"999\": use three octal digits like 640", (await cloud.RunAsync("vm", "chmod", "0", "999")).Fails(1));
        Assert.Equal("give exactly one of --success, --failure, --retry, --delete, --recreate, --delete-db", (await cloud.RunAsync("vm", "recover", "0")).Fails(1));
        Assert.Equal("--multiple must be at least 1", (await cloud.RunAsync("template", "instantiate", "0", "--multiple", "0")).Fails(1));
        Assert.StartsWith("unknown column \"FOO\"; columns are ID,USER,GROUP,NAME,STAT,", (await cloud.RunAsync("vm", "list", "-l", "ID,FOO")).Fails(1), StringComparison.Ordinal);
        Assert.Equal("bad filter \"NAME\": use COLUMN=value or COLUMN!=value", (await cloud.RunAsync("host", "list", "--filter", "NAME")).Fails(1));
        Assert.Equal("give --image IMAGE or --file FILE", (await cloud.RunAsync("vm", "disk-attach", "0")).Fails(1));
        Assert.Equal("give --size N (a positive number of addresses), or --file FILE", (await cloud.RunAsync("vnet", "addar", "net", "--ip", "10.9.0.1")).Fails(1));
        Assert.Equal("bad id range \"9..3\"", (await cloud.RunAsync("vm", "hold", "9..3")).Fails(1));
        Assert.Equal("give a template file (standard input was empty)", (await cloud.RunAsync("vm", "update", "0")).Fails(1));
    }

    [Fact]
    public async Task Refused_actions_are_the_servers_one_line()
    {
        Assert.StartsWith("[one.host.allocate] ", (await cloud.RunAsync("host", "create", "h1", "--im", "dummy", "--vm", "dummy")).Fails(255), StringComparison.Ordinal);
        var id = await cloud.CreateAsync("vm", "create", "--name", "refused", "--cpu", "1", "--memory", "64", "--hold");
        Assert.Equal("[one.vm.action] Error performing action \"poweroff\": This action is not available for state HOLD",
            (await cloud.RunAsync("vm", "poweroff", "refused")).Fails(255));
        await cloud.OkAsync("vm", "terminate", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--hard");
    }
}
