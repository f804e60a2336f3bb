"""Accounts on the warehouses, through the same means as lead scores: BigQuery on ZetaSQL,
Snowflake on fakesnow (each creating both views from the deployable DDL), and Spark
locally; the `<model>_scores` and `<model>_account_scores` rows equal to the Python
evaluator's, cell by cell, for tests/accounts_sql_fixture.py (tests/test_accounts_sql.py
holds DuckDB and Postgres)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import datetime
from typing import Any

import pytest
from accounts_sql_fixture import AS_OF, build_model, python_rows
from scorelang.compiler import ir
from scorelang.targets.sql import render_ddl
from scorelang.targets.sql.builder import select_account_scores, select_scores
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.names import as_written, column
from scorelang.targets.sql.relations import qualified_table
from sqlglot import exp
from test_accounts_sql import FIXTURE, by_key, tables
from test_bigquery_zetasql import BIGQUERY_TYPES, DATASET, ZetaSQL, decoded, zetasql
from test_snowflake_emulator import RUNNER, SNOWFLAKE_TYPES, fakesnow_python, json_value
from test_spark import aware, spark

from scorelang.config import DEFAULT_SOURCES, SourceMapping
from scorelang.engines.spark_files import SPARK_TYPES

__all__ = ["fakesnow_python", "spark", "zetasql"]  # the emulators' session fixtures


@pytest.fixture(scope="module")
def model() -> ir.Model:
    return build_model()


@pytest.fixture(scope="module")
def views(model: ir.Model) -> list[tuple[Any, dict[Any, dict[str, Any]], str]]:
    """(the view's SELECT, the rows Python gives, the view name's suffix), per entity."""
    leads, accounts = python_rows(model)
    return [(select_scores, leads, "scores"), (select_account_scores, accounts, "account_scores")]


def typed_tables(
    model: ir.Model, types: dict[ir.Type, str], rows: dict[str, list[dict[str, Any]]] = FIXTURE
) -> list[dict[str, Any]]:
    """The three tables' `rows` (the fixture's by default) as the emulators' runners take
    them."""
    return [
        {
            "name": name,
            "columns": [[c, types[t]] for c, t in columns.items()],
            "rows": [[json_value(row.get(c)) for c in columns] for row in rows[name]],
        }
        for name, columns in tables(model).items()
    ]


def created(ddl: str) -> list[str]:
    """The deployable DDL's CREATE statements: the two views."""
    statements = [part.strip() for part in ddl.split("\n\n") if part.startswith("CREATE")]
    assert len(statements) == 2
    return statements


def bigquery_views(
    zetasql: ZetaSQL,
    model: ir.Model,
    rows: dict[str, list[dict[str, Any]]] = FIXTURE,
    as_of: datetime = AS_OF,
) -> list[dict[Any, dict[str, Any]]]:
    """Both views' rows by key (leads, then accounts), the DDL analyzed by ZetaSQL and each
    view's SELECT executed over `rows`."""
    placed = [
        {**t, "path": [*DATASET, t.pop("name")]} for t in typed_tables(model, BIGQUERY_TYPES, rows)
    ]
    sources = SourceMapping(schema=".".join(DATASET))
    statements = created(render_ddl(model, "bigquery", as_of=as_of, mapping=sources))
    found = []
    for select in (select_scores, select_account_scores):
        query = select(model, "bigquery", as_of=as_of, mapping=DEFAULT_SOURCES).sql("bigquery")
        response = zetasql.run({"tables": placed, "analyze": statements, "query": query})
        assert "error" not in response, (
            f"ZetaSQL: {response.get('error')}\nin:\n{response.get('sql')}"
        )
        records = [
            dict(zip(response["columns"], map(decoded, r), strict=True)) for r in response["rows"]
        ]
        found.append(by_key(records))
    return found


def test_bigquery_views_equal_python(zetasql: ZetaSQL, model: ir.Model, views: list) -> None:
    assert bigquery_views(zetasql, model) == [expected for _, expected, _ in views]


def snowflake_query(model: ir.Model, suffix: str, columns: tuple[str, ...]) -> str:
    """SELECT of a view's columns, named as a user would (unquoted)."""
    query = exp.select(*map(column, columns)).from_(qualified_table(f"{model.name}_{suffix}", ()))
    return as_written(query, get_dialect("snowflake")).sql(dialect="snowflake")


def snowflake_views(
    fakesnow_python: str,
    model: ir.Model,
    rows: dict[str, list[dict[str, Any]]] = FIXTURE,
    as_of: datetime = AS_OF,
) -> list[dict[Any, dict[str, Any]]]:
    """Both views' rows by key (leads, then accounts), created on fakesnow from the
    deployable DDL and read over `rows`."""
    statements = created(render_ddl(model, "snowflake", as_of=as_of, mapping=DEFAULT_SOURCES))
    found = []
    for entity, suffix in ((ir.LEAD, "scores"), (ir.ACCOUNT, "account_scores")):
        columns = model.columns_of(entity)
        request = {
            "tables": typed_tables(model, SNOWFLAKE_TYPES, rows),
            "statements": statements,
            "query": snowflake_query(model, suffix, columns),
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
        response = json.loads(done.stdout or "{}")
        assert "error" not in response and "rows" in response, (
            f"fakesnow: {response.get('error')}\n{done.stderr[-2000:]}\nin:\n{response.get('sql')}"
        )
        records = [
            dict(zip(columns, map(decoded_snowflake, r), strict=True)) for r in response["rows"]
        ]
        found.append(by_key(records))
    return found


def test_snowflake_views_equal_python(fakesnow_python: str, model: ir.Model, views: list) -> None:
    assert snowflake_views(fakesnow_python, model) == [expected for _, expected, _ in views]


def decoded_snowflake(value: Any) -> Any:
    """The runner's tagged Decimal as a float (the views' scores are doubles)."""
    return float(value["decimal"]) if isinstance(value, dict) else value


def test_spark_views_equal_python(spark: Any, model: ir.Model, views: list) -> None:
    database = f"scorelang_{uuid.uuid4().hex[:12]}"
    spark.sql(f"CREATE DATABASE {database}")
    try:
        for name, columns in tables(model).items():
            schema = ", ".join(f"`{c}` {SPARK_TYPES[t]}" for c, t in columns.items())
            data = [tuple(aware(row.get(c)) for c in columns) for row in FIXTURE[name]]
            spark.createDataFrame(data, schema).write.saveAsTable(f"{database}.{name}")
        mapping = SourceMapping(schema=database)
        for select, expected, _ in views:
            query = select(model, "spark", as_of=AS_OF, mapping=mapping).sql("spark")
            assert by_key(spark.sql(query).toArrow().to_pylist()) == expected
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")
