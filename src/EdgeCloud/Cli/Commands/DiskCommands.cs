using System.CommandLine;
using System.Globalization;
using EdgeCloud.Cli.Client;

namespace EdgeCloud.Cli.Commands;

/// <summary>
/// Disk snapshots, disk resize, disk save-as and backups: <c>edgecloud vm disk-snapshot-create|disk-snapshot-revert|
/// disk-snapshot-delete|disk-snapshot-rename|disk-resize|disk-saveas|backup|backup-cancel</c> (as <c>onevm</c>) and
/// <c>edgecloud image snapshot-revert|snapshot-delete|snapshot-flatten|restore</c> (as <c>oneimage</c>).
/// </summary>
public static class DiskCommands
{
    private static Argument<int> DiskId() => new("DISK_ID") { Description = "The disk's id (see vm show)" };

    private static Argument<int> SnapId() => new("SNAPSHOT_ID") { Description = "The disk snapshot's id (see vm show)" };

    public static IEnumerable<Command> VmVerbs()
    {
        yield return Vm("disk-snapshot-create", "Take a snapshot of a VM disk (live when the VM runs)", [new Argument<string>("NAME") { Description = "Snapshot name", Arity = ArgumentArity.ZeroOrOne }],
            async (c, id, a) => Verbs.PrintId(await c.CallIntAsync("one.vm.disksnapshotcreate", id, a[0], a[1] ?? "").ConfigureAwait(false), "SNAPSHOT ID"));
        yield return Vm("disk-snapshot-revert", "Revert a VM disk to a snapshot (the VM must be powered off or suspended)", [SnapId()],
            (c, id, a) => c.CallAsync("one.vm.disksnapshotrevert", id, a[0], a[1]));
        yield return Vm("disk-snapshot-delete", "Delete a VM disk snapshot", [SnapId()],
            (c, id, a) => c.CallAsync("one.vm.disksnapshotdelete", id, a[0], a[1]));
        yield return Vm("disk-snapshot-rename", "Rename a VM disk snapshot", [SnapId(), new Argument<string>("NAME") { Description = "New name" }],
            (c, id, a) => c.CallAsync("one.vm.disksnapshotrename", id, a[0], a[1], a[2]));
        yield return Vm("disk-resize", "Grow a VM disk (live when the VM runs)", [new Argument<string>("SIZE") { Description = "New size in MiB (larger than the current one)" }],
            (c, id, a) => c.CallAsync("one.vm.diskresize", id, a[0], a[1]));
        yield return SaveAs();
        yield return Backup();
        var cancelled = Verbs.Id(VmCommands.Kind, "VM");
        yield return Verbs.Make("backup-cancel", "Cancel the backup a VM is taking", [cancelled], async c =>
        {
            var id = await c.ResolveAsync(VmCommands.Kind, c.Get(cancelled)!).ConfigureAwait(false);
            await c.CallAsync("one.vm.backupcancel", id).ConfigureAwait(false);
        });
    }

