using System.Globalization;
using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace EdgeCloud.Store;

/// <summary>
/// The store on a PostgreSQL server, for clouds whose operators want the state in a database they
/// already back up and replicate. Same schema and semantics as <see cref="SqliteStateStore"/>.
/// </summary>
/// <remarks>
/// <para>
/// A batch is one transaction sent in one round trip: its net effect per object (the last change
/// of each (type, id) wins, which is what applying the changes in order leaves) goes as one
/// set-based DELETE and one set-based upsert over arrays, then the sequences and the version.
/// <c>synchronous_commit</c> is forced on for the transaction, so <see cref="CommitAsync"/>
/// returns only after the server has flushed the commit to its WAL.
/// </para>
/// <para>
/// If the connection breaks while COMMIT is in flight, the outcome is unknown; the store then reads
/// the stored version back and reports success when the batch did land, so memory and database do
/// not diverge on a lost acknowledgement.
/// </para>
/// <para>
/// Tables are created unqualified, in the first schema of the connection's search path (so
/// "Search Path=edgecloud" puts the store in its own schema).
/// </para>
/// <para>
/// Adding a migration: append one SQL string to <see cref="Migrations"/> (never edit or reorder an
/// existing one). Step N takes schema version N to N+1; <see cref="InitializeAsync"/> runs the
/// missing steps in one transaction under an advisory lock (two front-ends starting together
/// migrate once) and records the new <c>schema_version</c> in <c>meta</c>. Add the matching step
/// to <see cref="SqliteStateStore.Migrations"/> so the two backends share version numbers. A
/// database newer than the list is refused with an <see cref="InvalidOperationException"/>.
/// </para>
/// </remarks>
public sealed partial class PostgresStateStore : IStateStore
{
    /// <summary>Schema steps; index N upgrades schema version N to N+1. Append only.</summary>
    internal static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the initial schema. body is the ObjectCodec JSON as text (text keeps it byte for byte
        // what SQLite stores; cast to jsonb in queries when needed).
        """
        CREATE TABLE objects (
            type integer NOT NULL,
            id   integer NOT NULL,
            name text    NOT NULL,
            uid  integer NOT NULL,
            gid  integer NOT NULL,
            body text    NOT NULL,
            PRIMARY KEY (type, id)
        );
        CREATE INDEX objects_owner ON objects (type, uid);
        CREATE INDEX objects_group ON objects (type, gid);
        CREATE TABLE sequences (
            type    integer PRIMARY KEY,
            last_id integer NOT NULL
        );
        CREATE TABLE meta (
            key   text PRIMARY KEY,
            value text NOT NULL
        );
        """,
    ];

    /// <summary>The schema version this build writes (the number of migration steps).</summary>
    public static int LatestSchemaVersion => Migrations.Count;

    /// <summary>Key of the transaction-level advisory lock that serializes migrations.</summary>
    private const long MigrationLockKey = 0x45_64_67_65_43_6C_64; // "EdgeCld"

    private const string DeleteSql =
        "DELETE FROM objects AS o USING unnest($1::integer[], $2::integer[]) AS d(type, id) WHERE o.type = d.type AND o.id = d.id";

    private const string UpsertSql =
        "INSERT INTO objects (type, id, name, uid, gid, body) " +
        "SELECT * FROM unnest($1::integer[], $2::integer[], $3::text[], $4::integer[], $5::integer[], $6::text[]) " +
        "ON CONFLICT (type, id) DO UPDATE SET name = EXCLUDED.name, uid = EXCLUDED.uid, gid = EXCLUDED.gid, body = EXCLUDED.body";

    private const string SequenceSql =
        "INSERT INTO sequences (type, last_id) SELECT * FROM unnest($1::integer[], $2::integer[]) " +
        "ON CONFLICT (type) DO UPDATE SET last_id = GREATEST(sequences.last_id, EXCLUDED.last_id)";

    private const string SetMetaSql =
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _initialized;
    private bool _disposed;

