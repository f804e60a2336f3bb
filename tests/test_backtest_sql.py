"""Backtests at each lead's own time (`--as-of-column`) on the SQL engines: the plan's
LeadInstant in one query per model, the same rows and the same report as the Python engine,
to the cent (DuckDB, Postgres; BigQuery and Snowflake through their emulators in
tests/test_backtest_sql_warehouses.py)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from backtest_fixtures import MODEL
from scorelang.compiler import ir
from scorelang.compiler.plan import INSTANT, Instants, LeadInstant, Scan, build_plan
from scorelang.targets.sql import DIALECTS, select_scores
from test_plan import EXAMPLES, model_of
from test_plan_shift import HALF_WEEK, WEEK, shifted
from test_sql_golden import golden_mapping
from typer.testing import CliRunner

from scorelang.backtest.export import plain
from scorelang.backtest.run import backtest
from scorelang.backtest.scoring import AsOfColumn, ScoredLeads, score_leads
from scorelang.cli import app
from scorelang.config import SourceMapping
from scorelang.data import DataError
from scorelang.engines import duckdb as duckdb_engine

# Each example's timestamp field that a lead's scoring time counts from.
CREATED = {"advanced": "created_at", "b2b_saas": "created_at", "ecommerce": "signup_at"}
# A scoring time the models do not declare, shared by groups of leads: the second is the first
# minus the shifts' week, the third minus their half week, so one instant holds the leads
# scored then and the earlier rows of others (percentile tiers must rank them apart).
SHARED = (
    datetime(2025, 12, 15, 9, 30, tzinfo=UTC),
    datetime(2025, 12, 8, 9, 30, tzinfo=UTC),
    datetime(2025, 12, 11, 21, 30, tzinfo=UTC),
)


def outcome_file(folder: Path, directory: Path) -> Path:
    """The example's leads with an outcome (`won`) and a shared scoring time (`scored_at`)."""
    with (folder / "leads.csv").open(newline="") as source:
        rows = list(csv.DictReader(source))
    path = directory / f"{folder.name}_leads.csv"
    with path.open("w", newline="") as target:
        writer = csv.DictWriter(target, [*rows[0], "won", "scored_at"])
        writer.writeheader()
        for i, row in enumerate(rows):
            shared = SHARED[i % len(SHARED)].isoformat()
            writer.writerow(row | {"won": int(i % 3 == 0 or i % 7 == 1), "scored_at": shared})
    return path


def scored(
    model: ir.Model, folder: Path, leads: Path, spec: str, engine: str, **options: Any
) -> ScoredLeads:
    return score_leads(
        model, leads, folder / "events.csv", "won", AsOfColumn.parse(spec), engine, **options
    )


def assert_same(expected: ScoredLeads, actual: ScoredLeads) -> None:
    assert actual.rows == expected.rows
    assert actual.as_of == expected.as_of
    assert actual.outcomes.tolist() == expected.outcomes.tolist()


@pytest.fixture(scope="module")
def folder_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("leads")
    return {name: outcome_file(EXAMPLES / name, directory) for name in CREATED}


SPECS = ["{} + 14d", "{} - 1d", "{}", "scored_at"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", sorted(CREATED))
def test_duckdb_scores_each_lead_at_its_own_time_like_python(
    name: str, spec: str, folder_files: dict[str, Path]
) -> None:
    folder, text = EXAMPLES / name, spec.format(CREATED[name])
    model = model_of(folder)
    expected = scored(model, folder, folder_files[name], text, "python")
    assert_same(expected, scored(model, folder, folder_files[name], text, "duckdb"))


def test_the_scoring_time_moves_scores(folder_files: dict[str, Path]) -> None:
    """The comparisons are not vacuous: events before and after each lead's time count."""
    folder = EXAMPLES / "b2b_saas"
    model = model_of(folder)
    early, late = (
        scored(model, folder, folder_files["b2b_saas"], spec, "duckdb").rows
        for spec in ("created_at - 1d", "created_at + 90d")
    )
    moved = [
        a["id"] for a, b in zip(early, late, strict=True) if a["engagement"] != b["engagement"]
    ]
    assert len(moved) > 20


@pytest.mark.parametrize("spec", ["scored_at", "{} + 30d"])
@pytest.mark.parametrize("name", sorted(CREATED))
def test_shifted_outputs_at_each_leads_time_match_python(
    name: str, spec: str, folder_files: dict[str, Path]
) -> None:
    """`change` and outputs a week and half a week before each lead's own time; a percentile
    tier at an earlier instant ranks the leads that share the same own time (the Python
    engine's batch), not every row that happens to be at that instant."""
    folder, text = EXAMPLES / name, spec.format(CREATED[name])
    model = shifted(model_of(folder))
    expected = scored(model, folder, folder_files[name], text, "python")
    assert_same(expected, scored(model, folder, folder_files[name], text, "duckdb"))
    assert any(row["change"] != 0 for row in expected.rows)
    for tier in model.percentile_tiers:
        if text == "scored_at":  # three batches: some leads in the top band, some not
            assert len({row[f"was_{tier.name}"] for row in expected.rows}) == 2


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_backtest_reports_are_equal_on_every_engine(
    engine: str, folder_files: dict[str, Path], request: pytest.FixtureRequest
) -> None:
    options = {"database": request.getfixturevalue("pg_url")} if engine == "postgres" else {}
    folder = EXAMPLES / "advanced"
    leads, events = folder_files["advanced"], folder / "events.csv"
    model = shifted(model_of(folder))
    as_of = AsOfColumn.parse("created_at + 14d")
    expected = backtest(model, leads, events, "won", as_of, target_rate=0.2)
    actual = backtest(model, leads, events, "won", as_of, engine=engine, target_rate=0.2, **options)
    assert actual == expected
    assert plain(actual) == plain(expected)
    assert expected.as_of == "each lead at its created_at + 14d"


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(CREATED))
def test_postgres_scores_each_lead_at_its_own_time_like_python(
    name: str, folder_files: dict[str, Path], pg_url: str
) -> None:
    folder = EXAMPLES / name
    model = shifted(model_of(folder))
    for spec in ("scored_at", f"{CREATED[name]} + 14d"):
        expected = scored(model, folder, folder_files[name], spec, "python")
        actual = scored(model, folder, folder_files[name], spec, "postgres", database=pg_url)
        assert_same(expected, actual)


