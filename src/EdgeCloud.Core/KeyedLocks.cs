using System.Collections.Concurrent;

namespace EdgeCloud.Core;

/// <summary>
/// One async lock per key (a domain name, a VM id): work on the same key runs one at a time, work on
/// different keys in parallel. The hypervisor drivers serialise actions per domain with it, the host
/// agent its commands and checkpoints per VM.
/// </summary>
/// <remarks>
/// <code>
/// using (await locks.AcquireAsync(vmId, ct)) { ... }
/// </code>
/// </remarks>
public sealed class KeyedLocks<TKey> where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, SemaphoreSlim> _locks;

    public KeyedLocks(IEqualityComparer<TKey>? comparer = null) => _locks = new(comparer);

    /// <summary>Waits for the key's lock; disposing the result releases it.</summary>
    public async Task<IDisposable> AcquireAsync(TKey key, CancellationToken ct)
    {
        var sem = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await sem.WaitAsync(ct).ConfigureAwait(false);
        return new Releaser(sem);
    }

    /// <summary>True while someone holds the key's lock.</summary>
    public bool IsHeld(TKey key) => _locks.TryGetValue(key, out var sem) && sem.CurrentCount == 0;

    private sealed class Releaser(SemaphoreSlim sem) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) sem.Release();
        }
    }
}
