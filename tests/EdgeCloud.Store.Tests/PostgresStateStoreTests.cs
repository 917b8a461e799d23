using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Npgsql;

namespace EdgeCloud.Store.Tests;

/// <summary>
/// A database of its own for one test class, created on the server of EDGECLOUD_TEST_POSTGRES and
/// dropped afterwards. Without the variable it does nothing; the tests then skip (developer) or fail
/// saying how to provide a server (CI).
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _server;
    private string? _name;

    /// <summary>Connection string of the fresh database, or null without a server.</summary>
    public string? ConnectionString { get; private set; }

    public async Task InitializeAsync()
    {
        _server = PostgresTestServer.ConnectionString;
        if (_server is null) return;
        var name = "edgecloud_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(_server))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await cmd.ExecuteNonQueryAsync();
        }
        _name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_server is null || _name is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>The contract on PostgreSQL: one database per class, one schema (search path) per test.</summary>
[RequiresPostgres]
public sealed class PostgresStateStoreTests(PostgresDatabase database) : StateStoreContract, IClassFixture<PostgresDatabase>
{
    protected override string ExpectedBackend => "postgresql";

    protected override int LatestSchemaVersion => PostgresStateStore.LatestSchemaVersion;

    protected override async Task<string> CreateLocationAsync()
    {
        var db = database.ConnectionString ?? throw PostgresTestServer.Missing();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync(Ct);
            await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await cmd.ExecuteNonQueryAsync(Ct);
        }
        return new NpgsqlConnectionStringBuilder(db) { SearchPath = schema }.ConnectionString;
    }

    protected override async Task DeleteLocationAsync(string location)
    {
        var builder = new NpgsqlConnectionStringBuilder(location);
        var schema = builder.SearchPath;
        builder.SearchPath = null;
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    protected override async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Location);
        await connection.OpenAsync(Ct);
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(Ct);
    }

    protected override async Task<object?> QueryScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Location);
        await connection.OpenAsync(Ct);
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteScalarAsync(Ct);
    }

    protected override string InjectFailureSql(int id) => $"""
        CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id = {id} THEN RAISE EXCEPTION 'injected failure'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER inject_failure BEFORE INSERT ON objects FOR EACH ROW EXECUTE FUNCTION inject_failure();
        """;

    protected override string RemoveFailureSql => "DROP TRIGGER inject_failure ON objects; DROP FUNCTION inject_failure();";

    [BackendFact]
    public async Task A_postgres_URI_reaches_the_same_store()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write(Samples.Vm(1)), Samples.Sequence(ObjectType.Vm, 1));

        var b = new NpgsqlConnectionStringBuilder(Location);
        var uri = $"postgresql://{Uri.EscapeDataString(b.Username!)}:{Uri.EscapeDataString(b.Password ?? "")}@{b.Host}:{b.Port}/{Uri.EscapeDataString(b.Database!)}?search_path={b.SearchPath}&application_name=edgecloud%20tests";
        await using var other = StateStoreFactory.Create(uri);
        Assert.IsType<PostgresStateStore>(other);
        await other.InitializeAsync(Ct);
        AssertState(model, await other.LoadAsync(Ct));
    }

    [BackendFact]
    public async Task Names_with_NUL_are_stored_and_the_body_keeps_them()
    {
        // PostgreSQL text cannot hold U+0000: the name column gets U+FFFD, the body keeps the real name.
        var store = await OpenAsync();
        var vm = Samples.Vm(1) with { Name = "a\0b" };
        var host = Samples.Host(2) with { Template = new() };
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write(vm, host));
        Assert.Equal("a\uFFFDb", await QueryScalarAsync($"SELECT name FROM objects WHERE type = {(int)ObjectType.Vm}"));
        var loaded = await LoadFreshAsync();
        AssertState(model, loaded);
        Assert.Equal("a\0b", loaded.Objects.Single(o => o.Type == ObjectType.Vm).Name);
        // Bodies are JSON that SQL can read (json/jsonb refuse a document holding \u0000, which the host has not).
        Assert.Equal("kvm", await QueryScalarAsync($"SELECT body::jsonb ->> 'ImMad' FROM objects WHERE type = {(int)ObjectType.Host}"));
    }
}
