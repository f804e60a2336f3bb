"""BigQuery: TIMESTAMP is an instant; FLOAT64 to decimal through its shortest round trip."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from .base import DECIMAL_NINE, Dialect


class BigQuery(Dialect):
    name = "bigquery"
    max_identifier = 300
    folds_identifier_case = True
    timestamp_type = "TIMESTAMPTZ"  # BigQuery's TIMESTAMP, an instant
    writes_utc_offset = True

    def source_epoch_us(self, column: exp.Expression) -> exp.Expression:
        # UNIX_MICROS takes a TIMESTAMP only; a DATE or DATETIME column is cast to one, read
        # in the default time zone: UTC unless a session or project sets another (@@time_zone,
        # default_time_zone). A zone-less value is UTC in scorelang; a DATE, midnight UTC.
        # TIMESTAMP(col, 'UTC') would not depend on that setting, but has no TIMESTAMP form.
        return self.epoch_us(exp.cast(column, self.pinned_type()))

    def printed(self, value: exp.Expression) -> exp.Expression:
        # CAST(FLOAT64 AS NUMERIC) rounds the exact binary value (9885255.995 became ...5.99)
        # and CAST(FLOAT64 AS STRING) gives 15 digits, else 17 (6692067293974.005 became
        # ...974.0049). The first of %.15g, %.16g, %.17g that reads back as the double is the
        # shortest round trip's value, Python's repr (one 15-digit decimal at most lies within
        # half an ulp; %.17g always reads back).
        def formatted(digits: int) -> exp.Expression:
            return exp.Format(this=exp.Literal.string(f"%.{digits}g"), expressions=[value.copy()])

        shortest = exp.case()
        for digits in (15, 16):
            reads_back = exp.EQ(this=self.cast_double(formatted(digits)), expression=value.copy())
            shortest = shortest.when(reads_back, formatted(digits))
        return exp.cast(shortest.else_(formatted(17)), exp.DataType.build(DECIMAL_NINE))

    def at_nine_places(
        self, value: exp.Expression, then: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Expression:
        return then(self.printed(value))
