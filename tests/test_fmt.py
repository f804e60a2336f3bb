"""The formatter: one layout, idempotent, every comment kept, meaning unchanged (same AST,
same IR), on the example models and on inputs written to stress the layout."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scorelang.compiler import ast, ir
from scorelang.compiler.fmt import format_expr, format_source, rule_text
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import duration, parse
from typer.testing import CliRunner

from scorelang.cli import app

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted(ROOT.glob("examples/*/model.score"))

MESSY = """# header comment

model m   "d"
lead { id: string key   # the key
  # own line in lead
  n: int?
  email: string?
  created_at: timestamp }
event a { p: int,
  # inside event
  q: string }
event b {}
event page_view {url:string}
const xs = [1,
  2, # two
  3]
segment big = n > 10 and (n < 5 or n == 3)
score s "desc" {
  # first rule
  when (a where (p == 1 or p == 2)) within 7d: +5 "lab"
  when not (n > 1): -2
  when a where not p > 1 - (2 - 3): +1


  when (a within 7d) then b within 1d: +1
  when (a where p == 1) between 1d and 7d ago: +1
  when lead.n > -(-1): +1
  when count(a) * (1 + 2) > 2 * 3 + 1 and visited "/p*": +1
  group "g" max 10 {
    each a: +1 once per 1d max 5
    each a: +1 decay linear 10% per 7d
    # end of group
  }
  when email matches /a\\/b/i or email is missing or n is present: reset
  when n in xs or n not in [4,5] or email contains "x" or email starts with "a" or email ends with "\\"q\\"": +1
  # before clamp
  clamp -5..100   # clamp
}  # after score
score c = (s + 1) * 2 - (s - s)
tier t from s { hot >= 50   good >= -1
  cold }
flag f = s > 3 or not (s > 2 and s < 1)
test "t" {
  as_of "2026-01-01T00:00:00Z"
  lead { id: "l1", n: 3 }
  events { a { p: 1, q: "x" } at -2d
  b {} at -1d }
  expect s == 1
  expect tier t == "cold"
}
# trailing file comment
"""

EXPECTED = """# header comment
model m "d"

lead {
  id: string key  # the key
  # own line in lead
  n: int?
  email: string?
  created_at: timestamp
}

event a {
  p: int
  # inside event
  q: string
}

event b         {}
event page_view { url: string }

const xs = [
  1,
  2,  # two
  3
]

segment big = n > 10 and (n < 5 or n == 3)

score s "desc" {
  # first rule
  when a where (p == 1 or p == 2) within 7d: +5 "lab"
  when not n > 1: -2
  when a where not p > 1 - (2 - 3): +1

  when a within 7d then b within 1d: +1
  when (a where p == 1) between 1d and 7d ago: +1
  when lead.n > --1: +1
  when count(a) * (1 + 2) > 2 * 3 + 1 and visited "/p*": +1
  group "g" max 10 {
    each a: +1 once per 1d max 5
    each a: +1 decay linear 10% per 7d
    # end of group
  }
  when email matches /a\\/b/i or email is missing or n is present: reset
  when n in xs or n not in [4, 5] or email contains "x" or email starts with "a" or email ends with "\\"q\\"": +1
  # before clamp
  clamp -5..100  # clamp
}  # after score

score c = (s + 1) * 2 - (s - s)

tier t from s {
  hot  >= 50
  good >= -1
  cold
}

flag f = s > 3 or not (s > 2 and s < 1)

test "t" {
  lead { id: "l1", n: 3 }
  events {
    a { p: 1, q: "x" } at -2d
    b {} at -1d
  }
  as_of "2026-01-01T00:00:00Z"
  expect s == 1
  expect tier t == "cold"
}

