using System.Security.Cryptography;
using System.Text;

namespace EdgeCloud.Requests.Auth;

/// <summary>OpenNebula's core driver stores sha256 hex of the password (what USER/PASSWORD shows).</summary>
public static class PasswordHash
{
    public static string Sha256Hex(string password) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));

    /// <summary>Old oned databases kept SHA1; accepted once so the hash can be upgraded.</summary>
#pragma warning disable CA5350 // compatibility with stored legacy hashes, not a new use of SHA1
    public static string Sha1Hex(string password) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
#pragma warning restore CA5350

    /// <summary>Constant-time compare of two hex strings.</summary>
    public static bool Matches(string storedHex, string candidateHex) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHex), Encoding.ASCII.GetBytes(candidateHex));

    /// <summary>A new login token: 64 hex characters (sha256 of random bytes), as oned makes them.</summary>
    public static string NewToken() => Convert.ToHexStringLower(SHA256.HashData(RandomNumberGenerator.GetBytes(32)));

    /// <summary>A random password for oneadmin on first start.</summary>
    public static string NewPassword() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
