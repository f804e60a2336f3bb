"""The parser: every declaration and rule form to its AST, and syntax errors in plain words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scorelang.compiler import ast
from scorelang.compiler.parse import parse


def decls(source: str) -> tuple[ast.Decl, ...]:
    module, problems = parse(source, "t.score")
    assert problems == [], problems
    assert module is not None
    return module.decls


def only(source: str) -> ast.Decl:
    [decl] = decls(source)
    return decl


def condition(text: str) -> ast.Expr:
    decl = only(f"score s {{ when {text}: +1 }}")
    assert isinstance(decl, ast.ScoreDecl)
    rule = decl.rules[0]
    assert isinstance(rule, ast.WhenRule)
    return rule.condition


def n(text: str) -> ast.Number:
    return ast.Number(float(text), text)


def name(text: str) -> ast.Name:
    return ast.Name(text)


DAY = 86400.0


def days(count: int) -> ast.Duration:
    return ast.Duration(count * DAY, f"{count}d")


def test_model_import_lead_event_const_segment() -> None:
    source = """
model funnel "The funnel"
import "schema.score"
lead { id: string key, employees: int? }
event page_view { url: string, ref: string? }
const free = ["gmail.com", "yahoo.com"]
segment big = employees >= 100
"""
    model, imp, lead, event, const, segment = decls(source)
    assert ast.same_syntax(model, ast.ModelDecl(ast.Ident("funnel"), "The funnel"))
    assert ast.same_syntax(imp, ast.ImportDecl(ast.String("schema.score")))
    assert ast.same_syntax(
        lead,
        ast.LeadDecl(
            (
                ast.FieldDecl(ast.Ident("id"), ast.TypeRef("string"), key=True),
                ast.FieldDecl(ast.Ident("employees"), ast.TypeRef("int", optional=True)),
            )
        ),
    )
    assert ast.same_syntax(
        event,
        ast.EventDecl(
            ast.Ident("page_view"),
            (
                ast.FieldDecl(ast.Ident("url"), ast.TypeRef("string")),
                ast.FieldDecl(ast.Ident("ref"), ast.TypeRef("string", optional=True)),
            ),
        ),
    )
    assert ast.same_syntax(
        const,
        ast.ConstDecl(
            ast.Ident("free"), ast.ListExpr((ast.String("gmail.com"), ast.String("yahoo.com")))
        ),
    )
    assert ast.same_syntax(
        segment, ast.SegmentDecl(ast.Ident("big"), ast.Compare(">=", name("employees"), n("100")))
    )


def test_score_rules_of_every_form() -> None:
    source = """
score engagement "Interest" {
  when vip: +5 "VIP"
  when no activity within 90d: reset
  each page_view: +1 max 20
  each page_view: +1 decay 14d
  each email_open: +2 decay linear 10% per 7d
  each form_submit: -3 once per 1d max bonus
  group "email" max 10 { when vip: +1 }
  clamp -10..100
}
"""
    score = only(source)
    assert isinstance(score, ast.ScoreDecl)
    assert score.description == "Interest"
    when, reset, each_max, decay, linear, once, group, clamp = score.rules
    assert ast.same_syntax(
        when, ast.WhenRule(name("vip"), ast.Points(1, n("5")), ast.String("VIP"))
    )
    assert ast.same_syntax(
        reset, ast.WhenRule(ast.No(ast.Within(ast.Activity(), days(90))), ast.Reset())
    )
    assert ast.same_syntax(
        each_max, ast.EachRule(name("page_view"), ast.Points(1, n("1")), (ast.MaxOption(n("20")),))
    )
    assert ast.same_syntax(decay.options, (ast.DecayOption(days(14)),))
    assert ast.same_syntax(linear.options, (ast.LinearDecayOption(n("10"), days(7)),))
    assert ast.same_syntax(once.points, ast.Points(-1, n("3")))
    assert ast.same_syntax(once.options, (ast.OncePerOption(days(1)), ast.MaxOption(name("bonus"))))
    assert ast.same_syntax(
        group,
        ast.GroupRule(
            ast.String("email"), n("10"), (ast.WhenRule(name("vip"), ast.Points(1, n("1"))),)
        ),
    )
    assert ast.same_syntax(clamp, ast.ClampRule(n("-10"), n("100")))


def test_outputs_and_tests() -> None:
    source = """
