"""Postgres 14+: exact epochs without per-row numeric work, "C" collation ordering,
fenced steps (a CTE read once is inlined otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from .. import regex
from .base import Dialect


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
