"""`scorelang history`: every lead at a spine of instants on Python, DuckDB and Postgres (the
same rows, each the lead's scores at that instant), the transitions between instants (the
Python computation and the SQL LAG query agree), the per-instant summary, files, the CLI."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file, compile_source
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.history import select_history, signed_cents
from sqlglot import exp
from typer.testing import CliRunner

from scorelang import engines
from scorelang.cli import app
from scorelang.history import (
    SpineError,
    history_rows,
    history_summary,
    parse_duration,
    spine,
    transition_rows,
    transitions,
    write_history,
)
from scorelang.history.transitions import signed_cents as python_signed

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
END = datetime(2026, 1, 1, tzinfo=UTC)
# Ten instants 1.5 days apart: windows, decay and quiet periods move between them.
INSTANTS = spine(END - timedelta(days=13.5), END, parse_duration("36h"))
SQL_ENGINES = ("duckdb", "postgres")


def model_of(folder: str) -> ir.Model:
    compilation = compile_file(EXAMPLES / folder / "model.score")
    assert compilation.model is not None
    return compilation.model


def files(folder: str) -> dict[str, Path]:
    return {"leads": EXAMPLES / folder / "leads.csv", "events": EXAMPLES / folder / "events.csv"}


def sources(folder: str, engine: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    return files(folder) | {"database": database}


@pytest.fixture(scope="module", params=["b2b_saas", "advanced", "ecommerce"])
def example(request: pytest.FixtureRequest) -> tuple[str, ir.Model, list[dict[str, Any]]]:
    """An example and its history on the Python engine."""
    model = model_of(request.param)
    return request.param, model, history_rows(model, "python", INSTANTS, **files(request.param))


# ---- the spine ----------------------------------------------------------------------------


def test_the_spine_includes_both_ends_and_stops_at_the_last_step() -> None:
    day = parse_duration("1d")
    assert spine(END, END + timedelta(days=2), day) == [END + timedelta(days=n) for n in range(3)]
    assert spine(END, END + timedelta(days=2, hours=23), day)[-1] == END + timedelta(days=2)
    assert spine(END, END, day) == [END]
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("30min") == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("start", "end", "every", "message"),
    [
        (END, END - timedelta(days=1), "1d", "is before --from"),
        (END, END + timedelta(days=1), "0d", "positive duration"),
        (END, END + timedelta(days=3650), "1h", "more than the limit of 1000"),
    ],
)
def test_a_spine_that_cannot_be_is_refused(
    start: datetime, end: datetime, every: str, message: str
) -> None:
    with pytest.raises(SpineError, match=message):
        spine(start, end, parse_duration(every))


def test_a_duration_must_be_one_of_the_language() -> None:
    with pytest.raises(SpineError, match="not a duration"):
        parse_duration("1 day")


# ---- history rows ----------------------------------------------------------------------


def test_each_history_row_is_the_score_at_its_instant(
    example: tuple[str, ir.Model, list[dict[str, Any]]],
) -> None:
    """Point in time: the row of (lead, t) is what `score --as-of t` gives the lead."""
    folder, model, history = example
    assert len(history) == len(INSTANTS) * 150
    for instant in (INSTANTS[0], INSTANTS[4], INSTANTS[-1]):
        scored = engines.score(model, "python", as_of=instant, **files(folder))
        at = [{k: v for k, v in row.items() if k != "as_of"} for row in history]
        assert [r for r, h in zip(at, history, strict=True) if h["as_of"] == instant] == scored


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_sql_engines_give_the_python_history(
    example: tuple[str, ir.Model, list[dict[str, Any]]],
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    folder, model, expected = example
    rows = history_rows(model, engine, INSTANTS, **sources(folder, engine, request))
    assert rows == expected


def test_the_sql_history_is_one_query_over_the_spine() -> None:
    model = model_of("b2b_saas")
    sql = select_history(model, "duckdb", INSTANTS).sql(dialect="duckdb")
    assert sql.count("UNION ALL") == len(INSTANTS) - 1  # the instants, listed once
    assert sql.count('FROM "events"') == 2  # one scan, one for the sequences


def test_one_instant_has_its_as_of_column_too(request: pytest.FixtureRequest) -> None:
    model = model_of("b2b_saas")
    rows = history_rows(model, "duckdb", [END], **files("b2b_saas"))
    assert rows == history_rows(model, "python", [END], **files("b2b_saas"))
    assert list(rows[0])[:2] == ["id", "as_of"] and rows[0]["as_of"] == END


# ---- transitions --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ("python", *SQL_ENGINES))
def test_transitions_agree_on_every_engine(
    example: tuple[str, ir.Model, list[dict[str, Any]]],
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    """The SQL LAG query and the Python computation over the Python history agree."""
    folder, model, history = example
    expected = transitions(model, history)
    assert expected, "the examples move between these instants"
    assert transition_rows(model, engine, INSTANTS, **sources(folder, engine, request)) == expected


def test_a_transition_says_when_and_why() -> None:
    """A demo request on day 2 moves the lead at the first instant after it, and says so."""
    model = compile_source(
        """
        model t "transitions"
        lead { id: string key }
        event page_view { url: string }
        event demo_request { }
        score interest {
          when demo_request within 30d: +30 "Requested a demo"
          when visited "/pricing" within 7d: +15 "Viewed pricing"
          each page_view within 30d: +0.25 "Page views"
        }
        tier stage from interest { hot >= 40  warm >= 10  cold }
        flag mql = interest >= 40
        """,
        "t.score",
    ).model
    assert model is not None
    lead = [{"id": "a"}]
    day = timedelta(days=1)
    events = [
        {"lead_id": "a", "event_type": "page_view", "occurred_at": END + 1.5 * day, "url": "/"},
        {"lead_id": "a", "event_type": "demo_request", "occurred_at": END + 2.5 * day},
        {
            "lead_id": "a",
            "event_type": "page_view",
            "occurred_at": END + 2.5 * day,
            "url": "/pricing",
        },
    ]
    from scorelang.targets.python import PythonEvaluator

    evaluator = PythonEvaluator(model)
    history = [
        {"id": "a", "as_of": t} | evaluator.score(lead[0], events, t).as_row(model)
        for t in spine(END, END + 4 * day, day)
    ]
    moves = transitions(model, history)
    at = END + 3 * day  # the first instant where the new value holds
    reasons = "Requested a demo +30, Viewed pricing +15, Page views +0.25"
    assert moves == [
        {"id": "a", "output": "stage", "from": "cold", "to": "hot", "at": at, "reasons": reasons},
        {"id": "a", "output": "mql", "from": "false", "to": "true", "at": at, "reasons": reasons},
    ]


def test_points_read_as_rules_write_them_in_sql_and_python(pg_url: str) -> None:
    """The reasons' numbers: the same text from whole cents in DuckDB, Postgres and Python."""
    import psycopg

    cents = [1, -1, 5, 10, 15, 25, 50, 95, 100, 105, 150, 199, 3000, -3000, -1505, 123456]
    for dialect in ("duckdb", "postgres"):
        value = signed_cents(get_dialect(dialect), exp.column("c"))
        rows = exp.union(
            *(exp.select(exp.alias_(exp.Literal.number(c), "c")) for c in cents[:2]),
            distinct=False,
        )
        for c in cents[2:]:
            rows = exp.union(
                rows, exp.select(exp.alias_(exp.Literal.number(c), "c")), distinct=False
            )
        query = exp.select(exp.column("c"), value).from_(rows.subquery("v")).sql(dialect=dialect)
        if dialect == "duckdb":
            found = dict(duckdb.connect().execute(query).fetchall())
        else:
            with psycopg.connect(pg_url) as pg:
                found = dict(pg.execute(query).fetchall())
        assert found == {c: python_signed(c) for c in cents}, dialect
    assert [python_signed(c) for c in (3000, -1505, 95, 150)] == ["+30", "-15.05", "+0.95", "+1.5"]


