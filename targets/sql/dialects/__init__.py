"""One module per target dialect (as in sqlglot's `dialects/`); `get_dialect` picks one.

docs/dialects.md says how to add a dialect: a module here, its hooks and capability flags,
a conformance test per flag, golden SQL.
"""

from __future__ import annotations

from ..errors import UnsupportedConstruct
from .base import DECIMAL_NINE, Dialect, epoch_micros
from .bigquery import BigQuery
from .duckdb import DuckDB
from .postgres import Postgres
from .snowflake import Snowflake
from .spark import Spark

_BY_NAME: dict[str, type[Dialect]] = {
    d.name: d for d in (DuckDB, Postgres, BigQuery, Snowflake, Spark)
}
DIALECTS = tuple(_BY_NAME)


def get_dialect(name: str, *, exact_case: bool = False) -> Dialect:
    """The target `name`; `exact_case` quotes every Snowflake name (the others always do)."""
    try:
        target = _BY_NAME[name]
    except KeyError:
        raise UnsupportedConstruct(
            "E503", f"target {name!r}", "scorelang", hint=f"choose one of {', '.join(DIALECTS)}"
        ) from None
    return Snowflake(exact_case=exact_case) if target is Snowflake else target()


__all__ = [
    "DECIMAL_NINE",
    "DIALECTS",
    "BigQuery",
    "Dialect",
    "DuckDB",
    "Postgres",
    "Snowflake",
    "Spark",
    "epoch_micros",
    "get_dialect",
]
