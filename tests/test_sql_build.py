"""The SQL target: the generated plan runs in DuckDB and a real Postgres and gives the Python
evaluator's rows; the plan's shape (one scan, exact output columns) and its refusals."""

from __future__ import annotations

import dataclasses
import math
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import re2
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file, compile_source
from scorelang.compiler.regex import ascii_case_insensitive
from scorelang.targets.python import PythonEvaluator
from scorelang.targets.sql import (
    DIALECTS,
    UnsupportedConstruct,
    build_views,
    render_ddl,
    select_scores,
)
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.expressions import epoch_micros, number, round_half_away
from sql_fixture import (
    AS_OF,
    EVENTS,
    LEADS,
    NOW,
    DuckEngine,
    PgEngine,
    ago,
    event,
    records_of_test_case,
)
from sqlglot import exp

from scorelang.config import ConfigError, SourceMapping, load_config

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = ROOT / "tests" / "sql_models" / "coverage.score"
EXAMPLES = sorted((ROOT / "examples").glob("*/model.score"))


def load(path: Path) -> ir.Model:
    compilation = compile_file(path)
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


def model_of(source: str) -> ir.Model:
    compilation = compile_source(source)
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


@pytest.fixture(scope="module")
def duck() -> DuckEngine:
    return DuckEngine()


@pytest.fixture(scope="module")
def pg(pg_url: str):
    engine = PgEngine(pg_url, f"scorelang_sql_{os.getpid()}")
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest):
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg")


def sql_rows(
    engine, model: ir.Model, as_of: datetime | None = AS_OF, **options: Any
) -> dict[Any, dict[str, Any]]:
    mapping = options.pop("mapping", SourceMapping(schema=engine.schema))
    query = select_scores(model, engine.dialect, as_of=as_of, mapping=mapping, **options)
    return engine.rows(query.sql(dialect=engine.dialect))


def python_rows(
    model: ir.Model, leads: list[dict], events: list[dict], as_of: datetime
) -> dict[Any, dict[str, Any]]:
    return {r.key: r.as_row(model) for r in PythonEvaluator(model).score_many(leads, events, as_of)}


def assert_same_rows(model: ir.Model, expected: dict, actual: dict) -> None:
    """Outputs identical (scores are rounded to cents); rule points equal up to summation order."""
    assert set(actual) == set(expected)
    rules = {r.id for s in model.scores for r in s.rules}
    for key, row in expected.items():
        assert list(actual[key]) == list(model.output_columns)
        for column, value in row.items():
            got = actual[key][column]
            if column in rules and isinstance(value, float) and isinstance(got, float):
                assert math.isclose(got, value, rel_tol=1e-12, abs_tol=1e-12), (
                    key,
                    column,
                    value,
                    got,
                )
            else:
                assert got == value and type(got) is type(value), (key, column, value, got)


# ---- the same rows as the Python evaluator ----------------------------------------------


def test_coverage_model_matches_python(engine) -> None:
    model = load(COVERAGE)
    engine.load(model, LEADS, EVENTS)
    assert_same_rows(model, python_rows(model, LEADS, EVENTS, AS_OF), sql_rows(engine, model))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_test_cases_match_python(engine, path: Path) -> None:
    model = load(path)
    assert model.tests, "every example has tests"
    # The test blocks of a model with an account (an account and its leads, or a lead with
    # an accounts table) run through both views in tests/test_accounts_parity.py.
    for case in model.tests if model.account is None else ():
        leads, events = records_of_test_case(model, case)
        engine.load(model, leads, events)
        expected = python_rows(model, leads, events, case.as_of)
        assert_same_rows(model, expected, sql_rows(engine, model, as_of=case.as_of))


def test_boundaries_in_the_engines(engine) -> None:
    """The fixture's edge cases, stated directly rather than only as parity."""
    model = load(COVERAGE)
    engine.load(model, LEADS, EVENTS)
    rows = sql_rows(engine, model)
    l1, l2, l3, l4, l5, l6 = (rows[k] for k in ("l1", "l2", "l3", "l4", "l5", "l6"))
    # the future view does not exist; rule columns are rounded to cents like scores
    assert l1["engagement__r1"] == ir.round_score(0.5 ** (2 / 7) + 0.5)
    assert l1["engagement__r3"] == 3.0  # opens 12h, 36h and 38h ago: two daily periods
    assert l1["engagement__r8"] == 6.0  # download then demo exactly 1d later
    assert l3["engagement__r8"] == 6.0  # at the same instant
    assert l4["engagement__r8"] == 0.0  # 1 microsecond more than 1d; demo before download
    assert l1["engagement__r9"] == 2.0 and l5["engagement__r9"] == 0.0  # [7d, 14d)
    assert l4["engagement__r12"] is True and l3["engagement__r12"] is False  # 45d ago / at as_of
    assert l4["engagement"] == 0.0
    assert (l2["fit"], l2["fit__r8"], l2["fit__r10"], l2["engagement"]) == (-4.0, 1.0, -5.0, 0.0)
    assert (l3["fit__r14"], l4["fit__r14"], l5["fit__r14"]) == (9.0, 0.0, 0.0)  # email_domain
    assert (l6["fit__r1"], l4["fit__r3"]) == (
        10.0,
        0.0,
    )  # `é` is not a word character; `.` skips \n
    assert l3["fit__r11"] == 0.0 and l3["big"] is False  # revenue / 0 is missing
    assert l1["fit__r18"] + l1["fit__r19"] == 16.0 and l1["fit"] == 55.0  # the group caps 16 at 12
    assert (
        l3["total"] == 14.0 and l1["level"] == "warm" and l1["rank"] == "top" and l1["grid"] == "B1"
    )
    assert (rows["l7"]["rank"], rows["l8"]["rank"]) == ("upper", "upper")  # ties share a band


