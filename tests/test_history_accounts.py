"""`scorelang history` of a model with an account (examples/abm): the leads' history (each
lead reading its account at the same instant) and the accounts' history, equal on Python,
DuckDB and Postgres, each row the score at its instant; their transitions; the command's
--accounts and --entity and its usage errors."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from test_spark import spark
from typer.testing import CliRunner

from scorelang import engines
from scorelang.cli import app
from scorelang.data import DataError
from scorelang.history import (
    history_rows,
    history_summary,
    parse_duration,
    spine,
    transition_rows,
    write_history,
)

ROOT = Path(__file__).resolve().parent.parent
ABM = ROOT / "examples" / "abm"
# Three daily instants over which tiers, flags and percentile ranks of both entities move.
INSTANTS = spine(
    datetime(2026, 2, 27, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), parse_duration("1d")
)
FILES = {name: ABM / f"{name}.csv" for name in ("leads", "events", "accounts")}
ENTITIES = (ir.LEAD, ir.ACCOUNT)
SQL_ENGINES = ("duckdb", "postgres")
__all__ = ["spark"]  # the Spark session fixture


@pytest.fixture(scope="module")
def model() -> ir.Model:
    compilation = compile_file(ABM / "model.score")
    assert compilation.model is not None
    return compilation.model


def sources(engine: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    return FILES | {"database": database}


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_row_is_the_score_at_its_instant(model: ir.Model, entity: str) -> None:
    """Point in time for both entities: the row of (key, t) is what `score --as-of t` gives."""
    history = history_rows(model, "python", INSTANTS, entity=entity, **FILES)
    scored = [engines.score(model, "python", as_of=t, entity=entity, **FILES) for t in INSTANTS]
    assert len(history) == sum(map(len, scored)) and scored[0]
    for instant, rows in zip(INSTANTS, scored, strict=True):
        at = [
            {k: v for k, v in row.items() if k != "as_of"}
            for row in history
            if row["as_of"] == instant
        ]
        assert at == rows
    assert list(history[0])[:2] == [model.entity(entity).key, "as_of"]


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("entity", ENTITIES)
def test_sql_engines_give_the_python_history_and_transitions(
    model: ir.Model, entity: str, engine: str, request: pytest.FixtureRequest
) -> None:
    given = sources(engine, request)
    expected = history_rows(model, "python", INSTANTS, entity=entity, **FILES)
    assert history_rows(model, engine, INSTANTS, entity=entity, **given) == expected
    moves = transition_rows(model, "python", INSTANTS, entity=entity, **FILES)
    assert moves, "the spine should move some tier or flag"
    assert transition_rows(model, engine, INSTANTS, entity=entity, **given) == moves


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_one_instant_has_its_as_of_column(
    model: ir.Model, engine: str, request: pytest.FixtureRequest
) -> None:
    one = INSTANTS[-1:]
    given = sources(engine, request)
    expected = history_rows(model, "python", one, entity=ir.ACCOUNT, **FILES)
    assert history_rows(model, engine, one, entity=ir.ACCOUNT, **given) == expected
    assert {row["as_of"] for row in expected} == set(one)


def test_account_transitions_are_about_account_outputs(model: ir.Model) -> None:
    """An account's moves name its tiers, matrix and flag, with its own rules as reasons;
    a lead's moves only the lead's outputs."""
    accounts = transition_rows(model, "duckdb", INSTANTS, entity=ir.ACCOUNT, **FILES)
    leads = transition_rows(model, "duckdb", INSTANTS, **FILES)
    assert {m["output"] for m in accounts} <= {"heat", "icp", "rank", "plan", "target"}
    assert {m["output"] for m in leads} <= {"stage", "mql", "sal"}
    assert all(set(m) == {"id", "output", "from", "to", "at", "reasons"} for m in accounts)
    account_rules = {r.label for s in model.outputs_of(ir.ACCOUNT).scores for r in s.rules}
    for move in accounts:
        for reason in filter(None, move["reasons"].split(", ")):
            assert reason.rsplit(" ", 1)[0] in account_rules


@pytest.mark.parametrize("engine", ("python", *SQL_ENGINES))
def test_the_account_summary_counts_each_instant(
    model: ir.Model, engine: str, request: pytest.FixtureRequest
) -> None:
    history = history_rows(model, "python", INSTANTS, entity=ir.ACCOUNT, **FILES)
    given = sources(engine, request)
    summary = history_summary(model, engine, INSTANTS, "intent", entity=ir.ACCOUNT, **given)
    assert [s.instant for s in summary] == INSTANTS
    for line in summary:
        rows = [r for r in history if r["as_of"] == line.instant]
        assert line.leads == len(rows)
        assert line.mean == pytest.approx(sum(r["intent"] for r in rows) / len(rows))
        assert line.flags == {"target": sum(r["target"] for r in rows)}
        assert set(line.tiers) == {"heat", "icp", "rank"}
        assert line.tiers["heat"] == {
            b: sum(r["heat"] == b for r in rows) for b in line.tiers["heat"]
        }


@pytest.mark.parametrize("engine", ("python", "duckdb"))
def test_account_files_hold_the_rows_in_order(model: ir.Model, engine: str, tmp_path: Path) -> None:
    expected = history_rows(model, "python", INSTANTS, entity=ir.ACCOUNT, **FILES)
    out = tmp_path / "accounts.csv"
    written = write_history(model, engine, INSTANTS, out, entity=ir.ACCOUNT, **FILES)
    assert written == len(expected)
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["id", "as_of", *model.account_output_columns[1:]]
    assert [(r["id"], r["as_of"]) for r in rows] == [
        (r["id"], r["as_of"].strftime("%Y-%m-%d %H:%M:%S")) for r in expected
    ]


# ---- the command ----------------------------------------------------------------------------

runner = CliRunner()
MODEL = str(ABM / "model.score")
LEAD_FILES = ["--leads", str(FILES["leads"]), "--events", str(FILES["events"])]
ARGS = [MODEL, *LEAD_FILES, "--accounts", str(FILES["accounts"])]
SPAN = ["--from", "2026-02-27", "--to", "2026-03-01", "--every", "1d"]


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["history", *args], env={"COLUMNS": "200"})


@pytest.mark.parametrize("engine", ("python", "duckdb"))
def test_the_command_shows_both_entities(engine: str) -> None:
    leads = invoke(*ARGS, *SPAN, "--engine", engine)
    assert leads.exit_code == 0, leads.output
    assert "abm: history" in leads.output and "mean total" in leads.output
    accounts = invoke(*ARGS, *SPAN, "--engine", engine, "--entity", "account")
    assert accounts.exit_code == 0, accounts.output
    assert "abm: account history" in accounts.output and "mean pipeline" in accounts.output
    assert "accounts" in accounts.output and "2026-03-01T00:00:00Z" in accounts.output


def test_the_command_writes_account_transitions(model: ir.Model, tmp_path: Path) -> None:
    out = tmp_path / "moves.csv"
    done = invoke(*ARGS, *SPAN, "--entity", "account", "--transitions", "--out", str(out))
    assert done.exit_code == 0, done.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    expected = transition_rows(model, "python", INSTANTS, entity=ir.ACCOUNT, **FILES)
    assert [(r["id"], r["output"], r["to"]) for r in rows] == [
        (m["id"], m["output"], m["to"]) for m in expected
    ]
    shown = invoke(*ARGS, *SPAN, "--entity", "account", "--transitions", "--by", "intent")
    assert shown.exit_code == 0 and f"{len(rows)} moves" in shown.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([MODEL, *LEAD_FILES], 1, "--accounts FILE"),
        ([*ARGS, "--entity", "account", "--by", "total"], 2, "no account score named 'total'"),
        ([*ARGS, "--by", "intent"], 2, "no score named 'intent'"),
        ([*ARGS, "--entity", "company"], 2, "--entity"),
        (
            [
                str(ROOT / "examples" / "b2b_saas" / "model.score"),
                "--leads",
                str(ROOT / "examples" / "b2b_saas" / "leads.csv"),
                "--events",
                str(ROOT / "examples" / "b2b_saas" / "events.csv"),
                "--entity",
                "account",
            ],
            2,
            "declares no account",
        ),
    ],
    ids=[
        "no-accounts-file",
        "lead-score-for-accounts",
        "account-score-for-leads",
        "bad-entity",
        "no-account-in-model",
    ],
)
def test_usage_errors_say_what_to_change(args: list[str], code: int, message: str) -> None:
    done = invoke(*args, *SPAN)
    assert done.exit_code == code, done.output
    assert message in " ".join(done.output.split())


def test_spark_gives_the_python_account_history(model: ir.Model, spark: Any) -> None:
    """On Spark: both entities' rows and the accounts' transitions; the leads' transitions of
    a model with an account (Spark's analyzer fails on them) are refused with a message."""
    for entity in ENTITIES:
        expected = history_rows(model, "python", INSTANTS, entity=entity, **FILES)
        assert history_rows(model, "spark", INSTANTS, entity=entity, **FILES) == expected
    moves = transition_rows(model, "python", INSTANTS, entity=ir.ACCOUNT, **FILES)
    assert transition_rows(model, "spark", INSTANTS, entity=ir.ACCOUNT, **FILES) == moves
    with pytest.raises(DataError, match="use --engine duckdb, postgres or python"):
        transition_rows(model, "spark", INSTANTS, entity=ir.LEAD, **FILES)