def _cli(folder_files: dict[str, Path], *options: str) -> Any:
    folder = EXAMPLES / "b2b_saas"
    arguments = [
        "backtest",
        str(folder / "model.score"),
        "--leads",
        str(folder_files["b2b_saas"]),
        "--events",
        str(folder / "events.csv"),
        "--outcome",
        "won",
        "--as-of-column",
        "created_at + 14d",
        "--format",
        "json",
        *options,
    ]
    return CliRunner().invoke(app, arguments)


def test_cli_backtest_per_lead_on_duckdb_prints_pythons_figures(
    folder_files: dict[str, Path],
) -> None:
    python, duck = _cli(folder_files), _cli(folder_files, "--engine", "duckdb")
    assert python.exit_code == duck.exit_code == 0, python.output + duck.output
    assert json.loads(duck.stdout) == json.loads(python.stdout)
    assert "Python evaluator" not in duck.output  # no note: the engine asked for ran


@pytest.mark.postgres
def test_cli_backtest_per_lead_on_postgres_prints_pythons_figures(
    folder_files: dict[str, Path], pg_url: str
) -> None:
    python, pg = _cli(folder_files), _cli(folder_files, "--database", pg_url)
    assert python.exit_code == pg.exit_code == 0, python.output + pg.output
    assert json.loads(pg.stdout) == json.loads(python.stdout)


def test_cli_backtest_at_a_time_before_a_column(folder_files: dict[str, Path]) -> None:
    folder = EXAMPLES / "b2b_saas"
    arguments = ["backtest", str(folder / "model.score"), "--leads", str(folder_files["b2b_saas"]),
                 "--events", str(folder / "events.csv"), "--outcome", "won",
                 "--as-of-column", "scored_at - 1d", "--engine", "duckdb"]  # fmt: skip
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "scored each lead at its scored_at - 1d" in result.output


