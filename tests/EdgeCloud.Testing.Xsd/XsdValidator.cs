using System.Collections.Concurrent;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;

namespace EdgeCloud.Testing.Xsd;

/// <summary>One schema-validation finding: where (element path without namespace) and what.</summary>
public sealed record SchemaIssue(string Path, string Message, XmlSeverityType Severity)
{
    public override string ToString() => $"{Severity} at {Path}: {Message}";
}

/// <summary>
/// Validates our documents against OpenNebula's XSDs (shared/opennebula-xsd). Our documents, like oned's,
/// carry no namespace; the schemas' target namespace is http://opennebula.org/XMLSchema, so every element is
/// moved into it before validation.
/// </summary>
/// <remarks>
/// Each root schema gets its own <see cref="XmlSchemaSet"/> (with its includes) rather than one set holding
/// every file: several files declare the same global element (vm_pool.xsd and vm_pool_extended.xsd both
/// declare VM_POOL, vnet_pool.xsd and vnet_pool_extended.xsd VNET_POOL), which one set cannot hold.
/// </remarks>
public sealed class XsdValidator
{
    public const string Namespace = "http://opennebula.org/XMLSchema";

    /// <summary>Environment variable naming the schema folder when it is not found beside the repository.</summary>
    public const string SchemaDirVariable = "EDGECLOUD_XSD_DIR";

    private readonly ConcurrentDictionary<string, XmlSchemaSet> _sets = new(StringComparer.Ordinal);

    public XsdValidator() : this(LocateSchemaDirectory()) { }

    public XsdValidator(string schemaDirectory) => SchemaDirectory = schemaDirectory;

    public string SchemaDirectory { get; }

    /// <summary>
    /// The repository is checked out as &lt;parent&gt;/main with &lt;parent&gt;/shared beside it: walk up from the test
    /// assembly to the first directory that has shared/opennebula-xsd; else use $EDGECLOUD_XSD_DIR.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">Neither place has the schemas.</exception>
    public static string LocateSchemaDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "opennebula-xsd");
            if (File.Exists(Path.Combine(candidate, "shared.xsd"))) return candidate;
        }
        var env = Environment.GetEnvironmentVariable(SchemaDirVariable);
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "shared.xsd"))) return env;
        throw new DirectoryNotFoundException(
            $"OpenNebula XSDs not found: no shared/opennebula-xsd above {AppContext.BaseDirectory} and ${SchemaDirVariable} unset or wrong");
    }

    /// <summary>Validates <paramref name="xml"/> against <paramref name="xsdFile"/> (e.g. "vm.xsd"); returns every finding.</summary>
    public IReadOnlyList<SchemaIssue> Validate(string xml, string xsdFile)
    {
        var doc = XDocument.Parse(xml, LoadOptions.None);
        XNamespace ns = Namespace;
        foreach (var e in doc.Root!.DescendantsAndSelf()) e.Name = ns + e.Name.LocalName;

        var issues = new List<SchemaIssue>();
        doc.Validate(SchemaSet(xsdFile), (sender, args) => issues.Add(new SchemaIssue(PathOf(sender), args.Message, args.Severity)));
        return issues;
    }

    private XmlSchemaSet SchemaSet(string xsdFile) => _sets.GetOrAdd(xsdFile, file =>
    {
        var resolver = new FolderResolver(SchemaDirectory);
        var set = new XmlSchemaSet { XmlResolver = resolver };
        var path = Path.Combine(SchemaDirectory, file);
        using (var reader = XmlReader.Create(path, new XmlReaderSettings { XmlResolver = resolver, DtdProcessing = DtdProcessing.Prohibit }))
            set.Add(Namespace, reader);
        set.Compile();
        return set;
    });

    private static string PathOf(object? sender)
    {
        var element = sender switch
        {
            XElement e => e,
            XAttribute a => a.Parent,
            XObject o => o.Parent,
            _ => null,
        };
        if (element is null) return "";
        var names = element.AncestorsAndSelf().Select(x => x.Name.LocalName).Reverse();
        return string.Join('/', names);
    }

    /// <summary>Resolves a schema include (shared.xsd, vm.xsd...) to the file of that name in the schema folder, nowhere else.</summary>
    private sealed class FolderResolver(string directory) : XmlResolver
    {
        public override object? GetEntity(Uri absoluteUri, string? role, Type? ofObjectToReturn)
        {
            var name = Path.GetFileName(absoluteUri.LocalPath);
            return File.OpenRead(Path.Combine(directory, name));
        }
    }
}
