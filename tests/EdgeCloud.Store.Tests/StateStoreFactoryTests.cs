using Npgsql;

namespace EdgeCloud.Store.Tests;

/// <summary>Backend choice and URI conversion; nothing here connects anywhere.</summary>
public sealed class StateStoreFactoryTests
{
    [Theory]
    [InlineData("/var/lib/edgecloud/state.db", false)]
    [InlineData("state.db", false)]
    [InlineData("Data Source=/var/lib/edgecloud/state.db", false)]
    [InlineData("data source=state.db;Cache=Shared", false)]
    [InlineData("/tmp/odd=name/state.db", false)]
    [InlineData("postgres://edgecloud:secret@db.example.org:5432/edgecloud", true)]
    [InlineData("postgresql://db.example.org/edgecloud", true)]
    [InlineData("PostgreSQL://db.example.org/edgecloud", true)]
    [InlineData("Host=127.0.0.1;Port=5432;Username=edgecloud;Database=edgecloud", true)]
    [InlineData("host=db;database=edgecloud", true)]
    [InlineData("Server=db;Database=edgecloud", true)]
    public void The_setting_picks_the_backend(string setting, bool postgres)
    {
        Assert.Equal(postgres, StateStoreFactory.IsPostgres(setting));
    }

    [Fact]
    public async Task Create_returns_the_backend_without_connecting()
    {
        await using var sqlite = StateStoreFactory.Create(Path.Combine(Path.GetTempPath(), "never-opened", "state.db"));
        Assert.IsType<SqliteStateStore>(sqlite);
        Assert.Equal("sqlite", sqlite.Backend);
        await using var pg = StateStoreFactory.Create("postgres://nobody:pw@127.0.0.1:1/nothing");
        Assert.IsType<PostgresStateStore>(pg);
        Assert.Equal("postgresql", pg.Backend);
        Assert.Equal("127.0.0.1:1/nothing", ((PostgresStateStore)pg).Where);
    }

    [Fact]
    public void A_relative_path_becomes_a_full_path()
    {
        var store = new SqliteStateStore("relative/state.db");
        Assert.Equal(Path.GetFullPath("relative/state.db"), store.DataSource);
    }

    [Fact]
    public void A_postgres_URI_becomes_an_Npgsql_connection_string()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionStrings.ToNpgsql(
            "postgresql://edge%40cloud:p%3Ass%2Fw%40rd@db.example.org:6543/edge%20cloud?sslmode=verify-full&application_name=front%20end&connect_timeout=7"));
        Assert.Equal("db.example.org", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("edge@cloud", b.Username);
        Assert.Equal("p:ss/w@rd", b.Password);
        Assert.Equal("edge cloud", b.Database);
        Assert.Equal(SslMode.VerifyFull, b.SslMode);
        Assert.Equal("front end", b.ApplicationName);
        Assert.Equal(7, b.Timeout);

        var minimal = new NpgsqlConnectionStringBuilder(PostgresConnectionStrings.ToNpgsql("postgres://localhost"));
        Assert.Equal("localhost", minimal.Host);
        Assert.Equal(5432, minimal.Port);
    }

    [Fact]
    public void An_unknown_URI_parameter_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentException>(() => PostgresConnectionStrings.ToNpgsql("postgres://h/db?frobnicate=1"));
        Assert.Contains("frobnicate", error.Message, StringComparison.Ordinal);
    }
}
