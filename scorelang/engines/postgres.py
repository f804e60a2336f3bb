"""Score with Postgres (psycopg 3): files are parsed by DuckDB (as for every engine) and
copied into temporary tables, or the mapping's existing tables are read as they are."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..data import (
    DataError,
    LoadReport,
    account_columns,
    create_schema,
    event_columns,
    lead_columns,
    load_duckdb,
    scored_event_columns,
    table,
)
from ..targets.sql.names import ident
from . import duckdb as duck
from .rows import (
    Leaderboard,
    Request,
    ScoringTime,
    best_query,
    board_from,
    counts_query,
    scratch_name,
    to_rows,
)
from .views import create_views, event_time_probe, knowing_event_time

DIALECT = "postgres"
PG_TYPES = {
    ir.Type.STRING: "TEXT",
    ir.Type.INT: "BIGINT",
    ir.Type.NUMBER: "DOUBLE PRECISION",
    ir.Type.BOOL: "BOOLEAN",
    ir.Type.TIMESTAMP: "TIMESTAMPTZ",
}
NULL = "\\N"  # DuckDB writes, Postgres reads: distinct from an empty string


def connect(url: str) -> psycopg.Connection:
    """A connection whose session zone is UTC, or a DataError saying why there is none."""
    try:
        pg = psycopg.connect(url)
    except psycopg.Error as error:
        raise DataError(f"cannot connect to Postgres: {str(error).strip()}") from error
    pg.execute("SET TIME ZONE 'UTC'")
    return pg


def copy_table(
    pg: psycopg.Connection,
    source: duckdb.DuckDBPyConnection,
    name: str,
    target: exp.Table,
    columns: list[tuple[str, ir.Type]],
) -> None:
    """(Re)create `target` in Postgres and stream DuckDB's table `name` into it as CSV."""
    defs = [
        exp.ColumnDef(this=ident(c), kind=exp.DataType.build(PG_TYPES[t], dialect=DIALECT))
        for c, t in columns
    ]
    pg.execute(exp.Drop(tables=[target], kind="TABLE", exists=True).sql(DIALECT))
    pg.execute(
        exp.Create(this=exp.Schema(this=target, expressions=defs), kind="TABLE").sql(DIALECT)
    )
    copy = exp.Copy(
        this=exp.Schema(this=target, expressions=[ident(c) for c, _ in columns]),
        kind=True,
        files=[exp.Var(this="STDIN")],
        params=[
            exp.CopyParameter(this=exp.Var(this="FORMAT"), expression=exp.Var(this="csv")),
            exp.CopyParameter(this=exp.Var(this="NULL"), expression=exp.Literal.string(NULL)),
        ],
    )
    with tempfile.TemporaryDirectory(prefix="scorelang-") as folder:
        path = Path(folder) / f"{name}.csv"
        source.table(name).write_csv(str(path), header=False, na_rep=NULL, quoting="all")
        with pg.cursor().copy(copy.sql(DIALECT)) as sink, path.open("rb") as rows:
            while chunk := rows.read(1 << 20):
                sink.write(chunk)
    pg.execute(exp.Analyze(tables=[target]).sql(DIALECT))


def load_postgres(
    pg: psycopg.Connection,
    model: ir.Model,
    leads: Path,
    events: Path,
    mapping: SourceMapping,
    temporary: bool = True,
    accounts: Path | None = None,
) -> tuple[LoadReport, SourceMapping]:
    """Load two files (three with the accounts of a model with an account) into the Postgres
    tables the mapping names, replacing them, or by default into temporary tables of those
    names (the session's own, addressed through `pg_temp` so that a real table is never
    touched). Returns the mapping that reads them. Temporary tables get only the event
    columns the scores query reads."""
    target = dataclasses.replace(mapping, schema="pg_temp" if temporary else mapping.schema)
    local = dataclasses.replace(mapping, schema=None)
    kept = scored_event_columns if temporary else event_columns
    with duck.connect() as source:
        report = load_duckdb(
            source, model, leads, events, local, scored_only=temporary, accounts=accounts
        )
        tables = [
            (local.leads_table, lead_columns(model, local)),
            (local.events_table, kept(model, local)),
        ]
        if accounts is not None:
            tables.append((local.entity(ir.ACCOUNT).table, account_columns(model, local)))
        for name, columns in tables:
            destination = table(name, target.schema)
            copy_table(pg, source, name, destination, [(c.source, c.type) for c in columns])
    return report, local if temporary else mapping


@contextmanager
def query_errors() -> Iterator[None]:
    """Failures of statements that read the source tables, as DataErrors."""
    try:
        yield
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as error:
        raise DataError(
            f"the source tables do not match the model: {str(error).splitlines()[0]}"
        ) from error
    except psycopg.Error as error:  # e.g. a column of the wrong type in an existing table
        raise DataError(
            f"the scores query failed in Postgres: {str(error).splitlines()[0]}"
        ) from error


def execute(pg: psycopg.Connection, sql: str) -> psycopg.Cursor:
    with query_errors():
        return pg.execute(sql)


def scores_query(
    model: ir.Model, as_of: ScoringTime, mapping: SourceMapping, entity: str = ir.LEAD
) -> exp.Select:
    return duck.entity_query(model, DIALECT, as_of, mapping, entity)


