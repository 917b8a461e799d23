namespace EdgeCloud.Core.Objects;

/// <summary>Owner / group / other × use / manage / admin bits, as OpenNebula's PERMISSIONS element.</summary>
public readonly record struct Permissions(
    bool OwnerU, bool OwnerM, bool OwnerA,
    bool GroupU, bool GroupM, bool GroupA,
    bool OtherU, bool OtherM, bool OtherA)
{
    /// <summary>Octal form (e.g. 0o640 → owner um, group u), what UMASK and DEFAULT_UMASK use.</summary>
    public static Permissions FromOctal(int octal)
    {
        static (bool, bool, bool) Triple(int t) => ((t & 4) != 0, (t & 2) != 0, (t & 1) != 0);
        var (ou, om, oa) = Triple((octal >> 6) & 7);
        var (gu, gm, ga) = Triple((octal >> 3) & 7);
        var (xu, xm, xa) = Triple(octal & 7);
        return new(ou, om, oa, gu, gm, ga, xu, xm, xa);
    }

    public int ToOctal()
    {
        static int T(bool u, bool m, bool a) => (u ? 4 : 0) | (m ? 2 : 0) | (a ? 1 : 0);
        return (T(OwnerU, OwnerM, OwnerA) << 6) | (T(GroupU, GroupM, GroupA) << 3) | T(OtherU, OtherM, OtherA);
    }

    /// <summary>New objects get 0777 &amp; ~umask, as OpenNebula does (umask 177 → owner use+manage).</summary>
    public static Permissions FromUmask(int umaskOctal) => FromOctal(0x1FF & ~umaskOctal);

    /// <summary>
    /// Applies <c>chmod</c>'s nine ints, where -1 keeps a bit as it is.
    /// </summary>
    public Permissions Apply(IReadOnlyList<int> bits)
    {
        static bool B(int v, bool old) => v < 0 ? old : v != 0;
        return new(B(bits[0], OwnerU), B(bits[1], OwnerM), B(bits[2], OwnerA),
                   B(bits[3], GroupU), B(bits[4], GroupM), B(bits[5], GroupA),
                   B(bits[6], OtherU), B(bits[7], OtherM), B(bits[8], OtherA));
    }
}

/// <summary>Rights an operation needs, ordered as OpenNebula's AuthRequest::Operation.</summary>
public enum AuthOp
{
    Use = 1,
    Manage = 2,
    Admin = 4,
    Create = 8,
}

/// <summary>A LOCK element: level 1 USE, 2 MANAGE, 3 ADMIN (request 4 "all" is stored as 1).</summary>
public sealed record LockInfo(int Locked, int Owner, long Time, int ReqId);