score total = 0.4 * fit + max(fit, 10)
tier stage from total { hot >= 50 cold }
tier rank from total by percentile { top top 10% rest }
matrix grid from stage, rank
flag mql = total >= 70 and tier_ok
test "t" {
  lead { id: "l1", employees: 20 }
  as_of "2026-02-01T00:00:00Z"
  events { page_view { url: "/p" } at -2d }
  expect tier stage == "hot"
  expect not mql
}
"""
    composite, tier, percentile, matrix, flag, test = decls(source)
    assert ast.same_syntax(
        composite,
        ast.CompositeDecl(
            ast.Ident("total"),
            None,
            ast.Arith(
                "+", ast.Arith("*", n("0.4"), name("fit")), ast.Call("max", (name("fit"), n("10")))
            ),
        ),
    )
    assert ast.same_syntax(
        tier,
        ast.TierDecl(
            ast.Ident("stage"),
            ast.Ident("total"),
            (ast.TierBand(ast.Ident("hot"), n("50")), ast.TierBand(ast.Ident("cold"), None)),
        ),
    )
    assert ast.same_syntax(
        percentile.bands,
        (
            ast.PercentileBand(ast.Ident("top"), n("10")),
            ast.PercentileBand(ast.Ident("rest"), None),
        ),
    )
    assert ast.same_syntax(
        matrix, ast.MatrixDecl(ast.Ident("grid"), ast.Ident("stage"), ast.Ident("rank"))
    )
    assert ast.same_syntax(
        flag,
        ast.FlagDecl(
            ast.Ident("mql"),
            ast.BoolOp("and", (ast.Compare(">=", name("total"), n("70")), name("tier_ok"))),
        ),
    )
    assert ast.same_syntax(
        test,
        ast.TestDecl(
            ast.String("t"),
            lead=(
                ast.Pair(ast.Ident("id"), ast.String("l1")),
                ast.Pair(ast.Ident("employees"), n("20")),
            ),
            events=(
                ast.TestEvent(
                    ast.Ident("page_view"),
                    (ast.Pair(ast.Ident("url"), ast.String("/p")),),
                    ast.Neg(days(2)),
                ),
            ),
            as_of=ast.String("2026-02-01T00:00:00Z"),
            expects=(
                ast.Expect(ast.Compare("==", name("stage"), ast.String("hot")), tier=True),
                ast.Expect(ast.Not(name("mql"))),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'industry in ["a", "b"]',
            ast.In(name("industry"), ast.ListExpr((ast.String("a"), ast.String("b")))),
        ),
        ("industry not in free", ast.In(name("industry"), name("free"), negated=True)),
        ("employees between 1 and 9", ast.Between(name("employees"), n("1"), n("9"))),
        ('email contains "@"', ast.StringTest("contains", name("email"), ast.String("@"))),
        ('email starts with "a"', ast.StringTest("starts_with", name("email"), ast.String("a"))),
        ('email ends with "a"', ast.StringTest("ends_with", name("email"), ast.String("a"))),
        ("title matches /vp|cto/i", ast.Matches(name("title"), ast.Regex("vp|cto", "i"))),
        ("title is missing", ast.IsMissing(name("title"))),
        ("title is present", ast.IsMissing(name("title"), negated=True)),
        (
            'lead.industry == "x"',
            ast.Compare("==", ast.QualifiedName("lead", "industry"), ast.String("x")),
        ),
        (
            "not a or b and c",
            ast.BoolOp("or", (ast.Not(name("a")), ast.BoolOp("and", (name("b"), name("c"))))),
        ),
        ('visited "/pricing*" within 7d', ast.Within(ast.Visited("/pricing*"), days(7))),
        (
            'form_submit where form == "demo" within 30d',
            ast.Within(
                ast.Where(name("form_submit"), ast.Compare("==", name("form"), ast.String("demo"))),
                days(30),
            ),
        ),
        ("page_view between 7d and 30d ago", ast.BetweenAgo(name("page_view"), days(7), days(30))),
        ("a then b within 3d", ast.Then(name("a"), ast.Within(name("b"), days(3)))),
        (
            "count(page_view within 30d) >= 3",
            ast.Compare(
                ">=", ast.Call("count", (ast.Within(name("page_view"), days(30)),)), n("3")
            ),
        ),
        (
            "days_since(last(x)) < 7",
            ast.Compare("<", ast.Call("days_since", (ast.Call("last", (name("x"),)),)), n("7")),
        ),
        (
            "-x * 2 + 1 > 0",
            ast.Compare(
                ">", ast.Arith("+", ast.Arith("*", ast.Neg(name("x")), n("2")), n("1")), n("0")
            ),
        ),
    ],
)
def test_condition_forms(text: str, expected: ast.Expr) -> None:
    assert ast.same_syntax(condition(text), expected)


def test_spans_are_one_based_and_cover_the_node() -> None:
    expr = condition("employees > 10")
    assert (expr.span.line, expr.span.column, expr.span.end_column) == (1, 16, 30)
    assert isinstance(expr, ast.Compare)
    assert (expr.right.span.column, expr.right.span.end_column) == (28, 30)


def test_comments_are_kept_aside() -> None:
    module, _ = parse("# top\nlead { id: string key }  # the lead\n", "t.score")
    assert module is not None
    assert [c.text for c in module.comments] == ["# top", "# the lead"]


@pytest.mark.parametrize(
    ("source", "code", "line", "column", "words"),
    [
        ('score s {\n  when industry = "x": +1\n}', "E102", 2, 17, "Use =="),
        (
            'score s { when industry == "x" +1 }',
            "E102",
            1,
            32,
            "missing ':' between the condition and the points '+1'",
        ),
        (
            "score s {\n  when employees > 10 +5\n  when x: +1\n}",
            "E102",
            2,
            23,
            "missing ':' between the condition and the points '+5'",
        ),
        ('score s {\n  when industry == "a:b" +5\n}', "E102", 2, 26, "missing ':' between"),
        ('score s {\n  when x > 1\n    and y < 2 +5 "label"\n}', "E102", 3, 15, "the points '+5'"),
        ("score s {\n  when x\n}", "E102", 2, 9, "missing ':' after the condition"),
        ("score s { each page_view within 7 days: +1 }", "E102", 1, 33, "write 7d, not '7 days'"),
        ("score s { when page_view within 2 hours: +1 }", "E102", 1, 33, "write 2h, not '2 hours'"),
        (
            "score s {\n  each page_view: 1 max 5\n}",
            "E102",
            2,
            19,
            "points need a sign: write +1 or -1",
        ),
        ('score s { when industry == "x": 10 }', "E102", 1, 33, "need a sign"),
        (
            "score s { each v: -3 max -12 }",
            "E102",
            1,
            26,
            "a `max` takes a positive bound: write `max 12`; on negative points it keeps the rule's total at -12 or above",
        ),
        ("score s { clamp 0 100 }", "E102", 1, 19, "clamp LOW..HIGH"),
        ("score s { when x: +1 max 5 }", "E102", 1, 22, "`max` caps `each` rules"),
        ("lead { id string }", "E100", 1, 11, 'expected ":"'),
        ("scor s { }", "E100", 1, 1, "did you mean `score`?"),
        ("score s { wen x: +1 }", "E100", 1, 11, "did you mean `when`?"),
        ("score s { }\n}", "E100", 2, 1, "a declaration"),
        ("score s { when x within 7: +1 }", "E100", 1, 25, "a duration such as 7d"),
        ("score s { when x >> 1: +1 }", "E100", 1, 19, "unexpected '>'"),
        ("event e { a: string; }", "E101", 1, 20, "unexpected character ';'"),
        ("lead { id: string key\n", "E103", 1, 19, '"}"'),
        ("flag f = x ==", "E103", 1, 12, "a value"),
    ],
)
def test_syntax_errors_in_plain_words(
    source: str, code: str, line: int, column: int, words: str
) -> None:
    module, [problem] = parse(source, "t.score")
    assert module is None
    assert (problem.code, problem.span.line, problem.span.column) == (code, line, column)
    assert words in f"{problem.message} {problem.hint}"


PARSED = """
import sys
from pathlib import Path
from scorelang.compiler.parse import parse_module, parser_cache
print(parser_cache())
for path in sorted(Path("examples").glob("*/*.score")):
    print(repr(parse_module(path.read_text(), str(path))))
"""


def test_the_analysed_grammar_is_cached_in_the_users_cache_folder(tmp_path: Path) -> None:
    """The first run writes Lark's analysed grammar to $XDG_CACHE_HOME/scorelang, later runs
    load it and parse every example to the same trees; without a usable folder, nothing is
    cached and parsing is the same."""
    root = Path(__file__).parent.parent

    def parsed(cache_home: Path) -> list[str]:
        env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
        run = subprocess.run(
            [sys.executable, "-c", PARSED], cwd=root, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.splitlines()

    cache = tmp_path / "cache"
    first = parsed(cache)
    assert first[0] == str(cache / "scorelang" / "grammar.lark-cache")
    assert (cache / "scorelang" / "grammar.lark-cache").stat().st_size > 0
    assert parsed(cache) == first  # loaded from the cache
    unusable = tmp_path / "a-file"
    unusable.write_text("")
    assert parsed(unusable) == ["False", *first[1:]]
