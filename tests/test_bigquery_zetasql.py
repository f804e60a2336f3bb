"""BigQuery parity, executed: the BigQuery SQL runs on ZetaSQL, BigQuery's own SQL front end,
and its rows must equal the Python evaluator's, cell by cell, as DuckDB's, Postgres's and the
Snowflake emulator's do.

The deployable DDL (dataset-qualified, as in tests/golden/*.bigquery.sql) is analyzed against
a catalog holding the tables at their dataset's path, in BigQuery's external product mode:
every name, function, type and literal must resolve. The view's SELECT is then executed by
ZetaSQL's reference evaluator over the same rows the other engines read (the evaluator gives
contents only to top-level tables, so the executed SELECT names them without the dataset;
the SQL is otherwise the view's own). NUMERIC results come back as exact decimals.

ZetaSQL (PyPI `zetasql`, a WebAssembly build) lives in its own virtualenv
(scripts/bigquery-emulator prints its python; scripts/test exports it as
SCORELANG_ZETASQL_PYTHON) and runs tests/zetasql_runner.py: started once per session (~30 s),
JSON lines in and out. Without the variable these tests skip locally and fail in CI.
What it proves and what it cannot is in docs/warehouses.md.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_sql_build
import test_warehouse_semantics
from hypothesis import given, note
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file, compile_source
from scorelang.targets.sql import render_ddl, select_scores
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.expressions import round_half_away
from sql_fixture import EVENTS, LEADS, column_types, stored_as
from sqlglot import exp
from strategies import Generated, compile_model, generated, settings_for, write_data
from test_parity import AS_OF, case, differences, python_rows
from test_snowflake_emulator import json_value, source_tables

from scorelang.config import DEFAULT_SOURCES, SourceMapping
from scorelang.engines import score
from scorelang.engines.rows import to_rows

__all__ = ["case", "python_rows"]  # test_parity's fixtures: the same cases and expected rows

DIALECT = "bigquery"
RUNNER = Path(__file__).resolve().parent / "zetasql_runner.py"
HOW = "run `export SCORELANG_ZETASQL_PYTHON=$(scripts/bigquery-emulator)` to include them"
DATASET = ("my-project", "analytics")
DIFFERENTIAL_CI_EXAMPLES = 15
# Source column types as a BigQuery user would declare them.
BIGQUERY_TYPES = {
    ir.Type.STRING: "STRING",
    ir.Type.INT: "INT64",
    ir.Type.NUMBER: "FLOAT64",
    ir.Type.BOOL: "BOOL",
    ir.Type.TIMESTAMP: "TIMESTAMP",
}


class ZetaSQL:
    """One runner process for the session: requests are JSON lines, answered in order."""

    def __init__(self, python: str):
        self.process = subprocess.Popen(
            [python, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        assert ready == {"ready": True}, ready

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            pytest.fail(f"the ZetaSQL runner exited ({self.process.wait()})")
        return json.loads(line)

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="session")
def zetasql() -> Iterator[ZetaSQL]:
    """The runner; a missing venv is a failure in CI and a skip elsewhere."""
    python = os.environ.get("SCORELANG_ZETASQL_PYTHON")
    if not python:
        reason = "SCORELANG_ZETASQL_PYTHON is not set"
    elif not os.access(python, os.X_OK):
        reason = f"SCORELANG_ZETASQL_PYTHON={python} is not an executable"
    else:
        engine = ZetaSQL(python)
        yield engine
        engine.close()
        return
    if os.environ.get("CI"):
        pytest.fail(f"ZetaSQL tests cannot run in CI: {reason}")
    pytest.skip(f"ZetaSQL tests skipped: {reason}; {HOW}")


def decoded(value: Any) -> Any:
    """The runner's tagged values back to what a BigQuery client gives: NUMERIC a Decimal,
    a non-finite FLOAT64 a float."""
    if isinstance(value, dict):
        return Decimal(value["decimal"]) if "decimal" in value else float(value["float"])
    return value


def placed(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tables at their dataset's path."""
    return [{**t, "path": [*DATASET, t.pop("name")]} for t in tables]


def execute(
    engine: ZetaSQL,
    model: ir.Model,
    tables: list[dict[str, Any]],
    as_of: datetime = AS_OF,
    time_zone: str | None = None,
) -> list[dict[str, Any]]:
    """Analyze the deployable DDL, execute the view's SELECT, and read every output column by
    name. A statement ZetaSQL refuses fails the test with its SQL: a bug in our SQL.
    `time_zone`: the default time zone (else ZetaSQL's, America/Los_Angeles)."""
    sources = SourceMapping(schema=".".join(DATASET))
    ddl = render_ddl(model, DIALECT, as_of=as_of, mapping=sources)
    statements = [part.strip() for part in ddl.split("\n\n") if part.startswith("CREATE")]
    assert statements, "the DDL should create the scores view"
    query = select_scores(model, DIALECT, as_of=as_of, mapping=DEFAULT_SOURCES)
    request = {"tables": tables, "analyze": statements, "query": query.sql(dialect=DIALECT)}
    if time_zone is not None:
        request["time_zone"] = time_zone
    response = engine.run(request)
    if "error" in response:
        pytest.fail(f"ZetaSQL: {response['error']}\nin:\n{response['sql']}")
    assert response["columns"] == list(model.output_columns)
    records = [[decoded(v) for v in row] for row in response["rows"]]
    return to_rows(model, response["columns"], records)


