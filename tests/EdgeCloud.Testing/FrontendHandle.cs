using System.Collections.Concurrent;
using EdgeCloud.Client;
using EdgeCloud.Frontend;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EdgeCloud.Testing;

/// <summary>
/// A real front-end started in-process for a test: on a temporary data directory with SQLite, or with
/// PostgreSQL on a fresh database created on the server of EDGECLOUD_TEST_POSTGRES. It can be stopped
/// and started again on the same data (restart tests); disposing it stops the front-end, drops the
/// database and deletes the directory.
/// </summary>
public sealed class FrontendHandle : IAsyncDisposable
{
    /// <summary>Options every test front-end starts with: port 0, fast dummy drivers, 1 s monitor and scheduler intervals.</summary>
    public static FrontendOptions DefaultOptions(string dataDir) => new()
    {
        DataDir = dataDir,
        Port = 0,
        AgentPort = 0,
        DummyActionDelay = 0.01,
        MonitorInterval = 1,
        SchedulerInterval = 1,
    };

    private readonly CapturingLoggerProvider _logs = new();
    private readonly string? _adminConnection;
    private readonly string? _databaseName;
    private FrontendServer? _server;
    private OneClient? _admin;
    private int _disposed;

    private FrontendHandle(Backend backend, FrontendOptions options, string? adminConnection, string? databaseName)
    {
        Backend = backend;
        Options = options;
        _adminConnection = adminConnection;
        _databaseName = databaseName;
    }

    public Backend Backend { get; }

    /// <summary>The options the front-end runs with (after a restart: with the port it first got).</summary>
    public FrontendOptions Options { get; private set; }

    public string DataDir => Options.DataDir;

    /// <summary>The PostgreSQL connection string of this front-end's own database; empty for SQLite.</summary>
    public string Database => Options.Database;

    public FrontendServer Server => _server ?? throw new InvalidOperationException("The front-end is stopped.");

    public bool IsRunning => _server is not null;

    public Uri Endpoint => Server.Endpoint;

    /// <summary>"oneadmin:PASSWORD" from DATA/one_auth.</summary>
    public string AdminSession => Server.OneAdminSession;

    /// <summary>A client acting as oneadmin (recreated by a restart).</summary>
    public OneClient Admin => _admin ?? throw new InvalidOperationException("The front-end is stopped.");

    /// <summary>Warnings and errors the front-end logged (a test can assert that nothing went wrong inside).</summary>
    public IReadOnlyCollection<string> LoggedErrors => _logs.Errors;

    /// <summary>A client with another session on this front-end, sharing the admin client's connections.</summary>
    public OneClient Client(string session) => Admin.WithSession(session);

    /// <summary>Starts a front-end on <paramref name="backend"/>; <paramref name="configure"/> may change the default options.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL was asked for and EDGECLOUD_TEST_POSTGRES is not set.</exception>
    public static async Task<FrontendHandle> StartAsync(Backend backend, Func<FrontendOptions, FrontendOptions>? configure = null, CancellationToken ct = default)
    {
        var admin = backend == Backend.Postgres ? PostgresTestServer.ConnectionString ?? throw PostgresTestServer.Missing() : null;
        var dir = Path.Combine(Path.GetTempPath(), "edgecloud-api-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var options = DefaultOptions(dir);
        if (configure is not null) options = configure(options) with { DataDir = dir };
        string? name = null;
        if (admin is not null)
        {
            name = "edgecloud_api_" + Guid.NewGuid().ToString("N");
            try
            {
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            catch
            {
                Directory.Delete(dir, recursive: true);
                throw;
            }
            options = options with { Database = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString };
        }

        var handle = new FrontendHandle(backend, options, admin, name);
        try
        {
            await handle.StartServerAsync(ct);
        }
        catch
        {
            await handle.DisposeAsync();
            throw;
        }
        return handle;
    }

    private async Task StartServerAsync(CancellationToken ct)
    {
        var server = await FrontendServer.StartAsync(Options, logging: b =>
        {
            b.ClearProviders();
            b.SetMinimumLevel(LogLevel.Warning);
            b.AddProvider(_logs);
        }, ct);
        _server = server;
        // Keep the port across restarts, as an operator's front-end keeps its port.
        Options = Options with { Port = server.Endpoint.Port, AgentPort = server.AgentEndpoint?.Port ?? Options.AgentPort };
        _admin = new OneClient(server.Endpoint, server.OneAdminSession, options: new OneClientOptions { Timeout = TimeSpan.FromSeconds(60) });
    }

    /// <summary>Stops the front-end (as SIGTERM would); the data stays.</summary>
    public async Task StopAsync()
    {
        var server = _server;
        _server = null;
        _admin?.Dispose();
        _admin = null;
        if (server is not null) await server.StopAsync();
    }

    /// <summary>Stops the front-end and starts a new one on the same data directory and database.</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await StartServerAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            await StopAsync();
        }
        finally
        {
            if (_adminConnection is not null && _databaseName is not null)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(_adminConnection);
                    await connection.OpenAsync();
                    await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)", connection);
                    await cmd.ExecuteNonQueryAsync();
                }
                catch (NpgsqlException)
                {
                    // The server went away: nothing left to drop.
                }
            }
            try { Directory.Delete(DataDir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    public override string ToString() => $"{Backend} front-end at {(_server is null ? "(stopped)" : _server.Endpoint.ToString())}";

    /// <summary>Collects the warnings and errors of a front-end, so tests see what went wrong inside it.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _errors = new();

        public IReadOnlyCollection<string> Errors => _errors.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _errors);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> errors) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                errors.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
        }
    }
}
