using System.Xml.Linq;

namespace EdgeCloud.Cli.Client;

/// <summary>A list column: its header, how to read it from a pool element, and how it behaves in the table.</summary>
/// <param name="Name">Header (upper case; what --list and --filter name).</param>
/// <param name="Value">The cell text of one pool element.</param>
public sealed record Column(string Name, Func<XElement, string> Value)
{
    /// <summary>Right-aligned (numbers).</summary>
    public bool Right { get; init; }

    /// <summary>May be shortened to fit the terminal (names, free text).</summary>
    public bool Shrink { get; init; }

    /// <summary>Shown without --list (others only when --list names them).</summary>
    public bool Default { get; init; } = true;
}

/// <summary>A titled part of a <c>show</c> block: key/value rows, a table, or free text.</summary>
public sealed record ShowSection(string Title)
{
    public IReadOnlyList<(string Key, string Value)> Rows { get; init; } = [];

    public IReadOnlyList<string>? TableHeader { get; init; }

    public IReadOnlyList<IReadOnlyList<string>> TableRows { get; init; } = [];

    public string? Text { get; init; }
}

/// <summary>
/// What the CLI knows about one kind of OpenNebula object: its command word, the methods and arguments OpenNebula's CLI
/// uses to list and read it, its list columns and how <c>show</c> decodes its fields.
/// </summary>
public sealed record OneKind
{
    /// <summary>The command word (<c>vm</c>, <c>vnet</c>...).</summary>
    public required string Command { get; init; }

    /// <summary>Lower-case noun for messages (<c>virtual machine</c>).</summary>
    public required string Noun { get; init; }

    public string? PluralNoun { get; init; }

    public string Plural => PluralNoun ?? Noun + "s";

    /// <summary>The method prefix: <c>one.{Prefix}.info</c>.</summary>
    public required string Prefix { get; init; }

    public required string PoolMethod { get; init; }

    /// <summary>Arguments of the pool call as OpenNebula's CLI sends them (filter -2, start -1, end -1 for owned objects).</summary>
    public object?[] PoolArgs { get; init; } = [];

    /// <summary>The element name of one object (<c>VM</c>) inside the pool document.</summary>
    public required string Element { get; init; }

    /// <summary>Arguments of <c>info</c> after the id (decrypt=false; templates also extended=false).</summary>
    public object?[] InfoExtra { get; init; } = [false];

    /// <summary>Names can stand for ids (every kind but ACL rules).</summary>
    public bool ByName { get; init; } = true;

    public IReadOnlyList<Column> Columns { get; init; } = [];

    /// <summary>The first list columns of every object with an owner: ID, USER, GROUP, NAME.</summary>
    public static readonly Column[] OwnedColumns =
    [
        new("ID", e => Fmt.S(e, "ID")) { Right = true },
        new("USER", e => Fmt.S(e, "UNAME")) { Shrink = true },
        new("GROUP", e => Fmt.S(e, "GNAME")) { Shrink = true },
        new("NAME", e => Fmt.S(e, "NAME")) { Shrink = true },
    ];

    /// <summary>Decoders for <c>show</c>: element name → readable value (state numbers to names...).</summary>
    public IReadOnlyDictionary<string, Func<string, string>> Decoders { get; init; } = new Dictionary<string, Func<string, string>>();

    /// <summary>Extra sections of <c>show</c> (disks, NICs, address ranges...).</summary>
    public Func<XElement, IEnumerable<ShowSection>>? Sections { get; init; }

    /// <summary>Elements <c>show</c> leaves out of the generic part (they are shown by <see cref="Sections"/> or are noise).</summary>
    public IReadOnlySet<string> Skip { get; init; } = new HashSet<string>();

    /// <summary>The owner can be filtered in <c>list</c> (pool calls that take a filter flag).</summary>
    public bool Owned => PoolArgs.Length >= 3;

    public string InfoMethod => $"one.{Prefix}.info";

    public string Method(string verb) => $"one.{Prefix}.{verb}";

    /// <summary>The title of the template part of <c>show</c> (default <c>{Title} TEMPLATE</c>).</summary>
    public string? TemplateTitle { get; init; }

    /// <summary>The upper-case title of <c>show</c> (<c>VIRTUAL MACHINE 3 INFORMATION</c>).</summary>
    public string Title => Noun.ToUpperInvariant();
}
