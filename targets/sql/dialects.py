"""What sqlglot does not express or transpile faithfully, one small class per target.

The builder asks a dialect only for these few things; everything else is a plain sqlglot
node that every target renders with the same meaning. Each choice was checked against
the engine (DuckDB, Postgres) or its documentation (BigQuery, Snowflake):

* epoch microseconds: every timestamp becomes an exact integer, so ages, windows and
  sequence gaps compare exactly like the Python evaluator's `timedelta` arithmetic, and
  naive (UTC) and zoned columns both work;
* conditional counts (FILTER vs COUNTIF vs COUNT_IF);
* regex search (unanchored, RE2 meaning; see regex.py);
* integer floor division (Snowflake's integer `/` rounds to 6 decimals first);
* string ordering (Postgres orders by the database collation; "C" is code-point order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlglot import exp

from . import regex
from .errors import UnsupportedConstruct

DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake")


@dataclass(frozen=True)
class Dialect:
    name: ClassVar[str]
    max_identifier: ClassVar[int] = 255
    folds_identifier_case: ClassVar[bool] = False
    timestamp_type: ClassVar[str] = "TIMESTAMP"  # naive: a literal as_of is read as UTC
    # STRPOS-style search finds '' at 1 (verified on the engine); else '' is tested apart.
    finds_empty_string: ClassVar[bool] = False

    def double(self) -> exp.DataType:
        return exp.DataType.build("DOUBLE")

    def cast_double(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, self.double())

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        return exp.UnixMicros(this=timestamp)

    def count_if(self, condition: exp.Expression) -> exp.Expression:
        return exp.CountIf(this=condition)

    def floor_div(self, dividend: exp.Expression, divisor: exp.Expression) -> exp.Expression:
        """floor(a / b) for integers a >= 0, b > 0, exactly."""
        return exp.IntDiv(this=dividend, expression=divisor)

    def least(self, values: list[exp.Expression]) -> exp.Expression:
        """LEAST of non-null values (the caller handles NULL)."""
        return exp.Least(this=values[0], expressions=values[1:], ignore_nulls=True)

    def greatest(self, values: list[exp.Expression]) -> exp.Expression:
        return exp.Greatest(this=values[0], expressions=values[1:], ignore_nulls=True)

    def ordered_string(self, value: exp.Expression) -> exp.Expression:
        """A string operand of < <= > >= between, ordered by code point."""
        return value

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))


class DuckDB(Dialect):
    name = "duckdb"
    folds_identifier_case = True
    finds_empty_string = True

    def count_if(self, condition: exp.Expression) -> exp.Expression:
        return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))


class Postgres(Dialect):
    name = "postgres"
    max_identifier = 63  # NAMEDATALEN - 1: longer names are silently truncated
    finds_empty_string = True

    def double(self) -> exp.DataType:
        return exp.DataType.build("DOUBLE PRECISION", dialect="postgres")

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        # EXTRACT(EPOCH ...) is an exact numeric (PG 14+): seconds with 6 decimals.
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=timestamp)
        return exp.cast(exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)), "BIGINT")

    def count_if(self, condition: exp.Expression) -> exp.Expression:
        return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))

    def ordered_string(self, value: exp.Expression) -> exp.Expression:
        return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        return super().regex_search(value, regex.to_postgres(pattern))


class BigQuery(Dialect):
    name = "bigquery"
    max_identifier = 300
    folds_identifier_case = True
    timestamp_type = "TIMESTAMPTZ"  # BigQuery's TIMESTAMP (an instant; literals read as UTC)

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))


class Snowflake(Dialect):
    name = "snowflake"
    timestamp_type = "TIMESTAMPNTZ"

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        return exp.Extract(this=exp.var("EPOCH_MICROSECOND"), expression=timestamp)

    def floor_div(self, dividend: exp.Expression, divisor: exp.Expression) -> exp.Expression:
        # a - MOD(a, b) is a multiple of b, so the decimal division is exact.
        multiple = exp.Sub(
            this=dividend, expression=exp.Mod(this=dividend.copy(), expression=divisor)
        )
        return exp.cast(exp.Div(this=exp.Paren(this=multiple), expression=divisor.copy()), "BIGINT")

    def least(self, values: list[exp.Expression]) -> exp.Expression:
        return exp.Least(this=values[0], expressions=values[1:], ignore_nulls=False)

    def greatest(self, values: list[exp.Expression]) -> exp.Expression:
        return exp.Greatest(this=values[0], expressions=values[1:], ignore_nulls=False)

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        # REGEXP_LIKE is anchored at both ends in Snowflake; REGEXP_INSTR searches.
        found = exp.RegexpInstr(
            this=value,
            expression=exp.Literal.string(regex.to_snowflake(pattern)),
            position=exp.Literal.number(1),
            occurrence=exp.Literal.number(1),
            option=exp.Literal.number(0),
            parameters=exp.Literal.string("c"),
        )
        return exp.GT(this=found, expression=exp.Literal.number(0))


_BY_NAME: dict[str, type[Dialect]] = {d.name: d for d in (DuckDB, Postgres, BigQuery, Snowflake)}


def get_dialect(name: str) -> Dialect:
    try:
        return _BY_NAME[name]()
    except KeyError:
        raise UnsupportedConstruct(
            "E503", f"target {name!r}", "scorelang", hint=f"choose one of {', '.join(DIALECTS)}"
        ) from None