def test_unpinned_as_of_is_the_current_time(engine) -> None:
    model = model_of(
        "model m\nlead { id: string key }\nevent visit { }\nscore s { when visit within 1d: +5 }\n"
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    events = [
        {"lead_id": "recent", "event_type": "visit", "occurred_at": now - timedelta(hours=1)},
        {"lead_id": "old", "event_type": "visit", "occurred_at": now - timedelta(days=2)},
    ]
    engine.load(model, [{"id": "recent"}, {"id": "old"}], events)
    rows = sql_rows(engine, model, as_of=None)
    assert (rows["recent"]["s"], rows["old"]["s"]) == (5.0, 0.0)


ROUNDING = [0.285, -0.285, 1.005, 2.675, 0.125, -0.125, 1e-10, 12345.675, 0.1 + 0.2, 2.5e-3, 99.995]
ROUNDING += [999_999_999.995, -999_999_999.125, 1e9 + 0.125, 1e12 + 0.375, -4.5e15]


def test_rounding_is_half_away_from_zero_in_the_engines(engine) -> None:
    dialect = get_dialect(engine.dialect)
    query = exp.select(
        *(round_half_away(dialect, dialect.cast_double(number(v)), 2) for v in ROUNDING)
    )
    (row,) = engine.execute(query.sql(dialect=engine.dialect))
    assert list(row) == [ir.round_score(v) for v in ROUNDING]


MAGNITUDE = ROOT / "tests" / "sql_models" / "magnitude.score"
# Revenues giving ±8916382.325 and 12345678.905 points, ties and a missing score for the
# percentile tier (tests/sql_models/magnitude.score).
MAGNITUDE_LEADS = [
    {"id": f"l{i}", "revenue": revenue}
    for i, revenue in enumerate([1.0, -5.0, 150.0, 2.5, 2.5, None, 0.0, 101.0, -1.0, 1.5])
]


def test_large_magnitudes_and_percentile_tiers(engine) -> None:
    model = load(MAGNITUDE)
    engine.load(model, MAGNITUDE_LEADS, [])
    expected = python_rows(model, MAGNITUDE_LEADS, [], AS_OF)
    assert expected["l0"]["big"] == 8916382.33 and expected["l1"]["big"] == -8916382.33
    assert_same_rows(model, expected, sql_rows(engine, model))


def test_non_finite_values_pass_the_rounding_guard(engine) -> None:
    """NaN and ±inf (a FLOAT column may hold them) come out as they are, as ir.round_score
    leaves them: the guard is `NOT ABS(x) < 2**52`, true for NaN in every engine."""
    dialect = get_dialect(engine.dialect)
    values = ["NaN", "Infinity", "-Infinity"]
    query = exp.select(
        *(
            round_half_away(dialect, exp.cast(exp.Literal.string(v), dialect.double()), 2)
            for v in values
        )
    )
    (row,) = engine.execute(query.sql(dialect=engine.dialect))
    assert [repr(v) for v in row] == [repr(ir.round_score(float(v))) for v in values]


def test_rounding_matches_python_at_every_magnitude(engine) -> None:
    """Half-cent values (and noise around them) from 1e-3 to 1e13, and whole doubles past
    DECIMAL(38, 9), as ir.round_score rounds them: DuckDB casts a double to a decimal as
    round(x * 1e9), inexact past ~9e6; Postgres keeps 15 significant digits."""
    rng = random.Random(5)
    values = [
        rng.randrange(-(10**digits), 10**digits) + rng.choice((0.005, 0.125, 0.285, 0.675, 0.995))
        for digits in range(14)
        for _ in range(300)
    ]
    values += [v + rng.choice((-1, 1)) * 1e-7 * abs(v) ** 0.5 for v in values[:2000]]
    values += [4503599627370495.5, 2.0**52, -(2.0**53), 1e29, -3.5e30, 1e300]  # whole: as is
    dialect = get_dialect(engine.dialect)
    rounded = round_half_away(dialect, dialect.cast_double(exp.column("x")), 2)
    parameter, array = ("%s", "DOUBLE PRECISION[]") if engine.schema else ("?", "DOUBLE[]")
    rows = engine.execute(
        f"SELECT x, {rounded.sql(dialect=engine.dialect)} "
        f"FROM UNNEST(CAST({parameter} AS {array})) AS t(x)",
        [values],
    )
    assert [r for r in rows if r[1] != ir.round_score(r[0])] == []


PATTERNS = [
    r"\bvp\b",
    r"a.b",
    r"\d{2,}",
    r"\w+@\w+",
    r"[\d-]+x",
    r"^\s*x",
    r"(?:ab)+?c",
    r"\Bx",
    r"[^\w]",
    r"\S\s\S",
    r"x$",
    r"[\]]",
    r"a\.b",
]
SUBJECTS = [
    "vp",
    "évp",
    "a vp!",
    "a\nb",
    "axb",
    "12",
    "1-2x",
    " \tx",
    "ababc",
    "ax",
    "x",
    "é",
    "a b",
    "]",
    "a.b",
    "",
]


def _pairs() -> list[tuple[str, str]]:
    return [(p, s) for p in PATTERNS for s in SUBJECTS]


def test_regexes_mean_what_re2_means_in_postgres(pg) -> None:
    dialect = get_dialect("postgres")
    for fold in (str, ascii_case_insensitive):
        patterns = [fold(p) for p in PATTERNS]
        tests = [dialect.regex_search(exp.Literal.string(s), p) for p in patterns for s in SUBJECTS]
        (row,) = pg.execute(exp.select(*tests).sql(dialect="postgres"))
        expected = [re2.search(p, s) is not None for p in patterns for s in SUBJECTS]
        mismatches = [
            (p, s) for (p, s), a, b in zip(_pairs(), row, expected, strict=True) if a != b
        ]
        assert not mismatches


def test_string_literals_cannot_inject_sql(duck) -> None:
    model = model_of(
        "model m\nlead { id: string key, name: string? }\n"
        'score s { when name == "x\'; DROP TABLE leads; --": +1 "it\'s \\"quoted\\"" }\n'
    )
    duck.load(
        model, [{"id": "a", "name": "x'; DROP TABLE leads; --"}, {"id": "b", "name": "y"}], []
    )
    rows = sql_rows(duck, model)
    assert (rows["a"]["s"], rows["b"]["s"]) == (1.0, 0.0)
    assert duck.execute('SELECT COUNT(*) FROM "leads"') == [(2,)]


def test_source_mapping_renames_tables_and_columns(duck) -> None:
    model = load(COVERAGE)
    duck.load(model, LEADS, EVENTS)
    duck.execute('CREATE SCHEMA IF NOT EXISTS "raw"')
    duck.execute(
        'CREATE OR REPLACE TABLE "raw"."crm" AS SELECT * RENAME ("id" AS "lead_key", "employees" AS "staff") FROM "leads"'
    )
    duck.execute(
        'CREATE OR REPLACE TABLE "raw"."web" AS SELECT * RENAME ("lead_id" AS "who", "event_type" AS "kind", "occurred_at" AS "at", "url" AS "page") FROM "events"'
    )
    mapping = SourceMapping(
        leads_table="crm",
        events_table="web",
        schema="raw",
        event_lead="who",
        event_type="kind",
        event_time="at",
        columns={"id": "lead_key", "employees": "staff", "url": "page"},
    )
    assert sql_rows(duck, model, mapping=mapping) == sql_rows(duck, model)


# ---- the plan's shape -------------------------------------------------------------------


def _ctes(query: exp.Select) -> dict[str, exp.Select]:
    return {cte.alias: cte.this for cte in query.args["with_"].expressions}


def _event_types_read(select: exp.Select) -> set[str]:
    """The event types a scan of the events table keeps (its `event_type IN (...)`)."""
    (scan,) = [s for s in select.find_all(exp.Select) if s.args["from_"].this.name == "events"]
    where = scan.args["where"].this
    tests = [where] if isinstance(where, exp.EQ | exp.In) else list(where.find_all(exp.EQ, exp.In))
    (test,) = [t for t in tests if t.this.name == "event_type"]
    return {v.name for v in ([test.expression] if isinstance(test, exp.EQ) else test.expressions)}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_one_scan_one_group_by_and_exactly_the_output_columns(dialect: str) -> None:
    """Every aggregate but the sequences from one scan and one GROUP BY; the sequences from a
    second scan of their own event types (the window sorts what it reads), one GROUP BY."""
    model = load(COVERAGE)
    query = select_scores(model, dialect, as_of=AS_OF)
    tables = [t.name for t in query.find_all(exp.Table)]
    assert tables.count("events") == 2 and tables.count("leads") == 1
    assert len(list(query.find_all(exp.Group))) == 2
    assert query.named_selects == list(model.output_columns)
    without_sequences = model_of(
        "model m\nlead { id: string key }\nevent v { }\nevent w { }\n"
        "score s { each v within 7d: +1\n when w: +2 }\n"
    )
    query = select_scores(without_sequences, dialect, as_of=AS_OF)
    assert [t.name for t in query.find_all(exp.Table)].count("events") == 1
    assert len(list(query.find_all(exp.Group))) == 1
    (view,) = build_views(model, dialect, mapping=SourceMapping(schema="raw"))
    assert view.name == "coverage_scores"
    # sqlglot prints Snowflake's alias TIMESTAMPNTZ for the documented TIMESTAMP_NTZ.
    assert sqlglot.parse_one(query.sql(dialect=dialect), read=dialect).sql(
        dialect=dialect
    ) == query.sql(dialect=dialect).replace("TIMESTAMP_NTZ", "TIMESTAMPNTZ")


def test_the_sequence_window_reads_only_the_sequences_event_types() -> None:
    model = model_of(
        "model m\nlead { id: string key }\nevent a { }\nevent b { }\nevent c { }\n"
        "event d { }\nscore s { when a then b within 3d: +1\n when count(c) > 2: +1\n"
        " when count(d within 7d) > 0: +1 }\n"
    )
    for dialect in DIALECTS:
        ctes = _ctes(select_scores(model, dialect, as_of=AS_OF))
        (window,) = [name for name, s in ctes.items() if s.find(exp.Window)]
        source = ctes[window].args["from_"].this.name
        assert _event_types_read(ctes[source]) == {"a", "b"}
        # the other aggregates' scan keeps their own types only, and never sorts
        (grouped,) = [
            s
            for name, s in ctes.items()
            if s.args.get("group")
            and not ctes[name].find(exp.Window)
            and s.args["from_"].this.name != window
        ]
        scan = ctes[grouped.args["from_"].this.name]
        assert _event_types_read(scan) == {"c", "d"} and not scan.find(exp.Window)


def test_aggregates_do_not_retest_what_the_scan_kept() -> None:
    """`activity` covers every type the scan keeps: its count tests only the window."""
    model = model_of(
        "model m\nlead { id: string key }\nevent a { }\nevent b { }\n"
        "score s { when count(a) > 1: +1\n when no activity within 30d: -1 }\n"
    )
    ctes = _ctes(select_scores(model, "postgres", as_of=AS_OF))
    (agg,) = [s for s in ctes.values() if s.args.get("group")]
    quiet = agg.expressions[2].this
    assert not any(c.name == "event_type" for c in quiet.find_all(exp.Column))


def test_postgres_fences_per_lead_steps_and_reads_times_as_doubles() -> None:
    """Postgres inlines a CTE into its reader without sharing subexpressions: the per-lead
    steps are fenced with OFFSET 0 (there only). Event times are read with date_part (a
    double, exact in range) rather than numeric EXTRACT, kept for as_of and out of range."""
    model = load(COVERAGE)
    for dialect in DIALECTS:
        query = select_scores(model, dialect, as_of=AS_OF)
        fenced = {name for name, s in _ctes(query).items() if s.args.get("offset")}
        if dialect == "postgres":
            assert {"points", "totals", "scored"} <= fenced and not fenced & {"scan", "agg"}
            assert 'pg_catalog.date_part(\'epoch\', "e"."occurred_at")' in query.sql(dialect)
        else:
            assert not fenced


_INSTANTS = [
    datetime(1, 1, 1),
    datetime(1899, 12, 31, 23, 59, 59, 999_999),
    datetime(1900, 1, 1),
    datetime(1900, 1, 1, 0, 0, 0, 1),
    datetime(1969, 12, 31, 23, 59, 59, 999_999),
    datetime(1970, 1, 1),
    datetime(2026, 1, 1, 12, 34, 56, 789_012),
    datetime(2039, 12, 31, 23, 59, 59, 999_999),
    datetime(2040, 1, 1),
    datetime(2041, 5, 1, 0, 0, 0, 999_999),
    datetime(9999, 12, 31, 23, 59, 59, 999_999),
] + [datetime(1900, 1, 1) + timedelta(microseconds=7_777_777_777_777 * k + k) for k in range(600)]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/St_Johns"])
def test_postgres_epoch_microseconds_are_exact(pg, zone: str) -> None:
    """The fast path (date_part) and its fallback give the exact epoch µs of naive (UTC)
    and zoned columns, on both sides of the bounds and in any session time zone."""
    dialect = get_dialect("postgres")
    values = exp.Values(
        expressions=[exp.Tuple(expressions=[exp.Literal.string(t.isoformat())]) for t in _INSTANTS],
        alias=exp.TableAlias(this=exp.to_identifier("v"), columns=[exp.to_identifier("t")]),
    )
    pg.execute(f"SET TimeZone = '{zone}'")
    try:
        for kind in ("TIMESTAMP", "TIMESTAMPTZ"):
            cast = exp.cast(exp.column("t", "v"), exp.DataType.build(kind))
            reads = exp.select(dialect.epoch_us(cast)).from_(
                exp.select(exp.alias_(cast, "t")).from_(values).subquery("v")
            )
            got = [r[0] for r in pg.execute(reads.sql(dialect="postgres"))]
            zone_of = UTC if kind == "TIMESTAMP" else ZoneInfo(zone)
            expected = [epoch_micros(t.replace(tzinfo=zone_of)) for t in _INSTANTS]
            assert got == expected, kind
    finally:
        pg.execute("SET TimeZone = 'UTC'")


def test_points_already_in_cents_are_not_rounded_again() -> None:
    model = model_of(
        "model m\nlead { id: string key, n: int? }\nevent v { }\n"
        "score s { when n > 2: +5\n each v: +2 max 10\n when n > 9: +0.125 }\n"
        "score t { when n > 2: +5\n each v: +2 max 10 }\n"
    )
    query = select_scores(model, "duckdb", as_of=AS_OF)
    rounded = {e.alias for e in query.expressions if e.find(exp.Round)}
    # the 0.125 rule and s need rounding; t is a sum of integers; integer points are exact
    assert rounded == {"s__r3"}
    scored = next(c.this for c in query.args["with_"].expressions if c.alias == "scored")
    assert [e.alias for e in scored.expressions if e.find(exp.Round)] == ["s"]


_EXISTENCE = """model m
lead { id: string key }
event v { url: string? }
event w { }
score s {
  when no activity within 30d: -1
  when no activity within 60d: -2
  when count(activity within 90d) >= 1: +4
  when 0 < count(v where url == "/a" within 7d): +8
  when v where url == "/a" within 14d: +16
  when count(v within 90d) > 1: +32
  each w within 30d: +64
  when count(w within 60d) == 0: +128
}
"""


def _aggregate_call(node: exp.Expression) -> exp.Expression:
    return node.parent if isinstance(node.parent, exp.Filter) else node


@pytest.mark.parametrize("as_of", [None, AS_OF], ids=["unpinned", "pinned"])
def test_existence_counts_share_one_youngest_age_per_filter(as_of: datetime | None) -> None:
    """`no activity within 30d`, `... 60d`, `count(... within 90d) >= 1` only ask whether
    there is some event: one MIN(age) answers them all (MAX(time) with a pinned as_of where
    the engine compares instants); real counts stay counts."""
    model = model_of(_EXISTENCE)
    for dialect in DIALECTS:
        query = select_scores(model, dialect, as_of=as_of)
        (agg,) = [s for s in _ctes(query).values() if s.args.get("group")]
        instants = as_of is not None and get_dialect(dialect).reads_untyped_instants
        youngest_of = exp.Max if instants else exp.Min
        youngest = [p for p in agg.expressions[1:] if p.find(youngest_of)]
        counted = [p for p in agg.expressions[1:] if not p.find(youngest_of)]
        # activity x3 and `v where url == "/a"` x2 share youngest events; `v within 90d > 1`,
        # `each w` and the lone `w within 60d` are counted
        assert len(youngest) == 5 and len(counted) == 3
        assert len({_aggregate_call(p.find(youngest_of)).sql(dialect) for p in youngest}) == 2


def test_existence_counts_in_the_engines(engine) -> None:
    model = model_of(_EXISTENCE)
    leads = [{"id": f"l{i}"} for i in range(8)]
    day = timedelta(days=1)
    events = [
        event("l0", "v", NOW - 30 * day, url="/a"),  # exactly 30d: outside `within 30d`
        event("l1", "v", NOW - 30 * day + timedelta(microseconds=1), url="/b"),
        event("l2", "w", NOW - 60 * day),
        event("l2", "w", NOW + day),  # after as_of: does not exist
        event("l3", "v", NOW - 7 * day, url="/a"),
        event("l3", "v", NOW - 13 * day, url="/a"),
        event("l4", "v", NOW - 90 * day + timedelta(microseconds=1), url=None),
        event("l4", "w", NOW - 2 * day),
        event("l5", "v", NOW, url="/a"),
        event("l5", "v", NOW - 89 * day, url="/a"),
        event("l6", "v", NOW + day, url="/a"),
    ]
    engine.load(model, leads, events)
    assert_same_rows(model, python_rows(model, leads, events, AS_OF), sql_rows(engine, model))


def _flags_model(count: int) -> ir.Model:
    """`count` existence counts of distinct filters (one of them `no v ...`), a real count and
    a lone existence count over another type's youngest events."""
    rules = "\n".join(f"  when v where n == {i} within 30d: +{i + 1}" for i in range(count - 1))
    return model_of(
        "model m\nlead { id: string key }\nevent v { n: int? }\nevent w { }\n"
        f"score s {{\n{rules}\n  when no v where n > 100: -1\n"
        "  when count(v within 7d) >= 2: +1000\n  when no activity within 90d: -2\n"
        "  when no activity within 10d: -3\n}\n"
    )


def _flag_columns(query: exp.Select) -> list[exp.BitwiseOrAgg]:
    (agg,) = [s for s in _ctes(query).values() if s.args.get("group")]
    return [p.this for p in agg.expressions if isinstance(p.this, exp.BitwiseOrAgg)]


def test_other_existence_counts_are_bits_of_one_column_of_flags() -> None:
    """Existence counts the youngest event does not answer are each one bit of one BIT_OR:
    one aggregate to update per event instead of one per count; 31 bits to a column (their
    sum fits a 32-bit integer), real counts and a lone existence count stay COUNTs."""
    for count, widths in [(1, []), (2, [2]), (31, [31]), (33, [31, 2])]:
        model = _flags_model(count)
        for dialect in DIALECTS:
            flags = _flag_columns(select_scores(model, dialect, as_of=AS_OF))
            assert [len(list(f.find_all(exp.Case))) for f in flags] == widths, (count, dialect)
            bits = [
                sorted(int(c.args["ifs"][0].args["true"].name) for c in f.find_all(exp.Case))
                for f in flags
            ]
            assert bits == [[1 << i for i in range(w)] for w in widths]


def test_flags_in_the_engines(engine) -> None:
    """Every bit of two columns of flags, the highest of a 32-bit integer included, read back
    as the right rule's points (each rule gives other points), in both engines."""
    model = _flags_model(33)
    day = timedelta(days=1)
    leads = [{"id": f"l{i}"} for i in range(36)] + [{"id": "all"}, {"id": "none"}]
    events = [event(f"l{i}", "v", NOW - i * day / 2, n=i) for i in range(36)]
    events += [event("all", "v", NOW - day, n=i) for i in range(33)]
    events += [event("l3", "v", NOW - 31 * day, n=5), event("l4", "w", NOW - day)]
    engine.load(model, leads, events)
    expected = python_rows(model, leads, events, AS_OF)
    assert expected["all"]["s"] == sum(range(1, 33)) + 1000 - 1  # all but `no v where n > 100`
    assert_same_rows(model, expected, sql_rows(engine, model))


def test_windows_only_for_sequences_and_percentiles() -> None:
    model = model_of(
        "model m\nlead { id: string key }\nevent v { }\nscore s { each v within 7d: +1 }\n"
    )
    assert next(select_scores(model, "duckdb").find_all(exp.Window), None) is None
    assert next(select_scores(load(COVERAGE), "duckdb").find_all(exp.Window), None) is not None


def test_a_model_without_events_reads_only_leads(duck) -> None:
    model = model_of("model m\nlead { id: string key, n: int? }\nscore s { when n > 2: +1 }\n")
    query = select_scores(model, "duckdb", as_of=AS_OF)
    assert [t.name for t in query.find_all(exp.Table)] == ["leads"]
    duck.load(model, [{"id": "a", "n": 3}, {"id": "b", "n": None}], [])
    assert {k: r["s"] for k, r in sql_rows(duck, model).items()} == {"a": 1.0, "b": 0.0}


def test_ddl_creates_the_view(duck) -> None:
    model = load(COVERAGE)
    duck.load(model, LEADS, EVENTS)
    duck.execute('CREATE SCHEMA IF NOT EXISTS "marts"')
    ddl = render_ddl(model, "duckdb", as_of=AS_OF, schema="marts")
    assert ddl.startswith("-- coverage: Every construct")
    for statement in sqlglot.parse(ddl, read="duckdb"):
        duck.execute(statement.sql(dialect="duckdb"))
    assert duck.rows('SELECT * FROM "marts"."coverage_scores"') == sql_rows(duck, model)


# ---- refusals ---------------------------------------------------------------------------


def test_snowflake_refuses_escapes_inside_classes() -> None:
    """`[\\d-]` is spelled out (`[0-9-]`); an escaped `]` inside [...] cannot be."""
    spelled = model_of(
        "model m\nlead { id: string key, t: string? }\nscore s { when t matches /[\\d-]+/: +1 }\n"
    )
    assert "'[0-9-]+'" in select_scores(spelled, "snowflake").sql(dialect="snowflake")
    model = model_of(
        "model m\nlead { id: string key, t: string? }\nscore s { when t matches /[\\]-]+/: +1 }\n"
    )
    with pytest.raises(UnsupportedConstruct) as raised:
        select_scores(model, "snowflake")
    assert raised.value.diagnostic.code == "E501" and "snowflake" in raised.value.diagnostic.message
    for dialect in ("duckdb", "postgres", "bigquery"):
        select_scores(model, dialect)


def test_postgres_refuses_names_it_would_truncate() -> None:
    label = "a label long enough that the rule id passes sixty-three bytes"
    model = model_of(
        f'model m\nlead {{ id: string key, t: string? }}\nscore s {{ when t == "x": +1 "{label}" }}\n'
    )
    with pytest.raises(UnsupportedConstruct) as raised:
        select_scores(model, "postgres")
    assert raised.value.diagnostic.code == "E502"
    select_scores(model, "duckdb")


def test_case_folding_targets_refuse_names_equal_but_for_case() -> None:
    model = load(COVERAGE)
    twin = dataclasses.replace(
        model, flags=(*model.flags, ir.Flag("HOT", ir.Literal(True, ir.Type.BOOL)))
    )
    for dialect in ("duckdb", "bigquery"):
        with pytest.raises(UnsupportedConstruct, match="E502"):
            select_scores(twin, dialect)
    select_scores(twin, "postgres")


def test_unknown_target() -> None:
    with pytest.raises(UnsupportedConstruct) as raised:
        select_scores(load(COVERAGE), "oracle")
    assert raised.value.diagnostic.code == "E503" and "duckdb" in (
        raised.value.diagnostic.hint or ""
    )


# ---- configuration ----------------------------------------------------------------------


def test_config_reads_sources(tmp_path: Path) -> None:
    path = tmp_path / "scorelang.toml"
    path.write_text(
        '[sources]\nschema = "my-proj.raw"\nleads_table = "crm"\nevent_time_zoned = false\n'
        '[sources.columns]\nemployees = "staff"\n'
    )
    mapping = load_config(path).sources
    assert (mapping.schema_parts, mapping.leads_table, mapping.events_table) == (
        ("my-proj", "raw"),
        "crm",
        "events",
    )
    assert mapping.event_time_zoned is False and SourceMapping().event_time_zoned is None
    assert (mapping.column("employees"), mapping.column("email")) == ("staff", "email")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sources]\nleads_table = "x; DROP TABLE y"\n', "leads_table"),
        ('[sources]\nleads = "crm"\n', "unknown key"),
        ('[sources.columns]\nemail = " "\n', "columns.email"),
        ("[sources\n", "invalid TOML"),
        ("[target]\nx = 1\n", "unknown section"),
        ('[sources]\nevent_time_zoned = "yes"\n', "event_time_zoned = 'yes' is not a boolean"),
    ],
)
def test_config_rejects_bad_names(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "scorelang.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_config_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None).sources == SourceMapping()
    with pytest.raises(ConfigError, match="no such"):
        load_config(tmp_path / "missing.toml")


def test_fixture_times_are_pinned() -> None:
    assert ago(days=1) == NOW - timedelta(days=1) and AS_OF.tzinfo is UTC


# ---- the command ------------------------------------------------------------------------


def run_cli(*args: str):
    from typer.testing import CliRunner

    from scorelang.cli import app

    return CliRunner().invoke(app, ["compile", *args])


def test_compile_prints_the_ddl() -> None:
    path = ROOT / "examples" / "b2b_saas" / "model.score"
    result = run_cli(str(path), "--target", "postgres", "--as-of", "2026-01-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert result.stdout == render_ddl(load(path), "postgres", as_of=AS_OF)


def test_compile_writes_a_file_with_schema_and_config(tmp_path: Path) -> None:
    config = tmp_path / "scorelang.toml"
    config.write_text('[sources]\nschema = "raw"\nevents_table = "web_events"\n')
    result = run_cli(
        str(COVERAGE),
        "-t",
        "bigquery",
        "--out",
        str(tmp_path / "out"),
        "--schema",
        "marts",
        "--config",
        str(config),
    )
    assert result.exit_code == 0, result.output
    sql = (tmp_path / "out" / "coverage.bigquery.sql").read_text()
    assert (
        "CREATE OR REPLACE VIEW `marts`.`coverage_scores`" in sql
        and "FROM `raw`.`web_events` AS `e`" in sql
    )
    assert "CURRENT_TIMESTAMP()" in sql


def test_compile_takes_the_event_time_type_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "scorelang.toml"
    config.write_text("[sources]\nevent_time_zoned = false\n")
    result = run_cli(str(COVERAGE), "-t", "postgres", "--config", str(config))
    assert result.exit_code == 0, result.output
    sql = " ".join(result.stdout.split())
    assert "( CURRENT_TIMESTAMP AT TIME ZONE 'UTC' ) - INTERVAL '604800000000 MICROSECONDS'" in sql


def test_compile_reports_refusals_and_errors(tmp_path: Path) -> None:
    model = tmp_path / "m.score"
    model.write_text(
        "model m\nlead { id: string key, t: string? }\nscore s { when t matches /[\\].]+/: +1 }\n"
    )
    result = run_cli(str(model), "--target", "snowflake")
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        "error[E501]" in result.stderr
        and "m.score:3:11" in result.stderr
        and "when t matches" in result.stderr
    )
    model.write_text("model m\nlead { id: string key }\nscore s { when nope > 1: +1 }\n")
    result = run_cli(str(model), "--target", "duckdb")
    assert result.exit_code == 1 and "unknown name" in result.stderr
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text('[sources]\nleads_table = "a b"\n')
    result = run_cli(str(COVERAGE), "--target", "duckdb", "--config", str(bad_config))
    assert result.exit_code == 1 and "leads_table" in result.stderr


def test_zoned_timestamps_and_session_time_zone(engine) -> None:
    """timestamptz columns and a non-UTC session give the same rows (ages are epoch-based)."""
    model = load(COVERAGE)
    engine.load(model, LEADS, EVENTS)
    expected = sql_rows(engine, model)
    prefix = f'"{engine.schema}".' if engine.schema else ""
    engine.execute("SET TimeZone = 'UTC'")
    for table, column in (("events", "occurred_at"), ("leads", "created_at")):
        engine.execute(f'ALTER TABLE {prefix}"{table}" ALTER COLUMN "{column}" TYPE TIMESTAMPTZ')
    engine.execute("SET TimeZone = 'America/New_York'")
    try:
        assert sql_rows(engine, model) == expected
    finally:
        engine.execute("SET TimeZone = 'UTC'")


_BOUNDS = """model m
lead { id: string key }
event v { }
event w { }
score s {
  when v within 7d: +1
  when count(v within 7d) >= 2: +2
  when no v within 30d: +4
  when no activity within 7d: +8
  when w between 7d and 14d ago: +16
  each v between 7d and 14d ago: +32
}
"""


# Each lead's events at or one microsecond from a bound of _BOUNDS, and its expected score.
_AT_BOUNDS = {
    "at7": ([(7, 0), (7, 0)], 8 + 16 + 2 * 32),  # exactly 7d: not within 7d, inside 7d-14d ago
    "in7": ([(7, -1), (14, 0)], 1),
    "at14": ([(14, 0), (30, 0)], 8),  # exactly 14d: outside between 7d and 14d
    "in14": ([(14, -1), (7, 1)], 8 + 16 + 2 * 32),
    "at30": ([(30, 0)], 4 + 8),  # exactly 30d: not within 30d
    "in30": ([(30, -1)], 8),
    "now": ([(0, 0)], 1),
    "after": ([(0, -1)], 4 + 8),  # after as_of: does not exist
}


def at_bounds(now: datetime) -> tuple[list[dict], list[dict]]:
    """_AT_BOUNDS' leads and events (naive UTC times) for an as_of of `now` (naive UTC)."""
    leads = [{"id": key} for key in _AT_BOUNDS]
    events = [
        {
            "lead_id": key,
            "event_type": kind,
            "occurred_at": now - timedelta(days=days, microseconds=micros),
        }
        for key, (times, _score) in _AT_BOUNDS.items()
        for days, micros in times
        for kind in ("v", "w")
    ]
    return leads, events


def make_zoned(engine) -> None:
    """The events' time column as a timestamp with time zone (read from UTC)."""
    prefix = f'"{engine.schema}".' if engine.schema else ""
    engine.execute("SET TimeZone = 'UTC'")
    engine.execute(f'ALTER TABLE {prefix}"events" ALTER COLUMN "occurred_at" TYPE TIMESTAMPTZ')


SESSION_ZONES = ("UTC", "America/New_York", "Asia/Kolkata")


@pytest.mark.parametrize("zoned", [False, True], ids=["naive", "zoned"])
def test_window_bounds_are_exact_whatever_the_column_type_and_session_zone(
    engine, zoned: bool
) -> None:
    """A pinned as_of bounds windows by instant literals (`at > '...+00'`), which the engine
    reads in the column's type: exact to the microsecond for naive (UTC) and zoned columns, in
    any session time zone, and for an as_of given in another zone, like the Python target."""
    model = model_of(_BOUNDS)
    as_of = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=ZoneInfo("Asia/Kolkata"))
    leads, events = at_bounds(as_of.astimezone(UTC).replace(tzinfo=None))
    engine.load(model, leads, events)
    if zoned:
        make_zoned(engine)
    expected = python_rows(model, leads, events, as_of)  # naive times are UTC
    assert {k: r["s"] for k, r in expected.items()} == {k: s for k, (_, s) in _AT_BOUNDS.items()}
    try:
        for zone in SESSION_ZONES:
            engine.execute(f"SET TimeZone = '{zone}'")
            assert_same_rows(model, expected, sql_rows(engine, model, as_of=as_of))
    finally:
        engine.execute("SET TimeZone = 'UTC'")


