"""`compile --history`: the deployable `<model>_history` and `<model>_transitions` views,
golden per dialect (tests/golden/history/), created from the golden files on DuckDB and
Postgres and run through the BigQuery (ZetaSQL) and Snowflake (fakesnow) emulators: the
rows are the Python engine's history and transitions. Rewrite the files after an intended
change with `SCORELANG_UPDATE_GOLDEN=1 python -m pytest tests/test_history_sql.py`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from scorelang.compiler import ir
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.history import (
    TRANSITION_COLUMNS,
    render_history_ddl,
    select_history,
    select_transitions,
)
from scorelang.targets.sql.names import as_written, column, ident
from sqlglot import exp
from test_bigquery_zetasql import ZetaSQL, placed, zetasql
from test_bigquery_zetasql import decoded as zeta_decoded
from test_history import files, model_of
from test_snowflake_emulator import RUNNER, fakesnow_python, source_tables
from test_snowflake_emulator import decoded as snow_decoded
from test_spark import spark
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import DEFAULT_SOURCES, SourceMapping
from scorelang.engines import duckdb as duck
from scorelang.engines import postgres
from scorelang.engines.rows import converters
from scorelang.history import (
    history_rows,
    parse_duration,
    spine,
    transition_rows,
    transitions,
    write_history,
)
from scorelang.records import to_utc

__all__ = ["fakesnow_python", "spark", "zetasql"]  # the engines' session fixtures

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "history"
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
END = datetime(2026, 1, 1, tzinfo=UTC)
INSTANTS = spine(END - timedelta(days=6), END, parse_duration("2d"))  # four instants
EXAMPLES = ("b2b_saas", "advanced")
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake", "spark")
BIGQUERY_SOURCES = SourceMapping(schema="my-project.analytics")


def mapping_for(dialect: str) -> SourceMapping:
    return BIGQUERY_SOURCES if dialect == "bigquery" else SourceMapping()


def golden_ddl(model: ir.Model, dialect: str) -> str:
    sql = render_history_ddl(model, dialect, INSTANTS, mapping=mapping_for(dialect))
    golden = GOLDEN / f"{model.name}.{dialect}.sql"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(sql)
    assert golden.exists(), f"no golden file {golden.name}; run with SCORELANG_UPDATE_GOLDEN=1"
    assert sql == golden.read_text(), (
        f"{golden.name} differs; review, then SCORELANG_UPDATE_GOLDEN=1"
    )
    return sql


def statements(sql: str) -> list[str]:
    return [part.strip().rstrip(";") for part in sql.split("\n\n") if part.startswith("CREATE")]


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request: pytest.FixtureRequest) -> tuple[str, ir.Model, list[dict[str, Any]]]:
    model = model_of(request.param)
    return request.param, model, history_rows(model, "python", INSTANTS, **files(request.param))


def as_history(model: ir.Model, names: list[str], records: list) -> list[dict[str, Any]]:
    convert = converters(model) | {"as_of": to_utc}
    rows = [{n: convert[n](v) for n, v in zip(names, r, strict=True)} for r in records]
    return sorted(rows, key=lambda row: (row[model.key], row["as_of"]))


def as_moves(model: ir.Model, names: list[str], records: list) -> list[dict[str, Any]]:
    order = {name: n for n, name in enumerate(model.output_columns)}
    convert = {model.key: converters(model)[model.key], "at": to_utc}
    rows = [
        {n: convert.get(n, lambda v: v)(v) for n, v in zip(names, r, strict=True)} for r in records
    ]
    return sorted(rows, key=lambda m: (m[model.key], m["at"], order[m["output"]]))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("folder", EXAMPLES)
def test_golden_history_sql(folder: str, dialect: str) -> None:
    """Checked in, and parsed back to the same statements by sqlglot in its dialect."""
    sql = golden_ddl(model_of(folder), dialect)
    parsed = sqlglot.parse(sql, read=dialect)
    assert len(parsed) == 2
    assert [s.sql(dialect=dialect, pretty=True, comments=False) for s in parsed] == [
        s.replace("TIMESTAMP_NTZ", "TIMESTAMPNTZ") for s in statements(sql)
    ]


def test_duckdb_runs_the_golden_views(example: tuple[str, ir.Model, list[dict[str, Any]]]) -> None:
    folder, model, expected = example
    with duck.session(model, database=None, mapping=DEFAULT_SOURCES, **files(folder)) as con:
        for statement in statements(golden_ddl(model, "duckdb")):
            con.execute(statement)
        cursor = con.execute(f'SELECT * FROM "{model.name}_history"')
        names = [d[0] for d in cursor.description]
        assert as_history(model, names, cursor.fetchall()) == expected
        cursor = con.execute(f'SELECT * FROM "{model.name}_transitions"')
        names = [d[0] for d in cursor.description]
        assert names == [model.key, *TRANSITION_COLUMNS]
        assert as_moves(model, names, cursor.fetchall()) == transitions(model, expected)


def test_postgres_runs_the_golden_views(
    pg_url: str, example: tuple[str, ir.Model, list[dict[str, Any]]]
) -> None:
    folder, model, expected = example
    given = files(folder)
    with postgres.session(model, database=pg_url, mapping=DEFAULT_SOURCES, **given) as (pg, _):
        for statement in statements(golden_ddl(model, "postgres")):
            pg.execute(statement)  # over the session's temporary tables: temporary views
        cursor = pg.execute(f'SELECT * FROM "{model.name}_history"')
        names = [d.name for d in cursor.description or ()]
        assert as_history(model, names, cursor.fetchall()) == expected
        cursor = pg.execute(f'SELECT * FROM "{model.name}_transitions"')
        names = [d.name for d in cursor.description or ()]
        assert as_moves(model, names, cursor.fetchall()) == transitions(model, expected)


def test_bigquery_computes_history_and_transitions(
    zetasql: ZetaSQL, example: tuple[str, ir.Model, list[dict[str, Any]]]
) -> None:
    """ZetaSQL analyzes the golden history view (one statement at a time: the transitions
    view reads a view it does not know) and runs the history and transitions queries (their
    instant read as epoch microseconds: the runner returns no TIMESTAMP cells)."""
    folder, model, expected = example
    from test_bigquery_zetasql import BIGQUERY_TYPES

    tables = placed(source_tables(model, *files(folder).values(), DEFAULT_SOURCES, BIGQUERY_TYPES))
    history = select_history(model, "bigquery", INSTANTS)
    moves = select_transitions(model, "bigquery", history)
    for query, instant, read in ((history, "as_of", as_history), (moves, "at", as_moves)):
        names = [s.alias_or_name for s in query.selects]
        cells = [
            exp.alias_(exp.UnixMicros(this=exp.column(n)), n) if n == instant else exp.column(n)
            for n in names
        ]
        request = {
            "tables": tables,
            "analyze": statements(golden_ddl(model, "bigquery"))[:1],
            "query": exp.select(*cells).from_(query.subquery("q")).sql(dialect="bigquery"),
        }
        response = zetasql.run(request)
        assert "error" not in response, response
        at = names.index(instant)
        records = [
            [
                datetime.fromtimestamp(zeta_decoded(v) / 1e6, UTC) if n == at else zeta_decoded(v)
                for n, v in enumerate(row)
            ]
            for row in response["rows"]
        ]
        found = read(model, response["columns"], records)
        assert found == (expected if read is as_history else transitions(model, expected))


def test_snowflake_runs_the_golden_views(
    fakesnow_python: str, example: tuple[str, ir.Model, list[dict[str, Any]]]
) -> None:
    folder, model, expected = example
    tables = source_tables(model, *files(folder).values(), DEFAULT_SOURCES)
    # The instant as epoch microseconds: the runner returns no TIMESTAMP cells.
    snowflake = get_dialect("snowflake")
    cells = [column(model.key), *map(column, TRANSITION_COLUMNS)]
    query = as_written(exp.select(*cells).from_(ident(f"{model.name}_transitions")), snowflake)
    # AT spelled quoted (upper case, as stored): DuckDB under fakesnow reads a bare AT as a keyword.
    at = exp.column(exp.to_identifier("AT", quoted=True))
    query.selects[4].replace(exp.alias_(snowflake.epoch_us(at), "at"))
    request = {
        "tables": tables,
        "statements": statements(golden_ddl(model, "snowflake")),
        "query": query.sql(dialect="snowflake"),
        "quoted": False,
    }
    done = subprocess.run(
        [fakesnow_python, str(RUNNER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    response = json.loads(done.stdout) if done.stdout else {"error": done.stderr[-3000:]}
    assert "error" not in response, response
    names = [name.lower() for name in response["columns"]]
    records = [
        [
            datetime.fromtimestamp(v / 1e6, UTC) if n == 4 else snow_decoded(v)
            for n, v in enumerate(row)
        ]
        for row in response["rows"]
    ]
    assert as_moves(model, names, records) == transitions(model, expected)


def test_compile_history_writes_the_file(tmp_path: Path) -> None:
    model = ROOT / "examples" / "b2b_saas" / "model.score"
    args = ["compile", str(model), "-t", "duckdb", "--history", "--from", "2025-12-26"]
    args += ["--to", "2026-01-01", "--every", "2d", "--out", str(tmp_path)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    sql = (tmp_path / "b2b_saas.duckdb.history.sql").read_text()
    assert sql == (GOLDEN / "b2b_saas.duckdb.sql").read_text()
    refused = CliRunner().invoke(app, ["compile", str(model), "-t", "duckdb", "--history"])
    assert refused.exit_code == 2 and "--from and --to" in refused.output


def test_spark_gives_the_python_history_and_transitions(spark: Any, tmp_path: Path) -> None:
    """`history --engine spark` on the example with every kind of output (percentile tier,
    matrix): the files read by Spark, one Spark SQL query over the spine; the file written
    from Spark's Parquet parts by DuckDB, in order."""
    folder = "advanced"
    model = model_of(folder)
    expected = history_rows(model, "python", INSTANTS, **files(folder))
    assert history_rows(model, "spark", INSTANTS, **files(folder)) == expected
    moves = transitions(model, expected)
    assert transition_rows(model, "spark", INSTANTS, **files(folder)) == moves
    out = tmp_path / "moves.csv"
    assert write_history(model, "spark", INSTANTS, out, moves=True, **files(folder)) == len(moves)
    with out.open() as f:
        assert [row["reasons"] for row in csv.DictReader(f)] == [m["reasons"] for m in moves]
