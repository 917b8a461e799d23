using EdgeCloud.Scheduler.Expressions;

namespace EdgeCloud.Scheduler.Tests;

public sealed class RequirementExpressionTests
{
    private static readonly DictionaryAttributeSource Host = new DictionaryAttributeSource()
        .Set("CPU", "4")
        .Set("LOAD", "0.5")
        .Set("TEMP", "-3")
        .Set("FREE_CPU", 350)
        .Set("HOSTNAME", "edge-madrid-01")
        .Set("HYPERVISOR", "kvm")
        .Set("ZONE", "Metro")
        .Set("LABELS", "gpu, ssd,fast")
        .Set("PORTS", "22, 80,443")
        .Set("CURRENT_VMS", AttributeValue.FromIntegers([3, 7, 12]))
        .Set("CLUSTER_ID", 100)
        .Set("VERSION", "v2.1")
        .Set("HOST_SHARE/MAX_CPU", 800);

    private static bool Eval(string expression) => BoolExpression.Parse(expression).Evaluate(Host);

    [Theory]
    [InlineData("CPU = 4", true)]
    [InlineData("CPU = 5", false)]
    [InlineData("CPU = 4.0", true)]
    [InlineData("LOAD = 0.5", true)]
    [InlineData("FREE_CPU = 350", true)]
    [InlineData("CLUSTER_ID = 100", true)]
    [InlineData("CLUSTER_ID = 101", false)]
    public void Equal_compares_numbers(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Theory]
    [InlineData("CPU != 4", false)]
    [InlineData("CPU != 3", true)]
    [InlineData("LOAD != 0.25", true)]
    public void NotEqual_compares_numbers(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Theory]
    [InlineData("CPU > 3", true)]
    [InlineData("CPU > 4", false)]
    [InlineData("CPU < 5", true)]
    [InlineData("CPU < 4", false)]
    [InlineData("LOAD < 0.75", true)]
    [InlineData("LOAD > 0.75", false)]
    [InlineData("TEMP > -5", true)]
    [InlineData("TEMP < -5", false)]
    [InlineData("FREE_CPU > 349.5", true)]
    public void Greater_and_less_compare_numbers(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Theory]
    [InlineData("MISSING = 1")]
    [InlineData("MISSING != 1")]
    [InlineData("MISSING > 0")]
    [InlineData("MISSING < 0")]
    [InlineData("MISSING = \"x\"")]
    [InlineData("MISSING != \"x\"")]
    [InlineData("MISSING @> 1")]
    [InlineData("MISSING @> \"x\"")]
    public void A_missing_attribute_makes_any_comparison_false(string e) => Assert.False(Eval(e));

    [Fact]
    public void Negating_a_comparison_on_a_missing_attribute_is_true_unlike_not_equal()
    {
        // OpenNebula's AUTOMATIC_REQUIREMENTS rely on this: !(PUBLIC_CLOUD = YES) holds on hosts without the attribute.
        Assert.True(Eval("!(PUBLIC_CLOUD = YES)"));
        Assert.False(Eval("PUBLIC_CLOUD != YES"));
    }

    [Theory]
    [InlineData("HYPERVISOR > 3")]
    [InlineData("HOSTNAME = 1")]
    [InlineData("HOSTNAME != 1")]
    public void A_text_attribute_compared_with_a_number_is_false(string e) => Assert.False(Eval(e));

