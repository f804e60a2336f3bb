"""Score with Spark SQL: files read and validated by Spark itself (`spark_files`, the
shared loader's rules and messages), or the mapping's tables in the session's catalog read
as they are; the scores query runs in Spark. A file of scores is written by Spark's
executors and a leaderboard ranked by Spark: only the rows shown cross to the driver.

Sessions: `local[*]` by default (PySpark and Java 17+), a master URL (`spark://...`,
`yarn`, `local[N]`), or Spark Connect (`sc://...`). SCORELANG_SPARK_MEMORY sets the driver's
heap (default 4g) when this process starts the JVM. The session time zone is set to UTC: a
TIMESTAMP_NTZ column is read as UTC wall time, as the Python evaluator reads a naive time.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, create_schema, table
from . import duckdb as duck
from .rows import (
    Leaderboard,
    Request,
    ScoringTime,
    best_query,
    board_from,
    counts_query,
    scratch_name,
    to_rows,
    typed,
)
from .spark_files import failures, load_spark, reason
from .views import create_views

DIALECT = "spark"
LOCAL = "local[*]"
INSTALL = "the spark engine needs PySpark 4 and Java 17+: pip install 'scorelang[spark]'"


def session(master: str | None = None) -> Any:
    """The active Spark session (created once per process), its time zone set to UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(INSTALL) from None
    url = master or LOCAL
    builder = SparkSession.builder.appName("scorelang")
    builder = builder.remote(url) if url.startswith("sc://") else builder.master(url)
    spark = (
        # The local driver is the whole cluster; Spark's default 1g heap fails at 1M leads.
        builder.config("spark.driver.memory", os.environ.get("SCORELANG_SPARK_MEMORY", "4g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if not url.startswith("sc://"):  # its failures reach the user as DataErrors instead
        spark.sparkContext.setLogLevel("FATAL")
    return spark


def scores_query(
    model: ir.Model, as_of: ScoringTime, mapping: SourceMapping, entity: str = ir.LEAD
) -> exp.Select:
    return duck.entity_query(model, DIALECT, as_of, mapping, entity)


@contextmanager
def query_errors() -> Iterator[None]:
    """Failures of statements that read the source tables or the scores, as DataErrors."""
    try:
        yield
    except failures() as error:
        raise DataError(f"the scores query failed in Spark: {reason(error)}") from error


def collect(spark: Any, query: exp.Query) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A query's column names and rows, brought to Python: only for results known small."""
    with query_errors():
        frame = spark.sql(query.sql(dialect=DIALECT))
        return frame.columns, [tuple(row) for row in frame.collect()]


def prepare(
    model: ir.Model,
    *,
    leads: Path | None,
    events: Path | None,
    database: str | None,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None = None,
    accounts: Path | None = None,
) -> tuple[Any, SourceMapping]:
    """The session and the mapping that reads the source tables: files (when given) become
    temporary views; otherwise the session's catalog is read (an accounts table too)."""
    spark = session(database)
    if leads is None or events is None:
        return spark, mapping
    report = load_spark(spark, model, leads, events, mapping, accounts)
    if on_load is not None:
        on_load(report)
    return spark, dataclasses.replace(mapping, schema=None)


def score(
    model: ir.Model, *, as_of: ScoringTime, entity: str = ir.LEAD, **sources: Any
) -> list[dict[str, Any]]:
    """Every lead's (or account's) scores as Python rows: all of them cross to the driver,
    so past a few million leads write them to a file instead (write_scores)."""
    spark, mapping = prepare(model, **sources)
    return to_rows(model, *collect(spark, scores_query(model, as_of, mapping, entity)), entity)


def serve(
    model: ir.Model, requests: list[Request], *, as_of: ScoringTime, **sources: Any
) -> list[int | Leaderboard]:
    """Each request's result from one reading of the sources."""
    spark, mapping = prepare(model, **sources)
    return [fulfil(spark, model, r, as_of, mapping) for r in requests]


def fulfil(
    spark: Any,
    model: ir.Model,
    request: Request,
    as_of: ScoringTime,
    mapping: SourceMapping,
) -> int | Leaderboard:
    """A file: the rows written by Spark's executors as Parquet parts into a scratch folder,
    which DuckDB sorts by key and writes to `out`: no score row reaches the driver
    (spark.driver.maxResultSize bounds what may); the scratch folder is local, so a Spark
    Connect server must share this machine's file system. A leaderboard: the best rows and
    the counts, ranked and counted by Spark over the scores cached once (memory, then disk);
    only those rows reach the driver."""
    entity = request.entity
    query = scores_query(model, as_of, mapping, entity)
    if request.out is not None:
        with tempfile.TemporaryDirectory(prefix="scorelang-") as folder:
            parts = Path(folder) / "scores"
            with query_errors():
                typed_rows = typed(model, query, entity).sql(dialect=DIALECT)
                spark.sql(typed_rows).write.parquet(str(parts))
            source = exp.func("read_parquet", exp.Literal.string(str(parts / "*.parquet")))
            return duck.copy_sorted(model, source, request.out, entity)
    scratch = table(scratch_name(entity))
    cache = exp.Cache(this=scratch, lazy=False, expression=query)
    with query_errors():
        spark.sql(cache.sql(dialect=DIALECT))
    try:
        best = collect(spark, best_query(model, scratch, request.by, request.top, DIALECT, entity))
        _names, (counts,) = collect(spark, counts_query(model, scratch, entity))
    finally:
        # Dropping the temporary view also frees its cached data.
        spark.sql(exp.Drop(tables=[scratch], kind="VIEW", exists=True).sql(dialect=DIALECT))
    return board_from(model, best, counts, entity)


def apply(model: ir.Model, master: str, mapping: SourceMapping, schema: str | None) -> list[str]:
    """Create (or replace) the model's views in the session's catalog."""
    spark = session(master)
    statements = create_views(model, DIALECT, mapping, schema)
    try:
        if schema:
            spark.sql(create_schema(schema, DIALECT))
        for _name, sql in statements:
            spark.sql(sql)
    except failures() as error:
        raise DataError(f"Spark cannot create the views: {reason(error)}") from error
    return [name for name, _sql in statements]
