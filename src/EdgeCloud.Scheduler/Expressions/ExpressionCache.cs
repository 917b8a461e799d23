namespace EdgeCloud.Scheduler.Expressions;

/// <summary>
/// Compiled expressions by text. Ten thousand VMs instantiated from one template share a handful
/// of expression texts, so each is parsed once and not once per VM per cycle. Failures are cached
/// too (a malformed expression would otherwise be re-parsed every cycle). Bounded with
/// least-recently-used eviction because texts are user input; thread-safe because the API may
/// validate expressions while a cycle runs.
/// </summary>
public sealed class ExpressionCache
{
    private readonly int _capacity;
    private readonly Dictionary<(string Text, bool Rank), LinkedListNode<Entry>> _map = [];
    private readonly LinkedList<Entry> _lru = new();
    private readonly Lock _lock = new();

    public ExpressionCache(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count
    {
        get
        {
            lock (_lock) return _map.Count;
        }
    }

    /// <exception cref="ExpressionException">The text does not parse (also when the failure was cached).</exception>
    public BoolExpression GetRequirement(string text) => (BoolExpression)Get(text, rank: false);

    /// <exception cref="ExpressionException">The text does not parse (also when the failure was cached).</exception>
    public RankExpression GetRank(string text) => (RankExpression)Get(text, rank: true);

    private object Get(string text, bool rank)
    {
        var key = (text, rank);
        Entry entry;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                entry = node.Value;
                return entry.Error is null ? entry.Value! : throw Copy(entry.Error);
            }
        }

        // Parse outside the lock: parsing is pure, a duplicate parse under a race is harmless.
        object? value = null;
        ExpressionException? error = null;
        try
        {
            value = rank ? RankExpression.Parse(text) : BoolExpression.Parse(text);
        }
        catch (ExpressionException e)
        {
            error = e;
        }

        lock (_lock)
        {
            if (!_map.ContainsKey(key))
            {
                var node = _lru.AddFirst(new Entry(key, value, error));
                _map[key] = node;
                while (_map.Count > _capacity)
                {
                    var last = _lru.Last!;
                    _lru.RemoveLast();
                    _map.Remove(last.Value.Key);
                }
            }
        }
        return error is null ? value! : throw Copy(error);
    }

    /// <summary>A fresh exception per throw: one cached instance thrown on several threads would share a stack trace.</summary>
    private static ExpressionException Copy(ExpressionException e) => new(e.Detail, e.Expression, e.Position);

    private sealed record Entry((string Text, bool Rank) Key, object? Value, ExpressionException? Error);
}
