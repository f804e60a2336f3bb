"""`previous(OUTPUT, D)` and `change(SCORE, D)` written in the language: the checker's codes,
the lowering to shifted references, the semantics of the earlier instant (fields without
history, the events of then, percentile tiers ranked at that instant), and Python, DuckDB
and Postgres agreeing to the cent (tests/test_previous_warehouses.py: BigQuery, Snowflake,
Spark)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.targets.python.evaluator import PythonEvaluator
from scorelang.targets.sql.builder import select_scores
from test_check import diagnostics
from test_parity import differences
from test_plan import EARLIER, EXAMPLES
from test_plan_shift import by_instant

from scorelang import engines
from scorelang.config import SourceMapping
from scorelang.data import read_records
from scorelang.engines import duckdb as duckdb_engine
from scorelang.lsp.analysis import analyse
from scorelang.lsp.completion import complete
from scorelang.lsp.hover import hover

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
SCORE = "score s { when vip: +1 }\n"

# (code, snippet appended to test_check.BASE, line within the snippet, column): each
# mistake gives exactly one diagnostic.
CASES = [
    ("E450", SCORE + "score v = change(s, 7d)\nflag f = previous(v, 1d) > 0", 3, 10),
    (
        "E450",
        SCORE
        + 'score v = change(s, 7d)\ntier t from v { up >= 1 flat }\nflag f = previous(t, 1d) == "up"',
        4,
        10,
    ),
    ("E450", SCORE + "score v = change(s, 7d)\nflag g = v > 1\nflag f = previous(g, 1d)", 4, 10),
    ("E451", SCORE + "score c = previous(c, 1d) + s", 2, 11),
    ("E451", "flag a = previous(b, 1d)\nflag b = a", 1, 10),
    ("E452", SCORE + "score c = change(s)", 2, 11),
    ("E452", SCORE + "score c = previous(s, 0d)", 2, 23),
    ("E453", "flag f = previous(industry, 7d) == 1", 1, 19),
    ("E453", "flag f = previous(page_view, 7d)", 1, 19),
    ("E453", SCORE + "score c = previous(s + 1, 7d)", 2, 20),
    ("E454", SCORE + "tier t from s { a >= 1 b }\nflag f = change(t, 7d) > 0", 3, 10),
    ("E455", SCORE + 'test "t" { lead { id: "1" } expect change(s, 7d) == 0 }', 2, 36),
    ("E215", SCORE + "score r { when previous(s, 1d) > 0: +1 }", 2, 16),
    ("E215", SCORE + "tier t from s { a >= 1 b }\nscore c = previous(t, 1d)", 3, 20),
    ("E212", SCORE + "score c = previous(ss, 1d)", 2, 20),
    ("E304", SCORE + "score c = change(s, 7)", 2, 21),
    ("E308", SCORE + "score c = change(s, 7d, 1d)", 2, 11),
    ("E217", SCORE + 'tier t from s { a >= 1 b }\nflag f = previous(t, 1d) == "c"', 3, 29),
]


@pytest.mark.parametrize(
    ("code", "snippet", "line", "column"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_misuse_gives_one_diagnostic_at_the_call(
    code: str, snippet: str, line: int, column: int
) -> None:
    assert diagnostics(snippet) == [(code, line, column)]


def test_a_shift_of_a_shift_is_reported_beside_a_cycle() -> None:
    snippet = (
        SCORE + "score v = change(s, 7d)\nflag f = change(v, 7d) > 0\n"
        "score loop = previous(loop, 1d) + s\nscore a = b + 1\nscore b = a + 1"
    )
    assert diagnostics(snippet) == [("E451", 4, 14), ("E410", 5, 7), ("E450", 3, 10)]


def lowered(snippet: str) -> ir.Model:
    compilation = compile_source(BASE_MODEL + snippet, "t.score")
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


BASE_MODEL = """model early
lead {
  id: string key
  industry: string?
  created_at: timestamp?
}
event page_view { url: string }
score fit { when industry == "saas": +12.05 }
"""


def test_previous_and_change_lower_to_shifted_references() -> None:
    model = lowered(
        "score gain = change(fit, 7d)\ntier t from fit { a >= 1 b }\n"
        'flag f = previous(t, 1d) == "a" and previous(fit, 12h) > 0'
    )
    week, day = WEEK.total_seconds(), 86400.0
    (gain,) = model.composites
    assert gain.expr == ir.Func(
        "round",
        (
            ir.Arith("-", ir.ScoreRef("fit"), ir.ScoreRef("fit", shift=week)),
            ir.Literal(2, ir.Type.INT),
        ),
        ir.Type.NUMBER,
    )
    shifted = [n for n in ir.subexpressions(model.flags) if ir.is_shifted(n)]
    assert shifted == [ir.TierRef("t", shift=day), ir.ScoreRef("fit", shift=day / 2)]


def test_an_output_read_only_at_an_earlier_instant_comes_before_its_reader() -> None:
    """The IR lists outputs in dependency order, earlier values included: the plan and the
    Python evaluator compute `b` before `a` reads it a day before."""
    model = lowered("score a = previous(b, 1d) + 1\nscore b = fit * 2\n")
    assert [c.name for c in model.composites] == ["b", "a"]
    assert PythonEvaluator(model).score({"id": "x"}, [], AS_OF).scores == {
        "fit": 0,
        "b": 0,
        "a": 1,
    }


# ---- semantics on a small data set --------------------------------------------------------

SEMANTICS = """
score young { when days_since(created_at) < 10: +1 }
score eng {
  each page_view within 7d: +5
  when no page_view within 30d: -1
}
score eng_was = previous(eng, 7d)
score fit_was = previous(fit, 7d)
score young_was = previous(young, 7d)
score gain = change(eng, 7d)
tier rank from eng by percentile {
  top top 25%
  rest
}
flag was_top = previous(rank, 7d) == "top"
flag newly_top = rank == "top" and not (previous(rank, 7d) == "top")
"""


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def iso(delta: timedelta) -> str:
    return (AS_OF - delta).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`new`: created 3 days ago, two page views this week; `faded`: three page views 9 days
    ago; `quiet`: no events; `old`: created 12 days ago, no events."""
    folder = tmp_path_factory.mktemp("previous")
    day = timedelta(days=1)
    leads = [
        {"id": "new", "industry": "saas", "created_at": iso(3 * day)},
        {"id": "faded", "industry": "", "created_at": iso(60 * day)},
        {"id": "quiet", "industry": "saas", "created_at": ""},
        {"id": "old", "industry": "", "created_at": iso(12 * day)},
    ]
    events = [
        {"lead_id": "new", "event_type": "page_view", "occurred_at": iso(d * day), "url": "/p"}
        for d in (2, 1)
    ] + [
        {"lead_id": "faded", "event_type": "page_view", "occurred_at": iso(9 * day), "url": u}
        for u in ("/a", "/b", "/c")
    ]
    return {
        "leads": write(folder / "leads.csv", leads),
        "events": write(folder / "events.csv", events),
    }


