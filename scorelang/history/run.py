"""A model's history on an engine: one row per lead and instant, a summary per instant, and
the transitions between consecutive instants (docs/history.md).

The SQL engines run one query over the spine of instants (targets/sql/history.py) and write
files or summarise in the engine; the Python engine scores each instant in-process, then
DuckDB writes and summarises its rows with the same queries. Transitions on the Python
engine come from scorelang/history/transitions.py, independent of the SQL (the tests hold
the two equal).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from ..compiler import ir
from ..compiler.plan import INSTANT
from ..config import SourceMapping
from ..data import DataError, LoadReport
from ..engines import Sources, inputs
from ..engines.rows import SQL_TYPES, converters, key_of, key_order, output_types
from ..records import to_utc
from ..targets.sql.builder import target_of
from ..targets.sql.history import (
    AT,
    OUTPUT,
    TRANSITION_COLUMNS,
    moving_outputs,
    select_history,
    select_transitions,
)
from ..targets.sql.names import column, ident
from .transitions import transitions

if TYPE_CHECKING:
    from ..api import ScoringModel

ENGINES = ("python", "duckdb", "postgres", "spark")
Progress = Callable[[int, int], None]  # (instants done, instants in all)


@dataclass(frozen=True)
class InstantSummary:
    """One instant of a history as the terminal shows it."""

    instant: datetime
    leads: int
    mean: float | None  # of the summary's score
    tiers: dict[str, dict[str, int]]  # tier -> label -> leads
    flags: dict[str, int]  # flag -> leads raised


def history_rows(
    model: ir.Model | ScoringModel,
    engine: str,
    instants: Sequence[datetime],
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    progress: Progress | None = None,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    """Every lead (or account, with `entity`) at every instant, as Python rows sorted by key
    then instant: the key, `as_of` (aware UTC), then the entity's output columns. A model
    with an account needs its `accounts` file with the leads and events files."""
    model, _, sources = inputs(
        model, None, leads, events, database, mapping, on_load, accounts, entity
    )
    with _history(model, engine, instants, sources, progress, entity) as history:
        return history.rows()


def transition_rows(
    model: ir.Model | ScoringModel,
    engine: str,
    instants: Sequence[datetime],
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    progress: Progress | None = None,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    """The history's transitions, sorted by lead key, instant and output: the key, then
    output, from, to, at (aware UTC), reasons."""
    model, _, sources = inputs(
        model, None, leads, events, database, mapping, on_load, accounts, entity
    )
    with _history(model, engine, instants, sources, progress, entity) as history:
        return history.transitions()


def write_history(
    model: ir.Model | ScoringModel,
    engine: str,
    instants: Sequence[datetime],
    out: str | Path,
    *,
    moves: bool = False,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    progress: Progress | None = None,
    entity: str = ir.LEAD,
) -> int:
    """The history (`moves`: its transitions) written to a .csv or .parquet file in lead
    key and instant order; returns how many rows."""
    model, _, sources = inputs(
        model, None, leads, events, database, mapping, on_load, accounts, entity
    )
    with _history(model, engine, instants, sources, progress, entity) as history:
        return history.write(Path(out), moves)


def history_summary(
    model: ir.Model | ScoringModel,
    engine: str,
    instants: Sequence[datetime],
    by: str | None,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    progress: Progress | None = None,
    entity: str = ir.LEAD,
) -> list[InstantSummary]:
    """Per instant: how many leads, the mean of the score `by`, the leads in each tier's
    bands and raised by each flag; computed where the history is (the engine, or DuckDB
    over the Python engine's rows)."""
    model, _, sources = inputs(
        model, None, leads, events, database, mapping, on_load, accounts, entity
    )
    with _history(model, engine, instants, sources, progress, entity) as history:
        return history.summary(by)


# ---- the history as a relation of an engine ---------------------------------------------


def history_types(model: ir.Model, entity: str = ir.LEAD) -> dict[str, exp.DataType.Type]:
    """The SQL type of every history column of the entity, in order."""
    types = {name: SQL_TYPES[t] for name, t in output_types(model, entity).items()}
    key, *rest = types.items()
    return dict([key, (INSTANT, exp.DataType.Type.TIMESTAMP), *rest])


def transition_types(model: ir.Model, entity: str = ir.LEAD) -> dict[str, exp.DataType.Type]:
    key = key_of(model, entity)
    text = exp.DataType.Type.VARCHAR
    moves = dict.fromkeys(TRANSITION_COLUMNS, text) | {AT: exp.DataType.Type.TIMESTAMP}
    return {key: SQL_TYPES[output_types(model, entity)[key]]} | moves


def typed(types: dict[str, exp.DataType.Type], source: exp.Expression) -> exp.Select:
    """`source`'s columns cast to their types, in order."""
    if isinstance(source, exp.Query):
        source = exp.Subquery(this=source, alias=exp.TableAlias(this=ident("t")))
    return exp.select(
        *(
            exp.alias_(exp.cast(column(name), exp.DataType(this=kind)), ident(name))
            for name, kind in types.items()
        )
    ).from_(source)


class _Engine(Protocol):
    """Runs queries where the history is: the SQL engine's session, or DuckDB."""

    dialect: str

    def fetch(self, query: exp.Query) -> tuple[list[str], list[tuple]]: ...

    def copy(self, query: exp.Query, types: dict[str, exp.DataType.Type], out: Path) -> int:
        """Write the rows of `query` (typed as `types`, ordered) to a .csv or .parquet file."""
        ...


class _Duck:
    dialect = "duckdb"

    def __init__(self, con: Any):
        self.con = con

    def fetch(self, query: exp.Query) -> tuple[list[str], list[tuple]]:
        from ..engines.duckdb import execute

        cursor = execute(self.con, query.sql(dialect=self.dialect))
        return [d[0] for d in cursor.description], cursor.fetchall()

    def copy(self, query: exp.Query, types: dict[str, exp.DataType.Type], out: Path) -> int:
        from ..engines.duckdb import copy_to

        return copy_to(self.con, query, out)


class _Postgres:
    dialect = "postgres"

    def __init__(self, pg: Any):
        self.pg = pg

    def fetch(self, query: exp.Query) -> tuple[list[str], list[tuple]]:
        from ..engines.postgres import execute

        cursor = execute(self.pg, query.sql(dialect=self.dialect))
        return [d.name for d in cursor.description or ()], cursor.fetchall()

    def copy(self, query: exp.Query, types: dict[str, exp.DataType.Type], out: Path) -> int:
        """Streamed out of Postgres as CSV into a scratch file that DuckDB types and writes
        (`query` is typed and ordered already; DuckDB keeps the order it reads)."""
        from ..engines import duckdb as duck
        from ..engines.postgres import streamed_csv

        with streamed_csv(self.pg, query) as source, duck.connect() as con:
            return duck.copy_to(con, typed(types, source), out)


class _Spark:
    dialect = "spark"

    def __init__(self, spark: Any):
        self.spark = spark

    def fetch(self, query: exp.Query) -> tuple[list[str], list[tuple]]:
        from ..engines.spark import collect

        return collect(self.spark, query)

    def copy(self, query: exp.Query, types: dict[str, exp.DataType.Type], out: Path) -> int:
        """Written by Spark's executors as Parquet parts into a scratch folder (no row reaches
        the driver), which DuckDB types, orders as `query` does and writes to `out`."""
        from ..engines import duckdb as duck
        from ..engines.spark import query_errors

        with tempfile.TemporaryDirectory(prefix="scorelang-") as folder:
            parts = Path(folder) / "history"
            unordered = query.copy()
            order = unordered.args.pop("order", None)
            with query_errors():
                self.spark.sql(unordered.sql(dialect=self.dialect)).write.parquet(str(parts))
            source = exp.func("read_parquet", exp.Literal.string(str(parts / "*.parquet")))
            written = typed(types, source)
            if order is not None:
                written.set("order", order)
            with duck.connect() as con:
                return duck.copy_to(con, written, out)


@dataclass
class _History:
    """A model's history in an engine: `source` (a query or a table) has the rows of the
    entity (leads or accounts)."""

    model: ir.Model
    engine: _Engine
    source: exp.Expression
    python_rows: list[dict[str, Any]] | None = None  # the Python engine's, when it ran
    entity: str = ir.LEAD

    @property
    def key(self) -> str:
        return key_of(self.model, self.entity)

    def _copy(self, types: dict[str, exp.DataType.Type], source: exp.Expression, out: Path) -> int:
        """`source` typed and written in lead key and instant (and output) order."""
        order = [key_order(self.model, self.engine.dialect, self.entity)]
        if AT in types:
            place = exp.case(column(OUTPUT))
            for n, name in enumerate(moving_outputs(self.model, self.entity)):
                place = place.when(exp.Literal.string(name), exp.Literal.number(n))
            order += [column(AT), place]
        else:
            order.append(column(INSTANT))
        return self.engine.copy(typed(types, source).order_by(*order), types, out)

    def rows(self) -> list[dict[str, Any]]:
        if self.python_rows is not None:
            return self.python_rows
        names, records = self.engine.fetch(self.source)
        convert = converters(self.model, self.entity) | {INSTANT: to_utc}
        rows = [{n: convert[n](v) for n, v in zip(names, r, strict=True)} for r in records]
        return sorted(rows, key=lambda row: (row[self.key], row[INSTANT]))

    def _select_transitions(self) -> exp.Select:
        if self.engine.dialect == "spark" and self.model.account and self.entity == ir.LEAD:
            # Spark's analyzer fails on this query (INTERNAL_ERROR ... exprId): say so first.
            raise DataError(
                "Spark cannot compute the leads' transitions of a model with an account yet: "
                "use --engine duckdb, postgres or python for them (the account transitions, "
                "and both histories, run on Spark)"
            )
        return select_transitions(self.model, self.engine.dialect, self.source, entity=self.entity)

    def transitions(self) -> list[dict[str, Any]]:
        """In key, instant and output order (`transitions` gives the Python rows so)."""
        if self.python_rows is not None:
            return transitions(self.model, self.python_rows, self.entity)
        names, records = self.engine.fetch(self._select_transitions())
        convert = {name: (lambda v: v) for name in names}
        convert |= {self.key: converters(self.model, self.entity)[self.key], AT: to_utc}
        moves = [{n: convert[n](v) for n, v in zip(names, r, strict=True)} for r in records]
        order = {name: n for n, name in enumerate(moving_outputs(self.model, self.entity))}
        return sorted(moves, key=lambda m: (m[self.key], m[AT], order[m[OUTPUT]]))

    def write(self, out: Path, moves: bool) -> int:
        if not moves:
            return self._copy(history_types(self.model, self.entity), self.source, out)
        types = transition_types(self.model, self.entity)
        if self.python_rows is None:
            return self._copy(types, self._select_transitions(), out)
        import pyarrow as pa

        from ..engines import arrow_schema

        key = arrow_schema(self.model, self.entity).field(self.key)
        kinds = {AT: pa.timestamp("us")}
        schema = pa.schema([key, *((n, kinds.get(n, pa.string())) for n in TRANSITION_COLUMNS)])
        moved = [_naive(m, AT) for m in self.transitions()]
        assert isinstance(self.engine, _Duck)  # the Python engine's rows are in DuckDB
        self.engine.con.register("scorelang_moves", pa.Table.from_pylist(moved, schema=schema))
        return self._copy(types, exp.Table(this=ident("scorelang_moves")), out)

    def summary(self, by: str | None) -> list[InstantSummary]:
        dialect = target_of(self.engine.dialect, SourceMapping())
        outputs = self.model.outputs_of(self.entity)
        labels = [
            (t.name, [label for label, _ in t.bands])
            for t in (*outputs.tiers, *outputs.percentile_tiers)
        ]
        flags = [f.name for f in outputs.flags]
        values: list[exp.Expression] = [column(INSTANT), exp.Count(this=exp.Star())]
        values.append(exp.Avg(this=column(by)) if by else exp.Null())
        for name, bands in labels:
            values += [
                dialect.count_if(exp.EQ(this=column(name), expression=exp.Literal.string(label)))
                for label in bands
            ]
        values += [dialect.count_if(column(name)) for name in flags]
        source = self.source
        if isinstance(source, exp.Query):
            source = exp.Subquery(this=source, alias=exp.TableAlias(this=ident("h")))
        query = (
            exp.select(*values).from_(source).group_by(column(INSTANT)).order_by(column(INSTANT))
        )
        _, records = self.engine.fetch(query)
        found = []
        for instant, count, mean, *counts in records:
            tiers = {}
            for name, bands in labels:
                tiers[name] = dict(zip(bands, map(int, counts[: len(bands)]), strict=True))
                counts = counts[len(bands) :]
            found.append(
                InstantSummary(
                    to_utc(instant),
                    int(count),
                    None if mean is None else float(mean),
                    tiers,
                    dict(zip(flags, map(int, counts), strict=True)),
                )
            )
        return found


def _naive(row: dict[str, Any], name: str) -> dict[str, Any]:
    """The row with its instant as naive UTC (as DuckDB's TIMESTAMP holds it)."""
    return row | {name: row[name].replace(tzinfo=None)}


@contextmanager
def _history(
    model: ir.Model,
    engine: str,
    instants: Sequence[datetime],
    sources: Sources,
    progress: Progress | None,
    entity: str = ir.LEAD,
) -> Iterator[_History]:
    if not instants:
        raise DataError("a history needs at least one instant")
    if INSTANT in model.columns_of(entity):
        raise DataError(
            f"an output of {model.name} is named `{INSTANT}`, the history's instant column: "
            "rename it"
        )
    if engine == "python":
        yield from _python(model, instants, sources, progress, entity)
    elif engine == "duckdb":
        from ..engines import duckdb

        with duckdb.session(model, **sources.given()) as con:
            mapping = sources.given()["mapping"]
            query = select_history(model, "duckdb", instants, mapping=mapping, entity=entity)
            yield _History(model, _Duck(con), query, entity=entity)
    elif engine == "postgres":
        from ..engines import postgres

        with postgres.session(model, **sources.given()) as (pg, mapping):
            query = select_history(model, "postgres", instants, mapping=mapping, entity=entity)
            yield _History(model, _Postgres(pg), query, entity=entity)
    elif engine == "spark":
        from ..engines import spark

        session, mapping = spark.prepare(model, **sources.given())
        query = select_history(model, "spark", instants, mapping=mapping, entity=entity)
        yield _History(model, _Spark(session), query, entity=entity)
    else:
        raise DataError(f"history runs on {', '.join(ENGINES)}, not on {engine!r}")


def _python(
    model: ir.Model,
    instants: Sequence[datetime],
    sources: Sources,
    progress: Progress | None,
    entity: str,
) -> Iterator[_History]:
    """Each instant scored in-process (one batch per instant; a model with an account in
    its phases, leads and accounts at once), then the entity's rows in DuckDB."""
    import pyarrow as pa

    from ..engines import arrow_schema, python_inputs, python_scored
    from ..engines import duckdb as duck
    from ..targets.python import PythonEvaluator

    records, evaluator = python_inputs(model, sources), PythonEvaluator(model)

    def scored(when: datetime) -> list[dict[str, Any]]:
        return python_scored(model, evaluator, records, when)(entity)

    key = key_of(model, entity)
    rows: list[dict[str, Any]] = []
    for done, instant in enumerate(instants, 1):
        when = to_utc(instant)
        rows += [{key: row[key], INSTANT: when} | row for row in scored(when)]
        if progress is not None:
            progress(done, len(instants))
    rows.sort(key=lambda row: (row[key], row[INSTANT]))
    schema = arrow_schema(model, entity)
    schema = schema.insert(1, pa.field(INSTANT, pa.timestamp("us")))
    table = pa.Table.from_pylist([_naive(r, INSTANT) for r in rows], schema=schema)
    with duck.connect() as con:
        con.register("scorelang_history", table)
        history = exp.Table(this=ident("scorelang_history"))
        yield _History(model, _Duck(con), history, rows, entity)
