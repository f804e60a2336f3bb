"""Accounts in the front end: one test per account diagnostic (E430-E440, and the older codes
accounts reuse), what parses and formats, and what lowering gives the IR."""

from __future__ import annotations

import pytest
from scorelang.compiler import ir
from scorelang.compiler.fmt import format_source
from scorelang.compiler.frontend import compile_source

BASE = """model t
account {
  id: string key
  industry: string?
  employees: int?
}
lead {
  id: string key
  account_id: string? account
  department: string?
  title: string?
  seats: int?
}
event page_view { url: string }
score fit { when title == "VP": +10 }
flag engaged = fit > 5
"""


def diagnostics(snippet: str, base: str = BASE) -> list[tuple[str, int, int]]:
    """(code, line, column) of each diagnostic, lines counted from the snippet's first."""
    offset = base.count("\n")
    compilation = compile_source(base + snippet + "\n", "t.score")
    return [(d.code, d.span.line - offset, d.span.column) for d in compilation.diagnostics]


def model(snippet: str, base: str = BASE) -> ir.Model:
    compilation = compile_source(base + snippet + "\n", "t.score")
    assert compilation.model is not None, compilation.diagnostics
    return compilation.model


CASES = [
    # unknown account field or output
    ("E430", 'score s { when account.industy == "x": +1 }', 1, 16),
    # a roll-up of a value that is not a number
    ("E431", "account score a { when max(leads.department) > 1: +1 }", 1, 28),
    # `leads` outside an account output, and a roll-up of the wrong shape
    ("E432", "score s { when count(leads) > 1: +1 }", 1, 16),
    ("E432", "account score a { when count(leads where engaged and fit > 1) > 1: +1 }", 1, 24),
    ("E432", "account score a { when sum(leads) > 1: +1 }", 1, 24),
    # account.X inside an account output; a lead output bare in an account output
    ("E433", 'account score a { when account.industry == "x": +1 }', 1, 24),
    ("E433", "account score a { when fit > 1: +1 }", 1, 24),
    ("E433", "account score a { when title is present: +1 }", 1, 24),
    ("E433", "account score a { when industry is present: +1 }\nscore s { when a > 1: +1 }", 2, 16),
    (
        "E433",
        "account score a { when industry is present: +1 }\ntier t from fit { x >= 1  y }\naccount matrix m from t, t",
        3,
        23,
    ),
    # top N <= 0, and top outside avg
    ("E434", "account score a { when avg(top 0 leads.fit) > 1: +1 }", 1, 32),
    ("E434", "account score a { when sum(top 2 leads.fit) > 1: +1 }", 1, 28),
    # cycles across entities
    (
        "E438",
        "account score a { when max(leads.s) > 1: +1 }\nscore s { when account.a > 1: +1 }",
        1,
        15,
    ),
    # an expectation over the other entity, or without an account block
    (
        "E440",
        'account score a { when industry is present: +1 }\ntest "t" { lead { id: "l" } expect a == 1 }',
        2,
        36,
    ),
    ("E440", 'test "t" { lead { id: "l" } expect account fit == 1 }', 1, 29),
    (
        "E440",
        'test "t" { account { id: "a" } lead { id: "l1" } lead { id: "l2" } expect fit == 1 }',
        1,
        68,
    ),
    (
        "E440",
        'test "t" { account { id: "a" } lead { id: "l1" } expect lead "l9" fit == 1 }',
        1,
        50,
    ),
    ("E430", 'test "t" { account { id: "a", sector: "x" } lead { id: "l" } }', 1, 31),
    ("E423", 'test "t" { account { industry: "x" } lead { id: "l" } }', 1, 6),
    ("E215", "account score a { when count(leads where page_view) > 1: +1 }", 1, 42),
    ("E204", "segment industry = 1 > 0", -12, 3),  # at the account field
]


@pytest.mark.parametrize(("code", "snippet", "line", "column"), CASES)
def test_each_account_diagnostic(code: str, snippet: str, line: int, column: int) -> None:
    found = diagnostics(snippet)
    assert (code, line, column) in found, found


