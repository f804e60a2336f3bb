"""Run a model on an engine: score leads (Python, DuckDB, Postgres) or deploy its views.

Every engine reads files through `scorelang.data`, so all see identical typed values, and
returns rows keyed by `model.output_columns` with the same Python types, sorted by lead key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..columns import check_mapping
from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, read_records
from ..records import model_ir, optional_path, to_utc
from .rows import sort_rows

if TYPE_CHECKING:
    from ..api import ScoringModel

ENGINES = ("python", "duckdb", "postgres")


def score(
    model: ir.Model | ScoringModel,
    engine: str,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    database: str | None = None,
    as_of: datetime | str | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> list[dict[str, Any]]:
    """Score every lead: from `leads` and `events` files, or (SQL engines) from the tables
    the mapping names in `database`. `as_of` (a datetime or ISO 8601 text) None means now.
    With files, `on_load` receives the LoadReport: how many rows were kept, and how many
    events were dropped and why."""
    model, leads, events = model_ir(model), optional_path(leads), optional_path(events)
    as_of = None if as_of is None else to_utc(as_of)
    mapping = mapping or SourceMapping()
    check_mapping(model, mapping)
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
    model: ir.Model | ScoringModel,
    database: str,
    *,
    mapping: SourceMapping | None = None,
    schema: str | None = None,
) -> list[str]:
    """Create or replace the model's views in `database` (a DuckDB file path, or a
    postgresql://, bigquery:// or snowflake:// URL); returns the view names created."""
    model, mapping = model_ir(model), mapping or SourceMapping()
    check_mapping(model, mapping)
    scheme = database.split("://", 1)[0].lower() if "://" in database else "duckdb"
    if scheme in ("postgresql", "postgres"):
        from . import postgres

        return postgres.apply(model, database, mapping, schema)
    if scheme == "duckdb":
        from . import duckdb

        return duckdb.apply(model, database.removeprefix("duckdb://"), mapping, schema)
    if scheme in ("bigquery", "snowflake"):
        from . import warehouse
        from .views import create_views

        warehouse.connector(scheme)
        statements = create_views(model, scheme, mapping, schema)
        warehouse.execute(scheme, database, [sql for _name, sql in statements])
        return [name for name, _sql in statements]
    raise DataError(f"unsupported database {database!r}: give a DuckDB file or a postgresql:// URL")
