using System.Diagnostics;
using Xunit.Sdk;

namespace EdgeCloud.Testing;

/// <summary>Polling with a deadline, for state that changes asynchronously (drivers, monitor, scheduler).</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(25);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task ForAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return;
            if (sw.Elapsed > limit) throw new XunitException($"Timed out after {limit.TotalSeconds:F0} s waiting for {what}.");
            await Task.Delay(Interval);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until <paramref name="accept"/> holds for its value, and returns that value.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> probe, Func<T, bool> accept, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var sw = Stopwatch.StartNew();
        T last;
        while (true)
        {
            last = await probe();
            if (accept(last)) return last;
            if (sw.Elapsed > limit) throw new XunitException($"Timed out after {limit.TotalSeconds:F0} s waiting for {what}; last value: {last}");
            await Task.Delay(Interval);
        }
    }
}