@pytest.fixture(scope="module")
def semantics_model() -> ir.Model:
    return lowered(SEMANTICS)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_the_earlier_instant_keeps_the_fields_and_drops_later_events(
    engine: str, semantics_model: ir.Model, data: dict[str, Path]
) -> None:
    rows = {r["id"]: r for r in engines.score(semantics_model, engine, as_of=AS_OF, **data)}
    outputs = ("fit", "fit_was", "young", "young_was", "eng", "eng_was", "gain")
    got = {key: tuple(row[c] for c in outputs) for key, row in rows.items()}
    assert got == {
        # A week earlier `new` had no events yet: scored from its fields, with an empty
        # history (no page view within 30 days: -1). Its creation, 4 days after that
        # instant, is -4 days old then: still young.
        "new": (12.05, 12.05, 1, 1, 10, -1, 11),
        "faded": (0, 0, 0, 0, 0, 15, -15),
        "quiet": (12.05, 12.05, 0, 0, -1, -1, 0),
        # 12 days old now, 5 days old a week earlier.
        "old": (0, 0, 0, 1, -1, -1, 0),
    }


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_percentile_tier_a_week_earlier_ranks_the_leads_as_they_were(
    engine: str, semantics_model: ir.Model, data: dict[str, Path]
) -> None:
    rows = {r["id"]: r for r in engines.score(semantics_model, engine, as_of=AS_OF, **data)}
    assert {k: r["rank"] for k, r in rows.items()} == {
        "new": "top",
        "faded": "rest",
        "quiet": "rest",
        "old": "rest",
    }
    # A week earlier `faded` led with 15 and `new` had nothing yet.
    assert {k for k, r in rows.items() if r["was_top"]} == {"faded"}
    assert {k for k, r in rows.items() if r["newly_top"]} == {"new"}


def test_a_lead_scored_alone_has_no_earlier_percentile_tier(
    semantics_model: ir.Model, data: dict[str, Path]
) -> None:
    leads, events = read_records(semantics_model, data["leads"], data["events"])
    evaluator = PythonEvaluator(semantics_model)
    for lead in leads:
        mine = [e for e in events if e["lead_id"] == lead["id"]]
        result = evaluator.score(lead, mine, AS_OF)
        assert result.tiers["rank"] is None
        assert result.flags["was_top"] is False  # missing band: the comparison is false
        assert result.flags["newly_top"] is False  # a flag that reads a band: false alone


def test_change_is_exact_to_the_cent(tmp_path: Path) -> None:
    """32.05 - 12.05 is 19.999999999999996 in binary; `change` is 20 in every engine."""
    model = lowered(
        'score s {\n  when industry == "saas": +12.05\n  each page_view within 7d: +20\n}\n'
        "flag change_20 = change(s, 7d) >= 20\nflag by_hand_20 = s - previous(s, 7d) >= 20\n"
    )
    leads = write(tmp_path / "leads.csv", [{"id": "l1", "industry": "saas", "created_at": ""}])
    events = write(
        tmp_path / "events.csv",
        [{"lead_id": "l1", "event_type": "page_view", "occurred_at": iso(WEEK / 7), "url": "/"}],
    )
    for engine in ("python", "duckdb"):
        (row,) = engines.score(model, engine, leads=leads, events=events, as_of=AS_OF)
        assert (row["s"], row["change_20"], row["by_hand_20"]) == (32.05, True, False)


