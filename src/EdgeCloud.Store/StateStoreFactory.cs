using System.Data.Common;
using EdgeCloud.Core.State;
using Microsoft.Extensions.Logging;

namespace EdgeCloud.Store;

/// <summary>
/// Picks the backend from the one setting the operator writes (DB = ... in the configuration):
/// a PostgreSQL URI or Npgsql connection string selects <see cref="PostgresStateStore"/>,
/// anything else (a file path or "Data Source=...") <see cref="SqliteStateStore"/>.
/// </summary>
public static class StateStoreFactory
{
    /// <summary>Creates the store; call <see cref="IStateStore.InitializeAsync"/> before use.</summary>
    /// <param name="connectionStringOrPath">
    /// "postgres://user:password@host:5432/db", "postgresql://...", or "Host=...;Database=..." for
    /// PostgreSQL; a path ("/var/lib/edgecloud/state.db") or "Data Source=..." for SQLite.
    /// </param>
    /// <param name="loggerFactory">Where the store logs; none when null.</param>
    public static IStateStore Create(string connectionStringOrPath, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        return IsPostgres(connectionStringOrPath)
            ? new PostgresStateStore(connectionStringOrPath, loggerFactory?.CreateLogger<PostgresStateStore>())
            : new SqliteStateStore(connectionStringOrPath, loggerFactory?.CreateLogger<SqliteStateStore>());
    }

    /// <summary>True for a postgres:// or postgresql:// URI, or a connection string with Host= or Server=.</summary>
    public static bool IsPostgres(string connectionStringOrPath)
    {
        ArgumentNullException.ThrowIfNull(connectionStringOrPath);
        var s = connectionStringOrPath.Trim();
        if (PostgresConnectionStrings.IsUri(s)) return true;
        if (!s.Contains('=', StringComparison.Ordinal)) return false;
        try
        {
            var parsed = new DbConnectionStringBuilder { ConnectionString = s };
            return parsed.ContainsKey("Host") || parsed.ContainsKey("Server");
        }
        catch (ArgumentException)
        {
            return false; // not a connection string: a path containing '='
        }
    }
}
