"""Result rows with the same types whatever engine produced them, as Python values or as SQL.

Drivers differ (DuckDB returns DECIMAL as Decimal, Postgres numeric too, some return ints for
whole numbers); parity needs float scores and points, str tiers and cells, bool flags. The
same output types give the casts of the queries that write files or rank leads in the engine.
Every function reads one entity's rows: the lead's (the default) or, with `entity`, the
account's (`model.account_output_columns`, keyed and sorted by the account key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..compiler import ir
from ..compiler.plan import LeadInstant
from ..targets.sql.names import column, ident

SQL_TYPES = {
    ir.Type.STRING: exp.DataType.Type.VARCHAR,
    ir.Type.INT: exp.DataType.Type.BIGINT,
    ir.Type.NUMBER: exp.DataType.Type.DOUBLE,
    ir.Type.BOOL: exp.DataType.Type.BOOLEAN,
}
# When a SQL engine scores: one instant, each lead's own, or None for the query's now.
ScoringTime = datetime | LeadInstant | None
SCORES = "scorelang_scores"  # the scores query as a subquery, or a scratch table of its rows


@dataclass(frozen=True)
class Request:
    """One result of a scoring run: the entity's rows written to `out` (a .csv or .parquet
    file), or, without `out`, its leaderboard: the best `top` by the score `by`. Several
    requests are served by one load of the sources (`engines.serve`)."""

    entity: str = ir.LEAD
    out: Path | None = None
    by: str | None = None
    top: int = 10


def scratch_name(entity: str) -> str:
    """The scratch table a leaderboard of the entity's rows ranks and counts in."""
    return f"{SCORES}_{entity}"


@dataclass(frozen=True)
class Leaderboard:
    """What the terminal shows: the best rows (best first) and the counts it prints."""

    leads: int  # rows ranked: leads, or accounts for an account leaderboard
    flags: dict[str, int]  # flag name -> how many rows it raised
    best: list[dict[str, Any]]


def key_of(model: ir.Model, entity: str = ir.LEAD) -> str:
    return model.entity(entity).key


def output_types(model: ir.Model, entity: str = ir.LEAD) -> dict[str, ir.Type]:
    """The type of every output column of the entity's rows: scores and points numbers,
    labels strings, flags and reset rules booleans, the key as declared."""
    declared = model.entity(entity)
    key_type = next(f.type for f in declared.fields if f.name == declared.key)
    outputs = model.outputs_of(entity)
    types = {declared.key: ir.Type.INT if key_type is ir.Type.INT else ir.Type.STRING}
    types |= dict.fromkeys(outputs.score_names, ir.Type.NUMBER)
    labels = (*outputs.tiers, *outputs.percentile_tiers, *outputs.matrices)
    types |= dict.fromkeys((t.name for t in labels), ir.Type.STRING)
    types |= dict.fromkeys((f.name for f in outputs.flags), ir.Type.BOOL)
    for score in outputs.scores:
        for rule in score.rules:
            types[rule.id] = ir.Type.BOOL if isinstance(rule, ir.ResetRule) else ir.Type.NUMBER
    return {name: types[name] for name in model.columns_of(entity)}


def as_key(value: Any) -> Any:
    return int(value) if isinstance(value, Decimal) else value


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def as_str(value: Any) -> str | None:
    return None if value is None else str(value)


def as_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


CONVERTERS: dict[ir.Type, Callable[[Any], Any]] = {
    ir.Type.NUMBER: as_float,
    ir.Type.STRING: as_str,
    ir.Type.BOOL: as_bool,
}


def converters(model: ir.Model, entity: str = ir.LEAD) -> dict[str, Callable[[Any], Any]]:
    """A converter per output column; the key keeps its type (Decimal keys become int)."""
    convert = {name: CONVERTERS[t] for name, t in output_types(model, entity).items()}
    return convert | {key_of(model, entity): as_key}


