"""Run a model on an engine: score leads (Python, DuckDB, Postgres) or deploy its views.

Every engine reads files through `scorelang.data`, so all see identical typed values, and
gives rows keyed by `model.output_columns` with the same types, sorted by lead key: as
Python rows (`score`), as a file the engine writes (`write_scores`) or as the few rows and
counts a terminal shows (`leaderboard`).
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
from ..data import DataError, LoadReport, read_columns
from ..records import model_ir, optional_path, to_utc
from . import rows
from .rows import Leaderboard

if TYPE_CHECKING:
    import pyarrow as pa

    from ..api import ScoringModel

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
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> list[dict[str, Any]]:
    """Score every lead, as Python rows sorted by lead key: from `leads` and `events` files,
    or (SQL engines) from the tables the mapping names in `database`. `as_of` (a datetime or
    ISO 8601 text) None means now; a LeadInstant (SQL engines) scores each lead at its own
    instant (a lead without one has no row: the backtest refuses such leads first). With files, `on_load` receives the LoadReport: how many
    rows were kept, and how many events were dropped and why."""
    model, as_of, sources = inputs(model, as_of, leads, events, database, mapping, on_load)
    return score_rows(engine, model, sources, as_of)


def write_scores(
    model: ir.Model | ScoringModel,
    engine: str,
    out: str | Path,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> int:
    """Score every lead into a .csv or .parquet file, in lead-key order, typed as
    `rows.output_types`; returns how many leads. The SQL engines write the file themselves:
    no lead becomes a Python object."""
    out = Path(out)
    model, as_of, sources = inputs(model, as_of, leads, events, database, mapping, on_load)
    if engine in ROW_ENGINES:
        import pyarrow as pa

        from . import duckdb

        scored = score_rows(engine, model, sources, as_of)
        table = pa.Table.from_pylist(scored, schema=arrow_schema(model))
        with duckdb.connect() as con:
            con.register("python_rows", table)
            return duckdb.copy_to(con, exp.select("*").from_("python_rows"), out)
    return backend(engine).write_scores(model, out, as_of=as_of, **sources.given())


def leaderboard(
    model: ir.Model | ScoringModel,
    engine: str,
    by: str | None,
    top: int,
    *,
    leads: str | Path | None = None,
    events: str | Path | None = None,
    database: str | None = None,
    as_of: AsOf = None,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> Leaderboard:
    """The `top` best leads by the score `by` (ties in key order) and the counts of leads and
    of raised flags; the SQL engines rank and count, and only the `top` rows are fetched."""
    model, as_of, sources = inputs(model, as_of, leads, events, database, mapping, on_load)
    if engine in ROW_ENGINES:
        return rows.leaderboard(model, score_rows(engine, model, sources, as_of), by, top)
    return backend(engine).leaderboard(model, by, top, as_of=as_of, **sources.given())


def inputs(
    model: ir.Model | ScoringModel,
    as_of: AsOf,
    leads: str | Path | None,
    events: str | Path | None,
    database: str | None,
    mapping: SourceMapping | None,
    on_load: Callable[[LoadReport], None] | None,
) -> tuple[ir.Model, datetime | LeadInstant | None, Sources]:
    """The public forms (a ScoringModel, ISO text, str paths) as the engines take them, with
    the mapping checked against the model."""
    model = model_ir(model)
    mapping = mapping or SourceMapping()
    check_mapping(model, mapping)
    sources = Sources(optional_path(leads), optional_path(events), database, mapping, on_load)
    instant = as_of if as_of is None or isinstance(as_of, LeadInstant) else to_utc(as_of)
    return model, instant, sources


@dataclass(frozen=True)
class Sources:
    """Where the leads and events are: two files, or the mapping's tables in `database`."""

    leads: Path | None
    events: Path | None
    database: str | None
    mapping: SourceMapping | None
    on_load: Callable[[LoadReport], None] | None

    def given(self) -> dict[str, Any]:
        if (self.leads is None) != (self.events is None):
            raise DataError("give both a leads file and an events file")
        return {
            "leads": self.leads,
            "events": self.events,
            "database": self.database,
            "mapping": self.mapping or SourceMapping(),
            "on_load": self.on_load,
        }


def score_rows(
    engine: str, model: ir.Model, sources: Sources, as_of: datetime | LeadInstant | None
) -> list[dict[str, Any]]:
    if engine == "python":
        if isinstance(as_of, LeadInstant):
            raise DataError(
                "the python engine scores one instant for every lead; each lead at its own "
                "time: scorelang.backtest.scoring.score_python, or a SQL engine"
            )
        return python_rows(model, sources, as_of)
    return backend(engine).score(model, as_of=as_of, **sources.given())


def python_rows(model: ir.Model, sources: Sources, as_of: datetime | None) -> list[dict[str, Any]]:
    given = sources.given()
    if given["leads"] is None:
        raise DataError("the python engine scores files: give a leads file and an events file")
    from ..targets.python import PythonEvaluator

    lead_records, event_columns = read_columns(
        model, given["leads"], given["events"], given["mapping"], given["on_load"]
    )
    scored = PythonEvaluator(model).score_rows(lead_records, event_columns, as_of)
    return rows.sort_rows(model, scored)


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


def arrow_schema(model: ir.Model) -> pa.Schema:
    import pyarrow as pa

    types = {
        ir.Type.STRING: pa.string(),
        ir.Type.INT: pa.int64(),
        ir.Type.NUMBER: pa.float64(),
        ir.Type.BOOL: pa.bool_(),
    }
    return pa.schema([(name, types[t]) for name, t in rows.output_types(model).items()])


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