SCHEMA_CASES = [
    # a second link field; the mark on an account field
    (
        "E435",
        "account { id: string key }\nlead { id: string key\n a: string? account\n b: string? account }",
        4,
        2,
    ),
    ("E435", "account { id: string key\n parent: string? account }\nlead { id: string key }", 2, 2),
    # link type differs from the account key's
    ("E436", "account { id: string key }\nlead { id: string key\n a: int? account }", 3, 5),
    # account outputs, a link or account.x without an account declaration
    ("E437", "lead { id: string key }\naccount score a { clamp 0..1 }", 2, 15),
    ("E437", "lead { id: string key\n a: string? account }", 2, 2),
    ("E437", 'lead { id: string key }\nscore s { when account.x == "y": +1 }', 2, 16),
    (
        "E437",
        'lead { id: string key }\nscore s { clamp 0..1 }\ntest "t" { account { id: "a" } lead { id: "l" } }',
        3,
        6,
    ),
    # two account blocks; an account without exactly one key
    (
        "E439",
        "account { id: string key }\naccount { x: string key }\nlead { id: string key }",
        2,
        1,
    ),
    ("E401", "account { id: string }\nlead { id: string key }", 1, 1),
]


@pytest.mark.parametrize(("code", "source", "line", "column"), SCHEMA_CASES)
def test_each_account_schema_diagnostic(code: str, source: str, line: int, column: int) -> None:
    found = diagnostics(source, base="model t\n")
    assert (code, line, column) in found, found


def test_account_and_lead_fields_may_share_names_but_not_with_other_names() -> None:
    m = model(
        'account score a { when industry == "saas": +1 }',
        base=BASE.replace("  seats: int?", "  seats: int?\n  industry: string?"),
    )
    (rule,) = m.outputs_of(ir.ACCOUNT).scores[0].rules
    assert rule.condition.left == ir.AccountField("industry", ir.Type.STRING)
    assert diagnostics("score employees { clamp 0..1 }")[0][0] == "E204"


def test_lowering_gives_the_accounts_ir() -> None:
    m = model(
        "account score intent {\n"
        '  when industry in ["saas"]: +20\n'
        "  when count(leads where engaged) >= 2: +30\n"
        "  when avg(top 3 leads.fit where title is present) >= 5: +10\n"
        "  when count_distinct(leads.department where fit >= 5) >= 2: +25\n"
        "  each page_view within 30d: +2 max 10\n"
        "}\n"
        "account score pipeline = sum(leads.seats)\n"
        "account tier heat from intent { hot >= 60  cold }\n"
        'score engagement { when account.heat == "hot": +10  when account.employees > 100: +5 }\n'
        "score total = fit + account.pipeline\n"
    )
    assert m.account == ir.Entity(
        ir.ACCOUNT,
        "id",
        (
            ir.FieldType("id", ir.Type.STRING),
            ir.FieldType("industry", ir.Type.STRING, True),
            ir.FieldType("employees", ir.Type.INT, True),
        ),
    )
    assert m.account_link == "account_id"
    intent = m.outputs_of(ir.ACCOUNT).scores[0]
    rollups = [e for e in ir.subexpressions(intent) if isinstance(e, ir.Rollup)]
    assert [(r.func, r.top) for r in rollups] == [
        ("count", None),
        ("avg", 3),
        ("count_distinct", None),
    ]
    assert rollups[0].where == ir.FlagRef("engaged")
    (each,) = [r for r in intent.rules if isinstance(r, ir.EachRule)]
    assert m.aggregate(each.quantity.id).entity == ir.ACCOUNT
    pipeline = m.outputs_of(ir.ACCOUNT).composites[0]
    assert pipeline.expr == ir.Rollup("sum", ir.LeadField("seats", ir.Type.INT))
    assert pipeline.expr.type is ir.Type.INT and not pipeline.expr.may_be_missing
    # from a lead, the account's outputs may be missing (no account)
    total = m.outputs_of(ir.LEAD).composites[0]
    assert total.expr.right == ir.ScoreRef("pipeline") and total.expr.right.may_be_missing
    assert total.expr.may_be_missing
    assert m.output_columns[:4] == ("id", "fit", "engagement", "total")
    assert m.account_output_columns[:4] == ("id", "intent", "pipeline", "heat")