@pytest.mark.parametrize("zoned", [False, True], ids=["naive", "zoned"])
def test_a_view_for_now_bounds_windows_in_the_column_type(engine, zoned: bool) -> None:
    """Unpinned (a view's as_of is the query's now) with the event-time column's type known,
    windows are bounded by now in that type minus an exact interval: the Python evaluator's
    scores at the transaction's now, to the microsecond, in any session time zone."""
    model = model_of(_BOUNDS)
    mapping = SourceMapping(schema=engine.schema, event_time_zoned=zoned)
    sql = select_scores(model, engine.dialect, mapping=mapping).sql(dialect=engine.dialect)
    assert "CURRENT_TIMESTAMP" in sql and '"event_time" >' in sql and '"age_us" <' not in sql
    now_us = exp.select(get_dialect(engine.dialect).epoch_us(exp.CurrentTimestamp()))
    engine.execute("BEGIN TRANSACTION")  # CURRENT_TIMESTAMP: the transaction's start
    try:
        (now,) = engine.execute(now_us.sql(dialect=engine.dialect))[0]
        as_of = datetime(1970, 1, 1) + timedelta(microseconds=now)  # naive UTC
        leads, events = at_bounds(as_of)
        engine.load(model, leads, events)
        if zoned:
            make_zoned(engine)
        expected = python_rows(model, leads, events, as_of.replace(tzinfo=UTC))
        assert {k: r["s"] for k, r in expected.items()} == {
            k: s for k, (_, s) in _AT_BOUNDS.items()
        }
        for zone in SESSION_ZONES:
            engine.execute(f"SET TimeZone = '{zone}'")
            assert_same_rows(model, expected, engine.rows(sql))
    finally:
        engine.execute("ROLLBACK")
        engine.execute("SET TimeZone = 'UTC'")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_time_type_matters_only_to_views_for_now_that_bound_by_instants(dialect: str) -> None:
    """A pinned as_of's literal bound fits either column type; BigQuery and Snowflake test
    ages: knowing the column's type changes nothing there."""
    model = model_of(_BOUNDS)
    known = SourceMapping(event_time_zoned=True)
    for as_of in (AS_OF, None):
        changed = select_scores(model, dialect, as_of=as_of, mapping=known) != select_scores(
            model, dialect, as_of=as_of
        )
        assert changed is (as_of is None and dialect in ("duckdb", "postgres"))