# ---- a larger model written with previous and change, every engine ------------------------

FOLDER = EXAMPLES / "advanced"
ADVANCED_EXTRA = """
score fit_then = previous(fit, 30d)
score engagement_gain "Engagement gained in a week" = change(engagement, 7d)
score total_then = previous(total, 3.5d)
score drift = change(total, 14d) / 2 + change(momentum, 7d)
tier gain_tier from engagement_gain {
  up   >= 10
  flat >= -10
  down
}
flag cooled = change(engagement, 7d) <= -15
flag was_ready = previous(sales_ready, 7d)
flag newly_ready = sales_ready and not previous(sales_ready, 7d)
flag moved_cell = grid != previous(grid, 7d)
flag left_a_list = previous(rank, 3.5d) == "a_list" and rank != "a_list"
flag woke_up = previous(engagement_tier, 7d) == "cold" and engagement_tier != "cold"
"""


def advanced(extra: str = ADVANCED_EXTRA) -> ir.Model:
    path = FOLDER / "model.score"
    compilation = compile_source(path.read_text(encoding="utf-8") + extra, str(path))
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


def files() -> dict[str, Path]:
    return {"leads": FOLDER / "leads.csv", "events": FOLDER / "events.csv"}


@pytest.fixture(scope="module")
def model() -> ir.Model:
    return advanced()


@pytest.fixture(scope="module")
def expected(model: ir.Model) -> list[dict[str, Any]]:
    return engines.score(model, "python", as_of=AS_OF, **files())


def test_earlier_values_are_the_model_scored_at_the_earlier_instant(
    expected: list[dict[str, Any]],
) -> None:
    plain = advanced("")
    at = {
        days: {
            r["id"]: r
            for r in engines.score(plain, "python", as_of=AS_OF - timedelta(days=days), **files())
        }
        for days in (3.5, 7, 14, 30)
    }
    for row in expected:
        key = row["id"]
        assert row["fit_then"] == at[30][key]["fit"]
        assert row["total_then"] == at[3.5][key]["total"]
        assert row["engagement_gain"] == ir.round_score(
            row["engagement"] - at[7][key]["engagement"]
        )
        assert row["was_ready"] == at[7][key]["sales_ready"]
        assert row["newly_ready"] == (row["sales_ready"] and not at[7][key]["sales_ready"])
        assert row["moved_cell"] == (row["grid"] != at[7][key]["grid"])
        assert row["left_a_list"] == (at[3.5][key]["rank"] == "a_list" and row["rank"] != "a_list")
    # The data moves: the earlier values differ from the current ones for some leads.
    assert any(r["engagement_gain"] != 0 for r in expected)
    assert any(r["total_then"] != r["total"] for r in expected)
    assert any(r["left_a_list"] for r in expected) or any(
        at[3.5][r["id"]]["rank"] != r["rank"] for r in expected
    )


def test_duckdb_matches_python(model: ir.Model, expected: list[dict[str, Any]]) -> None:
    rows = engines.score(model, "duckdb", as_of=AS_OF, **files())
    assert differences(model, expected, rows) == []


@pytest.mark.postgres
def test_postgres_matches_python(
    model: ir.Model, expected: list[dict[str, Any]], pg_url: str
) -> None:
    rows = engines.score(model, "postgres", as_of=AS_OF, database=pg_url, **files())
    assert differences(model, expected, rows) == []


def test_one_duckdb_query_evaluates_two_instants_and_their_earlier_ones(model: ir.Model) -> None:
    sql = select_scores(model, "duckdb", as_of=[AS_OF, EARLIER]).sql(dialect="duckdb")
    with duckdb_engine.session(model, **files(), database=None, mapping=SourceMapping()) as con:
        records = con.execute(sql).fetchall()
    for instant in (AS_OF, EARLIER):
        assert by_instant(model, records, instant) == engines.score(
            model, "python", as_of=instant, **files()
        )


# ---- the editor ------------------------------------------------------------------------------

VELOCITY = EXAMPLES / "velocity" / "model.score"


def test_the_editor_explains_and_completes_previous_and_change() -> None:
    text = VELOCITY.read_text(encoding="utf-8")
    analysis = analyse(text, str(VELOCITY))
    assert analysis.diagnostics == ()

    def at(needle: str, offset: int = 0) -> tuple[int, int]:
        index = text.index(needle) + offset
        return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)

    assert "as_of - D" in (hover(analysis, *at("previous(mql")) or "")
    assert "rounded to the cent" in (hover(analysis, *at("change(engagement")) or "")
    # The output a call reads is a name like any other: its hover, its references.
    assert "score engagement" in (hover(analysis, *at("change(engagement", 8)) or "")
    line, column = at("change(engagement", 7)
    uses = analysis.bindings.references(("name", "engagement"), include_definitions=False)
    assert any(span.line == line and span.column == column for span in uses)
    labels = {item.label for item in complete(analysis, *at("change(engagement", 8))}
    assert {"previous", "change", "engagement"} <= labels