def test_account_sources_format_to_a_fixed_point() -> None:
    source = (
        BASE
        + "account score a { when avg(top 3 leads.fit where (engaged and fit > 1)) > 1: +1 }\n"
        + "account flag hot = a > 0\n"
        + 'test "t" {\n account {id:"a"}\n lead {id:"l1"} events { page_view { url: "/" } at -1d }\n'
        + ' lead {id:"l2", account_id: "b"}\n expect account a == 1\n expect lead "l2" tier fit == 0\n}\n'
    )
    formatted, problems = format_source(source)
    assert not problems and formatted is not None
    assert (
        "account score a {\n  when avg(top 3 leads.fit where (engaged and fit > 1)) > 1: +1\n}"
        in formatted
    )
    assert 'expect lead "l2" tier fit == 0' in formatted
    assert "account_id: string? account" in formatted
    assert format_source(formatted)[0] == formatted
    assert compile_source(formatted, "t.score").model is not None


def test_account_tests_lower_with_each_lead_linked_to_the_account() -> None:
    m = model(
        'test "t" {\n  account { id: "a1" }\n  lead { id: "l1" }\n  events { page_view { url: "/" } at -1d }\n'
        '  lead { id: "l2", account_id: "other" }\n  expect lead "l1" fit == 0\n}\n'
    )
    (case,) = m.tests
    assert case.account == (("id", "a1"),)
    assert [dict(lead.record)["account_id"] for lead in case.leads] == ["a1", "other"]
    assert [len(lead.events) for lead in case.leads] == [1, 0]
    assert case.expectations[0].lead == "l1" and case.expectations[0].entity == ir.LEAD


def test_the_binder_keys_account_fields_apart_from_lead_fields() -> None:
    from scorelang.compiler.binder import bind
    from scorelang.compiler.symbols import collect

    source = BASE.replace("  seats: int?", "  seats: int?\n  industry: string?") + (
        'account score a { when industry == "saas": +1  when max(leads.seats) > 1: +1 }\n'
        'score s { when account.industry == "x": +1  when industry == "y": +1 }\n'
    )
    compilation = compile_source(source, "t.score")
    symbols = collect([(compilation.modules["t.score"], True)])
    bindings = bind(compilation.modules, symbols)
    lines = source.split("\n")
    account_line = next(n for n, line in enumerate(lines, 1) if line.startswith("account score"))
    inside = bindings.at("t.score", account_line, 25)
    assert inside is not None and inside.key == ("account", "industry")
    assert (inside.type, inside.optional) == (ir.Type.STRING, True)
    seats = bindings.at("t.score", account_line, 63)
    assert seats is not None and seats.key == ("name", "seats")
    qualified = bindings.at("t.score", account_line + 1, 25)
    assert qualified is not None and qualified.key == ("account", "industry")
    bare = bindings.at("t.score", account_line + 1, 50)
    assert bare is not None and bare.key == ("name", "industry")
    assert [s.line for s in bindings.definitions(("account", "industry"))] == [4]


def test_lint_reads_account_models_and_checks_only_lead_flags_against_lead_rows() -> None:
    from scorelang.compiler import lint as linter

    source = BASE + "account score a { when count(leads where engaged) > 1: +1 }\n"
    source += "account flag hot = a > 0\n"
    compilation = compile_source(source, "t.score")
    assert compilation.model is not None
    rows = [{"id": "l1", "fit": 10.0, "engaged": True}]
    ctx = linter.LintContext(
        compilation.modules["t.score"],
        compilation.model,
        linter.LintConfig(),
        compilation.modules,
        rows,
    )
    assert "SL009" not in [f.code for f in linter.lint(ctx)]  # `hot` is the account's


def test_score_bounds_of_rollups() -> None:
    from scorelang.compiler.lint.bounds import INF, Interval, score_bounds

    m = model(
        "account score best = max(leads.fit)\naccount score mean = avg(top 2 leads.fit)\n"
        "account score n = count(leads)\naccount score total = sum(leads.fit)\n"
    )
    bounds = score_bounds(m)
    assert bounds["best"].final == bounds["mean"].final == Interval(0.0, 10.0)
    assert bounds["n"].final == Interval(0.0, INF)
    assert bounds["total"].final == Interval(-INF, INF)
