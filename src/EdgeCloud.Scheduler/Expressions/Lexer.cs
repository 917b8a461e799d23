using System.Globalization;

namespace EdgeCloud.Scheduler.Expressions;

internal enum TokenKind : byte
{
    End,
    /// <summary><c>[A-Za-z_][A-Za-z0-9_]*</c>: an attribute name, or a bare string literal after a comparison.</summary>
    Identifier,
    /// <summary><c>"..."</c> (no escapes, as OpenNebula's lexer).</summary>
    Quoted,
    Integer,
    Float,
    /// <summary>One of <c>= ! &gt; &lt; @ &amp; | ( ) + - * / ^</c>.</summary>
    Symbol,
}

internal readonly record struct Token(TokenKind Kind, string Text, double Number, int Position)
{
    public char Symbol => Kind == TokenKind.Symbol ? Text[0] : '\0';

    public bool Is(char symbol) => Kind == TokenKind.Symbol && Text[0] == symbol;

    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.End => "end of expression",
        TokenKind.Quoted => $"string \"{Text}\"",
        TokenKind.Identifier => $"'{Text}'",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Tokens of OpenNebula's expression lexer (src/parsers/expr_parser.l). One difference: numbers
/// are lexed without their sign and the parsers take a leading '-', so <c>FREE_CPU -1</c> is a
/// subtraction here where OpenNebula reports a syntax error; everything OpenNebula accepts reads
/// the same.
/// </summary>
internal static class Lexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                i++;
                continue;
            }
            var pos = i + 1;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], 0, pos));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                var isFloat = false;
                if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
                {
                    isFloat = true;
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                }
                var s = text[start..i];
                if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_' || text[i] == '.'))
                    throw new ExpressionException($"malformed number '{s}{text[i]}'", text, pos);
                tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, s,
                    double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture), pos));
                continue;
            }
            if (c == '"')
            {
                var close = text.IndexOf('"', i + 1);
                if (close < 0) throw new ExpressionException("unterminated string", text, pos);
                tokens.Add(new Token(TokenKind.Quoted, text[(i + 1)..close], 0, pos));
                i = close + 1;
                continue;
            }
            if ("=!><@&|()+-*/^".Contains(c, StringComparison.Ordinal))
            {
                tokens.Add(new Token(TokenKind.Symbol, c.ToString(), 0, pos));
                i++;
                continue;
            }
            throw new ExpressionException($"unexpected character '{c}'", text, pos);
        }
        tokens.Add(new Token(TokenKind.End, "", 0, text.Length + 1));
        return tokens;
    }
}
