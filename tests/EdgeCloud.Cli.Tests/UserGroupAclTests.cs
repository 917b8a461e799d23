using System.Globalization;

namespace EdgeCloud.Cli.Tests;

/// <summary>user, group and acl verbs, and logging in with a token.</summary>
public sealed class UserGroupAclTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task Users_and_groups_are_managed()
    {
        var gid = await cloud.CreateAsync("group", "create", "devs");
        var acl = await cloud.OkAsync("acl", "list", "--filter", $"USER=@{gid}", "-l", "RESOURCES,RIGHTS,ZONE");
        Assert.Matches(@"(?m)^VM\+IMAGE\+TEMPLATE\+DOCUMENT\+SECGROUP\+VROUTER\+VMGROUP\+BACKUPJOB +CREATE +\*$", acl);

        var uid = await cloud.CreateAsync("user", "create", "alice", "secret1", "--group", "devs");
        Assert.Matches($@"(?m)^ *{uid} alice +yes +devs +core$", await cloud.OkAsync("user", "list"));
        await cloud.OkAsync("user", "passwd", "alice", "secret2");
        await cloud.OkAsync("user", "addgroup", "alice", "users");
        Assert.Equal($"GROUPS\n1,{gid}\n", await cloud.OkAsync("user", "list", "-l", "GROUPS", "-f", "NAME=alice"));
        await cloud.OkAsync("user", "delgroup", "alice", "users");
        await cloud.OkAsync("user", "chgrp", "alice", "users");
        await cloud.OkAsync("user", "chgrp", "alice", "devs");
        await cloud.OkAsync("user", "disable", "alice");
        Assert.Equal("ENAB\nno\n", await cloud.OkAsync("user", "list", "-l", "ENAB", "-f", "NAME=alice"));
        await cloud.OkAsync("user", "enable", "alice");
        await cloud.OkAsync("user", "update", "alice", cloud.WriteFile("alice.txt", "EMAIL=\"alice@example.org\"\n"));
        await cloud.OkAsync("user", "quota", "alice", cloud.WriteFile("quota.txt", "VM=[VMS=\"3\",MEMORY=\"1024\",CPU=\"2\"]\n"));
        var shown = await cloud.OkAsync("user", "show", "alice");
        Assert.Contains($"USER {uid} INFORMATION", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^VM/VMS +: 3$", shown);
        Assert.Matches(@"(?m)^EMAIL=""alice@example\.org""$", shown);

        await cloud.OkAsync("group", "addadmin", "devs", "alice");
        Assert.Equal($"ADMINS\n{uid}\n", await cloud.OkAsync("group", "list", "-l", "ADMINS", "-f", "NAME=devs"));
        await cloud.OkAsync("group", "deladmin", "devs", "alice");
        await cloud.OkAsync("group", "quota", "devs", cloud.WriteFile("gquota.txt", "VM=[VMS=\"10\"]\n"));
        await cloud.OkAsync("group", "update", "devs", cloud.WriteFile("gupd.txt", "TEAM=\"edge\"\n"));
        Assert.Matches(@"(?m)^TEAM=""edge""$", await cloud.OkAsync("group", "show", "devs"));
        Assert.Matches(@"(?m)^ *\d+ devs +1$", await cloud.OkAsync("group", "list"));

        // As alice (with --user/--password): her own user and group without arguments.
        var self = await Cli.RunAsync(cloud.Env(auth: "/nonexistent"), null, "user", "show", "--user", "alice", "--password", "secret2");
        Assert.Contains($"USER {uid} INFORMATION", self.Ok(), StringComparison.Ordinal);
        var group = await Cli.RunAsync(cloud.Env(auth: "/nonexistent"), null, "group", "show", "--user", "alice", "--password", "secret2");
        Assert.Contains($"GROUP {gid} INFORMATION", group.Ok(), StringComparison.Ordinal);

        await cloud.OkAsync("user", "chauth", "alice", "core", "secret3");
        await cloud.OkAsync("user", "delete", "alice");
        await cloud.OkAsync("group", "delete", "devs");
        Assert.Equal("user \"alice\" not found", (await cloud.RunAsync("user", "show", "alice")).Fails(255));
    }

    [Fact]
    public async Task Login_writes_a_token_that_later_commands_use()
    {
        var uid = await cloud.CreateAsync("user", "create", "bob", "pw-bob");
        var auth = cloud.WriteFile("bob_auth", "bob:pw-bob\n");

        // The user of the credentials file, the password from it; the token replaces it.
        var login = await Cli.RunAsync(cloud.Env(auth: auth), null, "user", "login", "--time", "600");
        Assert.Equal($"Logged in as bob; token written to {auth} (valid 600 s)\n", login.Ok());
        var written = await File.ReadAllTextAsync(auth);
        Assert.Matches("^bob:[0-9a-f]{64}\n$", written);
        var asBob = await Cli.RunAsync(cloud.Env(auth: auth), null, "user", "show", "-j");
        Assert.Contains($"\"ID\": \"{uid}\"", asBob.Ok(), StringComparison.Ordinal);

        // --print only prints; the password from standard input.
        var printed = await Cli.RunAsync(cloud.Env(auth: "/nonexistent"), "pw-bob\n", "user", "login", "bob", "--stdin-password", "--print");
        Assert.Matches("^[0-9a-f]{64}\n$", printed.Ok());

        var wrong = await Cli.RunAsync(cloud.Env(auth: "/nonexistent"), null, "user", "login", "bob", "--password", "nope", "--print");
        Assert.Equal("[one.user.login] User couldn't be authenticated, aborting call.", wrong.Fails(255));
    }

    [Fact]
    public async Task Acl_rules_are_created_listed_and_deleted()
    {
        var list = await cloud.OkAsync("acl", "list");
        Assert.Matches(@"(?m)^ID +USER +RESOURCES +RID +RIGHTS +ZONE$", list);
        Assert.Matches(@"(?m)^ *1 \* +ZONE +\* +USE +\*$", list);

        // '@' is a group, not a response file: the rule is taken as it is, with or without "--".
        var id = await cloud.CreateAsync("acl", "create", "@1 VM+NET/* USE+MANAGE *");
        var rule = await cloud.OkAsync("acl", "list", "-f", $"ID={id}", "-l", "RULE");
        Assert.Equal("RULE\n@1 VM+NET/* USE+MANAGE *\n", rule);
        var sent = (await cloud.Client.CallXmlAsync("one.acl.info")).Root!.Elements("ACL").Single(a => a.Element("ID")!.Value == id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(["200000001", "5400000000", "3", "400000000"], new[] { "USER", "RESOURCE", "RIGHTS", "ZONE" }.Select(n => sent.Element(n)!.Value));

        var split = await cloud.CreateAsync("acl", "create", "#0", "IMAGE+TEMPLATE/%0", "USE", "#0");
        Assert.Equal("RULE\n#0 IMAGE+TEMPLATE/%0 USE #0\n", await cloud.OkAsync("acl", "list", "-f", $"ID={split}", "-l", "RULE"));

        await cloud.OkAsync("acl", "delete", $"{id},{split}");
        Assert.DoesNotContain("VM+NET/* USE+MANAGE", await cloud.OkAsync("acl", "list", "-l", "RULE"), StringComparison.Ordinal);

        Assert.Equal("malformed ACL rule \"#1 FOO/* USE\": unknown resource \"FOO\" (one of VM, HOST, NET, IMAGE, USER, TEMPLATE, GROUP, DATASTORE, CLUSTER, DOCUMENT, ZONE, SECGROUP, VDC, VROUTER, MARKETPLACE, MARKETPLACEAPP, VMGROUP, VNTEMPLATE, HOOK, BACKUPJOB)",
            (await cloud.RunAsync("acl", "create", "#1 FOO/* USE")).Fails(1));
        Assert.StartsWith("malformed ACL rule \"#1 VM\":", (await cloud.RunAsync("acl", "create", "#1 VM")).Fails(1), StringComparison.Ordinal);
        Assert.Equal("ACL rule ids are numbers, not \"x\"", (await cloud.RunAsync("acl", "delete", "x")).Fails(1));
    }
}
