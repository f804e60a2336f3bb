"""Each dialect's capability flags, proved on its engine: DuckDB, Postgres and Spark
themselves, Snowflake on fakesnow, BigQuery on ZetaSQL (the engines the differential tests
use, started the same way). Where a flag says an engine has a property, a probe query shows
it has; where a flag says it has not, the SQL the flag chooses instead is shown to work (or,
what only a text shows, the built SQL does without the property).

A flag without a test here fails `test_every_capability_flag_has_a_conformance_test`; the
hooks (methods) are pinned per dialect by tests/test_dialect_hooks.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, get_origin, get_type_hints

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.targets.sql import select_scores
from scorelang.targets.sql.dialects import DIALECTS, Dialect, epoch_micros, get_dialect
from scorelang.targets.sql.expressions import ExpressionCompiler, Scope
from scorelang.targets.sql.names import as_written, ident
from sqlglot import exp
from test_bigquery_zetasql import zetasql  # noqa: F401  (the fixture, one runner per session)
from test_snowflake_emulator import RUNNER as FAKESNOW_RUNNER
from test_snowflake_emulator import fakesnow_python  # noqa: F401  (the fixture)
from test_spark import spark  # noqa: F401  (the fixture)

Rows = tuple[list[str], list[tuple]]
FLAG_TEST_PREFIX = "test_flag_"


class EngineError(Exception):
    """The engine refused the query."""


def decoded(value: Any) -> Any:
    """A runner's tagged cell ({"decimal": "1.5"}, {"float": "nan"}) as a driver gives it."""
    if isinstance(value, dict):
        return Decimal(value["decimal"]) if "decimal" in value else float(value["float"])
    return value


def response_rows(response: dict[str, Any]) -> Rows:
    if "error" in response:
        raise EngineError(response["error"])
    return response["columns"], [tuple(decoded(v) for v in row) for row in response["rows"]]


def capability_flags() -> list[str]:
    """The flags the Dialect base declares (class-level settings other than its name)."""
    hints = get_type_hints(Dialect)
    return [n for n, t in hints.items() if get_origin(t) is ClassVar and n != "name"]


def _duckdb() -> Callable[[str], Rows]:
    import duckdb

    def run(sql: str) -> Rows:
        con = duckdb.connect()
        try:
            cursor = con.execute(sql)
        except duckdb.Error as error:
            raise EngineError(str(error)) from error
        return [d[0] for d in cursor.description], cursor.fetchall()

    return run


def _postgres(url: str) -> Callable[[str], Rows]:
    import psycopg

    def run(sql: str) -> Rows:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("SET TIME ZONE 'America/Los_Angeles'")  # a session zone is no excuse
            try:
                cursor = pg.execute(sql, prepare=False)
            except psycopg.Error as error:
                raise EngineError(str(error)) from error
            return [d.name for d in cursor.description], cursor.fetchall()

    return run


def _spark(session: Any) -> Callable[[str], Rows]:
    def run(sql: str) -> Rows:
        try:
            frame = session.sql(sql)
            return list(frame.columns), [tuple(row) for row in frame.collect()]
        except Exception as error:  # AnalysisException and friends
            if type(error).__module__.startswith("pyspark"):
                raise EngineError(str(error)) from error
            raise

    return run


