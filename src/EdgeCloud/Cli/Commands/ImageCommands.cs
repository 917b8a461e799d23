using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeCloud.Cli.Client;
using EdgeCloud.Core.Objects;
using static EdgeCloud.Cli.Client.Fmt;

namespace EdgeCloud.Cli.Commands;

/// <summary><c>edgecloud image</c>: disk images in image datastores (OpenNebula's <c>oneimage</c>).</summary>
public static class ImageCommands
{
    public static readonly OneKind Kind = new()
    {
        Command = "image",
        Noun = "image",
        Prefix = "image",
        PoolMethod = "one.imagepool.info",
        PoolArgs = [-2, -1, -1],
        Element = "IMAGE",
        Columns =
        [
            .. OneKind.OwnedColumns,
            new("DATASTORE", e => S(e, "DATASTORE")) { Shrink = true },
            new("SIZE", e => Mb(D(e, "SIZE"))) { Right = true },
            new("TYPE", e => EnumName<ImageType>(S(e, "TYPE"))),
            new("PER", e => YesNo(S(e, "PERSISTENT"))),
            new("STAT", e => Short(S(e, "STATE"))),
            new("RVMS", e => S(e, "RUNNING_VMS")) { Right = true },
            new("STATE", e => EnumName<ImageState>(S(e, "STATE"))) { Default = false },
            new("PATH", e => S(e, "PATH")) { Default = false, Shrink = true },
        ],
        Decoders = new Dictionary<string, Func<string, string>>
        {
            ["TYPE"] = EnumName<ImageType>,
            ["STATE"] = EnumName<ImageState>,
            ["PREV_STATE"] = EnumName<ImageState>,
            ["PERSISTENT"] = YesNo,
            ["SIZE"] = MbText,
        },
    };

    private static readonly string[] Types = ["OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT"];

    private static string Short(string state) => EnumName<ImageState>(state) switch
    {
        "INIT" => "init",
        "READY" => "rdy",
        "USED" or "USED_PERS" => "used",
        "DISABLED" => "disa",
        "LOCKED" or "LOCKED_USED" or "LOCKED_USED_PERS" => "lock",
        "ERROR" => "err",
        "CLONE" => "clon",
        "DELETE" => "dele",
        var other => other,
    };

    public static Command Build() => Verbs.Object(Kind, "Images: OS disks, CD-ROMs and data blocks",
    [
        Create(),
        Verbs.List(Kind),
        Verbs.Show(Kind),
        Verbs.Update(Kind),
        Verbs.Rename(Kind),
        Delete(),
        Verbs.Call(Kind, "persistent", "Make images persistent (changes are kept; one VM at a time)", "persistent", true),
        Verbs.Call(Kind, "nonpersistent", "Make images non-persistent (each VM gets a copy)", "persistent", false),
        Verbs.Call(Kind, "enable", "Enable images", "enable", true),
        Verbs.Call(Kind, "disable", "Disable images (no new VMs may use them)", "enable", false),
        Chtype(),
        Clone(),
        .. DiskCommands.ImageVerbs(),
        .. Verbs.Locking(Kind),
        .. Verbs.Ownership(Kind, UserCommands.Kind, GroupCommands.Kind),
    ]);

    private static Command Create()
    {
        var file = new Argument<string?>("FILE") { Description = "Template file ('-': standard input); or use --name and --path", Arity = ArgumentArity.ZeroOrOne };
        var datastore = Verbs.Text("--datastore", "Image datastore to put it in", "DATASTORE", "-d");
        datastore.Required = true;
        var name = Verbs.Text("--name", "Image name", "NAME");
        var path = Verbs.Text("--path", "File (or URL) to copy the image from", "PATH");
        var type = Verbs.Text("--type", "OS, CDROM, DATABLOCK, KERNEL, RAMDISK or CONTEXT", "TYPE");
        type.AcceptOnlyFromAmong(Types);
        var size = Verbs.Text("--size", "Size of an empty DATABLOCK, in MB or with a unit", "SIZE");
        var persistent = Verbs.Flag("--persistent", "Make it persistent");
        var description = Verbs.Text("--description", "A description", "TEXT");
        var prefix = Verbs.Text("--prefix", "Device prefix, e.g. vd or sd", "PREFIX");
        var format = Verbs.Text("--format", "Disk format, e.g. raw or qcow2", "FORMAT");
        var wait = Verbs.Flag("--wait", "Wait until the image is READY (its copy done)");
        return Verbs.Make("create", "Register an image from a file or URL (or an empty data block) in a datastore",
            [file, datastore, name, path, type, size, persistent, description, prefix, format, wait], async c =>
            {
                string text;
                if (c.Get(file) is { } f)
                {
                    text = TemplateInput.Read(f);
                }
                else
                {
                    if (c.Get(name) is not { } n) throw new CliException("give --name (and --path or --size), or a template file");
                    if (c.Get(path) is null && c.Get(size) is null) throw new CliException("give --path FILE, or --size for an empty DATABLOCK");
                    var lines = new List<string>();
                    if (c.Get(type) is { } t) lines.Add("TYPE=" + TemplateInput.Quote(t.ToUpperInvariant()));
                    else if (c.Get(path) is null) lines.Add("TYPE=\"DATABLOCK\"");
                    if (c.Get(path) is { } p) lines.Add("PATH=" + TemplateInput.Quote(AbsolutePath(p)));
                    if (c.Get(size) is { } s) lines.Add(string.Create(CultureInfo.InvariantCulture, $"SIZE={TemplateInput.MemoryMb(s)}"));
                    if (c.Get(persistent)) lines.Add("PERSISTENT=\"YES\"");
                    if (c.Get(description) is { } d) lines.Add("DESCRIPTION=" + TemplateInput.Quote(d));
                    if (c.Get(prefix) is { } pre) lines.Add("DEV_PREFIX=" + TemplateInput.Quote(pre));
                    if (c.Get(format) is { } fmt) lines.Add("FORMAT=" + TemplateInput.Quote(fmt));
                    lines.Add("NAME=" + TemplateInput.Quote(n));
                    text = TemplateInput.Join(lines);
                }
                var ds = await c.ResolveAsync(DatastoreCommands.Kind, c.Get(datastore)!).ConfigureAwait(false);
                var id = await c.CallIntAsync("one.image.allocate", text, ds, false).ConfigureAwait(false);
                Verbs.PrintId(id);
                if (c.Get(wait)) await WaitReadyAsync(c, id).ConfigureAwait(false);
            });
    }

