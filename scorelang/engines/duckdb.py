"""Score with DuckDB: files loaded into an in-memory database, or tables in a DuckDB file.
Every function scores one entity's rows: the leads (default) or, with `entity`, the accounts."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, create_schema, load_duckdb, table
from ..targets.sql.builder import select_account_scores, select_scores
from .rows import (
    Leaderboard,
    Request,
    ScoringTime,
    best_query,
    board_from,
    counts_query,
    key_order,
    scratch_name,
    to_rows,
    typed,
)
from .views import create_views, event_time_probe, knowing_event_time

DIALECT = "duckdb"
MEMORY_LIMIT = "SCORELANG_DUCKDB_MEMORY_LIMIT"  # e.g. 4GB
SPILL_DIRECTORY = "SCORELANG_DUCKDB_SPILL_DIRECTORY"
DEFAULT_MEMORY_LIMIT = "1GB"  # with the interpreter and the libraries, a peak below 1.5 GB


def connect(
    database: str | Path | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection whose session zone is UTC (timestamps without a zone are UTC), and whose
    memory is bounded: past the limit DuckDB spills to disk instead of growing (limits())."""
    target = str(database) if database else ":memory:"
    if database and read_only and not Path(target).exists():
        raise DataError(f"{target}: no such DuckDB database file")
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.Error as error:
        raise DataError(f"{target}: cannot open the DuckDB database: {error}") from error
    con.execute("SET TimeZone = 'UTC'")
    for variable, (setting, value) in limits().items():
        try:
            con.execute(set_statement(setting, value))
        except duckdb.Error as error:
            con.close()
            raise DataError(f"{variable}={value!r}: {str(error).splitlines()[0]}") from error
    return con


def limits() -> dict[str, tuple[str, str]]:
    """DuckDB's memory limit and spill folder, from the environment or the defaults. The
    default folder is new for each connection: DuckDB creates it only when it spills and
    removes it on close, and concurrent runs never share one."""
    spill = Path(tempfile.gettempdir()) / f"scorelang-spill-{uuid.uuid4().hex}"
    return {
        MEMORY_LIMIT: ("memory_limit", os.environ.get(MEMORY_LIMIT) or DEFAULT_MEMORY_LIMIT),
        SPILL_DIRECTORY: ("temp_directory", os.environ.get(SPILL_DIRECTORY) or str(spill)),
    }


def set_statement(setting: str, value: str) -> str:
    item = exp.SetItem(this=exp.EQ(this=exp.var(setting), expression=exp.Literal.string(value)))
    return exp.Set(expressions=[item]).sql(dialect=DIALECT)


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Run a statement that reads the source tables; their mismatches become DataErrors."""
    try:
        return con.execute(sql)
    except duckdb.CatalogException as error:
        raise DataError(
            f"the source tables do not match the model: {str(error).splitlines()[0]}"
        ) from error
    except duckdb.Error as error:  # e.g. a column of the wrong type in an existing table
        raise DataError(
            f"the scores query failed in DuckDB: {str(error).splitlines()[0]}"
        ) from error


def entity_query(
    model: ir.Model,
    dialect: str,
    as_of: ScoringTime,
    mapping: SourceMapping,
    entity: str = ir.LEAD,
) -> exp.Select:
    """The query of one entity's rows: the leads' scores, or the accounts'."""
    select = select_account_scores if entity == ir.ACCOUNT else select_scores
    return select(model, dialect, as_of=as_of, mapping=mapping)


def scores_query(
    model: ir.Model, as_of: ScoringTime, mapping: SourceMapping, entity: str = ir.LEAD
) -> exp.Select:
    return entity_query(model, DIALECT, as_of, mapping, entity)


def run_scores(
    con: duckdb.DuckDBPyConnection,
    model: ir.Model,
    as_of: ScoringTime,
    mapping: SourceMapping,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    cursor = execute(con, scores_query(model, as_of, mapping, entity).sql(dialect=DIALECT))
    names = [d[0] for d in cursor.description]
    return to_rows(model, names, cursor.fetchall(), entity)


def copy_to(con: duckdb.DuckDBPyConnection, query: exp.Query, path: Path) -> int:
    """Write a query's rows to a .csv (with a header) or .parquet file; returns how many."""
    options = {"FORMAT": "parquet"} if path.suffix.lower() == ".parquet" else {"FORMAT": "csv"}
    options |= {"HEADER": "true"} if options["FORMAT"] == "csv" else {}
    copy = exp.Copy(
        this=query.subquery(),
        kind=False,
        files=[exp.Literal.string(str(path))],
        params=[
            exp.CopyParameter(this=exp.Var(this=name), expression=exp.Var(this=value))
            for name, value in options.items()
        ],
    )
    ((count,),) = execute(con, copy.sql(dialect=DIALECT)).fetchall()
    return count


def copy_sorted(model: ir.Model, source: exp.Expression, out: Path, entity: str = ir.LEAD) -> int:
    """Scores another engine left in a scratch file (`source`: a DuckDB table function that
    reads it) typed, sorted by key and written to `out` as DuckDB writes its own."""
    query = typed(model, source, entity).order_by(key_order(model, DIALECT, entity))
    with connect() as con:
        return copy_to(con, query, out)


@contextmanager
def session(
    model: ir.Model,
    *,
    leads: Path | None,
    events: Path | None,
    database: str | Path | None,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None = None,
    accounts: Path | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the source tables: files (when given) loaded into an in-memory
    database, otherwise `database` read as is."""
    if leads is not None and events is not None:
        con = connect()
        report = load_duckdb(
            con, model, leads, events, mapping, scored_only=True, accounts=accounts
        )
        if on_load is not None:
            on_load(report)
    elif database is not None:
        con = connect(database, read_only=True)
    else:
        raise DataError("duckdb: give lead and event files, or a DuckDB database file")
    with con:
        yield con


def score(
    model: ir.Model, *, as_of: ScoringTime, entity: str = ir.LEAD, **sources: Any
) -> list[dict[str, Any]]:
    with session(model, **sources) as con:
        return run_scores(con, model, as_of, sources["mapping"], entity)


def serve(
    model: ir.Model, requests: list[Request], *, as_of: ScoringTime, **sources: Any
) -> list[int | Leaderboard]:
    """Each request's result from one load of the sources: files are written by DuckDB
    itself, in key order; leaderboards ranked and counted over a scratch table."""
    with session(model, **sources) as con:
        return [fulfil(con, model, r, as_of, sources["mapping"]) for r in requests]


def fulfil(
    con: duckdb.DuckDBPyConnection,
    model: ir.Model,
    request: Request,
    as_of: ScoringTime,
    mapping: SourceMapping,
) -> int | Leaderboard:
    entity = request.entity
    query = scores_query(model, as_of, mapping, entity)
    if request.out is not None:
        typed_rows = typed(model, query, entity).order_by(key_order(model, DIALECT, entity))
        return copy_to(con, typed_rows, request.out)
    scratch = table(scratch_name(entity))
    create = exp.Create(
        this=scratch,
        kind="TABLE",
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    execute(con, create.sql(dialect=DIALECT))
    best = best_query(model, scratch, request.by, request.top, DIALECT, entity)
    cursor = con.execute(best.sql(dialect=DIALECT))
    rows = ([d[0] for d in cursor.description], cursor.fetchall())
    counts = con.execute(counts_query(model, scratch, entity).sql(dialect=DIALECT)).fetchone()
    return board_from(model, rows, counts, entity)


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