def test_a_view_for_now_tests_ages_beyond_a_millennium() -> None:
    """now - 1,150 years could leave Postgres' timestamp range: that window tests ages."""
    source = "model m\nlead { id: string key }\nevent v { }\nscore s { when v within 60000w: +1 }\n"
    known = SourceMapping(event_time_zoned=True)
    sql = select_scores(model_of(source), "postgres", mapping=known).sql(dialect="postgres")
    assert '"age_us" < 36288000000000000' in sql and '"event_time" >' not in sql


def test_sequences_of_integer_keyed_leads(engine) -> None:
    """The sequence window sorts text keys in the C collation (Postgres); an integer key has
    no collation and is partitioned as it is."""
    model = model_of(
        "model m\nlead { id: int key }\nevent a { }\nevent b { }\n"
        "score s { when a then b within 1d: +1 }\n"
    )
    leads = [{"id": i} for i in (1, 2, 3)]
    events = [
        {"lead_id": 1, "event_type": "a", "occurred_at": ago(days=3)},
        {"lead_id": 1, "event_type": "b", "occurred_at": ago(days=2)},  # exactly 1d later
        {"lead_id": 2, "event_type": "b", "occurred_at": ago(days=3)},  # b before a
        {"lead_id": 2, "event_type": "a", "occurred_at": ago(days=2)},
    ]
    engine.load(model, leads, events)
    expected = python_rows(model, leads, events, AS_OF)
    assert {k: r["s"] for k, r in expected.items()} == {1: 1, 2: 0, 3: 0}
    assert_same_rows(model, expected, sql_rows(engine, model))


