"""Spark parity, executed on local PySpark (`local[*]`, ANSI mode, session time zone UTC):
every example and the parity edge fixture through `score --engine spark`, the coverage model
through its deployable views in a Spark catalog, and a bounded number of the differential
random models; every output column must equal the Python evaluator's to the cent.

Spark starts once per test session (`getOrCreate`). Without PySpark these tests skip
locally and fail in CI (env CI set), like Postgres; scripts/test installs the `spark` extra.
"""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import re2
import test_sql_build
from hypothesis import given, note
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.compiler.regex import ascii_case_insensitive
from scorelang.targets.sql import UnsupportedConstruct, render_ddl
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.expressions import round_half_away
from sql_fixture import EVENTS, LEADS, column_types
from sqlglot import exp
from strategies import Generated, compile_model, generated, settings_for, write_data
from strategies import differences as engine_differences
from test_parity import AS_OF, case, differences, python_rows

from scorelang.config import SourceMapping
from scorelang.engines import apply, score
from scorelang.engines import spark as spark_engine
from scorelang.engines.spark_files import SPARK_TYPES  # as a Databricks user declares them

__all__ = ["case", "python_rows"]  # test_parity's fixtures: the same cases and expected rows

CI_EXAMPLES = 8  # random models on Spark: ~1 s each once the session is up


@pytest.fixture(scope="session")
def spark() -> Any:
    """The local Spark session; no PySpark is a failure in CI and a skip elsewhere."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Spark tests cannot run in CI: PySpark is not installed")
        pytest.skip("Spark tests skipped: pip install -e '.[spark]' (and Java 17+)")
    return spark_engine.session()


def test_spark_matches_python(
    spark: Any, case: tuple[ir.Model, Path, Path], python_rows: list[dict[str, Any]]
) -> None:
    """The CSV files read and validated by Spark (engines/spark_files), scored by the Spark
    SQL of `score --engine spark`."""
    model, leads, events = case
    rows = score(model, "spark", leads=leads, events=events, as_of=AS_OF)
    assert differences(model, python_rows, rows) == []


def aware(value: Any) -> Any:
    """A naive fixture time is UTC; PySpark would read it in the process's local zone."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and not value.tzinfo else value


def test_spark_views_of_coverage_model_match_python(spark: Any) -> None:
    """The SQL target's every-construct model on its boundary data set, as tables in a
    fresh Spark database, its views created by `apply` (the deployable DDL)."""
    model = compile_file(test_sql_build.COVERAGE).model
    assert model is not None
    database = f"scorelang_{uuid.uuid4().hex[:12]}"
    spark.sql(f"CREATE DATABASE {database}")
    try:
        for name, columns, rows in zip(
            ("leads", "events"), column_types(model, "spark"), (LEADS, EVENTS), strict=True
        ):
            schema = ", ".join(f"`{c}` {SPARK_TYPES[t]}" for c, t in columns.items())
            data = [tuple(aware(row.get(c)) for c in columns) for row in rows]
            spark.createDataFrame(data, schema).write.saveAsTable(f"{database}.{name}")
        mapping = SourceMapping(schema=database)
        views = apply(model, "local[*]", mapping=mapping, schema=database)
        assert views[-1] == f"`{database}`.`{model.name}_scores`"
        pinned = render_ddl(model, "spark", as_of=AS_OF, mapping=mapping, schema=database)
        for statement in pinned.split("\n\n"):
            if statement.startswith("CREATE"):
                spark.sql(statement.rstrip(";"))
        result = spark.sql(f"SELECT * FROM {views[-1]}").toArrow()
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")
    actual = {row[model.key]: row for row in result.to_pylist()}
    expected = test_sql_build.python_rows(model, LEADS, EVENTS, AS_OF)
    test_sql_build.assert_same_rows(model, expected, actual)


@settings_for(CI_EXAMPLES)
@given(case=generated())
def test_random_models_score_alike_on_spark(spark: Any, case: Generated) -> None:
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-spark-diff-") as folder:
        leads, events = write_data(Path(folder), case.leads, case.events)
        rows = {
            engine: score(model, engine, leads=leads, events=events, as_of=AS_OF)
            for engine in ("python", "spark")
        }
    assert not engine_differences(model, rows), "\n".join(engine_differences(model, rows))


# Where java.util.regex differs from RE2 by default: `$` before a final newline, `.` at \r
# and U+2028, `\s` at \x0B, `\b` after a non-ASCII letter, `[` and `&&` inside a class.
JAVA_PATTERNS = [r"x$", r"a.b", r"\s", r"[[]", r"[a&&b]", r"\bb", r"[\s]"]
JAVA_SUBJECTS = ["x\n", "a\rb", "a\u2028b", "\x0b", "[", "&", "éb", "b"]


def test_regexes_mean_what_re2_means_in_spark(spark: Any) -> None:
    dialect = get_dialect("spark")
    for fold in (str, ascii_case_insensitive):
        pairs = [
            (fold(p), s)
            for patterns, subjects in (
                (test_sql_build.PATTERNS, test_sql_build.SUBJECTS),
                (JAVA_PATTERNS, JAVA_SUBJECTS),
            )
            for p in patterns
            for s in subjects
        ]
        tests = [dialect.regex_search(exp.Literal.string(s), p) for p, s in pairs]
        (row,) = spark.sql(exp.select(*tests).sql(dialect="spark")).collect()
        mismatches = [
            (p, s) for (p, s), got in zip(pairs, row, strict=True) if got != bool(re2.search(p, s))
        ]
        assert not mismatches


def test_regex_spark_cannot_mean_alike_is_refused() -> None:
    model = compile_model(
        "model m\nlead { id: string key, t: string? }\nscore s { when t matches /[^a\\S]/: +1 }\n"
    )
    with pytest.raises(UnsupportedConstruct, match="cannot be compiled for spark"):
        render_ddl(model, "spark")


def test_rounding_matches_python_in_spark(spark: Any) -> None:
    """ROUND of a DECIMAL is HALF_UP (away from zero); a double becomes the decimal it prints
    as (Java's Double.toString) first: the half cents of test_sql_build, at every magnitude."""
    rng = random.Random(5)
    values = [*test_sql_build.ROUNDING, 4503599627370495.5, 2.0**52, 1e29, -3.5e30, 1e300]
    values += [
        rng.randrange(-(10**digits), 10**digits) + rng.choice((0.005, 0.125, 0.285, 0.675, 0.995))
        for digits in range(14)
        for _ in range(300)
    ]
    dialect = get_dialect("spark")
    rounded = round_half_away(dialect, dialect.cast_double(exp.column("x")), 2)
    frame = spark.createDataFrame([(v,) for v in values], "x DOUBLE")
    rows = frame.selectExpr("x", rounded.sql(dialect="spark")).collect()
    assert [tuple(r) for r in rows if r[1] != ir.round_score(r[0])] == []


NASTY = [
    "it's",
    "back\\slash",
    "\\'; DROP TABLE leads; --",
    "new\nline",
    "tab\t",
    "é\u2028",
    "{{ x }}",
]


def test_string_literals_round_trip_in_spark(spark: Any) -> None:
    """Spark processes backslash escapes in literals: sqlglot's Spark literals must still
    mean the exact string (no injection, no lost backslash)."""
    query = exp.select(*(exp.Literal.string(s) for s in NASTY)).sql(dialect="spark")
    (row,) = spark.sql(query).collect()
    assert list(row) == NASTY