def test_cli_backtest_options_that_contradict_each_other(folder_files: dict[str, Path]) -> None:
    both = _cli(folder_files, "--engine", "duckdb", "--database", "postgresql://x@/db")
    assert both.exit_code == 2 and "--engine" in both.output
    no_server = _cli(folder_files, "--engine", "postgres")
    assert no_server.exit_code == 1 and "give the database URL" in no_server.output


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as target:
        writer = csv.DictWriter(target, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def demo(tmp_path: Path) -> tuple[ir.Model, Path, Path]:
    from scorelang.compiler.frontend import compile_source

    model = compile_source(MODEL, "demo.score").model
    assert model is not None
    leads = [
        {"id": f"l{i}", "industry": "saas", "title": "VP", "created_at": f"2025-06-0{i + 1}T10:00:00Z",
         "won": i % 2, "scored_at": f"2025-07-0{i + 1}", "label": "x"}
        for i in range(4)
    ]  # fmt: skip
    events = [{"lead_id": "l1", "event_type": "page_view", "occurred_at": "2025-06-03", "url": "/"}]
    return model, _write(tmp_path / "leads.csv", leads), _write(tmp_path / "events.csv", events)


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_a_lead_without_a_time_is_the_same_error_on_every_engine(
    engine: str, demo: tuple[ir.Model, Path, Path], request: pytest.FixtureRequest
) -> None:
    """Refused before anything is scored, naming the row, whatever the engine (no server
    is needed to say so)."""
    model, leads, events = demo
    text = leads.read_text().splitlines()
    text[3] = text[3].replace("2025-07-03", "")
    text[2] = text[2].replace("2025-07-02", "July 2")
    cases = [
        (text[:2] + text[3:], "row 2 has no 'scored_at' to score it at"),
        (text, "row 2, column 'scored_at': not a timestamp: 'July 2'"),
    ]
    for lines, message in cases:
        leads.write_text("\n".join(lines) + "\n")
        with pytest.raises(DataError, match=message):
            score_leads(model, leads, events, "won", AsOfColumn("scored_at"), engine)
    with pytest.raises(
        ValueError, match=r"'industry' is a string field .*: declare it a timestamp"
    ):
        score_leads(model, leads, events, "won", AsOfColumn("industry"), engine)


def test_an_undeclared_time_column_is_loaded_for_sql_only_when_asked(
    demo: tuple[ir.Model, Path, Path],
) -> None:
    model, leads, events = demo
    rows = {
        engine: score_leads(model, leads, events, "won", AsOfColumn("scored_at", -86400.0), engine)
        for engine in ("python", "duckdb")
    }
    assert_same(rows["python"], rows["duckdb"])
    assert [row["engagement"] for row in rows["duckdb"].rows] == [0, 2, 0, 0]
    assert list(rows["duckdb"].rows[0]) == list(model.output_columns)  # no scored_at column


# ---- the plan and its SQL ---------------------------------------------------------------------


def test_the_plan_of_a_lead_instant() -> None:
    model = model_of(EXAMPLES / "advanced")
    instant = LeadInstant("created_at", 14 * 86400.0)
    plan = build_plan(model, instant)
    (instants,) = (s for s in plan.steps if isinstance(s, Instants))
    assert instants.per_entity == instant and instants.instants == ()
    assert plan.per_entity == instant and not plan.single_instant and not plan.several_output
    assert not any(s.instant_bounds for s in plan.steps if isinstance(s, Scan))
    assert all(s.keys == (model.key, INSTANT) for s in plan.steps[1:] if s.keys)
    with_shifts = build_plan(shifted(model), instant)
    assert with_shifts.shifts == (HALF_WEEK, WEEK)
    (instants,) = (s for s in with_shifts.steps if isinstance(s, Instants))
    assert instants.per_entity == instant and instants.shifts == (HALF_WEEK, WEEK)


def test_the_query_leaves_out_leads_without_a_time() -> None:
    """A view cannot raise an error: rows whose column is missing have no instant, so no
    result (the backtest refuses them first, on every engine)."""
    folder = EXAMPLES / "b2b_saas"
    model = model_of(folder)
    model = dataclasses.replace(
        model,
        lead_fields=tuple(
            dataclasses.replace(f, optional=True) if f.name == "created_at" else f
            for f in model.lead_fields
        ),
    )
    query = select_scores(model, "duckdb", as_of=LeadInstant("created_at", 86400.0))
    with duckdb_engine.session(
        model,
        leads=folder / "leads.csv",
        events=folder / "events.csv",
        database=None,
        mapping=SourceMapping(),
    ) as con:
        everyone = con.execute(query.sql(dialect="duckdb")).fetchall()
        con.execute("UPDATE leads SET created_at = NULL WHERE id IN ('L00001', 'L00002')")
        some = con.execute(query.sql(dialect="duckdb")).fetchall()
    assert len(everyone) == 150
    assert sorted(r[0] for r in some) == sorted(r[0] for r in everyone)[2:]


def test_a_lead_instant_query_is_one_scan_of_the_events_joined_on_the_lead() -> None:
    model = model_of(EXAMPLES / "b2b_saas")
    sql = select_scores(model, "duckdb", as_of=LeadInstant("created_at")).sql(dialect="duckdb")
    assert sql.count('FROM "events"') == 2  # the scan and the sequences' scan
    assert "CROSS JOIN" not in sql


# ---- golden SQL --------------------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parent / "golden" / "lead_instant"
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
GOLDEN_CASES = {
    "b2b_saas": (lambda: model_of(EXAMPLES / "b2b_saas"), LeadInstant("created_at", 14 * 86400.0)),
    # shifts, a percentile tier at the earlier instants, a time before the column's
    "advanced_shifted": (
        lambda: shifted(model_of(EXAMPLES / "advanced")),
        LeadInstant("created_at", -86400.0),
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_sql_of_a_lead_instant(case: str, dialect: str) -> None:
    """The query scoring each lead at its own instant, per dialect, reviewed in diffs; it
    parses back to itself. Rewrite after an intended change with SCORELANG_UPDATE_GOLDEN=1."""
    make, instant = GOLDEN_CASES[case]
    query = select_scores(make(), dialect, as_of=instant, mapping=golden_mapping(dialect))
    sql = query.sql(dialect=dialect, pretty=True) + ";\n"
    golden = GOLDEN / f"{case}.{dialect}.sql"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(sql)
    assert golden.exists(), f"no golden file {golden.name}; run with SCORELANG_UPDATE_GOLDEN=1"
    assert sql == golden.read_text(), (
        f"{golden.name} differs; review, then SCORELANG_UPDATE_GOLDEN=1"
    )
    (statement,) = sqlglot.parse(sql, read=dialect)
    assert statement is not None and statement.sql(dialect=dialect, pretty=True) + ";\n" == sql
