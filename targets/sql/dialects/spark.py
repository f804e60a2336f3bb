"""Spark SQL and Databricks SQL: exact literal epochs, java.util.regex patterns."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from .. import regex
from .base import Dialect, epoch_micros


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