    /// <summary>Local paths are made absolute, as OpenNebula's CLI does; URLs are left alone.</summary>
    private static string AbsolutePath(string path) =>
        path.Contains("://", StringComparison.Ordinal) || Path.IsPathRooted(path) ? path : Path.GetFullPath(path);

    private static Command Delete()
    {
        var force = Verbs.Flag("--force", "Delete even if the image is in use or locked");
        return Verbs.ForEach(Kind, "delete", "Delete images", [force], (c, id) => c.CallAsync("one.image.delete", id, c.Get(force)));
    }

    private static Command Chtype()
    {
        var image = Verbs.Id(Kind, "IMAGE");
        var type = new Argument<string>("TYPE") { Description = "OS, CDROM, DATABLOCK, KERNEL, RAMDISK or CONTEXT" };
        type.AcceptOnlyFromAmong(Types);
        return Verbs.Make("chtype", "Change the type of an image", [image, type], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(image)!).ConfigureAwait(false);
            await c.CallAsync("one.image.chtype", id, c.Get(type)!.ToUpperInvariant()).ConfigureAwait(false);
        });
    }

    private static Command Clone()
    {
        var image = Verbs.Id(Kind, "IMAGE");
        var name = new Argument<string>("NAME") { Description = "Name of the copy" };
        var datastore = Verbs.Text("--datastore", "Datastore for the copy (default: the same)", "DATASTORE", "-d");
        var wait = Verbs.Flag("--wait", "Wait until the copy is READY");
        return Verbs.Make("clone", "Copy an image", [image, name, datastore, wait], async c =>
        {
            var id = await c.ResolveAsync(Kind, c.Get(image)!).ConfigureAwait(false);
            var ds = c.Get(datastore) is { } d ? await c.ResolveAsync(DatastoreCommands.Kind, d).ConfigureAwait(false) : -1;
            var copy = await c.CallIntAsync("one.image.clone", id, c.Get(name)!, ds).ConfigureAwait(false);
            Verbs.PrintId(copy);
            if (c.Get(wait)) await WaitReadyAsync(c, copy).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Polls until the image leaves LOCKED/CLONE/INIT: READY prints, ERROR fails (exit code of a server error,
    /// the image's TEMPLATE/ERROR in the message). While the copy runs, a progress bar from the image's
    /// TEMPLATE/TRANSFER_PROGRESS is drawn on stderr when it is a terminal (also used by <c>marketapp export --wait</c>).
    /// </summary>
    internal static async Task WaitReadyAsync(CliContext c, int id)
    {
        var clock = Stopwatch.StartNew();
        var drawn = false;
        while (true)
        {
            var e = await c.InfoAsync(Kind, id).ConfigureAwait(false);
            var state = (ImageState)(int)L(e, "STATE");
            if (drawn && state is ImageState.READY or ImageState.USED or ImageState.USED_PERS or ImageState.ERROR)
                Console.Error.WriteLine(); // end the progress line
            if (state is ImageState.READY or ImageState.USED or ImageState.USED_PERS)
            {
                CliContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"IMAGE {id}: {state}"));
                return;
            }
            if (state == ImageState.ERROR)
                throw new CliException($"image {id} is in ERROR: {S(e, "TEMPLATE/ERROR")}", CliExit.Server);
            // The fs datastore driver reports the copy's progress; drawn on a terminal only.
            if (!Console.IsErrorRedirected && int.TryParse(S(e, "TEMPLATE/TRANSFER_PROGRESS"), CultureInfo.InvariantCulture, out var pct))
            {
                Console.Error.Write("\r" + ProgressLine(id, pct));
                drawn = true;
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(30))
                throw new CliException($"timed out waiting for image {id} to be READY; it is {state}");
            await Task.Delay(250, c.Ct).ConfigureAwait(false);
        }
    }

    /// <summary>One line of the copy's progress bar: <c>IMAGE 5 [#########...........]  45%</c>.</summary>
    internal static string ProgressLine(int id, int percent)
    {
        const int width = 30;
        var p = Math.Clamp(percent, 0, 100);
        var done = p * width / 100;
        return string.Create(CultureInfo.InvariantCulture, $"IMAGE {id} [{new string('#', done)}{new string('.', width - done)}] {p,3}%");
    }
}
