"""One test per checker diagnostic: the right code at the right line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scorelang.compiler.diagnostics import Severity
from scorelang.compiler.frontend import compile_file, compile_source

BASE = """model t
lead {
  id: string key
  industry: string?
  employees: int?
  email: string
  created_at: timestamp
  vip: bool
}
event page_view { url: string }
event form_submit { form: string, amount: number? }
"""
BASE_LINES = BASE.count("\n")


def diagnostics(snippet: str, base: str = BASE) -> list[tuple[str, int, int]]:
    """(code, line, column) of each diagnostic, lines counted from the snippet's first."""
    offset = base.count("\n")
    compilation = compile_source(base + snippet + "\n", "t.score")
    return [(d.code, d.span.line - offset, d.span.column) for d in compilation.diagnostics]


def first(snippet: str, base: str = BASE):
    compilation = compile_source(base + snippet + "\n", "t.score")
    assert compilation.diagnostics, "expected a diagnostic"
    return compilation.diagnostics[0]


# (code, snippet appended to BASE, line within the snippet, column)
CASES = [
    ("E200", 'score s { when industy == "x": +1 }', 1, 16),
    (
        "E201",
        'score s { when vip: +1 }\ntest "t" { lead { id: "1" } events { pageview { } at -1d } }',
        2,
        38,
    ),
    ("E202", 'score s { when page_view where uurl == "/": +1 }', 1, 32),
    ("E203", "event e { n: integer }", 1, 14),
    ("E204", "const industry = 1", 1, 7),
    ("E205", "event e { a: string, a: int }", 1, 22),
    ("E206", "event e { occurred_at: timestamp }", 1, 11),
    ("E207", 'score s { when lead.industy == "x": +1 }', 1, 16),
    ("E208", 'score s { when vip: +1 }\ntest "t" { lead { id: "1" } expect scor == 1 }', 2, 36),
    ("E212", "score total = fit + 1", 1, 15),
    ("E213", "score s { when vip: +1 }\ntier t from s { a >= 1 b }\nmatrix m from t, u", 3, 18),
    ("E214", 'score s { when person.industry == "x": +1 }', 1, 16),
    ("E215", "score s { when vip: +1 }\nscore c = s + employees", 2, 15),
    ("E216", "score s { when lenght(email) > 3: +1 }", 1, 16),
    (
        "E217",
        'score s { when vip: +1 }\ntier t from s { hot >= 1 cold }\nflag f = t == "warm"',
        3,
        15,
    ),
    ("E300", 'score s { when employees == "ten": +1 }', 1, 29),
    ("E301", "score s { when employees matches /1/: +1 }", 1, 16),
    ("E302", "score s { when industry * 2 > 1: +1 }", 1, 16),
    ("E303", "score s { when days_since(created_at) > 30d: +1 }", 1, 41),
    ("E304", "score s { when page_view between 1 and 7d ago: +1 }", 1, 34),
    ("E305", "score s { when page_view + 1 > 2: +1 }", 1, 16),
    ("E306", "score s { each industry: +1 }", 1, 16),
    ("E307", "score s { when employees: +1 }", 1, 16),
    ("E308", 'score s { when lower(email, 2) == "x": +1 }', 1, 16),
    ("E309", 'score s { when page_view where industry == "x": +1 }', 1, 32),
    ("E310", "event e { url: int }", 1, 16),
    ("E311", "score s { when email matches /(?=a)b/: +1 }", 1, 31),
    ("E312", "score s { when email matches /(ab/: +1 }", 1, 31),
    ("E313", "score s { when email matches /ab/g: +1 }", 1, 30),
    ("E314", "score s { when industry in industry: +1 }", 1, 28),
    ("E315", 'score s { when vip: +1 }\ntest "t" { lead { id: "1", employees: "many" } }', 2, 39),
    ("E316", "score s { when employees between 100 and 10: +1 }", 1, 34),
    ("E317", 'score s { when email == "a\\x00b": +1 }', 1, 25),
    ("E402", "model again", 1, 1),
    ("E405", "score s { when page_view then form_submit: +1 }", 1, 31),
    ("E406", "score s { each page_view: +1 decay 7d once per 1d }", 1, 39),
    ("E407", "score s { each page_view: +1 max 0 }", 1, 34),
    ("E408", "score s { clamp 100..0 }", 1, 11),
    ("E409", "score s { clamp 0..10\n  clamp 0..20 }", 2, 3),
    ("E410", "score a = b + 1\nscore b = a + 1", 1, 7),
    ("E411", "score s { when vip: +1 }\nscore c = 100 / s", 2, 17),
    ("E412", "score s { when vip: +1 }\ntier t from s { a >= 10 b >= 20 c }", 2, 30),
    ("E413", "score s { when vip: +1 }\ntier t from s { a >= 10 b >= 5 }", 2, 30),
    (
        "E414",
        "score s { when vip: +1 }\ntier p from s by percentile { a top 50% b top 20% c }",
        2,
        47,
    ),
    ("E415", 'score s { when vip: +1 "VIP"\n  when vip: +2 "VIP" }', 2, 16),
    ("E416", "const c = industry", 1, 11),
    ("E417", "segment active = page_view within 7d", 1, 18),
    ("E418", "segment a = b\nsegment b = a", 1, 9),
    ("E420", "flag f = g\nflag g = f", 1, 6),
    ("E421", "score s { when vip: +1 }\ntier t from s { a >= 10 a }", 2, 25),
    ("E422", 'score s { group "g" max 10 { clamp 0..5 } }', 1, 30),
    ("E423", 'score s { when vip: +1 }\ntest "t" { lead { email: "a@b.c" } }', 2, 6),
    ("E424", "score s { when (page_view within 7d) within 30d: +1 }", 1, 16),
]


