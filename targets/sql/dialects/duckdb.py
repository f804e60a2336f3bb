"""DuckDB: FILTER, untyped instants, SPLIT_PART from the end; a fast ASCII case path."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from .base import Dialect


class DuckDB(Dialect):
    name = "duckdb"
    folds_identifier_case = True
    finds_empty_string = True
    filter_clause = True
    reads_untyped_instants = True
    splits_from_the_end = True

    def ascii_case(self, text: exp.Expression, upper: bool) -> exp.Expression:
        # TRANSLATE costs microseconds a string here; LOWER/UPPER are exact on ASCII-only
        # text, which has as many bytes (STRLEN) as code points (LENGTH).
        ascii_only = exp.EQ(
            this=exp.Anonymous(this="STRLEN", expressions=[text.copy()]),
            expression=exp.Length(this=text.copy()),
        )
        fast = exp.Upper(this=text.copy()) if upper else exp.Lower(this=text.copy())
        return exp.case().when(ascii_only, fast).else_(super().ascii_case(text, upper))

    def at_nine_places(
        self, value: exp.Expression, then: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Expression:
        # CAST(double AS DECIMAL) is round(x * 1e9) in double arithmetic: the decimal x prints
        # as only while x's own error is far below 1e-9 (-8916382.325 became ...382.32).
        # Beyond 1e6, x's text is cast: the shortest round trip, like Python's repr. Below,
        # DECIMAL(18, 9) is a 64-bit integer, half the cost of (38, 9)'s 128 bits.
        small = exp.LT(this=exp.Abs(this=value.copy()), expression=exp.Literal.number(1_000_000))
        narrow = exp.cast(value.copy(), exp.DataType.build("DECIMAL(18, 9)"))
        return exp.case().when(small, then(narrow)).else_(then(self.printed(value)))

    def micros_interval(self, micros: int) -> exp.Expression:
        # INTERVAL 'n' MICROSECONDS reads n as a DOUBLE (inexact past 2**53 µs, 285 years);
        # TO_MICROSECONDS of an integer literal is exact.
        return exp.Anonymous(this="TO_MICROSECONDS", expressions=[exp.Literal.number(micros)])