# ---- summary and files ----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ("python", *SQL_ENGINES))
def test_the_summary_counts_each_instant(engine: str, request: pytest.FixtureRequest) -> None:
    model = model_of("b2b_saas")
    history = history_rows(model, "python", INSTANTS, **files("b2b_saas"))
    summary = history_summary(
        model, engine, INSTANTS, "total", **sources("b2b_saas", engine, request)
    )
    assert [s.instant for s in summary] == INSTANTS
    for line in summary:
        rows = [r for r in history if r["as_of"] == line.instant]
        assert line.leads == len(rows)
        assert line.mean == pytest.approx(sum(r["total"] for r in rows) / len(rows))
        assert line.flags == {"mql": sum(r["mql"] for r in rows)}
        labels = ("decision", "evaluation", "interest", "awareness")
        assert line.tiers == {"stage": {b: sum(r["stage"] == b for r in rows) for b in labels}}


@pytest.mark.parametrize("engine", ("python", *SQL_ENGINES))
@pytest.mark.parametrize("moves", [False, True], ids=["history", "transitions"])
def test_files_hold_the_rows_in_order(
    engine: str, moves: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    model = model_of("b2b_saas")
    given = sources("b2b_saas", engine, request)
    expected = (transition_rows if moves else history_rows)(
        model, "python", INSTANTS, **files("b2b_saas")
    )
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"out{suffix}"
        assert write_history(model, engine, INSTANTS, out, moves=moves, **given) == len(expected)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        relation = con.sql(f"SELECT * FROM '{out}'")
        names = relation.columns
        found = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
        instant = "at" if moves else "as_of"
        for row in found:
            row[instant] = row[instant].replace(tzinfo=UTC)
        assert found == expected, (engine, suffix)


# ---- the command ----------------------------------------------------------------------------

runner = CliRunner()
MODEL = str(EXAMPLES / "b2b_saas" / "model.score")
FILES = ["--leads", str(EXAMPLES / "b2b_saas" / "leads.csv")]
FILES += ["--events", str(EXAMPLES / "b2b_saas" / "events.csv")]
SPAN = ["--from", "2025-12-20", "--to", "2026-01-01T00:00:00Z", "--every", "3d"]


def test_the_command_prints_a_summary_per_instant() -> None:
    done = runner.invoke(app, ["history", MODEL, *FILES, *SPAN], terminal_width=200)
    assert done.exit_code == 0, done.output
    for day in ("2025-12-20", "2025-12-23", "2025-12-26", "2025-12-29", "2026-01-01"):
        assert f"{day}T00:00:00Z" in done.output
    assert "mean total" in done.output and "awareness" in done.output


def test_the_command_writes_transitions(tmp_path: Path) -> None:
    out = tmp_path / "moves.csv"
    args = ["history", MODEL, *FILES, *SPAN, "--transitions", "--out", str(out)]
    done = runner.invoke(app, args, terminal_width=200)
    assert done.exit_code == 0, done.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == ["id", "output", "from", "to", "at", "reasons"]
    shown = runner.invoke(
        app, ["history", MODEL, *FILES, *SPAN, "--transitions"], terminal_width=200
    )
    assert shown.exit_code == 0 and f"{len(rows)} moves" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-01-02", "--to", "2026-01-01"], "before --from"),
        (["--from", "2026-01-01", "--to", "2026-01-02", "--every", "0d"], "positive"),
        (["--from", "2025-01-01", "--to", "2026-01-01", "--every", "1h"], "limit of 1000"),
        (["--from", "yesterday", "--to", "2026-01-01"], "ISO 8601"),
        (["--from", "2025-12-01", "--to", "2026-01-01", "--every", "1 day"], "not a duration"),
    ],
)
def test_bad_spines_are_usage_errors(args: list[str], message: str) -> None:
    done = runner.invoke(app, ["history", MODEL, *FILES, *args], terminal_width=200)
    assert done.exit_code == 2
    assert message in " ".join(done.output.split()).replace("│", "")


def test_the_benchmark_runs(tmp_path: Path) -> None:
    """bench/bench_history.py end to end on a few hundred leads (its figures are not checked:
    timings belong to bench/)."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_history.py"), "--leads", "300", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "30 instants / 1 instant = " in done.stdout
