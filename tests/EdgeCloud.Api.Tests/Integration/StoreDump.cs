using System.Diagnostics;
using System.Text;
using System.Xml.Linq;
using EdgeCloud.Client;
using EdgeCloud.Testing;
using Xunit.Sdk;

namespace EdgeCloud.Api.Tests.Integration;

/// <summary>
/// "Nothing in the store changes": every pool document as oneadmin sees it (full VM bodies of every
/// state, DONE included), plus the state version the command bus published. MONITORING elements are
/// left out: they are live samples, not stored state. Two dumps are equal when no command changed
/// anything between them.
/// </summary>
public static class StoreDump
{
    private static readonly (string Method, object?[] Args)[] Pools =
    [
        ("one.userpool.info", []),
        ("one.grouppool.info", []),
        ("one.acl.info", []),
        ("one.zonepool.info", []),
        ("one.clusterpool.info", []),
        ("one.hostpool.info", []),
        ("one.datastorepool.info", []),
        ("one.imagepool.info", [-2, -1, -1]),
        ("one.templatepool.info", [-2, -1, -1]),
        ("one.vmpool.infoextended", [-2, -1, -1, -2, ""]),
        ("one.vnpool.info", [-2, -1, -1]),
        ("one.secgrouppool.info", [-2, -1, -1]),
        ("one.vmgrouppool.info", [-2, -1, -1]),
    ];

    public static async Task<string> TakeAsync(FrontendHandle fe)
    {
        var sb = new StringBuilder();
        sb.Append("version ").Append(fe.Server.Cloud.State.Version).Append('\n');
        foreach (var (method, args) in Pools)
        {
            var doc = XDocument.Parse(await fe.Admin.CallStringAsync(method, args));
            foreach (var m in doc.Descendants("MONITORING").ToList()) m.RemoveNodes();
            sb.Append(method).Append('\n').Append(doc.ToString(SaveOptions.DisableFormatting)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A dump taken once background work (drivers, monitor, scheduler) has settled: two dumps in a row agree.</summary>
    public static async Task<string> StableAsync(FrontendHandle fe)
    {
        var sw = Stopwatch.StartNew();
        var previous = await TakeAsync(fe);
        while (true)
        {
            await Task.Delay(100);
            var next = await TakeAsync(fe);
            if (next == previous) return next;
            if (sw.Elapsed > TimeSpan.FromSeconds(20)) throw new XunitException("The store did not settle within 20 s (background work kept changing it).");
            previous = next;
        }
    }

    public static void AssertSame(string before, string after)
    {
        if (before == after) return;
        var b = before.Split('\n');
        var a = after.Split('\n');
        var diff = new StringBuilder("The store changed:\n");
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < b.Length ? b[i] : "";
            var y = i < a.Length ? a[i] : "";
            if (x == y) continue;
            diff.Append("before: ").Append(x.Length > 2000 ? x[..2000] + "..." : x).Append('\n');
            diff.Append("after:  ").Append(y.Length > 2000 ? y[..2000] + "..." : y).Append('\n');
        }
        throw new XunitException(diff.ToString());
    }
}
