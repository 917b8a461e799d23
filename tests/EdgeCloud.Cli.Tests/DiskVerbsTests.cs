namespace EdgeCloud.Cli.Tests;

/// <summary>The disk snapshot, resize, save-as, backup and restore verbs, as an operator uses them (dummy drivers).</summary>
public sealed class DiskVerbsTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [Fact]
    public async Task Disk_snapshots_resize_saveas_backup_and_restore()
    {
        await cloud.OkAsync("template", "create", "--name", "disky", "--cpu", "0.5", "--memory", "128", "--disk", "img");
        var created = await cloud.OkAsync("template", "instantiate", "disky", "--name", "db", "--wait", "RUNNING");
        var id = created.Split('\n')[0]["VM ID: ".Length..];

        Assert.Equal($"VM {id}: RUNNING\n", await cloud.OkAsync("vm", "disk-resize", "db", "0", "2048", "--wait", "RUNNING"));
        Assert.Equal($"SNAPSHOT ID: 0\nVM {id}: RUNNING\n", await cloud.OkAsync("vm", "disk-snapshot-create", "db", "0", "before", "--wait", "RUNNING"));
        Assert.Equal($"SNAPSHOT ID: 1\nVM {id}: RUNNING\n", await cloud.OkAsync("vm", "disk-snapshot-create", "db", "0", "--wait", "RUNNING"));
        await cloud.OkAsync("vm", "disk-snapshot-rename", "db", "0", "1", "after");
        Assert.Contains("<NAME>after</NAME>", await cloud.OkAsync("vm", "show", "db", "--xml"), StringComparison.Ordinal);

        // Revert needs the VM off, as OpenNebula: the server's refusal exits 255 with its message.
        var refused = await cloud.RunAsync("vm", "disk-snapshot-revert", "db", "0", "0");
        Assert.Equal(255, refused.ExitCode);
        Assert.Contains("not available for state RUNNING", refused.Stderr, StringComparison.Ordinal);

        await cloud.OkAsync("vm", "poweroff", "db", "--wait", "POWEROFF");
        Assert.Equal($"VM {id}: POWEROFF\n", await cloud.OkAsync("vm", "disk-snapshot-revert", "db", "0", "0", "--wait", "POWEROFF"));
        Assert.Equal($"VM {id}: POWEROFF\n", await cloud.OkAsync("vm", "disk-snapshot-delete", "db", "0", "1", "--wait", "POWEROFF"));
        Assert.Matches(@"^IMAGE ID: \d+\n", await cloud.OkAsync("vm", "disk-saveas", "db", "0", "db-disk", "--snapshot", "0", "--wait", "POWEROFF"));

        var dsFile = Path.Combine(cloud.Dir, "backups.tpl");
        await File.WriteAllTextAsync(dsFile, "NAME = backups\nTYPE = BACKUP_DS\nDS_MAD = dummy\nTM_MAD = dummy\n");
        await cloud.OkAsync("datastore", "create", dsFile);
        Assert.Equal($"VM {id}: POWEROFF\n", await cloud.OkAsync("vm", "backup", "db", "--datastore", "backups", "--wait", "POWEROFF"));
        var backupId = System.Xml.Linq.XElement.Parse(await cloud.OkAsync("vm", "show", "db", "--xml")).Element("BACKUPS")!.Element("BACKUP_IDS")!.Element("ID")!.Value;

        var restored = await cloud.OkAsync("image", "restore", backupId, "--datastore", "default", "--name", "db-restored");
        Assert.Matches(@"^IMAGE_IDS=\d+ TEMPLATE_ID=\d+\n$", restored);
        Assert.Contains("db-restored", await cloud.OkAsync("template", "list"), StringComparison.Ordinal);
    }
}