def _fakesnow(python: str) -> Callable[[str], Rows]:
    def run(sql: str) -> Rows:
        request = {"tables": [], "statements": [], "query": sql}
        done = subprocess.run(
            [python, str(FAKESNOW_RUNNER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return response_rows(json.loads(done.stdout))

    return run


def _zetasql(engine: Any) -> Callable[[str], Rows]:
    def run(sql: str) -> Rows:
        return response_rows(engine.run({"tables": [], "analyze": [], "query": sql}))

    return run


class Engine:
    """Runs sqlglot trees on one dialect's engine, names spelled as the builder spells them."""

    def __init__(self, dialect: Dialect, execute: Callable[[str], Rows]):
        self.dialect, self._execute = dialect, execute

    def sql(self, query: exp.Expression) -> str:
        return as_written(query.copy(), self.dialect).sql(dialect=self.dialect.name)

    def run(self, query: exp.Expression) -> Rows:
        return self._execute(self.sql(query))

    def values(self, *columns: exp.Expression) -> tuple:
        """The one row of `SELECT column_0, column_1, ...`."""
        query = exp.select(*(exp.alias_(c, ident(f"v{i}")) for i, c in enumerate(columns)))
        _names, rows = self.run(query)
        assert len(rows) == 1, rows
        return rows[0]


@pytest.fixture
def engine(request: pytest.FixtureRequest, dialect: str) -> Engine:
    starts: dict[str, Callable[[], Callable[[str], Rows]]] = {
        "duckdb": _duckdb,
        "postgres": lambda: _postgres(request.getfixturevalue("pg_url")),
        "spark": lambda: _spark(request.getfixturevalue("spark")),
        "snowflake": lambda: _fakesnow(request.getfixturevalue("fakesnow_python")),
        "bigquery": lambda: _zetasql(request.getfixturevalue("zetasql")),
    }
    return Engine(get_dialect(dialect), starts[dialect]())


def text(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def three_rows() -> exp.Expression:
    """(SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) AS t"""
    ones = [exp.select(exp.alias_(exp.Literal.number(n), ident("x"))) for n in (1, 2, 3)]
    union = exp.union(exp.union(ones[0], ones[1], distinct=False), ones[2], distinct=False)
    return exp.Subquery(this=union, alias=exp.TableAlias(this=ident("t")))


x = exp.column(ident("x"), table=ident("t"))
dialects = pytest.mark.parametrize("dialect", DIALECTS)


# ---- one test per flag -------------------------------------------------------------------


@dialects
def test_flag_max_identifier(engine: Engine) -> None:
    """A name of the limit's length comes back whole; past Postgres's it is cut short."""
    limit = engine.dialect.max_identifier
    longest = "n" * limit
    names, _rows = engine.run(exp.select(exp.alias_(exp.Literal.number(1), ident(longest))))
    assert [n.lower() for n in names] == [longest]
    if engine.dialect.name == "postgres":  # NAMEDATALEN: longer names are silently truncated
        names, _rows = engine.run(exp.select(exp.alias_(exp.Literal.number(1), ident("n" * 64))))
        assert names == [longest]


@dialects
def test_flag_folds_identifier_case(engine: Engine) -> None:
    """`t.X` finds the column `x` exactly where the flag says names ignore case (so Names
    keeps internal names apart ignoring case there)."""
    inner = exp.select(exp.alias_(exp.Literal.number(1), ident("x"))).subquery("t")
    query = exp.select(exp.column(ident("X"), table=ident("t"))).from_(inner)
    if engine.dialect.folds_identifier_case:
        assert engine.run(query)[1] == [(1,)]
    else:
        with pytest.raises(EngineError):
            engine.run(query)


@dialects
def test_flag_timestamp_type(engine: Engine) -> None:
    """A pinned as_of in the flag's type has the instant's exact epoch microseconds,
    whatever the engine's default or session time zone."""
    for instant in (datetime(2026, 3, 29, 1, 30), datetime(1969, 7, 20, 20, 17, 40, 123456)):
        literal = engine.dialect.pinned_instant(instant)
        assert engine.dialect.pinned_type() == literal.to  # the flag's type, read back
        (micros,) = engine.values(engine.dialect.epoch_us(literal))
        assert int(micros) == epoch_micros(instant)


@dialects
def test_flag_writes_utc_offset(engine: Engine) -> None:
    """With the flag, the pinned text carries +00:00 and still reads as that instant (in
    ZetaSQL, whose default zone is Los Angeles, only with it); without, it has no offset."""
    instant = datetime(2026, 1, 1, 12)
    literal = engine.dialect.pinned_instant(instant)
    assert literal.this.name.endswith("+00:00") is engine.dialect.writes_utc_offset
    (micros,) = engine.values(engine.dialect.epoch_us(literal))
    assert int(micros) == epoch_micros(instant)
    if engine.dialect.name == "bigquery":  # the flag is needed there, not a habit
        naive = exp.cast(text(instant.isoformat(sep=" ")), engine.dialect.pinned_type())
        (shifted,) = engine.values(engine.dialect.epoch_us(naive))
        assert int(shifted) != epoch_micros(instant)


@dialects
def test_flag_finds_empty_string(engine: Engine) -> None:
    """The engine finds '' in a string where the flag says so; `contains` with an empty
    needle (not a literal: tested apart where the flag is off) is True everywhere."""
    if engine.dialect.finds_empty_string:
        (position,) = engine.values(exp.StrPosition(this=text("abc"), substr=text("")))
        assert int(position) >= 1
    values = {"subject": text("abc"), "needle": text("")}
    scope = Scope(lead_field=values.__getitem__, aggregate=text, output=text)
    compiler = ExpressionCompiler(engine.dialect, scope, lambda: exp.Literal.number(0))
    test = ir.StringTest(
        "contains", ir.LeadField("subject", ir.Type.STRING), ir.LeadField("needle", ir.Type.STRING)
    )
    assert engine.values(compiler.condition(test)) == (True,)


@dialects
def test_flag_filter_clause(engine: Engine) -> None:
    """Conditional aggregates count and sum the rows where the condition holds, with FILTER
    exactly where the flag says the engine has it."""
    over_one = exp.GT(this=x.copy(), expression=exp.Literal.number(1))
    count = engine.dialect.count_if(over_one.copy())
    total = engine.dialect.only_when(lambda v: exp.Sum(this=v), x.copy(), over_one.copy())
    query = exp.select(exp.alias_(count, ident("n")), exp.alias_(total, ident("s")))
    query = query.from_(three_rows())
    assert ("FILTER" in engine.sql(query)) is engine.dialect.filter_clause
    assert [tuple(int(v) for v in row) for row in engine.run(query)[1]] == [(2, 5)]


UNTYPED_PROBE = """model m
lead { id: string key }
event page_view { url: string }
score s { when visited "/a" within 7d: +1 }
"""


@dialects
def test_flag_reads_untyped_instants(engine: Engine) -> None:
    """An untyped instant literal reads in the compared column's type: the instant for a
    zoned column, the UTC wall time for a naive one (the offset ignored), in any session
    zone. Where the flag is off, windows never rely on it: they test ages."""
    bound = "2026-01-01 00:00:00.000000+00"
    if engine.dialect.reads_untyped_instants:
        zoned = "TIMESTAMPTZ" if engine.dialect.name == "duckdb" else "TIMESTAMP WITH TIME ZONE"
        probes = [
            exp.LTE(this=exp.cast(text(t), exp.DataType.build(kind)), expression=text(bound))
            for t, kind in (
                ("2026-01-01 01:00:00+01", zoned),  # the same instant
                ("2026-01-01 00:00:01+00", zoned),
                ("2026-01-01 00:00:00", "TIMESTAMP"),  # the UTC wall time
                ("2026-01-01 00:00:01", "TIMESTAMP"),
            )
        ]
        assert engine.values(*probes) == (True, False, True, False)
    model = compile_source(UNTYPED_PROBE, "m.score").model
    assert model is not None
    as_of = datetime(2026, 1, 8, tzinfo=UTC)
    sql = engine.sql(select_scores(model, engine.dialect.name, as_of=as_of))
    assert ("'2026-01-01 00:00:00.000000+00'" in sql) is engine.dialect.reads_untyped_instants


@dialects
def test_flag_splits_from_the_end(engine: Engine) -> None:
    """The domain after the last `@`, ASCII-lowered, on every engine; with SPLIT_PART(s, sep,
    -1) exactly where the flag says it counts from the end."""
    domain = engine.dialect.lowered_domain(text("Ann@Old@Example.COM"))
    assert ("SPLIT" in engine.sql(domain).upper()) is engine.dialect.splits_from_the_end
    assert engine.values(domain) == ("example.com",)


@pytest.mark.parametrize(
    ("dialect", "exact_case"), [*((d, False) for d in DIALECTS), ("snowflake", True)]
)
def test_flag_quotes_every_name(engine: Engine, exact_case: bool) -> None:
    """Quoted, a name comes back exactly as the model spells it; Snowflake's default leaves a
    valid name unquoted, so it resolves (and reads back) upper-case like users' own DDL."""
    engine.dialect = get_dialect(engine.dialect.name, exact_case=exact_case)
    query = exp.select(exp.alias_(exp.Literal.number(1), ident("Lead_Score")))
    names, _rows = engine.run(query)
    if engine.dialect.quotes_every_name:
        assert '"Lead_Score"' in engine.sql(query) or "`Lead_Score`" in engine.sql(query)
        assert names == ["Lead_Score"]
    else:
        assert names == ["LEAD_SCORE"]


# ---- the meta-test ---------------------------------------------------------------------


def test_every_capability_flag_has_a_conformance_test() -> None:
    tests = {name for name in globals() if name.startswith(FLAG_TEST_PREFIX)}
    flags = set(capability_flags())
    assert flags, "no flags found: has the Dialect base changed shape?"
    missing = sorted(
        f"{FLAG_TEST_PREFIX}{flag}" for flag in flags if f"{FLAG_TEST_PREFIX}{flag}" not in tests
    )
    assert not missing, f"capability flags without a conformance test: {missing}"
    stale = sorted(t for t in tests if t.removeprefix(FLAG_TEST_PREFIX) not in flags)
    assert not stale, f"conformance tests of flags the Dialect base no longer has: {stale}"


def test_the_meta_test_sees_a_new_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    annotations = {**Dialect.__annotations__, "rounds_half_even": "ClassVar[bool]"}
    monkeypatch.setattr(Dialect, "__annotations__", annotations)
    monkeypatch.setattr(Dialect, "rounds_half_even", False, raising=False)
    assert "rounds_half_even" in capability_flags()
    with pytest.raises(AssertionError, match="test_flag_rounds_half_even"):
        test_every_capability_flag_has_a_conformance_test()
