using System.Collections.Frozen;

namespace EdgeCloud.Scheduler.Expressions;

/// <summary>
/// A compiled requirement (SCHED_REQUIREMENTS, SCHED_DS_REQUIREMENTS, AUTOMATIC_REQUIREMENTS):
/// parsed once, evaluated against many hosts or datastores without re-parsing.
/// </summary>
public sealed class BoolExpression
{
    private readonly BoolNode _root;

    private BoolExpression(string text, BoolNode root, IEnumerable<string> attributes)
    {
        Text = text;
        _root = root;
        Attributes = attributes.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>Upper-cased names of the attributes it reads: lets the scheduler know whether a
    /// result can change while a cycle places VMs (RUNNING_VMS, FREE_CPU...) or can be cached.</summary>
    public IReadOnlySet<string> Attributes { get; }

    /// <summary>True for an empty expression (no requirement).</summary>
    public bool IsEmpty => _root is TrueNode;

    /// <exception cref="ExpressionException">The text does not parse; the message names the position.</exception>
    public static BoolExpression Parse(string text)
    {
        var (root, attrs) = Parser.ParseBool(text);
        return new BoolExpression(text, root, attrs);
    }

    public static bool TryParse(string text, out BoolExpression? expression, out ExpressionException? error) =>
        ExpressionParsing.TryParse(Parse, text, out expression, out error);

    public bool Evaluate(IAttributeSource source) => _root.Eval(source);

    public override string ToString() => Text;
}

/// <summary>
/// A compiled rank (SCHED_RANK, SCHED_DS_RANK): higher is better. Missing attributes are 0;
/// division by zero gives an infinity (or NaN for 0/0), which the scheduler orders as documented.
/// </summary>
public sealed class RankExpression
{
    private readonly ArithNode _root;

    private RankExpression(string text, ArithNode root, IEnumerable<string> attributes)
    {
        Text = text;
        _root = root;
        Attributes = attributes.ToFrozenSet(StringComparer.Ordinal);
    }

    public string Text { get; }

    /// <summary>Upper-cased names of the attributes it reads.</summary>
    public IReadOnlySet<string> Attributes { get; }

    /// <exception cref="ExpressionException">The text does not parse; the message names the position.</exception>
    public static RankExpression Parse(string text)
    {
        var (root, attrs) = Parser.ParseArith(text);
        return new RankExpression(text, root, attrs);
    }

    public static bool TryParse(string text, out RankExpression? expression, out ExpressionException? error) =>
        ExpressionParsing.TryParse(Parse, text, out expression, out error);

    public double Evaluate(IAttributeSource source) => _root.Eval(source);

    public override string ToString() => Text;
}

/// <summary>The Try form of both expression kinds' Parse.</summary>
internal static class ExpressionParsing
{
    public static bool TryParse<T>(Func<string, T> parse, string text, out T? expression, out ExpressionException? error) where T : class
    {
        try
        {
            expression = parse(text);
            error = null;
            return true;
        }
        catch (ExpressionException e)
        {
            expression = null;
            error = e;
            return false;
        }
    }
}
