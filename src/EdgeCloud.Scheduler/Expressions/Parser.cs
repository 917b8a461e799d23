namespace EdgeCloud.Scheduler.Expressions;

/// <summary>
/// Recursive-descent parsers for OpenNebula's two expression grammars (src/parsers/expr_bool.y and
/// expr_arith.y), with errors that name the token and its position.
/// </summary>
internal sealed class Parser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _pos;

    private Parser(string text)
    {
        _text = text;
        _tokens = Lexer.Tokenize(text);
    }

    public HashSet<string> Attributes { get; } = new(StringComparer.Ordinal);

    private Token Peek => _tokens[_pos];

    /// <summary>Consumes a token; the End token is never passed, so errors can always point at it.</summary>
    private Token Next()
    {
        var t = _tokens[_pos];
        if (_pos < _tokens.Count - 1) _pos++;
        return t;
    }

    private ExpressionException Error(string detail, Token at) => new(detail, _text, at.Position);

    private ExpressionException Unexpected(Token at, string? expected = null) =>
        Error(expected is null ? $"unexpected {at.Describe()}" : $"unexpected {at.Describe()}, expected {expected}", at);

    // ----------------------------------------------------------------- requirements

    /// <summary>
    /// stmt := ε | expr. In OpenNebula '!', '&amp;' and '|' share one precedence level and associate
    /// to the left (<c>%left '!' '&amp;' '|'</c>), so <c>A | B &amp; C</c> is <c>(A | B) &amp; C</c>, and
    /// '!' applies to the comparison or parenthesis right after it. Kept as is: an expression
    /// must mean what it means in OpenNebula.
    /// </summary>
    public static (BoolNode Root, HashSet<string> Attributes) ParseBool(string text)
    {
        var p = new Parser(text);
        if (p.Peek.Kind == TokenKind.End) return (TrueNode.Instance, p.Attributes);
        var root = p.BoolSequence();
        if (p.Peek.Kind != TokenKind.End)
            throw p.Unexpected(p.Peek, "'&', '|' or the end of the expression");
        return (root, p.Attributes);
    }

    private BoolNode BoolSequence()
    {
        var left = BoolUnary();
        while (Peek.Is('&') || Peek.Is('|'))
        {
            var op = Next().Symbol;
            var right = BoolUnary();
            left = op == '&' ? new AndNode(left, right) : new OrNode(left, right);
        }
        return left;
    }

    private BoolNode BoolUnary()
    {
        if (Peek.Is('!'))
        {
            Next();
            return new NotNode(BoolUnary());
        }
        if (Peek.Is('('))
        {
            var open = Next();
            if (Peek.Is(')')) throw Error("empty parentheses", Peek);
            var inner = BoolSequence();
            if (!Peek.Is(')'))
                throw Peek.Kind == TokenKind.End
                    ? Error($"missing ')' for the '(' at position {open.Position}", Peek)
                    : Unexpected(Peek, "')'");
            Next();
            return inner;
        }
        return Comparison();
    }

    private BoolNode Comparison()
    {
        var attrTok = Next();
        if (attrTok.Kind is not (TokenKind.Identifier or TokenKind.Quoted))
            throw Unexpected(attrTok, "an attribute name");
        if (attrTok.Text.Length == 0) throw Error("empty attribute name", attrTok);
        var attr = Normalize(attrTok.Text);
        Attributes.Add(attr);

        var opTok = Next();
        char op;
        switch (opTok.Symbol)
        {
            case '=':
                if (Peek.Is('=')) throw Error("'==' is not an operator: use '='", opTok);
                op = '=';
                break;
            case '!':
                if (!Peek.Is('=')) throw Unexpected(Peek, "'=' after '!'");
                Next();
                op = '!';
                break;
            case '>':
                if (Peek.Is('=')) throw Error($"'>=' is not an operator: use '{attrTok.Text} > n | {attrTok.Text} = n'", opTok);
                op = '>';
                break;
            case '<':
                if (Peek.Is('=')) throw Error($"'<=' is not an operator: use '{attrTok.Text} < n | {attrTok.Text} = n'", opTok);
                if (Peek.Is('>')) throw Error("'<>' is not an operator: use '!='", opTok);
                op = '<';
                break;
            case '@':
                if (!Peek.Is('>')) throw Unexpected(Peek, "'>' after '@'");
                Next();
                op = '@';
                break;
            default:
                throw Unexpected(opTok, $"a comparison operator (=, !=, >, <, @>) after {attrTok.Describe()}");
        }

        var valTok = Next();
        var negative = false;
        if (valTok.Is('-'))
        {
            negative = true;
            valTok = Next();
            if (valTok.Kind is not (TokenKind.Integer or TokenKind.Float))
                throw Unexpected(valTok, "a number after '-'");
        }
        switch (valTok.Kind)
        {
            case TokenKind.Integer or TokenKind.Float:
                var n = negative ? -valTok.Number : valTok.Number;
                return op switch
                {
                    '=' => new NumberCompareNode(attr, NumberOp.Equal, n),
                    '!' => new NumberCompareNode(attr, NumberOp.NotEqual, n),
                    '>' => new NumberCompareNode(attr, NumberOp.Greater, n),
                    '<' => new NumberCompareNode(attr, NumberOp.Less, n),
                    _ => new ContainsNumberNode(attr, n),
                };
            case TokenKind.Identifier or TokenKind.Quoted:
                if (op is '>' or '<')
                    throw Error($"'{op}' compares with a number, found {valTok.Describe()}", valTok);
                var pattern = valTok.Text.Length == 0 ? null : new WildcardPattern(valTok.Text);
                return op switch
                {
                    '=' => new StringCompareNode(attr, false, pattern),
                    '!' => new StringCompareNode(attr, true, pattern),
                    _ => new ContainsStringNode(attr, pattern),
                };
            default:
                throw Unexpected(valTok, "a number or a string");
        }
    }

    // ----------------------------------------------------------------- ranks

    /// <summary>stmt := ε | expr; expr with + - (low), * / (high), unary minus, parentheses.</summary>
    public static (ArithNode Root, HashSet<string> Attributes) ParseArith(string text)
    {
        var p = new Parser(text);
        if (p.Peek.Kind == TokenKind.End) return (new ConstantNode(0), p.Attributes);
        var root = p.Sum();
        if (p.Peek.Kind != TokenKind.End)
        {
            if (p.Peek.Is('^')) throw p.Error("'^' is not an operator", p.Peek);
            throw p.Unexpected(p.Peek, "an operator (+, -, *, /) or the end of the expression");
        }
        return (root, p.Attributes);
    }

    private ArithNode Sum()
    {
        var left = Product();
        while (Peek.Is('+') || Peek.Is('-'))
        {
            var op = Next().Symbol;
            left = new BinaryNode(op, left, Product());
        }
        return left;
    }

    private ArithNode Product()
    {
        var left = Factor();
        while (Peek.Is('*') || Peek.Is('/'))
        {
            var op = Next().Symbol;
            left = new BinaryNode(op, left, Factor());
        }
        return left;
    }

    private ArithNode Factor()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Integer or TokenKind.Float:
                return new ConstantNode(t.Number);
            case TokenKind.Identifier:
                var a = Normalize(t.Text);
                Attributes.Add(a);
                return new AttributeNode(a);
            case TokenKind.Quoted:
                // OpenNebula's lexer makes "X" the same STRING token as X: an attribute name here.
                if (t.Text.Length == 0) return new ConstantNode(0);
                var q = Normalize(t.Text);
                Attributes.Add(q);
                return new AttributeNode(q);
        }
        if (t.Is('-'))
        {
            var operand = Factor();
            return operand is ConstantNode c ? new ConstantNode(-c.Value) : new NegateNode(operand);
        }
        if (t.Is('('))
        {
            if (Peek.Is(')')) throw Error("empty parentheses", Peek);
            var inner = Sum();
            if (!Peek.Is(')'))
                throw Peek.Kind == TokenKind.End
                    ? Error($"missing ')' for the '(' at position {t.Position}", Peek)
                    : Unexpected(Peek, "')'");
            Next();
            return inner;
        }
        if (t.Kind == TokenKind.End) throw Error("unexpected end of expression, expected a number or an attribute", t);
        throw Unexpected(t, "a number or an attribute");
    }

    /// <summary>Template attribute names are upper-case (the template parser normalises them), so lookups are too.</summary>
    private static string Normalize(string name) => name.ToUpperInvariant();
}