    /// <summary>Creates the store; nothing is opened before <see cref="InitializeAsync"/>.</summary>
    /// <param name="connectionString">An Npgsql connection string ("Host=...;Database=...") or a postgres:// URI.</param>
    /// <param name="logger">Where opening, migrations and in-doubt commits are logged.</param>
    public PostgresStateStore(string connectionString, ILogger<PostgresStateStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionStrings.ToNpgsql(connectionString));
        // The few statements of the write path run thousands of times: let Npgsql keep them prepared.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 16;
        // The store keeps no session state (its only setting is SET LOCAL), so a pooled connection
        // needs no reset round trip before the next batch.
        builder.NoResetOnClose = true;
        Where = $"{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Backend => "postgresql";

    /// <summary>host:port/database, for logs (no credentials).</summary>
    public string Where { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
            {
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = MigrationLockKey });
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var found = 0;
            await using (var cmd = new NpgsqlCommand("SELECT to_regclass('meta') IS NOT NULL", connection, tx))
            {
                if ((bool)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                {
                    var value = await ReadMetaAsync(connection, tx, StoreRows.SchemaVersionKey, cancellationToken).ConfigureAwait(false);
                    if (value is not null) found = int.Parse(value, CultureInfo.InvariantCulture);
                }
            }
            if (found > LatestSchemaVersion) throw StoreRows.TooNew("PostgreSQL", Where, found, LatestSchemaVersion);

            if (found < LatestSchemaVersion)
            {
                for (var step = found; step < LatestSchemaVersion; step++)
                {
                    await using var cmd = new NpgsqlCommand(Migrations[step], connection, tx);
                    await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                await using (var cmd = new NpgsqlCommand(SetMetaSql, connection, tx))
                {
                    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StoreRows.SchemaVersionKey });
                    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LatestSchemaVersion.ToString(CultureInfo.InvariantCulture) });
                    await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (found < LatestSchemaVersion) LogMigrated(_logger, Where, found, LatestSchemaVersion);
            else LogOpened(_logger, Where, found);
            _initialized = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<StoredState> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureReady();
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // One snapshot for the three reads: a consistent state even if something writes meanwhile.
            await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection, tx)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT type, id, body FROM objects ORDER BY type, id"),
                    new NpgsqlBatchCommand("SELECT type, last_id FROM sequences ORDER BY type"),
                    new NpgsqlBatchCommand($"SELECT value FROM meta WHERE key = '{StoreRows.VersionKey}'"),
                },
            };
            var objects = new List<PoolObject>();
            var sequences = new Dictionary<ObjectType, int>();
            long version = 0;
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var type = (ObjectType)reader.GetInt32(0);
                    var id = reader.GetInt32(1);
                    objects.Add(StoreRows.Decode(type, id, reader.GetString(2)));
                }
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    sequences[(ObjectType)reader.GetInt32(0)] = reader.GetInt32(1);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    version = long.Parse(reader.GetString(0), CultureInfo.InvariantCulture);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new StoredState(objects, sequences, version);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task CommitAsync(IReadOnlyList<ChangeSet> batch, long version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureReady();
            // Everything that can fail without the database (serialization) happens before it is touched.
            var net = StoreRows.NetChanges(batch);
            var deleteTypes = new List<int>();
            var deleteIds = new List<int>();
            var rows = new UpsertRows(net.Count);
            foreach (var ((type, id), value) in net)
            {
                if (value is null)
                {
                    deleteTypes.Add((int)type);
                    deleteIds.Add(id);
                }
                else
                {
                    rows.Add(type, id, value);
                }
            }
            var sequences = StoreRows.MaxSequences(batch);

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var sql = new NpgsqlBatch(connection, tx))
            {
                // On even if the server or role default is off: acknowledged means flushed.
                sql.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = on"));
                if (deleteIds.Count > 0)
                    sql.BatchCommands.Add(Command(DeleteSql, Ints(deleteTypes), Ints(deleteIds)));
                if (rows.Count > 0)
                    sql.BatchCommands.Add(rows.ToCommand());
                if (sequences.Count > 0)
                    sql.BatchCommands.Add(Command(SequenceSql, Ints(sequences.Keys.Select(t => (int)t)), Ints(sequences.Values)));
                sql.BatchCommands.Add(Command(SetMetaSql, Text(StoreRows.VersionKey), Text(version.ToString(CultureInfo.InvariantCulture))));
                await sql.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                if (await CommittedAnywayAsync(version).ConfigureAwait(false))
                {
                    LogInDoubtCommitted(_logger, version, ex);
                    return;
                }
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ReplaceAllAsync(StoredState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureReady();
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var cmd = new NpgsqlCommand("SET LOCAL synchronous_commit = on; DELETE FROM objects; DELETE FROM sequences;", connection, tx))
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // COPY: a snapshot can be the whole cloud; binary COPY is the fastest bulk path.
            await using (var import = await connection.BeginBinaryImportAsync(
                "COPY objects (type, id, name, uid, gid, body) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
            {
                foreach (var value in state.Objects)
                {
                    var (uid, gid) = StoreRows.Owner(value);
                    await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync((int)value.Type, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(value.Id, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(NameColumn(value.Name), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(uid, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(gid, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(ObjectCodec.Serialize(value), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                }
                await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var sql = new NpgsqlBatch(connection, tx))
            {
                if (state.Sequences.Count > 0)
                    sql.BatchCommands.Add(Command(SequenceSql, Ints(state.Sequences.Keys.Select(t => (int)t)), Ints(state.Sequences.Values)));
                sql.BatchCommands.Add(Command(SetMetaSql, Text(StoreRows.VersionKey), Text(state.Version.ToString(CultureInfo.InvariantCulture))));
                await sql.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            LogReplaced(_logger, state.Objects.Count, state.Version);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // The gate is not disposed: a second DisposeAsync (or a late call) must find it usable
            // and then see _disposed; a SemaphoreSlim without a wait handle holds nothing to free.
            _gate.Release();
        }
    }

    private void EnsureReady()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_initialized) throw new InvalidOperationException("The PostgreSQL store is not initialized: call InitializeAsync first.");
    }

    /// <summary>After a failed COMMIT: did the batch land? Its version is written only by it.</summary>
    private async Task<bool> CommittedAnywayAsync(long version)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            var stored = await ReadMetaAsync(connection, null, StoreRows.VersionKey, timeout.Token).ConfigureAwait(false);
            return stored == version.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<string?> ReadMetaAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string key, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT value FROM meta WHERE key = $1", connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// PostgreSQL text cannot hold U+0000, which an OpenNebula name could; the name column is only
    /// an index for SQL (the body, whose JSON escapes it, is the truth), so it gets U+FFFD instead.
    /// </summary>
    private static string NameColumn(string name) =>
        name.Contains('\0', StringComparison.Ordinal) ? name.Replace('\0', '\uFFFD') : name;

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.AddRange(parameters);
        return cmd;
    }

    private static NpgsqlParameter<int[]> Ints(IEnumerable<int> values) => new() { TypedValue = values.ToArray() };

    private static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    /// <summary>The columns of the rows to upsert, as the arrays the unnest upsert takes.</summary>
    private sealed class UpsertRows(int capacity)
    {
        private readonly List<int> _types = new(capacity), _ids = new(capacity), _uids = new(capacity), _gids = new(capacity);
        private readonly List<string> _names = new(capacity), _bodies = new(capacity);

        public int Count => _ids.Count;

        public void Add(ObjectType type, int id, PoolObject value)
        {
            var body = ObjectCodec.Serialize(value);
            var (uid, gid) = StoreRows.Owner(value);
            _types.Add((int)type);
            _ids.Add(id);
            _names.Add(NameColumn(value.Name));
            _uids.Add(uid);
            _gids.Add(gid);
            _bodies.Add(body);
        }

        public NpgsqlBatchCommand ToCommand() => Command(UpsertSql,
            Ints(_types), Ints(_ids), new NpgsqlParameter<string[]> { TypedValue = [.. _names] },
            Ints(_uids), Ints(_gids), new NpgsqlParameter<string[]> { TypedValue = [.. _bodies] });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL state store {Where} opened at schema version {Version}")]
    private static partial void LogOpened(ILogger logger, string where, int version);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL state store {Where} migrated from schema version {From} to {To}")]
    private static partial void LogMigrated(ILogger logger, string where, int from, int to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "COMMIT of version {Version} failed in flight but the batch is stored; continuing")]
    private static partial void LogInDoubtCommitted(ILogger logger, long version, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL state store replaced by a snapshot of {Count} objects at version {Version}")]
    private static partial void LogReplaced(ILogger logger, int count, long version);
}
