using Npgsql;

namespace EdgeCloud.Store;

/// <summary>
/// Turns the libpq URI form operators often have at hand (postgres://user:pw@host:port/db?sslmode=require)
/// into an Npgsql connection string, which does not read URIs itself.
/// </summary>
internal static class PostgresConnectionStrings
{
    public static bool IsUri(string s) =>
        s.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        s.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An Npgsql connection string: URIs converted, anything else returned as it is.</summary>
    /// <exception cref="ArgumentException">A URI that does not parse or has an unknown parameter.</exception>
    public static string ToNpgsql(string connectionString)
    {
        var s = connectionString.Trim();
        if (!IsUri(s)) return connectionString;
        if (!Uri.TryCreate(s, UriKind.Absolute, out var uri))
            throw new ArgumentException("The PostgreSQL URI does not parse (expected postgres://user:password@host:port/database?param=value).", nameof(connectionString));

        var b = new NpgsqlConnectionStringBuilder();
        if (!string.IsNullOrEmpty(uri.Host)) b.Host = uri.IdnHost;
        if (uri.Port > 0) b.Port = uri.Port;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) b.Database = database;

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            var keyword = key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "target_session_attrs" => "Target Session Attributes",
                "options" => "Options",
                "search_path" => "Search Path",
                _ => key,
            };
            if (keyword == "SSL Mode") value = value.Replace("-", "", StringComparison.Ordinal); // verify-full → VerifyFull
            try
            {
                b[keyword] = value;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
            {
                throw new ArgumentException($"The PostgreSQL URI parameter '{key}' is not understood: {ex.Message}", nameof(connectionString), ex);
            }
        }
        return b.ConnectionString;
    }
}