@pytest.mark.parametrize(("code", "snippet", "line", "column"), CASES, ids=[c[0] for c in CASES])
def test_each_code_points_at_the_offending_source(
    code: str, snippet: str, line: int, column: int
) -> None:
    assert diagnostics(snippet) == [(code, line, column)]


def test_every_error_leaves_no_model() -> None:
    compilation = compile_source(BASE + "score s { when industy == 1: +1 }\n", "t.score")
    assert compilation.model is None
    assert all(d.severity is Severity.ERROR for d in compilation.diagnostics)


@pytest.mark.parametrize(
    ("snippet", "hint"),
    [
        ('score s { when industy == "x": +1 }', "did you mean `industry`?"),
        ('score s { when page_view where uurl == "/": +1 }', "did you mean `url`?"),
        ("score s { when lenght(email) > 3: +1 }", "did you mean `len`?"),
        ("event e { n: strng }", "did you mean `string`?"),
        (
            'score s { when vip: +1 }\ntier t from s { hot >= 1 cold }\nflag f = t == "hto"',
            "did you mean `hot`?",
        ),
        ("score fit { when vip: +1 }\ntier t from fitt { a }", "did you mean `fit`?"),
    ],
)
def test_unknown_names_suggest_the_closest_one(snippet: str, hint: str) -> None:
    assert hint in (first(snippet).hint or "")


def test_a_property_with_two_types_names_both() -> None:
    problem = first("event e { url: int }")
    assert problem.code == "E310"
    assert "int here but string" in problem.message


def test_the_key_field_must_be_unique() -> None:
    source = "lead { id: string key, other: string key }\n"
    assert diagnostics(source, base="") == [("E401", 1, 24)]


def test_a_model_needs_a_lead() -> None:
    assert diagnostics("event e { }", base="") == [("E400", 1, 1)]


def test_two_lead_blocks_are_one_too_many() -> None:
    assert diagnostics("lead { id: string key }\nlead { x: int }", base="") == [("E400", 2, 1)]


def test_visited_needs_a_page_view_with_a_url() -> None:
    source = 'lead { id: string key }\nevent page_view { path: string }\nscore s { when visited "/a": +1 }'
    assert diagnostics(source, base="") == [("E404", 3, 16)]