_event_times = st.integers(min_value=-2 * 86_400_000_000, max_value=60 * 86_400_000_000).map(
    lambda us: NOW - timedelta(microseconds=us)
)
_random_events = st.lists(
    st.builds(
        lambda lead_id, kind, at, url, duration, amount: {
            "lead_id": lead_id,
            "event_type": kind,
            "occurred_at": at,
            "url": url,
            "duration": duration,
            "amount": amount,
            "campaign": "c",
            "form": "f",
            "asset": "a",
        },
        st.sampled_from([lead["id"] for lead in LEADS]),
        st.sampled_from(["page_view", "email_open", "form_submit", "download", "demo"]),
        st.one_of(
            _event_times,
            st.sampled_from([NOW, ago(days=7), ago(days=14), ago(days=45), ago(days=1)]),
        ),
        st.sampled_from(["/pricing", "/docs", "/a", None]),
        st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False)),
        st.one_of(st.none(), st.integers(min_value=-50, max_value=200)),
    ),
    max_size=40,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=_random_events)
def test_random_histories_match_python_in_duckdb(duck, events: list[dict[str, Any]]) -> None:
    model = load(COVERAGE)
    duck.load(model, LEADS, events)
    assert_same_rows(model, python_rows(model, LEADS, events, AS_OF), sql_rows(duck, model))
