using Xunit.Sdk;

namespace EdgeCloud.Testing.Xsd;

/// <summary>
/// Validation of documents against OpenNebula's XSDs (shared/opennebula-xsd), as
/// tests/EdgeCloud.Core.Tests/Xml does it: one compiled schema set per root schema, shared by every
/// test of the process; any finding fails unless it is one of the named oned deviations
/// (<see cref="KnownOnedDeviations"/>), and a named deviation that does not occur fails too.
/// </summary>
public static class Schemas
{
    private static readonly Lazy<XsdValidator> Shared = new(() => new XsdValidator(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static XsdValidator Validator => Shared.Value;

    /// <summary>Asserts that <paramref name="xml"/> validates against <paramref name="xsdFile"/>, allowing only (and requiring) <paramref name="allowed"/>.</summary>
    public static void AssertValid(string xml, string xsdFile, params KnownOnedDeviation[] allowed)
    {
        IReadOnlyList<SchemaIssue> issues;
        lock (Shared)
        {
            // XmlSchemaSet validation is not documented as thread-safe; the suites run classes in parallel.
            issues = Validator.Validate(xml, xsdFile);
        }
        var unexplained = issues.Where(i => !allowed.Any(d => d.Matches(i))).ToList();
        if (unexplained.Count > 0)
        {
            throw new XunitException(
                $"{xsdFile}: {unexplained.Count} validation error(s) not explained by [{string.Join(", ", allowed.Select(a => a.Id))}]:\n  " +
                string.Join("\n  ", unexplained) + "\ndocument:\n" + xml);
        }
        foreach (var d in allowed)
        {
            if (!issues.Any(d.Matches))
                throw new XunitException($"{xsdFile}: expected known oned deviation '{d.Id}' did not occur; drop it from this assertion.\ndocument:\n{xml}");
        }
    }
}