def test_the_model_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "funnel_v2.score"
    path.write_text("lead { id: string key }\n")
    compilation = compile_file(path)
    assert compilation.model is not None and compilation.model.name == "funnel_v2"


def test_a_file_stem_that_is_no_identifier_needs_a_model_declaration(tmp_path: Path) -> None:
    path = tmp_path / "my-model.score"
    path.write_text("lead { id: string key }\n")
    [problem] = compile_file(path).diagnostics
    assert (problem.code, problem.span.line, problem.span.column) == ("E403", 1, 1)


def test_a_missing_import_is_reported_at_its_path(tmp_path: Path) -> None:
    path = tmp_path / "main.score"
    path.write_text('lead { id: string key }\nimport "nope.score"\n')
    [problem] = compile_file(path).diagnostics
    assert (problem.code, problem.span.line, problem.span.column) == ("E209", 2, 8)


def test_an_import_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.score").write_text('import "b.score"\nlead { id: string key }\n')
    (tmp_path / "b.score").write_text('import "a.score"\n')
    [problem] = compile_file(tmp_path / "a.score").diagnostics
    assert (problem.code, Path(problem.span.file).name, problem.span.line) == ("E210", "b.score", 1)
    assert "a.score -> " in problem.message


def test_imports_bring_schema_and_warn_about_the_rest(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "schema.score").write_text(
        "lead { id: string key, industry: string? }\n"
        "event page_view { url: string }\n"
        'const verticals = ["saas"]\n'
        "segment saas = industry in verticals\n"
        "score ignored { when saas: +1 }\n"
    )
    path = tmp_path / "main.score"
    path.write_text('import "shared/schema.score"\nscore s { when saas and page_view: +5 }\n')
    compilation = compile_file(path)
    assert [(d.code, d.severity, d.span.line) for d in compilation.diagnostics] == [
        ("W211", Severity.WARNING, 5)
    ]
    assert compilation.model is not None
    assert [s.name for s in compilation.model.scores] == ["s"]
    assert set(compilation.sources) == {str(path), str(tmp_path / "shared" / "schema.score")}


def test_a_file_imported_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "schema.score").write_text("lead { id: string key }\n")
    (tmp_path / "consts.score").write_text('import "schema.score"\nconst n = 3\n')
    path = tmp_path / "main.score"
    path.write_text('import "schema.score"\nimport "./consts.score"\nscore s { when n > 1: +1 }\n')
    compilation = compile_file(path)
    assert compilation.diagnostics == []
    assert len(compilation.modules) == 3


def test_a_syntax_error_stops_before_checking() -> None:
    compilation = compile_source("lead { id: string key\n", "t.score")
    assert [d.code for d in compilation.diagnostics] == ["E103"]
    assert compilation.model is None


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", "backreference"),
        ("(?<=a)b", "lookbehind"),
        ("(?!a)b", "negative lookahead"),
        ("(?>a)", "atomic group"),
        ("a++", "possessive"),
        ("(?P<n>a)", "named group"),
        (r"\Aa", r"\A"),
        (r"a\Z", r"\Z"),
        (r"\p{L}", r"\p"),
        ("(?i)a", "inline flags"),
    ],
)
def test_patterns_outside_the_portable_subset_name_the_construct(
    pattern: str, construct: str
) -> None:
    problem = first(f"score s {{ when email matches /{pattern}/: +1 }}")
    assert problem.code == "E311"
    assert construct in problem.message


@pytest.mark.parametrize(
    "pattern",
    [r"^\w+@(acme|corp)\.com$", r"[a-z0-9_.-]{2,8}?x*", r"\bvp\b|\d+\s\S\W\D\B", r"(?:ab)+\?\{"],
)
def test_portable_patterns_pass(pattern: str) -> None:
    assert diagnostics(f"score s {{ when email matches /{pattern}/i: +1 }}") == []


