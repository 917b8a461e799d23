using EdgeCloud.Frontend;

namespace EdgeCloud.Testing;

/// <summary>
/// One front-end shared by the tests of a class (xunit class fixture). Subclasses pick the backend;
/// a PostgreSQL fixture without a server starts nothing on a developer's machine (its tests are
/// skipped by <see cref="BackendFactAttribute"/>) and fails loudly with CI=true.
/// </summary>
public abstract class FrontendFixture(Backend backend) : IAsyncLifetime
{
    private FrontendHandle? _frontend;

    public Backend Backend { get; } = backend;

    public FrontendHandle Frontend => _frontend ?? throw (Backend == Backend.Postgres ? PostgresTestServer.Missing() : new InvalidOperationException("The front-end did not start."));

    /// <summary>Options of the shared front-end; the defaults unless a subclass needs others.</summary>
    protected virtual FrontendOptions Configure(FrontendOptions options) => options;

    public async Task InitializeAsync()
    {
        if (Backend == Backend.Postgres && PostgresTestServer.SkipReason is not null) return;
        _frontend = await FrontendHandle.StartAsync(Backend, Configure);
    }

    public async Task DisposeAsync()
    {
        if (_frontend is not null) await _frontend.DisposeAsync();
    }
}

/// <summary>A shared front-end on SQLite.</summary>
public sealed class SqliteFrontend() : FrontendFixture(Backend.Sqlite);

/// <summary>A shared front-end on a fresh PostgreSQL database.</summary>
public sealed class PostgresFrontend() : FrontendFixture(Backend.Postgres);
