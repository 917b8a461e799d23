using EdgeCloud.Core.Templates;

namespace EdgeCloud.Core.Tests.Templates;

/// <summary>Every syntax error: "Parse error: ..." naming line and column, with Line/Column set (1-based).</summary>
public sealed class TemplateParserErrorTests
{
    private static TemplateParseException Fails(string text, int line, int column)
    {
        var ex = Assert.Throws<TemplateParseException>(() => Template.Parse(text));
        Assert.StartsWith("Parse error: ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
        Assert.Contains($" at line {line}, columns {column}:", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void Parse_UnterminatedQuotedString_PointsAtOpeningQuote()
    {
        var ex = Fails("A = 1\nB = \"abc\ndef", 2, 5);
        Assert.Contains("unterminated quoted string", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnterminatedQuoteWithOnlyEscapedQuotes_Fails()
    {
        // The only quote after the opening one is the opening one itself: nothing to close on.
        Fails("A = \"abc", 1, 5);
    }

    [Fact]
    public void Parse_MissingEquals_PointsAtWhatFollowsTheName()
    {
        var ex = Fails("A = 1\nB 2", 2, 3);
        Assert.Equal("Parse error: syntax error, unexpected '2', expecting '=' at line 2, columns 3:4", ex.Message);
    }

    [Fact]
    public void Parse_NameAtEndOfInput_ExpectingEquals()
    {
        var ex = Fails("A = 1\nB", 2, 2);
        Assert.Contains("unexpected end of input, expecting '='", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DoubleEquals_UnexpectedEquals()
    {
        var ex = Fails("X = 1\n\nA = = 3", 3, 5);
        Assert.Equal("Parse error: syntax error, unexpected '=', expecting value at line 3, columns 5:6", ex.Message);
    }

    [Fact]
    public void Parse_BracketWithoutClose_NamesTheOpenVector()
    {
        var ex = Fails("DISK = [ IMAGE = \"a\"\nNIC = [ NETWORK = \"b\" ]", 2, 1);
        Assert.Contains("unexpected 'N', expecting ',' or ']' to close vector DISK opened at line 1, column 8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BracketNeverClosedAtEndOfInput_Fails()
    {
        var ex = Fails("DISK = [ IMAGE = a,\n  SIZE = 3\n", 3, 1);
        Assert.Contains("unexpected end of input", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyVectorNeverClosed_Fails() => Fails("DISK = [\n", 2, 1);

    [Fact]
    public void Parse_NestedBracket_VectorsCannotNest()
    {
        var ex = Fails("A = [ B = [ C = 1 ] ]", 1, 11);
        Assert.Contains("vectors cannot nest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BracketInsteadOfSubName_VectorsCannotNest()
    {
        var ex = Fails("A = [ [ C = 1 ] ]", 1, 7);
        Assert.Contains("vectors cannot nest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TrailingCommaInVector_RejectedAsOned()
    {
        var ex = Fails("A = [ B = 1,\n C = 2,\n]", 3, 1);
        Assert.Contains("unexpected ']' after ','", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LeadingCommaInVector_Fails() => Fails("A = [ , B = 1 ]", 1, 7);

    [Fact]
    public void Parse_MissingCommaBetweenSubAttributes_Fails()
    {
        var ex = Fails("A = [ B = 1 C = 2 ]", 1, 13);
        Assert.Contains("expecting ',' or ']'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptySubValueInVector_RejectedAsOned()
    {
        Fails("A = [ B = , C = 1 ]", 1, 11);
        Fails("A = [ B =\n C = 1 ]", 1, 10);
        Fails("A = [ B = ]", 1, 11);
    }

    [Fact]
    public void Parse_ValueWithCdataEnd_Fails()
    {
        var ex = Fails("A = 1\nB = \"x ]]> y\"", 2, 5);
        Assert.Contains("]]>", ex.Message, StringComparison.Ordinal);
        Fails("B = x]]>y", 1, 6); // a bare word stops at ']': the rest is garbage where a name is expected
        Fails("V = [ S = \"]]>\" ]", 1, 11);
    }

    [Theory]
    [InlineData("NA-ME = 1", 1, 3)]
    [InlineData("A.B = 1", 1, 2)]
    [InlineData("A = 1\nNAMÉ = 1", 2, 4)]
    [InlineData("V = [ SUB-NAME = 1 ]", 1, 10)]
    public void Parse_NameWithIllegalCharacter_PointsAtTheCharacter(string text, int line, int column)
    {
        var ex = Fails(text, line, column);
        Assert.Contains("invalid character", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("= 1", 1, 1)]
    [InlineData("A = 1\n, B = 2", 2, 1)]
    [InlineData("A = 1 ]", 1, 7)]
    [InlineData("\"A\" = 1", 1, 1)]
    [InlineData("A = 1\n  [", 2, 3)]
    public void Parse_GarbageWhereANameIsExpected_Fails(string text, int line, int column)
    {
        var ex = Fails(text, line, column);
        Assert.Contains("expecting attribute name", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A = ,", 1, 5)]
    [InlineData("A = ]", 1, 5)]
    public void Parse_ValueStartingWithPunctuation_Fails(string text, int line, int column) => Fails(text, line, column);

    [Fact]
    public void Parse_CharacterGluedToClosingQuote_Fails()
    {
        var ex = Fails("A = \"x\"y", 1, 8);
        Assert.Contains("after quoted value", ex.Message, StringComparison.Ordinal);
        Fails("A = \"x\"\"y\"", 1, 8);
    }

    [Fact]
    public void Parse_ErrorAfterMultiLineQuotedValue_LineAndColumnCountTheValuesNewlines()
    {
        // The value spans lines 1-3; the error is on line 4, column 3.
        Fails("A = \"one\ntwo\nthree\"\nB ? 1", 4, 3);
        // ... and on the line where the value ends.
        Fails("A = \"one\ntwo\" =", 2, 6);
    }

    [Fact]
    public void Parse_ErrorAfterComment_CountsCommentLine() => Fails("# c = [\nA = 1\n# d\n B C", 4, 4);

    [Fact]
    public void Parse_ErrorAtEndOfInput_ColumnsAreEmptyRange()
    {
        var ex = Fails("V = [ A = 1", 1, 12);
        Assert.EndsWith("at line 1, columns 12:12", ex.Message, StringComparison.Ordinal);
    }
}
