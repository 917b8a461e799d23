using Xunit.Abstractions;
using Xunit.Sdk;

namespace EdgeCloud.Testing;

/// <summary>The store a front-end under test runs on.</summary>
public enum Backend
{
    Sqlite,
    Postgres,
}

/// <summary>
/// [Fact] for suites that run on both stores. A suite is written once as an abstract base class with
/// one concrete subclass per backend; this attribute's discoverer looks at the concrete class running
/// the test, and when that class is marked <see cref="RequiresPostgresAttribute"/> and no server is
/// configured, it reports the test as skipped with the reason, on a developer's machine only. With
/// CI=true it never skips: the tests run and fail loudly, saying how to provide the server
/// (see <see cref="PostgresTestServer"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("EdgeCloud.Testing.BackendFactDiscoverer", "EdgeCloud.Testing")]
public sealed class BackendFactAttribute : FactAttribute;

/// <summary>[Theory] with the skipping rule of <see cref="BackendFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("EdgeCloud.Testing.BackendTheoryDiscoverer", "EdgeCloud.Testing")]
public sealed class BackendTheoryAttribute : TheoryAttribute;

/// <summary>Marks a concrete suite class whose tests need the PostgreSQL server of EDGECLOUD_TEST_POSTGRES.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute;

/// <summary>Discovers <see cref="BackendFactAttribute"/> tests, skipping PostgreSQL ones when allowed.</summary>
public sealed class BackendFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        if (BackendSkip.ReasonFor(testMethod) is { } reason)
            return [new XunitSkippedDataRowTestCase(diagnosticMessageSink, display, displayOptions, testMethod, reason)];
        return [new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod)];
    }
}

/// <summary>Discovers <see cref="BackendTheoryAttribute"/> tests, skipping PostgreSQL ones when allowed.</summary>
public sealed class BackendTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute)
    {
        if (BackendSkip.ReasonFor(testMethod) is { } reason)
        {
            return [new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
        }
        return base.Discover(discoveryOptions, testMethod, theoryAttribute);
    }
}

internal static class BackendSkip
{
    public static string? ReasonFor(ITestMethod testMethod) =>
        testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresPostgresAttribute)).Any() ? PostgresTestServer.SkipReason : null;
}

/// <summary>Where the PostgreSQL tests find their server, and what to say when there is none.</summary>
public static class PostgresTestServer
{
    public const string Variable = "EDGECLOUD_TEST_POSTGRES";

    /// <summary>The Npgsql connection string of a role with CREATEDB, or null.</summary>
    public static string? ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } s ? s : null;

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public const string HowTo =
        "Provide a server: on Debian as root run `eval \"$(scripts/postgres-test.sh)\"` before `dotnet test` " +
        "(it installs PostgreSQL if needed, starts a throw-away cluster on 127.0.0.1:55432 and exports " + Variable + "), " +
        "or set " + Variable + " to an Npgsql connection string of a role with CREATEDB, e.g. " +
        "'Host=127.0.0.1;Port=5432;Username=edgecloud;Password=...;Database=postgres'.";

    /// <summary>Non-null when the PostgreSQL tests may be skipped: no server and not in CI.</summary>
    public static string? SkipReason =>
        ConnectionString is null && !InCi ? $"{Variable} is not set (PostgreSQL tests skipped on this machine). {HowTo}" : null;

    /// <summary>The failure when the tests must run (CI=true) and there is no server.</summary>
    public static InvalidOperationException Missing() =>
        new($"{Variable} is not set, and CI=true: the PostgreSQL tests must run in CI and are not skipped. {HowTo}");
}