    [Theory]
    [InlineData("HYPERVISOR = \"kvm\"", true)]
    [InlineData("HYPERVISOR = kvm", true)]
    [InlineData("HYPERVISOR = KVM", false)]
    [InlineData("HYPERVISOR != kvm", false)]
    [InlineData("HYPERVISOR != lxc", true)]
    [InlineData("ZONE = Metro", true)]
    [InlineData("VERSION = \"v2.1\"", true)]
    [InlineData("CLUSTER_ID = \"100\"", true)]
    public void Strings_compare_whole_values_case_sensitively(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Theory]
    [InlineData("HOSTNAME = \"edge*\"", true)]
    [InlineData("HOSTNAME = \"*madrid*\"", true)]
    [InlineData("HOSTNAME = \"edge-*-0?\"", true)]
    [InlineData("HOSTNAME = \"edge-*-0\"", false)]
    [InlineData("HOSTNAME = \"edge-madrid-0[0-9]\"", true)]
    [InlineData("HOSTNAME = \"edge-madrid-0[!1]\"", false)]
    [InlineData("HOSTNAME = \"edge-madrid-0[^2]\"", true)]
    [InlineData("HOSTNAME = \"cloud*\"", false)]
    [InlineData("HOSTNAME != \"edge*\"", false)]
    [InlineData("HOSTNAME != \"cloud*\"", true)]
    [InlineData("HOSTNAME = \"*\"", true)]
    [InlineData("VERSION = \"v2\\.?\"", true)]
    [InlineData("HOSTNAME = \"edge\\*\"", false)]
    public void Strings_match_shell_wildcards(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Fact]
    public void An_empty_string_literal_never_matches()
    {
        // OpenNebula's lexer turns "" into a null string and both = and != are then false.
        Assert.False(Eval("HYPERVISOR = \"\""));
        Assert.False(Eval("HYPERVISOR != \"\""));
    }

    [Theory]
    [InlineData("PORTS @> 80", true)]
    [InlineData("PORTS @> 22", true)]
    [InlineData("PORTS @> 8080", false)]
    [InlineData("CURRENT_VMS @> 7", true)]
    [InlineData("CURRENT_VMS @> 8", false)]
    [InlineData("CLUSTER_ID @> 100", true)]
    [InlineData("LABELS @> ssd", true)]
    [InlineData("LABELS @> \"gpu\"", true)]
    [InlineData("LABELS @> \"fa*\"", true)]
    [InlineData("LABELS @> hdd", false)]
    [InlineData("LABELS @> \"\"", false)]
    [InlineData("CURRENT_VMS @> \"1*\"", true)]
    public void Contains_looks_into_lists(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Theory]
    [InlineData("CPU = 4 & HYPERVISOR = kvm", true)]
    [InlineData("CPU = 4 & HYPERVISOR = lxc", false)]
    [InlineData("CPU = 5 | HYPERVISOR = kvm", true)]
    [InlineData("CPU = 5 | HYPERVISOR = lxc", false)]
    [InlineData("!CPU = 5", true)]
    [InlineData("!(CPU = 4)", false)]
    [InlineData("!!(CPU = 4)", true)]
    [InlineData("! ( CPU = 5 | CPU = 6 )", true)]
    [InlineData("(CPU = 5 | CPU = 4) & (ZONE = Metro)", true)]
    [InlineData("((CPU = 4))", true)]
    public void Boolean_operators_and_parentheses(string e, bool expected) => Assert.Equal(expected, Eval(e));

