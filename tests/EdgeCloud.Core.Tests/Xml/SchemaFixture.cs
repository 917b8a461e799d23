using EdgeCloud.Testing.Xsd;
using Xunit.Sdk;

namespace EdgeCloud.Core.Tests.Xml;

/// <summary>Shares one <see cref="XsdValidator"/> (compiled schema sets) across the tests of a class.</summary>
public sealed class SchemaFixture
{
    public XsdValidator Validator { get; } = new();

    /// <summary>
    /// Asserts that <paramref name="xml"/> validates against <paramref name="xsdFile"/>, allowing only the named
    /// oned deviations, each of which must actually occur.
    /// </summary>
    public void AssertValid(string xml, string xsdFile, params KnownOnedDeviation[] allowed)
    {
        var issues = Validator.Validate(xml, xsdFile);
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
                throw new XunitException($"{xsdFile}: expected known oned deviation '{d.Id}' did not occur; drop it from this test.\ndocument:\n{xml}");
        }
    }
}