def test_bigquery_matches_python(
    zetasql: ZetaSQL, case: tuple[ir.Model, Path, Path], python_rows: list[dict[str, Any]]
) -> None:
    """Every example model and the parity edge fixture, compared as test_parity does."""
    model, leads, events = case
    tables = source_tables(model, leads, events, DEFAULT_SOURCES, BIGQUERY_TYPES)
    rows = execute(zetasql, model, placed(tables))
    assert differences(model, python_rows, rows) == []


def fixture_tables(model: ir.Model, leads: list[dict], events: list[dict]) -> list[dict]:
    """Records (tests/sql_fixture.py's layout) as the BigQuery leads and events tables."""
    return [
        {
            "path": [*DATASET, name],
            "columns": [[c, BIGQUERY_TYPES[t]] for c, t in columns.items()],
            "rows": [[json_value(row.get(c)) for c in columns] for row in rows],
        }
        for name, columns, rows in zip(
            ("leads", "events"), column_types(model, DIALECT), (leads, events), strict=True
        )
    ]


def test_bigquery_coverage_model_matches_python(zetasql: ZetaSQL) -> None:
    """The SQL target's every-construct model on its boundary data set (tests/sql_fixture.py),
    compared as test_sql_build compares DuckDB and Postgres."""
    model = compile_file(test_sql_build.COVERAGE).model
    assert model is not None
    rows = execute(zetasql, model, fixture_tables(model, LEADS, EVENTS))
    expected = test_sql_build.python_rows(model, LEADS, EVENTS, AS_OF)
    test_sql_build.assert_same_rows(model, expected, {row[model.key]: row for row in rows})


def test_bigquery_large_magnitudes_and_percentile_tiers(zetasql: ZetaSQL) -> None:
    """±8916382.325, 12345678.905 as points, and a percentile tier with ties and a missing
    score (tests/sql_models/magnitude.score)."""
    model = compile_file(test_sql_build.MAGNITUDE).model
    assert model is not None
    leads, events = test_sql_build.MAGNITUDE_LEADS, []
    rows = execute(zetasql, model, fixture_tables(model, leads, events))
    expected = test_sql_build.python_rows(model, leads, events, AS_OF)
    test_sql_build.assert_same_rows(model, expected, {row[model.key]: row for row in rows})


# ---- rounding, random models ---------------------------------------------------------------

LARGE = [-8916382.325, 8916382.325, 12345678.905, -12345678.905, 6692067293974.005]


def test_rounding_matches_python_at_every_magnitude(zetasql: ZetaSQL) -> None:
    """Half-cent values from 1e-3 to 1e13 (and the large ones DuckDB and Postgres once got
    wrong), as ir.round_score rounds them: BigQuery's FLOAT64 -> NUMERIC cast rounds the
    double's exact binary value to 9 places."""
    rng = random.Random(5)
    values = [
        rng.randrange(-(10**digits), 10**digits) + rng.choice((0.005, 0.125, 0.285, 0.675, 0.995))
        for digits in range(14)
        for _ in range(40)
    ]
    values += [*LARGE, *test_sql_build.ROUNDING, 4503599627370495.5, 2.0**52, 1e29, -3.5e30]
    dialect = get_dialect(DIALECT)
    rounded = round_half_away(dialect, dialect.cast_double(exp.column("x")), 2)
    table = {"path": ["t"], "columns": [["x", "FLOAT64"]], "rows": [[v] for v in values]}
    query = exp.select(exp.column("x"), exp.alias_(rounded, "r")).from_("t")
    response = zetasql.run({"tables": [table], "query": query.sql(dialect=DIALECT)})
    assert "error" not in response, response
    assert [r for r in response["rows"] if r[1] != ir.round_score(r[0])] == []


def test_non_finite_values_pass_the_rounding_guard(zetasql: ZetaSQL) -> None:
    """NaN and ±inf in a FLOAT64 column come out as they are, as ir.round_score leaves them,
    never a failing CAST(NaN AS NUMERIC)."""
    dialect = get_dialect(DIALECT)
    rounded = round_half_away(dialect, dialect.cast_double(exp.column("x")), 2)
    values = ["NaN", "Infinity", "-Infinity", 0.125]
    table = {"path": ["t"], "columns": [["x", "FLOAT64"]], "rows": [[v] for v in values]}
    query = exp.select(exp.alias_(rounded, "r")).from_("t")
    response = zetasql.run({"tables": [table], "query": query.sql(dialect=DIALECT)})
    assert "error" not in response, response
    got = [repr(decoded(r)) for (r,) in response["rows"]]
    assert got == [repr(ir.round_score(float(v))) for v in values] == ["nan", "inf", "-inf", "0.13"]


