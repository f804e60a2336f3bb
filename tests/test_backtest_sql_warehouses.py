"""Each lead at its own time on the warehouses, through their emulators (BigQuery on
ZetaSQL, Snowflake on fakesnow), and on local Spark: the query of a LeadInstant gives the
Python engine's rows, to the cent (tests/test_backtest_sql.py holds DuckDB, Postgres, the
plan and the golden SQL)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from scorelang.compiler import ir
from scorelang.targets.sql import select_scores
from test_backtest_sql import CREATED, outcome_file, scored
from test_bigquery_zetasql import BIGQUERY_TYPES, ZetaSQL, placed, zetasql
from test_bigquery_zetasql import decoded as bigquery_value
from test_plan import EXAMPLES, model_of
from test_plan_shift import shifted
from test_snowflake_emulator import RUNNER, fakesnow_python, source_tables
from test_snowflake_emulator import decoded as snowflake_value
from test_spark import spark

from scorelang.backtest.scoring import AsOfColumn, with_time_field
from scorelang.config import DEFAULT_SOURCES
from scorelang.engines.rows import to_rows

__all__ = ["fakesnow_python", "spark", "zetasql"]  # the emulators' session fixtures

# (example, its model with shifted outputs or not, the scoring time)
CASES = [
    ("b2b_saas", False, "created_at + 14d"),
    ("advanced", True, "created_at - 1d"),
    ("advanced", True, "scored_at"),  # shared times, not declared: percentile batches
    ("ecommerce", True, "signup_at + 30d"),
]


def case_id(case: tuple[str, bool, str]) -> str:
    name, moved, spec = case
    return f"{name}{'-shifted' if moved else ''}-{spec.replace(' ', '')}"


@pytest.fixture(scope="module", params=CASES, ids=case_id)
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ir.Model, AsOfColumn, Path, list[dict[str, Any]]]:
    """The model, the time, the leads file and the Python engine's rows, by lead key."""
    name, moved, spec = request.param
    assert spec.split()[0] in (CREATED[name], "scored_at")
    folder = EXAMPLES / name
    model = shifted(model_of(folder)) if moved else model_of(folder)
    leads = outcome_file(folder, tmp_path_factory.mktemp(name))
    expected = scored(model, folder, leads, spec, "python").rows
    return model, AsOfColumn.parse(spec), leads, sorted(expected, key=lambda r: r[model.key])


def tables(
    model: ir.Model, as_of: AsOfColumn, leads: Path, types: dict[ir.Type, str] | None = None
) -> list[dict[str, Any]]:
    """The source tables as the loader types them, the time column kept."""
    loaded = with_time_field(model, as_of)
    folder = EXAMPLES / leads.name.removesuffix("_leads.csv")
    options = {"types": types} if types else {}
    return source_tables(loaded, leads, folder / "events.csv", DEFAULT_SOURCES, **options)


def by_key(model: ir.Model, records: list[list[Any]]) -> list[dict[str, Any]]:
    return sorted(to_rows(model, model.output_columns, records), key=lambda r: r[model.key])


def test_bigquery_scores_each_lead_at_its_own_time_like_python(zetasql: ZetaSQL, case) -> None:
    model, as_of, leads, expected = case
    query = select_scores(model, "bigquery", as_of=as_of, mapping=DEFAULT_SOURCES)
    request = {
        "tables": placed(tables(model, as_of, leads, BIGQUERY_TYPES)),
        "query": query.sql(dialect="bigquery"),
    }
    response = zetasql.run(request)
    if "error" in response:
        pytest.fail(f"ZetaSQL: {response['error']}\nin:\n{response['sql']}")
    assert response["columns"] == list(model.output_columns)
    records = [[bigquery_value(v) for v in row] for row in response["rows"]]
    assert by_key(model, records) == expected


def test_snowflake_scores_each_lead_at_its_own_time_like_python(fakesnow_python: str, case) -> None:
    model, as_of, leads, expected = case
    query = select_scores(model, "snowflake", as_of=as_of, mapping=DEFAULT_SOURCES)
    request = {
        "tables": tables(model, as_of, leads),
        "statements": [],
        "query": query.sql(dialect="snowflake"),
        "quoted": False,
    }
    done = subprocess.run(
        [fakesnow_python, str(RUNNER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        response = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the runner crashed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    if "error" in response:
        pytest.fail(f"fakesnow: {response['error']}\nin:\n{response['sql']}")
    records = [[snowflake_value(v) for v in row] for row in response["rows"]]
    assert by_key(model, records) == expected


def test_spark_backtests_each_lead_at_its_own_time_like_python(spark: Any, tmp_path: Path) -> None:
    """One case (a JVM is slow to start): shifted outputs, shared undeclared times."""
    folder = EXAMPLES / "advanced"
    model, leads = shifted(model_of(folder)), outcome_file(folder, tmp_path)
    expected = scored(model, folder, leads, "scored_at", "python")
    actual = scored(model, folder, leads, "scored_at", "spark")
    assert (actual.rows, actual.as_of) == (expected.rows, expected.as_of)
