"""Run a model on an engine: score leads (Python, DuckDB, Postgres) or deploy its views.

Every engine reads files through `scorelang.data`, so all see identical typed values, and
returns rows keyed by `model.output_columns` with the same Python types, sorted by lead key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, read_records
from .rows import sort_rows

ENGINES = ("python", "duckdb", "postgres", "spark")


def score(
    model: ir.Model,
    engine: str,
    *,
    leads: Path | None = None,
    events: Path | None = None,
    database: str | None = None,
    as_of: datetime | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> list[dict[str, Any]]:
    """Score every lead: from `leads` and `events` files, or (SQL engines) from the tables
    the mapping names in `database`. `as_of` None means now. With files, `on_load` receives
    the LoadReport: how many rows were kept, and how many events were dropped and why."""
    mapping = mapping or SourceMapping()
    if (leads is None) != (events is None):
        raise DataError("give both a leads file and an events file")
    if engine == "python":
        if leads is None or events is None:
            raise DataError("the python engine scores files: give a leads file and an events file")
        from ..targets.python import PythonEvaluator

        lead_records, event_records = read_records(model, leads, events, mapping, on_load)
        results = PythonEvaluator(model).score_many(lead_records, event_records, as_of)
        return sort_rows(model, [result.as_row(model) for result in results])
    if engine == "duckdb":
        from . import duckdb as backend
    elif engine == "postgres":
        from . import postgres as backend
    elif engine == "spark":
        from . import spark as backend
    else:
        raise DataError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    return backend.score(
        model,
        leads=leads,
        events=events,
        database=database,
        as_of=as_of,
        mapping=mapping,
        on_load=on_load,
    )


def apply(
    model: ir.Model,
    database: str,
    *,
    mapping: SourceMapping | None = None,
    schema: str | None = None,
) -> list[str]:
    """Create or replace the model's views in `database` (a DuckDB file path, a
    postgresql://, bigquery://, snowflake:// or databricks:// URL, or a Spark master:
    local[*], spark://, sc://); returns the view names created."""
    mapping = mapping or SourceMapping()
    scheme = database.split("://", 1)[0].lower() if "://" in database else "duckdb"
    if scheme in ("spark", "sc") or database == "local" or database.startswith("local["):
        from . import spark

        return spark.apply(model, database, mapping, schema)
    if scheme in ("postgresql", "postgres"):
        from . import postgres

        return postgres.apply(model, database, mapping, schema)
    if scheme == "duckdb":
        from . import duckdb

        return duckdb.apply(model, database.removeprefix("duckdb://"), mapping, schema)
    if scheme in ("bigquery", "snowflake", "databricks"):
        from . import warehouse
        from .views import create_views

        warehouse.connector(scheme)
        dialect = "spark" if scheme == "databricks" else scheme
        statements = create_views(model, dialect, mapping, schema)
        warehouse.execute(scheme, database, [sql for _name, sql in statements])
        return [name for name, _sql in statements]
    raise DataError(f"unsupported database {database!r}: give a DuckDB file or a postgresql:// URL")
