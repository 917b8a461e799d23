using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Data.Sqlite;

namespace EdgeCloud.Store.Tests;

/// <summary>The contract on SQLite: a new temporary directory (and database file) per test.</summary>
public sealed class SqliteStateStoreTests : StateStoreContract
{
    protected override string ExpectedBackend => "sqlite";

    protected override int LatestSchemaVersion => SqliteStateStore.LatestSchemaVersion;

    protected override Task<string> CreateLocationAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "edgecloud-store-tests", Guid.NewGuid().ToString("N"));
        // The store creates missing directories: leave "db" for it to make.
        return Task.FromResult(Path.Combine(dir, "db", "state.db"));
    }

    protected override Task DeleteLocationAsync(string location)
    {
        var dir = Path.GetDirectoryName(Path.GetDirectoryName(location))!;
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        return Task.CompletedTask;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Location, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    protected override Task ExecuteSqlAsync(string sql)
    {
        using var connection = Connect();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    protected override Task<object?> QueryScalarAsync(string sql)
    {
        using var connection = Connect();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return Task.FromResult(cmd.ExecuteScalar());
    }

    protected override string InjectFailureSql(int id) =>
        $"CREATE TRIGGER inject_failure BEFORE INSERT ON objects WHEN NEW.id = {id} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;";

    protected override string RemoveFailureSql => "DROP TRIGGER inject_failure";

    [Fact]
    public async Task The_file_is_in_WAL_mode_with_JSON_text_bodies()
    {
        var store = await OpenAsync();
        await CommitAsync(store, StateSnapshot.Empty, Samples.Write(Samples.Vm(1)));
        Assert.Equal("wal", await QueryScalarAsync("PRAGMA journal_mode"));
        Assert.Equal("text", await QueryScalarAsync("SELECT typeof(body) FROM objects"));
        // The body is plain JSON that SQLite itself can query.
        Assert.Equal("one-1", await QueryScalarAsync("SELECT json_extract(body, '$.DeployId') FROM objects"));
        Assert.Equal(Samples.Vm(1).Name, await QueryScalarAsync("SELECT json_extract(body, '$.Name') FROM objects"));
        Assert.Equal(Samples.Vm(1).Name, await QueryScalarAsync("SELECT name FROM objects"));
        Assert.Equal(Location, ((SqliteStateStore)store).DataSource);
    }

    [Fact]
    public async Task A_Data_Source_connection_string_opens_the_same_file()
    {
        var store = await OpenAsync();
        var model = await CommitAsync(store, StateSnapshot.Empty, Samples.Write(Samples.Host(1)), Samples.Sequence(ObjectType.Host, 1));

        await using var other = StateStoreFactory.Create($"Data Source={Location};Default Timeout=5");
        Assert.IsType<SqliteStateStore>(other);
        await other.InitializeAsync(Ct);
        AssertState(model, await other.LoadAsync(Ct));
    }
}