@settings_for(DIFFERENTIAL_CI_EXAMPLES)
@given(case=generated())
def test_random_models_match_python(zetasql: ZetaSQL, case: Generated) -> None:
    """test_differential's random models and data, on ZetaSQL: a bounded number in CI, more
    with SCORELANG_HYPOTHESIS_EXAMPLES."""
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-zetasql-") as folder:
        leads, events = write_data(Path(folder), case.leads, case.events)
        expected = score(model, "python", leads=leads, events=events, as_of=AS_OF)
        tables = source_tables(model, leads, events, DEFAULT_SOURCES, BIGQUERY_TYPES)
    rows = execute(zetasql, model, placed(tables))
    assert differences(model, expected, rows) == []


def test_bigquery_patterns_matching_the_empty_string(zetasql: ZetaSQL) -> None:
    """/^$/ and /x*/ against '' (and ASCII classes against non-ASCII digits), as RE2 in
    Python: test_warehouse_semantics' model, executed."""
    model = compile_source(test_warehouse_semantics.MODEL, "m.score").model
    assert model is not None
    leads = [{"id": str(i), "name": n} for i, n in enumerate(["", "abc", "1 a", "١ a", None])]
    rows = execute(zetasql, model, fixture_tables(model, leads, []))
    expected = test_sql_build.python_rows(model, leads, [], AS_OF)
    test_sql_build.assert_same_rows(model, expected, {row[model.key]: row for row in rows})


CIVIL_TIME_CASES = {  # (event time, created_at): the warehouse types of the two columns
    "date": ("DATE", "DATE"),
    "datetime": ("DATETIME", "DATETIME"),
    "mixed": ("DATETIME", "DATE"),
    "timestamp events, date leads": ("TIMESTAMP", "DATE"),
}


@pytest.mark.parametrize("case", CIVIL_TIME_CASES, ids=str)
def test_bigquery_civil_time_columns_match_python(zetasql: ZetaSQL, case: str) -> None:
    """Event times and created_at stored as DATE, DATETIME or TIMESTAMP: the view casts each
    to TIMESTAMP (docs/sql.md), read in BigQuery's default time zone, UTC, so a DATETIME is
    its UTC wall time and a DATE midnight UTC, as in the Python evaluator (docs/data.md)."""
    model = compile_file(test_sql_build.COVERAGE).model
    assert model is not None
    kinds = dict(zip(("occurred_at", "created_at"), CIVIL_TIME_CASES[case], strict=True))
    tables = fixture_tables(model, [], [])
    records = []
    for table, rows in zip(tables, (LEADS, EVENTS), strict=True):
        table["rows"], read = stored_as(rows, [c for c, _ in table["columns"]], kinds)
        table["columns"] = [[c, kinds.get(c, t)] for c, t in table["columns"]]
        records.append(read)
    leads, events = records
    rows = execute(zetasql, model, tables, time_zone="UTC")
    expected = test_sql_build.python_rows(model, leads, events, AS_OF)
    test_sql_build.assert_same_rows(model, expected, {row[model.key]: row for row in rows})


def test_bigquery_civil_time_is_read_in_the_default_time_zone(zetasql: ZetaSQL) -> None:
    """The cast's one dependency (docs/data.md): a DATE or DATETIME is read in the default
    time zone, UTC in BigQuery; ZetaSQL's own default, Los Angeles, moves it by 8 hours. A
    TIMESTAMP is the same instant in both."""
    epoch = get_dialect(DIALECT).source_epoch_us
    table = {
        "path": ["t"],
        "columns": [["d", "DATE"], ["dt", "DATETIME"], ["ts", "TIMESTAMP"]],
        "rows": [["2026-01-02", "2026-01-02T03:04:05.123456", "2026-01-02T03:04:05+00:00"]],
    }
    query = exp.select(*(epoch(exp.column(c)) for c in ("d", "dt", "ts"))).from_("t")
    utc = [datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)]
    micros = [round(t.timestamp() * 1_000_000) for t in utc] + [1_767_323_045_000_000]
    hours = 8 * 3600 * 1_000_000
    for zone, shift in (("UTC", 0), (None, hours)):
        request = {"tables": [table], "query": query.sql(dialect=DIALECT)}
        if zone:
            request["time_zone"] = zone
        response = zetasql.run(request)
        assert response.get("rows") == [[micros[0] + shift, micros[1] + shift, micros[2]]], zone
