"""Score with DuckDB: files loaded into an in-memory database, or tables in a DuckDB file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, create_schema, load_duckdb
from ..targets.sql import select_scores
from .rows import to_rows
from .views import create_views, event_time_probe, knowing_event_time

DIALECT = "duckdb"


def connect(
    database: str | Path | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection whose session zone is UTC (timestamps without a zone are UTC)."""
    target = str(database) if database else ":memory:"
    if database and read_only and not Path(target).exists():
        raise DataError(f"{target}: no such DuckDB database file")
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.Error as error:
        raise DataError(f"{target}: cannot open the DuckDB database: {error}") from error
    con.execute("SET TimeZone = 'UTC'")
    return con


def run_scores(
    con: duckdb.DuckDBPyConnection, model: ir.Model, as_of: datetime | None, mapping: SourceMapping
) -> list[dict[str, Any]]:
    sql = select_scores(model, DIALECT, as_of=as_of, mapping=mapping).sql(dialect=DIALECT)
    try:
        cursor = con.execute(sql)
    except duckdb.CatalogException as error:
        raise DataError(
            f"the source tables do not match the model: {str(error).splitlines()[0]}"
        ) from error
    except duckdb.Error as error:  # e.g. a column of the wrong type in an existing table
        raise DataError(
            f"the scores query failed in DuckDB: {str(error).splitlines()[0]}"
        ) from error
    names = [d[0] for d in cursor.description]
    return to_rows(model, names, cursor.fetchall())


def score(
    model: ir.Model,
    *,
    leads: Path | None,
    events: Path | None,
    database: str | Path | None,
    as_of: datetime | None,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None = None,
) -> list[dict[str, Any]]:
    """Files (when given) go to an in-memory database; otherwise `database` is read as is."""
    if leads is not None and events is not None:
        con = connect()
        report = load_duckdb(con, model, leads, events, mapping)
        if on_load is not None:
            on_load(report)
    elif database is not None:
        con = connect(database, read_only=True)
    else:
        raise DataError("duckdb: give lead and event files, or a DuckDB database file")
    with con:
        return run_scores(con, model, as_of, mapping)


def apply(
    model: ir.Model, database: str | Path, mapping: SourceMapping, schema: str | None
) -> list[str]:
    """Create (or replace) the model's views in a DuckDB database file."""
    with connect(database) as con:
        try:
            if schema:
                con.execute(create_schema(schema, DIALECT))
            known = knowing_event_time(mapping, event_time_zoned(con, mapping))
            statements = create_views(model, DIALECT, known, schema)
            for _name, sql in statements:
                con.execute(sql)
        except duckdb.Error as error:
            raise DataError(
                f"{database}: cannot create the views: {str(error).splitlines()[0]}"
            ) from error
    return [name for name, _sql in statements]


def event_time_zoned(con: duckdb.DuckDBPyConnection, mapping: SourceMapping) -> bool | None:
    """Whether the events' time column has a time zone (None: not a timestamp, or no such
    column yet, which CREATE VIEW then reports)."""
    try:
        description = con.execute(event_time_probe(mapping, DIALECT)).description
    except duckdb.Error:
        return None
    return {"TIMESTAMP WITH TIME ZONE": True, "TIMESTAMP": False}.get(str(description[0][1]))