def test_matrix_cells_are_checked_in_flags() -> None:
    snippet = (
        "score s { when vip: +1 }\ntier a from s { x >= 1 y }\ntier b from s { p >= 1 q }\n"
        'matrix m from a, b\nflag f = m == "C1"'
    )
    assert diagnostics(snippet) == [("E217", 5, 15)]


def test_segments_may_use_segments_and_consts() -> None:
    snippet = (
        'const verticals = ["saas"]\nsegment saas = industry in verticals\n'
        "segment big_saas = saas and employees > 100\nscore s { when big_saas: +1 }"
    )
    assert diagnostics(snippet) == []


def test_a_matrix_has_at_most_26_rows() -> None:
    bands = " ".join(f"b{i} >= {100 - i}" for i in range(26)) + " rest"
    snippet = f"score s {{ when vip: +1 }}\ntier big from s {{ {bands} }}\nmatrix m from big, big"
    assert diagnostics(snippet) == [("E419", 3, 15)]


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    compilation = compile_source(BASE + "flag f = " + "not " * 5000 + "vip\n", "t.score")
    assert [d.code for d in compilation.diagnostics] == ["E104"]


def test_every_code_the_front_end_emits_is_documented() -> None:
    root = Path(__file__).resolve().parents[1]
    emitted = set()
    for module in (root / "compiler").glob("*.py"):
        emitted |= set(re.findall(r'"([EW][1-4]\d\d)"', module.read_text()))
    documented = set(
        re.findall(r"^\| ([EW]\d{3}) \|", (root / "docs" / "diagnostics.md").read_text(), re.M)
    )
    assert emitted and emitted <= documented, sorted(emitted - documented)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("score s { each pageview: +1 }", [("E201", 1, 16)]),
        (
            "segment big = employees > 9\nscore s { when page_view where big: +1 }",
            [("E215", 2, 32)],
        ),
        ("score s { when vip: +1 }\nscore c = s + count(page_view)", [("E215", 2, 15)]),
        ("score s { when page_view is missing: +1 }", [("E305", 1, 16)]),
        ("score s { when no vip: +1 }", [("E306", 1, 19)]),
        ("score s { when page_view between 30d and 7d ago: +1 }", [("E316", 1, 16)]),
        ("score s { when count(page_view then form_submit within 1d) > 1: +1 }", [("E306", 1, 22)]),
        ('score s { when industry < "m": +1 }', [("E300", 1, 16)]),
        ('score s { when employees in [1, "two"]: +1 }', [("E314", 1, 29)]),
        ("score s { each page_view: +1 decay linear 150% per 1d }", [("E407", 1, 43)]),
        ("score s { when vip: +employees }", [("E416", 1, 22)]),
        ('score s { when vip: +1 }\ntest "t" { lead { id: "1" } as_of -1d }', [("E315", 2, 35)]),
    ],
)
def test_more_misuses(snippet: str, expected: list[tuple[str, int, int]]) -> None:
    assert diagnostics(snippet) == expected


def test_every_expression_node_type_has_one_checker_handler() -> None:
    """The checker dispatches by node type through one table (no method names built from
    class names); a new expression node without a handler fails here, not at a user's file."""
    from scorelang.compiler import ast
    from scorelang.compiler.typecheck import HANDLERS

    def concrete(cls: type) -> set[type]:
        subclasses = set(cls.__subclasses__())
        return {c for c in subclasses if not c.__subclasses__()} | {
            d for c in subclasses for d in concrete(c)
        }

    assert set(HANDLERS) == concrete(ast.Expr)


def test_the_handler_modules_do_not_import_the_checker() -> None:
    """comparisons, functions and eventsets see the checker through `checked.ExprChecker`:
    no import circle with compiler/typecheck.py."""
    import ast as pyast
    from pathlib import Path

    import scorelang.compiler

    folder = Path(scorelang.compiler.__file__).parent
    for name in ("comparisons", "functions", "eventsets", "checked"):
        tree = pyast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        imported = {node.module for node in pyast.walk(tree) if isinstance(node, pyast.ImportFrom)}
        assert "typecheck" not in imported, name
