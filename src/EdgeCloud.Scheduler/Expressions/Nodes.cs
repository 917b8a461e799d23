namespace EdgeCloud.Scheduler.Expressions;

/// <summary>Compiled requirement node. Evaluation never throws: missing attributes make comparisons false.</summary>
internal abstract class BoolNode
{
    public abstract bool Eval(IAttributeSource source);
}

internal sealed class TrueNode : BoolNode
{
    public static readonly TrueNode Instance = new();
    public override bool Eval(IAttributeSource source) => true;
}

internal enum NumberOp : byte { Equal, NotEqual, Greater, Less }

/// <summary>
/// <c>ATTR = 3</c>, <c>ATTR != 2.5</c>, <c>ATTR &gt; 1</c>, <c>ATTR &lt; 1</c>: the attribute must exist and
/// read as a number, otherwise the comparison is false (both for = and for !=, as OpenNebula).
/// </summary>
internal sealed class NumberCompareNode(string attribute, NumberOp op, double operand) : BoolNode
{
    public override bool Eval(IAttributeSource source)
    {
        if (!source.TryGetValue(attribute, out var v) || !v.TryGetNumber(out var n)) return false;
        return op switch
        {
            NumberOp.Equal => n == operand,
            NumberOp.NotEqual => n != operand,
            NumberOp.Greater => n > operand,
            _ => n < operand,
        };
    }
}

/// <summary>
/// <c>ATTR = "pat*"</c> / <c>ATTR != "pat*"</c>: wildcard match of the whole value. A missing attribute,
/// or an empty literal (OpenNebula's lexer turns <c>""</c> into a null string), makes it false.
/// </summary>
internal sealed class StringCompareNode(string attribute, bool negate, WildcardPattern? pattern) : BoolNode
{
    public override bool Eval(IAttributeSource source)
    {
        if (pattern is null || !source.TryGetValue(attribute, out var v)) return false;
        var match = pattern.IsMatch(v.AsText());
        return match != negate;
    }
}

/// <summary><c>ATTR @&gt; 3</c>: some item of the (comma-separated or multi-valued) attribute equals the number.</summary>
internal sealed class ContainsNumberNode(string attribute, double operand) : BoolNode
{
    public override bool Eval(IAttributeSource source) =>
        source.TryGetValue(attribute, out var v) && v.ContainsNumber(operand);
}

/// <summary><c>ATTR @&gt; "x*"</c>: some item of the attribute matches the wildcard.</summary>
internal sealed class ContainsStringNode(string attribute, WildcardPattern? pattern) : BoolNode
{
    public override bool Eval(IAttributeSource source) =>
        pattern is not null && source.TryGetValue(attribute, out var v) && v.ContainsMatch(pattern);
}

internal sealed class AndNode(BoolNode left, BoolNode right) : BoolNode
{
    public override bool Eval(IAttributeSource source) => left.Eval(source) && right.Eval(source);
}

internal sealed class OrNode(BoolNode left, BoolNode right) : BoolNode
{
    public override bool Eval(IAttributeSource source) => left.Eval(source) || right.Eval(source);
}

internal sealed class NotNode(BoolNode operand) : BoolNode
{
    public override bool Eval(IAttributeSource source) => !operand.Eval(source);
}

/// <summary>Compiled rank node. Arithmetic is in doubles (OpenNebula uses float, then truncates to int).</summary>
internal abstract class ArithNode
{
    public abstract double Eval(IAttributeSource source);
}

internal sealed class ConstantNode(double value) : ArithNode
{
    public double Value { get; } = value;
    public override double Eval(IAttributeSource source) => Value;
}

/// <summary>An attribute in a rank: a missing or non-numeric attribute counts as 0.</summary>
internal sealed class AttributeNode(string attribute) : ArithNode
{
    public override double Eval(IAttributeSource source) =>
        source.TryGetValue(attribute, out var v) && v.TryGetNumber(out var n) ? n : 0;
}

internal sealed class NegateNode(ArithNode operand) : ArithNode
{
    public override double Eval(IAttributeSource source) => -operand.Eval(source);
}

internal sealed class BinaryNode(char op, ArithNode left, ArithNode right) : ArithNode
{
    public override double Eval(IAttributeSource source)
    {
        var l = left.Eval(source);
        var r = right.Eval(source);
        return op switch
        {
            '+' => l + r,
            '-' => l - r,
            '*' => l * r,
            _ => l / r,
        };
    }
}
