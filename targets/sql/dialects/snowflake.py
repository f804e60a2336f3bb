"""Snowflake: unquoted upper-case names, TIMESTAMP_NTZ, exact integer division, searched
(not anchored) regexes."""

from __future__ import annotations

from dataclasses import dataclass

import re2
from sqlglot import exp

from .. import regex
from .base import Dialect


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