def run_scores(
    pg: psycopg.Connection,
    model: ir.Model,
    as_of: ScoringTime,
    mapping: SourceMapping,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    cursor = execute(pg, scores_query(model, as_of, mapping, entity).sql(dialect=DIALECT))
    names = [d.name for d in cursor.description or ()]
    return to_rows(model, names, cursor.fetchall(), entity)


@contextmanager
def session(
    model: ir.Model,
    *,
    leads: Path | None,
    events: Path | None,
    database: str | None,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None = None,
    accounts: Path | None = None,
) -> Iterator[tuple[psycopg.Connection, SourceMapping]]:
    """A connection and the mapping that reads the source tables: files (when given) loaded
    into temporary tables. Nothing is committed: temporary tables go with the session."""
    if not database:
        raise DataError("postgres: give the database URL (postgresql://user@host/db)")
    with connect(database) as pg:
        if leads is not None and events is not None:
            report, mapping = load_postgres(pg, model, leads, events, mapping, accounts=accounts)
            if on_load is not None:
                on_load(report)
        yield pg, mapping
        pg.rollback()


def score(
    model: ir.Model, *, as_of: ScoringTime, entity: str = ir.LEAD, **sources: Any
) -> list[dict[str, Any]]:
    with session(model, **sources) as (pg, mapping):
        return run_scores(pg, model, as_of, mapping, entity)


def serve(
    model: ir.Model, requests: list[Request], *, as_of: ScoringTime, **sources: Any
) -> list[int | Leaderboard]:
    """Each request's result from one load of the sources into the session."""
    with session(model, **sources) as (pg, mapping):
        return [fulfil(pg, model, r, as_of, mapping) for r in requests]


@contextmanager
def streamed_csv(pg: psycopg.Connection, query: exp.Query) -> Iterator[exp.Expression]:
    """The rows of `query` streamed out of Postgres as CSV (COPY TO STDOUT) into a scratch
    file, as a DuckDB `read_csv` of it (every column text: the reader types them); the file
    is gone when the block ends."""
    copy = exp.Copy(
        this=query.subquery(),
        kind=False,
        files=[exp.Var(this="STDOUT")],
        params=[
            exp.CopyParameter(this=exp.Var(this="FORMAT"), expression=exp.Var(this="csv")),
            exp.CopyParameter(this=exp.Var(this="HEADER"), expression=exp.true()),
        ],
    )
    with tempfile.TemporaryDirectory(prefix="scorelang-") as folder:
        scratch = Path(folder) / "rows.csv"
        with (
            scratch.open("wb") as sink,
            query_errors(),
            pg.cursor().copy(copy.sql(DIALECT)) as rows,
        ):
            for chunk in rows:
                sink.write(chunk)
        yield exp.func(
            "read_csv",
            exp.Literal.string(str(scratch)),
            exp.EQ(this=exp.var("header"), expression=exp.true()),
            exp.EQ(this=exp.var("all_varchar"), expression=exp.true()),
            exp.EQ(this=exp.var("allow_quoted_nulls"), expression=exp.false()),
        )


def fulfil(
    pg: psycopg.Connection,
    model: ir.Model,
    request: Request,
    as_of: ScoringTime,
    mapping: SourceMapping,
) -> int | Leaderboard:
    """A file: the rows streamed out of Postgres as CSV (COPY TO STDOUT) into a scratch
    file, which DuckDB types, sorts by key and writes to `out`. A leaderboard: the best rows
    and the counts, from the scores kept in a temporary table."""
    entity = request.entity
    query = scores_query(model, as_of, mapping, entity)
    if request.out is not None:
        with streamed_csv(pg, query) as source:
            return duck.copy_sorted(model, source, request.out, entity)
    scratch = table(scratch_name(entity), "pg_temp")
    execute(pg, exp.Create(this=scratch, kind="TABLE", expression=query).sql(dialect=DIALECT))
    best = best_query(model, scratch, request.by, request.top, DIALECT, entity)
    cursor = pg.execute(best.sql(dialect=DIALECT))
    rows = ([d.name for d in cursor.description or ()], cursor.fetchall())
    counts = pg.execute(counts_query(model, scratch, entity).sql(dialect=DIALECT)).fetchone()
    return board_from(model, rows, counts, entity)


def apply(model: ir.Model, database: str, mapping: SourceMapping, schema: str | None) -> list[str]:
    """Create (or replace) the model's views in one transaction: all or nothing."""
    with connect(database) as pg:
        try:
            if schema:
                pg.execute(create_schema(schema, DIALECT))
            known = knowing_event_time(mapping, event_time_zoned(pg, mapping))
            statements = create_views(model, DIALECT, known, schema)
            for _name, sql in statements:
                pg.execute(sql)
        except psycopg.Error as error:
            raise DataError(f"cannot create the views: {str(error).splitlines()[0]}") from error
    return [name for name, _sql in statements]


def event_time_zoned(pg: psycopg.Connection, mapping: SourceMapping) -> bool | None:
    """Whether the events' time column has a time zone (None: not a timestamp, or no such
    column yet, which CREATE VIEW then reports). Probed in a savepoint: a failure here must
    not abort the transaction that creates the views."""
    try:
        with pg.transaction():
            description = pg.execute(event_time_probe(mapping, DIALECT)).description or ()
    except psycopg.Error:
        return None
    types = {
        pg.adapters.types[name].oid: zoned
        for name, zoned in (("timestamptz", True), ("timestamp", False))
    }
    return types.get(description[0].type_code) if description else None
