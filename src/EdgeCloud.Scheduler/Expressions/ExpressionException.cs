namespace EdgeCloud.Scheduler.Expressions;

/// <summary>
/// A requirement or rank expression that does not parse. The scheduler turns it into the VM's
/// SCHED_MESSAGE instead of failing the cycle, so the message is written for the VM's owner:
/// it names the problem and the 1-based character position where it was found.
/// </summary>
public sealed class ExpressionException : Exception
{
    public ExpressionException(string detail, string expression, int position)
        : base($"syntax error at position {position}: {detail}")
    {
        Detail = detail;
        Expression = expression;
        Position = position;
    }

    /// <summary>What is wrong ("unexpected ')'", "unterminated string"...), without the position.</summary>
    public string Detail { get; }

    /// <summary>The whole expression text as written.</summary>
    public string Expression { get; }

    /// <summary>1-based character position of the offending token (length + 1 for the end of the text).</summary>
    public int Position { get; }
}