    [Fact]
    public void And_or_not_share_one_precedence_left_to_right_as_in_OpenNebula()
    {
        // %left '!' '&' '|': A | B & C is (A | B) & C. With A true, C false a C-like parse would say true.
        Assert.False(Eval("CPU = 4 | CPU = 5 & CPU = 6"));
        Assert.True(Eval("(CPU = 4) | (CPU = 5 & CPU = 6)"));
        // ! binds to the comparison right after it: !A & B is (!A) & B.
        Assert.True(Eval("!CPU = 5 & CPU = 4"));
        Assert.False(Eval("!CPU = 4 & CPU = 4"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void An_empty_requirement_is_true(string e)
    {
        var parsed = BoolExpression.Parse(e);
        Assert.True(parsed.IsEmpty);
        Assert.True(parsed.Evaluate(Host));
    }

    [Fact]
    public void Quoted_attribute_names_and_paths_are_looked_up()
    {
        Assert.True(Eval("\"HOST_SHARE/MAX_CPU\" > 100"));
        Assert.True(Eval("\"CPU\" = 4"));
    }

    [Fact]
    public void Attribute_names_are_upper_cased()
    {
        Assert.True(Eval("hypervisor = kvm"));
        Assert.Equal(["HYPERVISOR", "CPU"], BoolExpression.Parse("hypervisor = kvm & Cpu > 1").Attributes.Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public void Id_lists_in_the_OpenNebula_style()
    {
        var src = new DictionaryAttributeSource().Set("ID", 3);
        Assert.True(BoolExpression.Parse("ID = 1 | ID = 3").Evaluate(src));
        Assert.False(BoolExpression.Parse("ID = 1 | ID = 2").Evaluate(src));
    }

    [Fact]
    public void Automatic_requirements_as_the_core_writes_them()
    {
        var e = BoolExpression.Parse("(CLUSTER_ID = 100) & !(PUBLIC_CLOUD = YES) & !(PIN_POLICY = PINNED)");
        Assert.True(e.Evaluate(new DictionaryAttributeSource().Set("CLUSTER_ID", 100)));
        Assert.False(e.Evaluate(new DictionaryAttributeSource().Set("CLUSTER_ID", 101)));
        Assert.False(e.Evaluate(new DictionaryAttributeSource().Set("CLUSTER_ID", 100).Set("PUBLIC_CLOUD", "YES")));
        Assert.False(e.Evaluate(new DictionaryAttributeSource().Set("CLUSTER_ID", 100).Set("PIN_POLICY", "PINNED")));
    }
}

public sealed class RankExpressionTests
{
    private static readonly DictionaryAttributeSource Host = new DictionaryAttributeSource()
        .Set("FREE_CPU", 300)
        .Set("FREE_MEM", 2000)
        .Set("RUNNING_VMS", 4)
        .Set("LOAD", "0.5")
        .Set("NAME", "edge01");

    private static double Eval(string expression) => RankExpression.Parse(expression).Evaluate(Host);

    [Theory]
    [InlineData("FREE_CPU", 300)]
    [InlineData("- RUNNING_VMS", -4)]
    [InlineData("-RUNNING_VMS", -4)]
    [InlineData("FREE_MEM * 2 + FREE_CPU", 4300)]
    [InlineData("FREE_CPU + FREE_MEM * 2", 4300)]
    [InlineData("(FREE_CPU + FREE_MEM) * 2", 4600)]
    [InlineData("FREE_CPU - RUNNING_VMS * 10", 260)]
    [InlineData("FREE_CPU / RUNNING_VMS", 75)]
    [InlineData("FREE_CPU - 100 - 50", 150)]
    [InlineData("FREE_CPU / 3 / 2", 50)]
    [InlineData("- RUNNING_VMS + FREE_CPU", 296)]
    [InlineData("FREE_CPU * -2", -600)]
    [InlineData("FREE_CPU - -4", 304)]
    [InlineData("-(FREE_CPU - 100)", -200)]
    [InlineData("LOAD * 10", 5)]
    [InlineData("2.5 * 2", 5)]
    [InlineData("7", 7)]
    [InlineData("\"FREE_CPU\" + 1", 301)]
    [InlineData("free_cpu", 300)]
    public void Arithmetic_with_precedence(string e, double expected) => Assert.Equal(expected, Eval(e), 6);

    [Theory]
    [InlineData("MISSING", 0)]
    [InlineData("MISSING * 5 + 1", 1)]
    [InlineData("NAME + 1", 1)]
    [InlineData("", 0)]
    public void Missing_and_non_numeric_attributes_count_as_zero(string e, double expected) => Assert.Equal(expected, Eval(e));

    [Fact]
    public void Division_by_zero_follows_floating_point() =>
        Assert.True(double.IsPositiveInfinity(Eval("FREE_CPU / MISSING")));
}

public sealed class MalformedExpressionTests
{
    [Theory]
    [InlineData("CPU >", 6, "end of expression")]
    [InlineData("CPU = 1 )", 9, "unexpected ')'")]
    [InlineData("(CPU = 1", 9, "missing ')' for the '(' at position 1")]
    [InlineData("CPU >= 2", 5, "'>=' is not an operator")]
    [InlineData("CPU <= 2", 5, "'<=' is not an operator")]
    [InlineData("CPU == 2", 5, "'==' is not an operator")]
    [InlineData("NAME = \"abc", 8, "unterminated string")]
    [InlineData("CPU # 2", 5, "unexpected character '#'")]
    [InlineData("= 2", 1, "expected an attribute name")]
    [InlineData("CPU > \"x\"", 7, "'>' compares with a number")]
    [InlineData("CPU 2", 5, "a comparison operator")]
    [InlineData("CPU = 1 CPU = 2", 9, "expected '&', '|' or the end")]
    [InlineData("CPU = 1 &", 10, "end of expression")]
    [InlineData("()", 2, "empty parentheses")]
    [InlineData("CPU = 1.5.2", 7, "malformed number")]
    [InlineData("CPU @ 2", 7, "'>' after '@'")]
    [InlineData("CPU ! 2", 7, "'=' after '!'")]
    [InlineData("CPU = -x", 8, "a number after '-'")]
    public void Requirement_errors_name_the_problem_and_position(string text, int position, string detail)
    {
        var e = Assert.Throws<ExpressionException>(() => BoolExpression.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"syntax error at position {position}", e.Message, StringComparison.Ordinal);
        Assert.Equal(text, e.Expression);
    }

    [Theory]
    [InlineData("FREE_CPU *", 11, "end of expression")]
    [InlineData("2 ^ 3", 3, "'^' is not an operator")]
    [InlineData("(FREE_CPU", 10, "missing ')'")]
    [InlineData("FREE_CPU FREE_MEM", 10, "expected an operator")]
    [InlineData("FREE_CPU + * 2", 12, "unexpected '*'")]
    [InlineData("FREE_CPU = 2", 10, "unexpected '='")]
    public void Rank_errors_name_the_problem_and_position(string text, int position, string detail)
    {
        var e = Assert.Throws<ExpressionException>(() => RankExpression.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_reports_instead_of_throwing()
    {
        Assert.False(BoolExpression.TryParse("CPU >", out var b, out var be));
        Assert.Null(b);
        Assert.NotNull(be);
        Assert.True(RankExpression.TryParse("FREE_CPU", out var r, out var re));
        Assert.NotNull(r);
        Assert.Null(re);
    }
}

public sealed class ExpressionCacheTests
{
    [Fact]
    public void Same_text_gives_the_same_compiled_expression()
    {
        var cache = new ExpressionCache(8);
        Assert.Same(cache.GetRequirement("CPU > 1"), cache.GetRequirement("CPU > 1"));
        Assert.Same(cache.GetRank("FREE_CPU"), cache.GetRank("FREE_CPU"));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Requirement_and_rank_of_the_same_text_are_distinct_entries()
    {
        var cache = new ExpressionCache(8);
        cache.GetRank("CPU");
        Assert.Throws<ExpressionException>(() => cache.GetRequirement("CPU"));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Failures_are_cached_and_rethrown_each_time()
    {
        var cache = new ExpressionCache(8);
        var first = Assert.Throws<ExpressionException>(() => cache.GetRequirement("CPU >"));
        var second = Assert.Throws<ExpressionException>(() => cache.GetRequirement("CPU >"));
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void The_cache_is_bounded_and_evicts_the_least_recently_used()
    {
        var cache = new ExpressionCache(3);
        var a = cache.GetRank("A");
        cache.GetRank("B");
        cache.GetRank("C");
        cache.GetRank("A"); // A is now the most recent
        cache.GetRank("D"); // evicts B
        Assert.Equal(3, cache.Count);
        Assert.Same(a, cache.GetRank("A"));
        for (var i = 0; i < 100; i++) cache.GetRank($"X{i}");
        Assert.Equal(3, cache.Count);
    }
}
