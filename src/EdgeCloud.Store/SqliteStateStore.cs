using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeCloud.Store;

/// <summary>
/// The default store: one SQLite database file. SQLite suits a front-end that keeps the state in
/// memory: the file is only written by the bus's single writer, in batches, so one connection with
/// prepared statements is all it needs, and there is no server to run.
/// </summary>
/// <remarks>
/// <para>
/// Durability: WAL journal with <c>synchronous=FULL</c>, so every committed transaction has been
/// fsynced into the WAL before <see cref="CommitAsync"/> returns; a kill -9 (or, as far as the disk
/// honours fsync, a power loss) right after cannot lose it.
/// </para>
/// <para>
/// Threads: Microsoft.Data.Sqlite has no real asynchronous I/O (its *Async methods run
/// synchronously), so a commit runs on the caller's thread, which is the bus's writer loop and
/// would wait for the commit anyway. Operations are serialized by an async gate, so a caller never
/// blocks a thread waiting for another operation.
/// </para>
/// <para>
/// Adding a migration: append one SQL string to <see cref="Migrations"/> (never edit or reorder an
/// existing one: databases in the field have run it). Step N takes a database from schema version
/// N to N+1; <see cref="InitializeAsync"/> runs the missing steps in one transaction and records
/// the new <c>schema_version</c> in <c>meta</c>. Add the same step to
/// <see cref="PostgresStateStore.Migrations"/> so both backends keep one schema version, and, if
/// rows change shape, update the statements in this class. A database with a higher version than
/// the list knows is refused (<see cref="InvalidOperationException"/>): an old build must not write
/// a newer format.
/// </para>
/// </remarks>
public sealed partial class SqliteStateStore : IStateStore
{
    /// <summary>Schema steps; index N upgrades schema version N to N+1. Append only.</summary>
    internal static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the initial schema. body is the ObjectCodec JSON as UTF-8 TEXT (so json_extract works);
        // uid/gid are -1 for objects without an owner.
        """
        CREATE TABLE objects (
            type INTEGER NOT NULL,
            id   INTEGER NOT NULL,
            name TEXT    NOT NULL,
            uid  INTEGER NOT NULL,
            gid  INTEGER NOT NULL,
            body TEXT    NOT NULL,
            PRIMARY KEY (type, id)
        );
        CREATE INDEX objects_owner ON objects (type, uid);
        CREATE INDEX objects_group ON objects (type, gid);
        CREATE TABLE sequences (
            type    INTEGER PRIMARY KEY,
            last_id INTEGER NOT NULL
        );
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ];

    /// <summary>The schema version this build writes (the number of migration steps).</summary>
    public static int LatestSchemaVersion => Migrations.Count;

    private const string UpsertSql =
        "INSERT INTO objects (type, id, name, uid, gid, body) VALUES ($type, $id, $name, $uid, $gid, CAST($body AS TEXT)) " +
        "ON CONFLICT (type, id) DO UPDATE SET name = excluded.name, uid = excluded.uid, gid = excluded.gid, body = excluded.body";

    private const string DeleteSql = "DELETE FROM objects WHERE type = $type AND id = $id";

    private const string SequenceSql =
        "INSERT INTO sequences (type, last_id) VALUES ($type, $last) " +
        "ON CONFLICT (type) DO UPDATE SET last_id = max(last_id, excluded.last_id)";

    private const string SetMetaSql =
        "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;
    private Statements? _statements;
    private bool _disposed;

    /// <summary>Creates the store; nothing is opened before <see cref="InitializeAsync"/>.</summary>
    /// <param name="connectionStringOrPath">A file path, or a Microsoft.Data.Sqlite connection string ("Data Source=...").</param>
    /// <param name="logger">Where opening and migrations are logged.</param>
    public SqliteStateStore(string connectionStringOrPath, ILogger<SqliteStateStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        var builder = ParseConnectionString(connectionStringOrPath);
        // One long-lived connection: pooling would only keep the file open after disposal.
        builder.Pooling = false;
        if (!IsMemory(builder.DataSource)) builder.DataSource = Path.GetFullPath(builder.DataSource);
        DataSource = builder.DataSource;
        _connectionString = builder.ToString();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Backend => "sqlite";

    /// <summary>The database file (full path).</summary>
    public string DataSource { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null)
            {
                var directory = Path.GetDirectoryName(DataSource);
                if (!IsMemory(DataSource) && !string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
                var connection = new SqliteConnection(_connectionString);
                try
                {
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    ConfigureConnection(connection);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
                _connection = connection;
            }

            Migrate(_connection);
            _statements ??= new Statements(_connection); // only once the schema is known good: the readiness mark
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
            var connection = OpenConnection();
            // One read transaction: objects, sequences and version are one consistent view.
            using var tx = connection.BeginTransaction(deferred: true);
            var objects = new List<PoolObject>();
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "SELECT type, id, body FROM objects ORDER BY type, id";
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var type = (ObjectType)reader.GetInt32(0);
                    var id = reader.GetInt32(1);
                    objects.Add(StoreRows.Decode(type, id, reader.GetFieldValue<byte[]>(2)));
                }
            }

            var sequences = new Dictionary<ObjectType, int>();
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "SELECT type, last_id FROM sequences ORDER BY type";
                using var reader = cmd.ExecuteReader();
                while (reader.Read()) sequences[(ObjectType)reader.GetInt32(0)] = reader.GetInt32(1);
            }

            var version = ReadMeta(connection, tx, StoreRows.VersionKey) is { } v ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
            tx.Commit();
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
            var connection = OpenConnection();
            var st = _statements!;
            // BEGIN IMMEDIATE: take the write lock up front rather than upgrade mid-batch.
            using var tx = connection.BeginTransaction(deferred: false);
            st.Enlist(tx);
            foreach (var changeSet in batch)
            {
                foreach (var change in changeSet.Changes)
                {
                    if (change.Value is null) st.Delete(change.Type, change.Id);
                    else st.Upsert(change.Type, change.Id, change.Value);
                }
            }
            foreach (var (type, last) in StoreRows.MaxSequences(batch)) st.Sequence(type, last);
            st.SetMeta(StoreRows.VersionKey, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            cancellationToken.ThrowIfCancellationRequested();
            tx.Commit(); // fsync of the WAL (synchronous=FULL): durable from here
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
            var connection = OpenConnection();
            var st = _statements!;
            using var tx = connection.BeginTransaction(deferred: false);
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "DELETE FROM objects; DELETE FROM sequences;";
                cmd.ExecuteNonQuery();
            }
            st.Enlist(tx);
            foreach (var value in state.Objects)
            {
                cancellationToken.ThrowIfCancellationRequested();
                st.Upsert(value.Type, value.Id, value);
            }
            foreach (var (type, last) in state.Sequences) st.Sequence(type, last);
            st.SetMeta(StoreRows.VersionKey, state.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            cancellationToken.ThrowIfCancellationRequested();
            tx.Commit();
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
            _statements?.Dispose();
            _statements = null;
            if (_connection is not null)
            {
                try
                {
                    using var cmd = _connection.CreateCommand();
                    cmd.CommandText = "PRAGMA optimize";
                    cmd.ExecuteNonQuery();
                }
                catch (SqliteException ex)
                {
                    LogOptimizeFailed(_logger, ex);
                }
                await _connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }
        }
        finally
        {
            // The gate is not disposed: a second DisposeAsync (or a late call) must find it usable
            // and then see _disposed; a SemaphoreSlim without a wait handle holds nothing to free.
            _gate.Release();
        }
    }

    private SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is null || _statements is null)
            throw new InvalidOperationException("The SQLite store is not initialized: call InitializeAsync first (and let it succeed).");
        return _connection;
    }

    private void ConfigureConnection(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode = WAL";
        var mode = Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase)) LogNoWal(_logger, DataSource, mode ?? "");
        // FULL: the WAL is fsynced at every commit (NORMAL would only sync at checkpoints and can
        // lose the last commits on power loss). busy_timeout: wait for another process (a backup,
        // the sqlite3 shell) instead of failing at once. cache_size: 32 MiB of pages for the one
        // connection, so index pages of a large state stay in memory between batches.
        cmd.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -32768; PRAGMA foreign_keys = OFF;";
        cmd.ExecuteNonQuery();
    }

    private void Migrate(SqliteConnection connection)
    {
        using var tx = connection.BeginTransaction(deferred: false); // one migrator at a time
        int found;
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
            var hasMeta = Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
            found = hasMeta && ReadMeta(connection, tx, StoreRows.SchemaVersionKey) is { } s
                ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)
                : 0;
        }
        if (found > LatestSchemaVersion) throw StoreRows.TooNew("SQLite", DataSource, found, LatestSchemaVersion);
        if (found == LatestSchemaVersion)
        {
            tx.Commit();
            LogOpened(_logger, DataSource, found);
            return;
        }

        for (var step = found; step < LatestSchemaVersion; step++)
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Migrations[step];
            cmd.ExecuteNonQuery();
        }
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = SetMetaSql;
            cmd.Parameters.AddWithValue("$key", StoreRows.SchemaVersionKey);
            cmd.Parameters.AddWithValue("$value", LatestSchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
        LogMigrated(_logger, DataSource, found, LatestSchemaVersion);
    }

    private static string? ReadMeta(SqliteConnection connection, SqliteTransaction tx, string key)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT value FROM meta WHERE key = $key";
        cmd.Parameters.AddWithValue("$key", key);
        return cmd.ExecuteScalar() as string;
    }

    private static SqliteConnectionStringBuilder ParseConnectionString(string connectionStringOrPath)
    {
        if (connectionStringOrPath.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                var parsed = new SqliteConnectionStringBuilder(connectionStringOrPath);
                if (!string.IsNullOrEmpty(parsed.DataSource)) return parsed;
            }
            catch (ArgumentException)
            {
                // Not a connection string: a path that happens to contain '='.
            }
        }
        return new SqliteConnectionStringBuilder { DataSource = connectionStringOrPath };
    }

    private static bool IsMemory(string dataSource) =>
        dataSource.Length == 0 || dataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The prepared statements of the write path, compiled once on the one connection and reused
    /// for every row (parameters are rebound, never re-parsed).
    /// </summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteCommand _upsert;
        private readonly SqliteParameter _upType, _upId, _upName, _upUid, _upGid, _upBody;
        private readonly SqliteCommand _delete;
        private readonly SqliteParameter _delType, _delId;
        private readonly SqliteCommand _sequence;
        private readonly SqliteParameter _seqType, _seqLast;
        private readonly SqliteCommand _meta;
        private readonly SqliteParameter _metaKey, _metaValue;

        public Statements(SqliteConnection connection)
        {
            _upsert = Create(connection, UpsertSql);
            _upType = Add(_upsert, "$type", SqliteType.Integer);
            _upId = Add(_upsert, "$id", SqliteType.Integer);
            _upName = Add(_upsert, "$name", SqliteType.Text);
            _upUid = Add(_upsert, "$uid", SqliteType.Integer);
            _upGid = Add(_upsert, "$gid", SqliteType.Integer);
            _upBody = Add(_upsert, "$body", SqliteType.Blob);
            _delete = Create(connection, DeleteSql);
            _delType = Add(_delete, "$type", SqliteType.Integer);
            _delId = Add(_delete, "$id", SqliteType.Integer);
            _sequence = Create(connection, SequenceSql);
            _seqType = Add(_sequence, "$type", SqliteType.Integer);
            _seqLast = Add(_sequence, "$last", SqliteType.Integer);
            _meta = Create(connection, SetMetaSql);
            _metaKey = Add(_meta, "$key", SqliteType.Text);
            _metaValue = Add(_meta, "$value", SqliteType.Text);
            _upsert.Prepare();
            _delete.Prepare();
            _sequence.Prepare();
            _meta.Prepare();
        }

        public void Enlist(SqliteTransaction tx)
        {
            _upsert.Transaction = tx;
            _delete.Transaction = tx;
            _sequence.Transaction = tx;
            _meta.Transaction = tx;
        }

        public void Upsert(ObjectType type, int id, PoolObject value)
        {
            var (uid, gid) = StoreRows.Owner(value);
            // Serialize first: a value that cannot be serialized fails before its row is touched.
            _upBody.Value = ObjectCodec.SerializeUtf8(value);
            _upType.Value = (int)type;
            _upId.Value = id;
            _upName.Value = value.Name;
            _upUid.Value = uid;
            _upGid.Value = gid;
            _upsert.ExecuteNonQuery();
        }

        public void Delete(ObjectType type, int id)
        {
            _delType.Value = (int)type;
            _delId.Value = id;
            _delete.ExecuteNonQuery();
        }

        public void Sequence(ObjectType type, int last)
        {
            _seqType.Value = (int)type;
            _seqLast.Value = last;
            _sequence.ExecuteNonQuery();
        }

        public void SetMeta(string key, string value)
        {
            _metaKey.Value = key;
            _metaValue.Value = value;
            _meta.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _upsert.Dispose();
            _delete.Dispose();
            _sequence.Dispose();
            _meta.Dispose();
        }

        private static SqliteCommand Create(SqliteConnection connection, string sql)
        {
            var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            return cmd;
        }

        private static SqliteParameter Add(SqliteCommand cmd, string name, SqliteType type) => cmd.Parameters.Add(name, type);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SQLite state store {Path} opened at schema version {Version}")]
    private static partial void LogOpened(ILogger logger, string path, int version);

    [LoggerMessage(Level = LogLevel.Information, Message = "SQLite state store {Path} migrated from schema version {From} to {To}")]
    private static partial void LogMigrated(ILogger logger, string path, int from, int to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQLite state store {Path}: journal_mode is {Mode}, not WAL (the file system may not support it)")]
    private static partial void LogNoWal(ILogger logger, string path, string mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "SQLite state store replaced by a snapshot of {Count} objects at version {Version}")]
    private static partial void LogReplaced(ILogger logger, int count, long version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "PRAGMA optimize at close failed")]
    private static partial void LogOptimizeFailed(ILogger logger, Exception exception);
}
