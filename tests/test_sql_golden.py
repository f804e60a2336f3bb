"""Golden SQL: the DDL of every example model (and the SQL target's coverage model) in every
dialect, checked in under tests/golden/ and reviewed in diffs. Rewrite them after an intended
change with `SCORELANG_UPDATE_GOLDEN=1 python -m pytest tests/test_sql_golden.py`.

Each file must also parse back to the same statements in its dialect (sqlglot), and the
DuckDB and Postgres files must create their views on empty tables of the documented shape.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlglot
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import DIALECTS, render_ddl
from scorelang.targets.sql.names import unquoted_ok
from sql_fixture import SQL_TYPES, DuckEngine, PgEngine

from scorelang.config import SourceMapping

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MODELS = [
    *sorted((ROOT / "examples").glob("*/model.score")),
    *sorted((ROOT / "tests" / "sql_models").glob("*.score")),
]
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
# BigQuery views must name their sources' dataset (the default dataset does not apply in a
# view); the others read the source tables from the session's schema.
BIGQUERY_SOURCES = SourceMapping(schema="my-project.analytics")


def golden_mapping(dialect: str) -> SourceMapping:
    return BIGQUERY_SOURCES if dialect == "bigquery" else SourceMapping()


def load(path: Path) -> ir.Model:
    compilation = compile_file(path)
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


def golden_path(model: ir.Model, dialect: str) -> Path:
    return GOLDEN / f"{model.name}.{dialect}.sql"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "path", MODELS, ids=lambda p: p.stem if p.stem != "model" else p.parent.name
)
def test_golden_sql(path: Path, dialect: str) -> None:
    model = load(path)
    sql = render_ddl(model, dialect, as_of=AS_OF, mapping=golden_mapping(dialect))
    golden = golden_path(model, dialect)
    if UPDATE:
        golden.write_text(sql)
    assert golden.exists(), f"no golden file {golden.name}; run with SCORELANG_UPDATE_GOLDEN=1"
    assert sql == golden.read_text(), (
        f"{golden.name} differs; review, then SCORELANG_UPDATE_GOLDEN=1"
    )
    statements = sqlglot.parse(sql, read=dialect)
    assert [s.sql(dialect=dialect, pretty=True, comments=False) + ";" for s in statements] == [
        # sqlglot prints Snowflake's alias TIMESTAMPNTZ for the documented TIMESTAMP_NTZ.
        part.strip().replace("TIMESTAMP_NTZ", "TIMESTAMPNTZ")
        for part in sql.split("\n\n")
        if part.startswith("CREATE")
    ]


@pytest.mark.parametrize(
    "path", MODELS, ids=lambda p: p.stem if p.stem != "model" else p.parent.name
)
def test_snowflake_golden_never_quotes_a_plain_name(path: Path) -> None:
    """Snowflake resolves "events" as the lower-case name, which a user's unquoted
    `CREATE TABLE events` is not: a simple name must be written bare (upper-cased there)."""
    sql = golden_path(load(path), "snowflake").read_text()
    quoted = set(re.findall(r'"([^"]*)"', sql))
    simple = [name for name in quoted if re.fullmatch(r"[a-z_][a-z0-9_$]*", name)]
    assert [name for name in simple if unquoted_ok(name)] == []


def test_every_golden_file_has_a_model() -> None:
    expected = {golden_path(load(p), d).name for p in MODELS for d in DIALECTS}
    assert {p.name for p in GOLDEN.glob("*.sql")} <= expected


def _create_views(engine, path: Path) -> None:
    model = load(path)
    engine.load(model, [], [])
    prefix = f'"{engine.schema}".' if engine.schema else ""
    if model.account is not None:  # an empty accounts table of the declared fields
        types = SQL_TYPES[engine.dialect]
        columns = ", ".join(f'"{f.name}" {types[f.type]}' for f in model.account.fields)
        engine.execute(f'CREATE TABLE {prefix}"accounts" ({columns})')
    mapping = SourceMapping(schema=engine.schema)
    for statement in sqlglot.parse(
        render_ddl(model, engine.dialect, mapping=mapping, schema=engine.schema),
        read=engine.dialect,
    ):
        engine.execute(statement.sql(dialect=engine.dialect))
    names, rows = engine.columns(f'SELECT * FROM {prefix}"{model.name}_scores"')
    assert (names, rows) == (list(model.output_columns), [])
    if model.account is not None:
        names, rows = engine.columns(f'SELECT * FROM {prefix}"{model.name}_account_scores"')
        assert (names, rows) == (list(model.account_output_columns), [])


@pytest.mark.parametrize(
    "path", MODELS, ids=lambda p: p.stem if p.stem != "model" else p.parent.name
)
def test_duckdb_views_are_created(path: Path) -> None:
    _create_views(DuckEngine(), path)


@pytest.mark.parametrize(
    "path", MODELS, ids=lambda p: p.stem if p.stem != "model" else p.parent.name
)
def test_postgres_views_are_created(pg_url: str, path: Path) -> None:
    engine = PgEngine(pg_url, f"scorelang_golden_{os.getpid()}")
    try:
        _create_views(engine, path)
    finally:
        engine.close()
