"""Vendor-documented edge semantics, checked on the emitted SQL where no engine here can show
them (Snowflake's own REGEXP_INSTR and time zones; fakesnow runs DuckDB's): patterns that
match '', ASCII classes, the pinned as_of's UTC offset, TIMESTAMP_NTZ's spelling, how
DATE and DATETIME columns are read.
Executed counterparts are in test_bigquery_zetasql.py and test_snowflake_emulator.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from scorelang.compiler.frontend import compile_file, compile_source
from scorelang.targets.sql import render_ddl, select_scores
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.regex import to_snowflake
from sqlglot import exp
from test_sql_build import COVERAGE

from scorelang.config import SourceMapping

MODEL = (
    "model m\nlead { id: string key  name: string? }\nevent visit { }\n"
    "score s { when visit within 7d: +1\n when name matches /^$/: +2\n"
    " when name matches /x*/: +4\n when name matches /\\d\\s\\w/: +8 }\n"
)
SOURCES = {"bigquery": SourceMapping(schema="raw"), "snowflake": SourceMapping()}


def ddl(dialect: str, as_of: datetime) -> str:
    model = compile_source(MODEL, "m.score").model
    assert model is not None
    return render_ddl(model, dialect, as_of=as_of, mapping=SOURCES[dialect])


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake"])
def test_pinned_as_of_is_written_in_utc_with_its_offset(dialect: str) -> None:
    """No session or default time zone reads the literal: 09:00 at +09:00 is 00:00 UTC."""
    tokyo = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    sql = ddl(dialect, tokyo)
    assert "'2026-01-01 00:00:00+00:00'" in sql

    def statements(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("--")]

    assert statements(sql) == statements(ddl(dialect, datetime(2026, 1, 1, tzinfo=UTC)))


def test_snowflake_writes_timestamp_ntz_not_its_alias() -> None:
    sql = ddl("snowflake", datetime(2026, 1, 1, tzinfo=UTC))
    assert "AS TIMESTAMP_NTZ)" in sql and "TIMESTAMPNTZ" not in sql


def test_snowflake_tests_the_empty_string_apart_for_patterns_matching_it() -> None:
    """REGEXP_INSTR of '' has no position to report: where RE2 finds a match in '', the
    empty string is tested apart; elsewhere REGEXP_INSTR alone."""
    snowflake = get_dialect("snowflake")
    column = exp.column("name")
    for pattern in ("^$", "x*", "(a|)"):
        sql = snowflake.regex_search(column, pattern).sql("snowflake")
        assert sql.startswith("(name = '' OR REGEXP_INSTR("), sql
    sql = snowflake.regex_search(column, "a+").sql("snowflake")
    assert sql == "REGEXP_INSTR(name, 'a+', 1, 1, 0, 'c') > 0"


def test_snowflake_spells_out_ascii_classes() -> None:
    """Snowflake documents \\s only as "whitespace": every class is spelled out as RE2 means
    it, with the characters themselves (ERE brackets read a backslash literally)."""
    assert to_snowflake(r"\d\D\w\W\s\S") == (
        "[0-9][^0-9][0-9A-Za-z_][^0-9A-Za-z_][\t\n\f\r ][^\t\n\f\r ]"
    )
    assert to_snowflake(r"[\d_-]") == "[0-9_-]"
    assert "\\d" not in ddl("snowflake", datetime(2026, 1, 1, tzinfo=UTC))


def test_bigquery_reads_every_timestamp_column_through_a_cast() -> None:
    """A DATE or DATETIME column is cast to TIMESTAMP before UNIX_MICROS (which takes only a
    TIMESTAMP), and no window compares a column with an instant: windows test ages."""
    model = compile_file(COVERAGE).model
    assert model is not None
    query = select_scores(model, "bigquery", as_of=datetime(2026, 1, 1, tzinfo=UTC))
    epochs = list(query.find_all(exp.UnixMicros))
    read = {e.this.this.name for e in epochs if isinstance(e.this.this, exp.Column)}
    assert read >= {"occurred_at", "lead_created_at"}
    for epoch in epochs:
        cast = epoch.this
        assert isinstance(cast, exp.Cast) and cast.to.sql("bigquery") == "TIMESTAMP", epoch
    for comparison in query.find_all(exp.LT, exp.LTE, exp.GT, exp.GTE):
        operands = (comparison.this, comparison.expression)
        assert not any(isinstance(o, exp.Column) and "_at" in o.name for o in operands)