def as_rows(
    model: ir.Model,
    names: Sequence[str],
    records: Sequence[Sequence[Any]],
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    """Rows keyed by the entity's output columns (`model.columns_of`), in the order given."""
    expected = list(model.columns_of(entity))
    if list(names) != expected:
        raise RuntimeError(f"the scores query returned columns {list(names)}, expected {expected}")
    convert = converters(model, entity)
    return [{n: convert[n](v) for n, v in zip(names, record, strict=True)} for record in records]


def to_rows(
    model: ir.Model,
    names: Sequence[str],
    records: Sequence[Sequence[Any]],
    entity: str = ir.LEAD,
) -> list[dict[str, Any]]:
    """Rows keyed by the entity's output columns, sorted by its key (engines order
    differently)."""
    return sort_rows(model, as_rows(model, names, records, entity), entity)


def sort_rows(
    model: ir.Model, rows: list[dict[str, Any]], entity: str = ir.LEAD
) -> list[dict[str, Any]]:
    key = key_of(model, entity)
    return sorted(rows, key=lambda row: row[key])


def best_first(rows: Sequence[dict[str, Any]], score: str | None) -> list[dict[str, Any]]:
    """Highest `score` first (a missing score last); ties keep the rows' key order."""
    if score is None:
        return list(rows)
    return sorted(rows, key=lambda row: -(row[score] if row[score] is not None else float("-inf")))


def leaderboard(
    model: ir.Model,
    rows: Sequence[dict[str, Any]],
    by: str | None,
    top: int,
    entity: str = ir.LEAD,
) -> Leaderboard:
    """The leaderboard of rows already in Python (the Python engine's)."""
    flags = {f.name: sum(1 for row in rows if row[f.name]) for f in model.outputs_of(entity).flags}
    return Leaderboard(len(rows), flags, best_first(rows, by)[:top])


def typed(model: ir.Model, source: exp.Expression, entity: str = ir.LEAD) -> exp.Select:
    """Every output column of `source` (a table or the scores query) cast to its type."""
    return exp.select(
        *(
            exp.alias_(exp.cast(column(name), exp.DataType(this=SQL_TYPES[t])), ident(name))
            for name, t in output_types(model, entity).items()
        )
    ).from_(exp.alias_(as_source(source), SCORES, table=True))


def as_source(source: exp.Expression) -> exp.Expression:
    return source.subquery() if isinstance(source, exp.Query) else source


def key_order(model: ir.Model, dialect: str, entity: str = ir.LEAD) -> exp.Expression:
    """The entity's key, ordered as Python orders it: text by code point, not by locale."""
    name = key_of(model, entity)
    key = column(name)
    strings = output_types(model, entity)[name] is ir.Type.STRING
    if strings and dialect == "postgres":
        return exp.Collate(this=key, expression=exp.Identifier(this="C", quoted=True))
    return key


def best_query(
    model: ir.Model,
    source: exp.Expression,
    by: str | None,
    top: int,
    dialect: str,
    entity: str = ir.LEAD,
) -> exp.Select:
    """The `top` best rows by `by` (a missing score last), ties in key order."""
    order = [exp.Ordered(this=column(by), desc=True, nulls_first=False)] if by else []
    return (
        exp.select(*(column(name) for name in model.columns_of(entity)))
        .from_(as_source(source))
        .order_by(*order, key_order(model, dialect, entity))
        .limit(top)
    )


def counts_query(model: ir.Model, source: exp.Expression, entity: str = ir.LEAD) -> exp.Select:
    """How many rows, then how many each flag raised."""
    raised = [
        exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=column(f.name)))
        for f in model.outputs_of(entity).flags
    ]
    return exp.select(exp.Count(this=exp.Star()), *raised).from_(as_source(source))


def board_from(
    model: ir.Model,
    best: tuple[Sequence[str], Sequence[Sequence[Any]]],
    counts: Sequence[Any],
    entity: str = ir.LEAD,
) -> Leaderboard:
    """A Leaderboard from the results of best_query (column names, records) and counts_query."""
    total, *raised = counts
    flags = model.outputs_of(entity).flags
    counted = {f.name: int(n or 0) for f, n in zip(flags, raised, strict=True)}
    return Leaderboard(int(total), counted, as_rows(model, *best, entity))
