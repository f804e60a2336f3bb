"""Result rows with the same Python types whatever engine produced them.

Drivers differ (DuckDB returns DECIMAL as Decimal, Postgres numeric too, some return ints for
whole numbers); parity needs float scores and points, str tiers and cells, bool flags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..compiler import ir


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def as_str(value: Any) -> str | None:
    return None if value is None else str(value)


def as_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def converters(model: ir.Model) -> dict[str, Callable[[Any], Any]]:
    """A converter per output column: scores and points to float, labels to str, flags and
    reset rules to bool; the key keeps its type (Decimal keys become int)."""
    convert: dict[str, Callable[[Any], Any]] = {
        model.key: lambda v: int(v) if isinstance(v, Decimal) else v
    }
    convert |= dict.fromkeys(model.score_names, as_float)
    labels = (*model.tiers, *model.percentile_tiers, *model.matrices)
    convert |= dict.fromkeys((t.name for t in labels), as_str)
    convert |= dict.fromkeys((f.name for f in model.flags), as_bool)
    for score in model.scores:
        for rule in score.rules:
            convert[rule.id] = as_bool if isinstance(rule, ir.ResetRule) else as_float
    return convert


def to_rows(
    model: ir.Model, names: Sequence[str], records: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """Rows keyed by `model.output_columns`, sorted by lead key (engines order differently)."""
    expected = list(model.output_columns)
    if list(names) != expected:
        raise RuntimeError(f"the scores query returned columns {list(names)}, expected {expected}")
    convert = converters(model)
    rows = [{n: convert[n](v) for n, v in zip(names, record, strict=True)} for record in records]
    return sort_rows(model, rows)


def sort_rows(model: ir.Model, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row[model.key])