# trailing file comment
"""


def same_ir(before: str, after: str, path: str = "m.score") -> None:
    """Both texts compile to equal IR. An unlabelled rule's label is its source text, so
    those labels may differ in layout only (see fmt.rule_text); everything else must match."""
    old, new = compile_source(before, path), compile_source(after, path)
    assert old.model is not None, old.diagnostics
    assert new.model is not None, new.diagnostics
    assert without_default_labels(new.model) == without_default_labels(old.model)


def without_default_labels(model: ir.Model) -> ir.Model:
    def unlabel(rule):
        return replace(rule, label="") if re.fullmatch(r".*__r\d+", rule.id) else rule

    def score(s: ir.Score) -> ir.Score:
        items = tuple(
            replace(i, rules=tuple(map(unlabel, i.rules)))
            if isinstance(i, ir.Group)
            else unlabel(i)
            for i in s.items
        )
        return replace(s, items=items, resets=tuple(map(unlabel, s.resets)))

    return replace(model, scores=tuple(map(score, model.scores)))


def formatted(source: str) -> str:
    text, diagnostics = format_source(source, "m.score")
    assert text is not None, diagnostics
    return text


def comments(source: str) -> list[str]:
    module, _ = parse(source)
    assert module is not None
    return [c.text.rstrip() for c in module.comments]


def assert_faithful(source: str) -> str:
    """Formatting keeps the AST, every comment, and is a fixed point; returns the output."""
    text = formatted(source)
    before, _ = parse(source)
    after, diagnostics = parse(text)
    assert after is not None, diagnostics
    assert ast.same_syntax(after.decls, before.decls)  # spans differ, the syntax does not
    assert comments(text) == comments(source)
    assert formatted(text) == text
    return text


def test_layout_of_a_messy_file():
    assert assert_faithful(MESSY) == EXPECTED


def test_formatted_model_compiles_to_the_same_ir():
    same_ir(MESSY, formatted(MESSY))


def test_rule_text_is_layout_independent():
    module, _ = parse(
        "score s {\n  when (a  where  x==1)\n   within 7d :+5\n  each a : +1 decay 7d max 3 }"
    )
    assert module is not None
    when, each = module.decls[0].rules
    assert rule_text(when) == "when a where x == 1 within 7d: +5"
    assert rule_text(each) == "each a: +1 decay 7d max 3"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_format_faithfully(path: Path):
    source = path.read_text()
    same_ir(source, assert_faithful(source), str(path))


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("examples/**/*.score")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_example_file_is_a_fixed_point_after_one_pass(path: Path):
    assert_faithful(path.read_text())


def test_there_are_examples_to_format():
    assert EXAMPLES


def test_long_event_and_const_break_over_lines():
    names = ", ".join(f"p{i}: string" for i in range(12))
    source = f"event e {{ {names} }}\nconst c = [{', '.join(str(i) * 8 for i in range(12))}]\n"
    text = assert_faithful(source)
    assert text.splitlines()[:2] == ["event e {", "  p0: string"]
    assert "const c = [\n  00000000,\n" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_trailing_comments_and_columns_align_within_a_run_of_lines():
    source = "tier t from s {\n  a >= 1 # one\n  bbbb >= 2\n  c # last\n}\nevent e { } # e\nevent long_name { x: int }\n"
    assert assert_faithful(source) == (
        "tier t from s {\n  a    >= 1  # one\n  bbbb >= 2\n  c          # last\n}\n\n"
        "event e         {}  # e\nevent long_name { x: int }\n"
    )


def test_blank_lines_between_declarations_follow_kind_and_source():
    source = "const a = 1\nconst b = 2\n\nconst c = 3\nsegment s = a > 1\n\n\n\nflag f = true\n"
    assert (
        assert_faithful(source)
        == "const a = 1\nconst b = 2\n\nconst c = 3\n\nsegment s = a > 1\n\nflag f = true\n"
    )


def test_syntax_error_returns_diagnostics():
    text, diagnostics = format_source("score s { when x = 1: +1 }")
    assert text is None and diagnostics[0].code.startswith("E1")


def test_cli_check_diff_and_write(tmp_path: Path):
    path = tmp_path / "m.score"
    path.write_text("const  a=1\n")
    runner = CliRunner()
    result = runner.invoke(app, ["fmt", "--check", str(path)])
    assert result.exit_code == 1 and path.read_text() == "const  a=1\n"
    result = runner.invoke(app, ["fmt", "--diff", str(path)])
    assert "-const  a=1" in result.stdout and "+const a = 1" in result.stdout
    assert runner.invoke(app, ["fmt", str(path)]).exit_code == 0
    assert path.read_text() == "const a = 1\n"
    assert runner.invoke(app, ["fmt", "--check", str(path)]).exit_code == 0


def test_cli_reports_unparsable_file(tmp_path: Path):
    path = tmp_path / "bad.score"
    path.write_text("score s {\n")
    result = CliRunner().invoke(app, ["fmt", str(path)])
    assert result.exit_code == 1 and "E10" in result.stdout


# ---- any expression the parser can build prints back to itself ------------------------------

names = st.sampled_from(["a", "industry", "page_view", "x1"])
leaves = st.one_of(
    names.map(ast.Name),
    st.integers(0, 999).map(lambda n: ast.Number(float(n), str(n))),
    st.sampled_from(["saas", 'q"uote', "back\\slash", "ünï"]).map(ast.String),
    st.sampled_from(["7d", "30min", "2w"]).map(lambda t: duration(t)),
    st.booleans().map(ast.Bool),
    st.just(ast.Activity()),
    st.sampled_from(["/pricing", "/docs/*"]).map(ast.Visited),
    st.just(ast.QualifiedName("lead", "industry")),
)


def _compound(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from("+-*/"), children, children).map(lambda t: ast.Arith(*t)),
        children.map(ast.Neg),
        children.map(ast.Not),
        children.map(ast.No),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: ast.BoolOp(t[0], tuple(t[1]))
        ),
        st.tuples(st.sampled_from(["==", "!=", "<", ">=", ">"]), children, children).map(
            lambda t: ast.Compare(*t)
        ),
        st.tuples(children, children, st.booleans()).map(lambda t: ast.In(*t)),
        st.tuples(children, children, children).map(lambda t: ast.Between(*t)),
        st.tuples(
            st.sampled_from(["contains", "starts_with", "ends_with"]), children, children
        ).map(lambda t: ast.StringTest(*t)),
        st.tuples(children, st.booleans()).map(lambda t: ast.IsMissing(*t)),
        children.map(lambda c: ast.Matches(c, ast.Regex("a/b", "i"))),
        two.map(lambda t: ast.Where(*t)),
        children.map(lambda c: ast.Within(c, duration("7d"))),
        st.tuples(children, children, children).map(lambda t: ast.BetweenAgo(*t)),
        two.map(lambda t: ast.Then(*t)),
        st.lists(children, max_size=2).map(lambda xs: ast.Call("count", tuple(xs))),
        st.lists(children, max_size=2).map(lambda xs: ast.ListExpr(tuple(xs))),
    )


expressions = st.recursive(leaves, _compound, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_any_expression_round_trips(expr: ast.Expr):
    text = f"score s {{ when {format_expr(expr)}: +1 }}\n"
    module, diagnostics = parse(text)
    assert module is not None, (text, diagnostics)
    assert ast.same_syntax(module.decls[0].rules[0].condition, expr), text
