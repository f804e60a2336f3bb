"""What sqlglot does not express or transpile faithfully: the base every dialect module
refines (one module per target in this package, as in sqlglot's `dialects/`).

The builder asks a dialect only for these few things; everything else is a plain sqlglot
node that every target renders with the same meaning. Each choice was checked against
the engine (DuckDB, Postgres, Spark, Snowflake on fakesnow, BigQuery on ZetaSQL) or its
documentation; tests/test_dialect_conformance.py proves each capability flag per dialect:

* epoch microseconds: every timestamp becomes an exact integer, so ages, windows and
  sequence gaps compare exactly like the Python evaluator's `timedelta` arithmetic, and
  naive (UTC) and zoned columns both work;
* conditional aggregates (FILTER where the engine has it; else COUNTIF / COUNT_IF, CASE);
* untyped instant literals (DuckDB, Postgres read them in the compared column's type);
* regex search (unanchored, RE2 meaning; see regex.py);
* integer floor division (Snowflake's integer `/` rounds to 6 decimals first);
* string ordering (Postgres orders by the database collation; "C" is code-point order);
* the part after the last `@` (SPLIT_PART counts from the end in DuckDB and Postgres 14+).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from sqlglot import exp

from .. import regex

DECIMAL_NINE = "DECIMAL(38, 9)"  # every target's widest exact decimal, 9 places


def epoch_micros(instant: datetime) -> int:
    """Exact microseconds since the epoch; a naive datetime is UTC."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Dialect:
    name: ClassVar[str]
    max_identifier: ClassVar[int] = 255
    folds_identifier_case: ClassVar[bool] = False
    timestamp_type: ClassVar[str] = "TIMESTAMP"  # naive: a literal as_of is read as UTC
    # The pinned as_of's text ends in +00:00 where a default or session time zone would
    # otherwise read it (BigQuery's TIMESTAMP; ZetaSQL's default zone is Los Angeles).
    writes_utc_offset: ClassVar[bool] = False
    # STRPOS-style search finds '' at 1 (verified on the engine); else '' is tested apart.
    finds_empty_string: ClassVar[bool] = False
    # AGG(x) FILTER (WHERE c): the engine skips the rows, where AGG(CASE ...) still feeds it
    # each one (Postgres: 0.5 s of 5M rows for a decayed sum).
    filter_clause: ClassVar[bool] = False
    # `time_column <= '2026-01-01 00:00:00.000000+00'` reads the literal in the column's type:
    # the instant for a zoned column, the UTC wall time for a naive one (the offset ignored),
    # whatever the session time zone (verified on the engine). Lets a pinned as_of bound
    # windows by instants instead of computing every event's age; so does a view's now, in
    # the column's type (now_as), when that type is known.
    reads_untyped_instants: ClassVar[bool] = False
    # SPLIT_PART(s, sep, -1) is the part after the last separator (DuckDB; Postgres 14+).
    splits_from_the_end: ClassVar[bool] = False
    # Every name quoted, so it is matched exactly as the model and scorelang.toml spell it.
    quotes_every_name: ClassVar[bool] = True

    def double(self) -> exp.DataType:
        return exp.DataType.build("DOUBLE")

    def pinned_instant(self, utc: datetime) -> exp.Expression:
        """A pinned as_of (naive, UTC) as a timestamp literal: a naive type reads the text as
        the UTC wall time, whatever the session time zone."""
        text = utc.isoformat(sep=" ") + ("+00:00" if self.writes_utc_offset else "")
        return exp.cast(exp.Literal.string(text), self.pinned_type())

    def pinned_type(self) -> exp.DataType:
        return exp.DataType.build(self.timestamp_type)

    def cast_double(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, self.double())

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        return exp.UnixMicros(this=timestamp)

    def source_epoch_us(self, column: exp.Expression) -> exp.Expression:
        """epoch_us of a source column declared `timestamp`, whatever its warehouse type."""
        return self.epoch_us(column)

    def count_if(self, condition: exp.Expression) -> exp.Expression:
        if self.filter_clause:
            return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))
        return exp.CountIf(this=condition)

    def only_when(
        self,
        aggregate: Callable[[exp.Expression], exp.Expression],
        value: exp.Expression,
        condition: exp.Expression,
    ) -> exp.Expression:
        """aggregate(value) over the rows where `condition` is TRUE (NULL: skipped too)."""
        if self.filter_clause:
            return exp.Filter(this=aggregate(value), expression=exp.Where(this=condition))
        return aggregate(exp.case().when(condition, value))

    def once(self, value: exp.Expression) -> exp.Expression:
        """A value the same for every row (as_of's microseconds), computed once."""
        return value

    def now_as(self, zoned: bool) -> exp.Expression:
        """The query's now (a view's as_of) in the event-time column's type: the instant for a
        zoned column, the UTC wall time for a naive one, whatever the session time zone."""
        now = exp.CurrentTimestamp()
        if zoned:
            return now
        return exp.Paren(this=exp.AtTimeZone(this=now, zone=exp.Literal.string("UTC")))

    def minus_micros(self, instant: exp.Expression, micros: int) -> exp.Expression:
        """instant - micros, exactly: an interval of microseconds only (one of days would
        follow the session time zone's daylight saving in zoned arithmetic)."""
        return exp.Sub(this=instant, expression=self.micros_interval(micros))

    def micros_interval(self, micros: int) -> exp.Expression:
        return exp.Interval(this=exp.Literal.string(str(micros)), unit=exp.var("MICROSECONDS"))

    def at_nine_places(
        self, value: exp.Expression, then: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Expression:
        """then(the double `value` as a DECIMAL of 9 places: the decimal it prints as, rounded)."""
        return then(exp.cast(value, exp.DataType.build(DECIMAL_NINE)))

    def printed(self, value: exp.Expression) -> exp.Expression:
        """The double's text (its shortest round trip, like Python's repr, in DuckDB and
        Postgres) as a DECIMAL of 9 places."""
        text = exp.cast(value, exp.DataType.build("TEXT"))
        return exp.cast(text, exp.DataType.build(DECIMAL_NINE))

    def fence(self, select: exp.Select) -> exp.Select:
        """A per-lead step whose columns later steps read, some several times (a clamp reads
        the total three times): as it is, where the engine computes each column once."""
        return select

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

    def ascii_case(self, text: exp.Expression, upper: bool) -> exp.Expression:
        """lower/upper of A-Z only, like the Python target: LOWER and UPPER follow each
        engine's (and each database's locale's) idea of non-ASCII letters, TRANSLATE does not."""
        small = exp.Literal.string(string.ascii_lowercase)
        large = exp.Literal.string(string.ascii_uppercase)
        return exp.Translate(
            this=text, from_=small if upper else large, to=large if upper else small
        )

    def lowered_domain(self, email: exp.Expression) -> exp.Expression:
        """email_domain of an email with an `@`: the part after the last one, ASCII-lowered."""
        at = exp.Literal.string("@")
        if self.splits_from_the_end:
            # Lowered first (A-Z only, so the `@`s stay where they are): the email is usually
            # a column, the domain an expression that the case mapping would read three times.
            lowered = self.ascii_case(email, upper=False)
            return exp.SplitPart(this=lowered, delimiter=at, part_index=exp.Literal.number(-1))
        from_end = exp.StrPosition(this=exp.Reverse(this=email.copy()), substr=at)
        domain = exp.Right(
            this=email, expression=exp.Sub(this=from_end, expression=exp.Literal.number(1))
        )
        return self.ascii_case(domain, upper=False)

    def regex_search(self, value: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=value, expression=exp.Literal.string(self.regex_text(pattern)))

    def regex_text(self, pattern: str) -> str:
        """The pattern as the engine's regex flavour reads it with RE2's meaning."""
        return regex.to_re2(pattern)