    /// <summary>A `vm VERB VM DISK_ID ...` verb: <paramref name="run"/> gets the VM id and the values of DISK_ID and the extra arguments.</summary>
    private static Command Vm(string verb, string description, Argument[] extra, Func<CliContext, int, object?[], Task> run)
    {
        var vm = Verbs.Id(VmCommands.Kind, "VM");
        var disk = DiskId();
        var wait = new VmWait();
        return Verbs.Make(verb, description, [vm, disk, .. extra, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(VmCommands.Kind, c.Get(vm)!).ConfigureAwait(false);
            var values = new object?[extra.Length + 1];
            values[0] = c.Get(disk);
            for (var i = 0; i < extra.Length; i++)
                values[i + 1] = extra[i] switch
                {
                    Argument<int> n => c.Get(n),
                    Argument<string> s => c.Get(s),
                    _ => null,
                };
            await run(c, id, values).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command SaveAs()
    {
        var vm = Verbs.Id(VmCommands.Kind, "VM");
        var disk = DiskId();
        var name = new Argument<string>("IMAGE_NAME") { Description = "Name of the new image" };
        var type = Verbs.Text("--type", "Type of the new image (OS, DATABLOCK, CDROM; default: the source image's)", "TYPE");
        var snapshot = new Option<int>("--snapshot") { Description = "Save this disk snapshot instead of the disk as it is", HelpName = "SNAPSHOT_ID", DefaultValueFactory = _ => -1 };
        var wait = new VmWait();
        return Verbs.Make("disk-saveas", "Save a VM disk (or one of its snapshots) as a new image", [vm, disk, name, type, snapshot, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(VmCommands.Kind, c.Get(vm)!).ConfigureAwait(false);
            Verbs.PrintId(await c.CallIntAsync("one.vm.disksaveas", id, c.Get(disk), c.Get(name)!, c.Get(type) ?? "", c.Get(snapshot)).ConfigureAwait(false), "IMAGE ID");
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    private static Command Backup()
    {
        var vm = Verbs.Id(VmCommands.Kind, "VM");
        var datastore = Verbs.Text("--datastore", "Backup datastore (TYPE BACKUP_DS); default: the last one used", "DATASTORE", "-d");
        var reset = Verbs.Flag("--reset", "Start a new full backup chain (incremental mode)");
        var wait = new VmWait();
        return Verbs.Make("backup", "Back a VM's disks up (full, or incremental with BACKUP_CONFIG/MODE=INCREMENT)", [vm, datastore, reset, .. wait.Symbols], async c =>
        {
            wait.Check(c);
            var id = await c.ResolveAsync(VmCommands.Kind, c.Get(vm)!).ConfigureAwait(false);
            var ds = c.Get(datastore) is { } d ? await c.ResolveAsync(DatastoreCommands.Kind, d).ConfigureAwait(false) : -1;
            await c.CallAsync("one.vm.backup", id, ds, c.Get(reset)).ConfigureAwait(false);
            await wait.RunAsync(c, id).ConfigureAwait(false);
        });
    }

    public static IEnumerable<Command> ImageVerbs()
    {
        yield return ImageSnapshot("snapshot-revert", "Revert an image to one of its snapshots", "snapshotrevert");
        yield return ImageSnapshot("snapshot-delete", "Delete an image snapshot", "snapshotdelete");
        yield return ImageSnapshot("snapshot-flatten", "Make an image its snapshot's content, with no snapshots left", "snapshotflatten");
        var image = Verbs.Id(ImageCommands.Kind, "IMAGE");
        var datastore = Verbs.Text("--datastore", "Image datastore to restore into", "DATASTORE", "-d");
        datastore.Required = true;
        var name = Verbs.Text("--name", "Name (prefix) of the restored images and template", "NAME");
        var increment = Verbs.Text("--increment", "Restore up to this increment (default: the last)", "ID");
        var disk = Verbs.Text("--disk-id", "Restore only this disk", "DISK_ID");
        var noNic = Verbs.Flag("--no-nic", "No network interfaces in the restored template");
        var noIp = Verbs.Flag("--no-ip", "Keep the interfaces but not their IP and MAC addresses");
        yield return Verbs.Make("restore", "Restore a backup image into new images and a VM template", [image, datastore, name, increment, disk, noNic, noIp], async c =>
        {
            var id = await c.ResolveAsync(ImageCommands.Kind, c.Get(image)!).ConfigureAwait(false);
            var ds = await c.ResolveAsync(DatastoreCommands.Kind, c.Get(datastore)!).ConfigureAwait(false);
            var options = new List<string>();
            if (c.Get(name) is { } n) options.Add($"NAME=\"{n.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
            if (c.Get(increment) is { } inc) options.Add($"INCREMENT_ID={int.Parse(inc, CultureInfo.InvariantCulture)}");
            if (c.Get(disk) is { } dk) options.Add($"DISK_ID={int.Parse(dk, CultureInfo.InvariantCulture)}");
            if (c.Get(noNic)) options.Add("NO_NIC=YES");
            if (c.Get(noIp)) options.Add("NO_IP=YES");
            var result = await c.CallAsync("one.image.restore", id, ds, string.Join("\n", options)).ConfigureAwait(false);
            CliContext.Out.WriteLine(result.AsString());
        });
    }

    private static Command ImageSnapshot(string verb, string description, string method)
    {
        var image = Verbs.Id(ImageCommands.Kind, "IMAGE");
        var snap = new Argument<int>("SNAPSHOT_ID") { Description = "The snapshot's id (see image show)" };
        return Verbs.Make(verb, description, [image, snap], async c =>
        {
            var id = await c.ResolveAsync(ImageCommands.Kind, c.Get(image)!).ConfigureAwait(false);
            await c.CallAsync($"one.image.{method}", id, c.Get(snap)).ConfigureAwait(false);
        });
    }
}
