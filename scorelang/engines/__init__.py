"""Run a model on an engine: score leads (Python, DuckDB, Postgres) or deploy its views.

Every engine reads files through `scorelang.data`, so all see identical typed values, and
gives rows keyed by `model.output_columns` with the same types, sorted by lead key: as
Python rows (`score`), as a file the engine writes (`write_scores`) or as the few rows and
counts a terminal shows (`leaderboard`). For a model with an account, the `accounts` file
comes with the leads and events, and `entity=ir.ACCOUNT` gives the accounts' rows instead
(`model.account_output_columns`, sorted by account key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..columns import check_mapping
from ..compiler import ir
from ..compiler.plan import LeadInstant
from ..config import SourceMapping
from ..data import DataError, LoadReport, Records, check_accounts_file, read_inputs
from ..records import model_ir, optional_path, to_utc
from . import rows
from .rows import Leaderboard, Request

if TYPE_CHECKING:
    import pyarrow as pa

    from ..api import ScoringModel
    from ..targets.python import PythonEvaluator

ENGINES = ("python", "duckdb", "postgres", "spark")
# When to score: one instant (a datetime, or ISO 8601 text), each lead's own (a LeadInstant,
# SQL engines: a lead whose column is missing has no row), or None for now.
AsOf = datetime | str | LeadInstant | None
# The engine whose scores are Python rows: its files and leaderboards are made from those
# (the SQL engines write files and rank in the engine).
ROW_ENGINES = ("python",)


def score(
    model: ir.Model | ScoringModel,
    engine: str,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    """Score every lead (or account, with `entity`), as Python rows sorted by key: from
    `leads` and `events` files (and `accounts`, for a model with an account), or (SQL
    engines) from the tables the mapping names in `database`. `as_of` (a datetime or ISO 8601
    text) None means now; a LeadInstant (SQL engines) scores each lead at its own instant (a
    lead without one has no row: the backtest refuses such leads first). With files,
    `on_load` receives the LoadReport: how many rows were kept, and how many events were
    dropped and why."""
    model, as_of, sources = inputs(
        model, as_of, leads, events, database, mapping, on_load, accounts, entity
    )
    return score_rows(engine, model, sources, as_of, entity)


def write_scores(
    model: ir.Model | ScoringModel,
    engine: str,
    out: str | Path,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    entity: str = ir.LEAD,
) -> int:
    """Score every lead (or account) into a .csv or .parquet file, in key order, typed as
    `rows.output_types`; returns how many rows. The SQL engines write the file themselves:
    no lead becomes a Python object."""
    request = Request(entity, Path(out))
    sources = Given(leads, events, accounts, database, as_of, mapping, on_load)
    (count,) = serve(model, engine, [request], sources)
    assert isinstance(count, int)
    return count


def leaderboard(
    model: ir.Model | ScoringModel,
    engine: str,
    by: str | None,
    top: int,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    accounts: str | Path | None = None,
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    entity: str = ir.LEAD,
) -> Leaderboard:
    """The `top` best leads (or accounts) by the score `by` (ties in key order) and the
    counts of rows and of raised flags; the SQL engines rank and count, and only the `top`
    rows are fetched."""
    sources = Given(leads, events, accounts, database, as_of, mapping, on_load)
    (board,) = serve(model, engine, [Request(entity, None, by, top)], sources)
    assert isinstance(board, Leaderboard)
    return board


@dataclass(frozen=True)
class Given:
    """The sources as the public functions take them (paths as text or Path, `as_of` as a
    datetime, ISO 8601 text or None for now)."""

    leads: str | Path | None = None
    events: str | Path | None = None
    accounts: str | Path | None = None
    database: str | None = None
    as_of: datetime | str | None = None
    mapping: SourceMapping | None = None
    on_load: Callable[[LoadReport], None] | None = None


def serve(
    model: ir.Model | ScoringModel, engine: str, requests: list[Request], given: Given
) -> list[int | Leaderboard]:
    """Several results (files written, leaderboards) of the leads and accounts from one load
    of the sources, and for the python engine one scoring: what `scorelang score` asks for
    both entities."""
    entities = {r.entity for r in requests}
    model, as_of, sources = inputs(
        model,
        given.as_of,
        given.leads,
        given.events,
        given.database,
        given.mapping,
        given.on_load,
        given.accounts,
        ir.ACCOUNT if ir.ACCOUNT in entities else ir.LEAD,
    )
    if engine not in ROW_ENGINES:
        return backend(engine).serve(model, requests, as_of=as_of, **sources.given())
    scored = python_rows(model, sources, as_of, entities)
    return [python_result(model, scored[r.entity], r) for r in requests]


def python_result(
    model: ir.Model, scored: list[dict[str, Any]], request: Request
) -> int | Leaderboard:
    """A request served from rows already in Python: a file DuckDB writes from them, or
    their leaderboard."""
    if request.out is None:
        return rows.leaderboard(model, scored, request.by, request.top, request.entity)
    import pyarrow as pa

    from . import duckdb

    table = pa.Table.from_pylist(scored, schema=arrow_schema(model, request.entity))
    with duckdb.connect() as con:
        con.register("python_rows", table)
        return duckdb.copy_to(con, exp.select("*").from_("python_rows"), request.out)


def inputs(
    model: ir.Model | ScoringModel,
    as_of: AsOf,
    leads: str | Path | None,
    events: str | Path | None,
    database: str | None,
    mapping: SourceMapping | None,
    on_load: Callable[[LoadReport], None] | None,
    accounts: str | Path | None = None,
    entity: str = ir.LEAD,
) -> tuple[ir.Model, datetime | LeadInstant | None, Sources]:
    """The public forms (a ScoringModel, ISO text, str paths) as the engines take them, with
    the mapping checked against the model, and the accounts file given with files when the
    model has an account."""
    model = model_ir(model)
    mapping = mapping or SourceMapping()
    check_mapping(model, mapping)
    if entity == ir.ACCOUNT and model.account is None:
        raise DataError(f"model {model.name} declares no account: it has no account scores")
    if leads is not None:
        check_accounts_file(model, accounts, mapping)
    elif accounts is not None:
        raise DataError("give the accounts file with the leads and events files")
    sources = Sources(
        optional_path(leads),
        optional_path(events),
        database,
        mapping,
        on_load,
        optional_path(accounts),
    )
    instant = as_of if as_of is None or isinstance(as_of, LeadInstant) else to_utc(as_of)
    return model, instant, sources


@dataclass(frozen=True)
class Sources:
    """Where the leads and events (and accounts) are: files, or the mapping's tables in
    `database`."""

    leads: Path | None
    events: Path | None
    database: str | None
    mapping: SourceMapping | None
    on_load: Callable[[LoadReport], None] | None
    accounts: Path | None = None

    def given(self) -> dict[str, Any]:
        if (self.leads is None) != (self.events is None):
            raise DataError("give both a leads file and an events file")
        return {
            "leads": self.leads,
            "events": self.events,
            "database": self.database,
            "mapping": self.mapping or SourceMapping(),
            "on_load": self.on_load,
            "accounts": self.accounts,
        }


def score_rows(
    engine: str,
    model: ir.Model,
    sources: Sources,
    as_of: datetime | LeadInstant | None,
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    if engine == "python":
        if isinstance(as_of, LeadInstant):
            raise DataError(
                "the python engine scores one instant for every lead; each lead at its own "
                "time: scorelang.backtest.scoring.score_python, or a SQL engine"
            )
        return python_rows(model, sources, as_of, {entity})[entity]
    return backend(engine).score(model, as_of=as_of, entity=entity, **sources.given())


def python_rows(
    model: ir.Model, sources: Sources, as_of: datetime | None, entities: set[str]
) -> dict[str, list[dict[str, Any]]]:
    """The generated evaluator's rows of each of `entities`, sorted by key, from the files
    read as every engine reads them (a model with an account is scored in its phases, both
    entities at once)."""
    from ..targets.python import PythonEvaluator

    scored = python_scored(model, PythonEvaluator(model), python_inputs(model, sources), as_of)
    return {e: rows.sort_rows(model, scored(e), e) for e in entities}


def python_inputs(model: ir.Model, sources: Sources) -> Records:
    """The files the python engine scores, read as every engine reads them (columnar)."""
    given = sources.given()
    if given["leads"] is None:
        raise DataError("the python engine scores files: give a leads file and an events file")
    return read_inputs(
        model,
        given["leads"],
        given["events"],
        given["mapping"],
        given["on_load"],
        accounts=given["accounts"],
        columnar=True,
    )


def python_scored(
    model: ir.Model, evaluator: PythonEvaluator, inputs: Records, as_of: datetime | None
) -> Callable[[str], list[dict[str, Any]]]:
    """The rows of an entity (in the inputs' order), from one scoring of `inputs` at `as_of`
    (a model with an account: leads and accounts at once)."""
    if inputs.accounts is None:
        assert not isinstance(inputs.events, list)
        leads = evaluator.score_rows(inputs.leads, inputs.events, as_of)
        return {ir.LEAD: leads}.__getitem__
    both = evaluator.score_accounts(inputs.accounts, inputs.leads, inputs.events, as_of)
    results = {ir.LEAD: both.leads, ir.ACCOUNT: both.accounts}
    return lambda entity: [r.as_row(model, entity) for r in results[entity]]


def backend(engine: str) -> ModuleType:
    if engine == "duckdb":
        from . import duckdb

        return duckdb
    if engine == "postgres":
        from . import postgres

        return postgres
    if engine == "spark":
        from . import spark

        return spark
    raise DataError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


def arrow_schema(model: ir.Model, entity: str = ir.LEAD) -> pa.Schema:
    import pyarrow as pa

    types = {
        ir.Type.STRING: pa.string(),
        ir.Type.INT: pa.int64(),
        ir.Type.NUMBER: pa.float64(),
        ir.Type.BOOL: pa.bool_(),
    }
    return pa.schema([(name, types[t]) for name, t in rows.output_types(model, entity).items()])


def apply(
    model: ir.Model | ScoringModel,
    database: str,
    *,
    mapping: SourceMapping | None = None,
    schema: str | None = None,
) -> list[str]:
    """Create or replace the model's views in `database` (a DuckDB file path, a
    postgresql://, bigquery://, snowflake:// or databricks:// URL, or a Spark master:
    local[*], spark://, sc://); returns the view names created."""
    model, mapping = model_ir(model), mapping or SourceMapping()
    check_mapping(model, mapping)
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

        dialect = "spark" if scheme == "databricks" else scheme
        statements = create_views(model, dialect, mapping, schema)  # config errors first
        warehouse.connector(scheme)
        warehouse.execute(scheme, database, [sql for _name, sql in statements])
        return [name for name, _sql in statements]
    raise DataError(f"unsupported database {database!r}: give a DuckDB file or a postgresql:// URL")
