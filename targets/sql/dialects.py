"""What sqlglot does not express or transpile faithfully, one small class per target.

The builder asks a dialect only for these few things; everything else is a plain sqlglot
node that every target renders with the same meaning. Each choice was checked against
the engine (DuckDB, Postgres, Spark) or its documentation (BigQuery, Snowflake):

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

import re2
from sqlglot import exp

from . import regex
from .errors import UnsupportedConstruct

DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake", "spark")
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


class Postgres(Dialect):
    name = "postgres"
    max_identifier = 63  # NAMEDATALEN - 1: longer names are silently truncated
    finds_empty_string = True
    filter_clause = True
    reads_untyped_instants = True
    splits_from_the_end = True

    def double(self) -> exp.DataType:
        return exp.DataType.build("DOUBLE PRECISION", dialect="postgres")

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        # EXTRACT(EPOCH ...) is an exact numeric (PG 14+): seconds with 6 decimals; a
        # constant (a pinned as_of) is folded once, but per row numeric arithmetic is slow.
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=timestamp)
        exact = exp.cast(exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)), "BIGINT")
        constant = isinstance(timestamp, exp.Cast) and isinstance(timestamp.this, exp.Literal)
        if constant or isinstance(timestamp, exp.CurrentTimestamp):
            return exact  # as_of: folded, or computed once (`once`)
        # date_part('epoch', t) is the double (t - epoch) / 1e6 of the exact integer µs T;
        # times 1e6 it is T within |T| * 2**-52 < 0.5 while |T| < 2**51 µs (1898-2041), so
        # the cast (which rounds to nearest) gives T. Outside [1900, 2040), exact numeric;
        # the bounds are read in the column's type, a session time zone moves them < 1 day.
        double = exp.Dot(
            this=exp.to_identifier("pg_catalog"),
            expression=exp.Anonymous(
                this="date_part", expressions=[exp.Literal.string("epoch"), timestamp.copy()]
            ),
        )
        fast = exp.cast(exp.Mul(this=double, expression=exp.Literal.number(1_000_000)), "BIGINT")
        inside = exp.and_(
            exp.GTE(this=timestamp.copy(), expression=exp.Literal.string("1900-01-01")),
            exp.LT(this=timestamp.copy(), expression=exp.Literal.string("2040-01-01")),
        )
        return exp.case().when(inside, fast).else_(exact)

    def at_nine_places(
        self, value: exp.Expression, then: Callable[[exp.Expression], exp.Expression]
    ) -> exp.Expression:
        # float8 -> numeric prints 15 significant digits (%.15g: -6692067293974.005 became
        # ...974.00); float8 -> text is the shortest round trip, like Python's repr (with
        # extra_float_digits >= 1, the default; at 0 or below it is %.15g again).
        return then(self.printed(value))

    def once(self, value: exp.Expression) -> exp.Expression:
        # Postgres folds only immutable expressions: the epoch of CURRENT_TIMESTAMP would be
        # recomputed per event. An uncorrelated scalar subquery runs once (an InitPlan).
        return exp.Subquery(this=exp.select(value))

    def fence(self, select: exp.Select) -> exp.Select:
        # Postgres inlines a CTE read once into its reader, substituting each column's
        # expression at every use, without finding common subexpressions: nested steps
        # would recompute whole rule sets per use. OFFSET 0 keeps the step a subquery
        # whose columns are computed once (cheaper than AS MATERIALIZED, which copies rows).
        return select.offset(0)

    def ordered_string(self, value: exp.Expression) -> exp.Expression:
        return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))

    def ascii_case(self, text: exp.Expression, upper: bool) -> exp.Expression:
        # In the "C" collation LOWER/UPPER map A-Z only (whatever the encoding), and much
        # faster than TRANSLATE, which Postgres runs character by character.
        in_c = exp.Collate(this=text, expression=exp.to_identifier("C", quoted=True))
        return exp.Upper(this=in_c) if upper else exp.Lower(this=in_c)

    def regex_text(self, pattern: str) -> str:
        return regex.to_postgres(pattern)


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


@dataclass(frozen=True)
class Snowflake(Dialect):
    """Names as Snowflake users write them: unquoted (stored and resolved in upper case, like
    the user's own `CREATE TABLE events (lead_id ...)`) where that is valid, unless
    `exact_case` (tables created with quoted names: every name quoted, case kept)."""

    name = "snowflake"
    writes_utc_offset = True
    exact_case: bool = False

    @property
    def quotes_every_name(self) -> bool:  # type: ignore[override]
        return self.exact_case

    @property
    def folds_identifier_case(self) -> bool:  # type: ignore[override]
        return not self.exact_case

    def pinned_type(self) -> exp.DataType:
        # TIMESTAMP_NTZ, as documented (sqlglot would print the alias TIMESTAMPNTZ), ignores
        # the +00:00: the UTC wall time, whose epoch is the instant's in any session zone.
        return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="TIMESTAMP_NTZ")

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
        searched = exp.GT(this=self._regexp_instr(value, pattern), expression=exp.Literal.number(0))
        if re2.search(pattern, "") is None:
            return searched
        # A pattern matching '' (/^$/, /x*/): an empty subject has no position 1 to report,
        # which Snowflake does not document, so '' is tested apart (RE2: it matches).
        empty = exp.EQ(this=value.copy(), expression=exp.Literal.string(""))
        return exp.Paren(this=exp.or_(empty, searched))

    def _regexp_instr(self, value: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpInstr(
            this=value,
            expression=exp.Literal.string(regex.to_snowflake(pattern)),
            position=exp.Literal.number(1),
            occurrence=exp.Literal.number(1),
            option=exp.Literal.number(0),
            parameters=exp.Literal.string("c"),
        )


class Spark(Dialect):
    """Spark SQL 3.5+/4.x and Databricks SQL (checked on local PySpark 4, ANSI mode on)."""

    name = "spark"
    # Column names are case-insensitive (spark.sql.caseSensitive is false by default).
    folds_identifier_case = True
    # FILTER (WHERE ...) on aggregates since Spark 3.0; `DIV` (IntDiv) is BIGINT division,
    # floor for the non-negative operands it gets; `/` is always DOUBLE or DECIMAL division.
    filter_clause = True
    # SPLIT_PART(s, sep, -1) counts from the end (Spark 3.3+); LOCATE('', s) is 1.
    splits_from_the_end = True
    finds_empty_string = True

    def epoch_us(self, timestamp: exp.Expression) -> exp.Expression:
        # A literal (a pinned as_of) is the exact integer: CAST('...' AS TIMESTAMP) would be
        # read in the session time zone. UNIX_MICROS of a TIMESTAMP column is its instant; a
        # TIMESTAMP_NTZ column is read as wall time in the session time zone (set it to UTC).
        if isinstance(timestamp, exp.Cast) and isinstance(timestamp.this, exp.Literal):
            return exp.Literal.number(epoch_micros(datetime.fromisoformat(timestamp.this.name)))
        return exp.UnixMicros(this=timestamp)

    def regex_text(self, pattern: str) -> str:
        # RLIKE is java.util.regex's unanchored find().
        return regex.to_java(pattern)


_BY_NAME: dict[str, type[Dialect]] = {
    d.name: d for d in (DuckDB, Postgres, BigQuery, Snowflake, Spark)
}


def get_dialect(name: str, *, exact_case: bool = False) -> Dialect:
    """The target `name`; `exact_case` quotes every Snowflake name (the others always do)."""
    try:
        target = _BY_NAME[name]
    except KeyError:
        raise UnsupportedConstruct(
            "E503", f"target {name!r}", "scorelang", hint=f"choose one of {', '.join(DIALECTS)}"
        ) from None
    return Snowflake(exact_case=exact_case) if target is Snowflake else target()
