"""Score with Spark SQL: files read and validated by Spark itself (`spark_files`, the
shared loader's rules and messages), or the mapping's tables in the session's catalog read
as they are; the scores query runs in Spark.

Sessions: `local[*]` by default (PySpark and Java 17+), a master URL (`spark://...`,
`yarn`, `local[N]`), or Spark Connect (`sc://...`). SCORELANG_SPARK_MEMORY sets the driver's
heap (default 4g) when this process starts the JVM. The session time zone is set to UTC: a
TIMESTAMP_NTZ column is read as UTC wall time, as the Python evaluator reads a naive time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, LoadReport, create_schema
from ..targets.sql import select_scores
from .rows import to_rows
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


def run_scores(
    spark: Any, model: ir.Model, as_of: datetime | None, mapping: SourceMapping
) -> list[dict[str, Any]]:
    sql = select_scores(model, DIALECT, as_of=as_of, mapping=mapping).sql(dialect=DIALECT)
    try:
        result = spark.sql(sql).toArrow()
    except failures() as error:
        raise DataError(f"the scores query failed in Spark: {reason(error)}") from error
    records = [tuple(row.values()) for row in result.to_pylist()]
    return to_rows(model, result.column_names, records)


def score(
    model: ir.Model,
    *,
    leads: Path | None,
    events: Path | None,
    database: str | None,
    as_of: datetime | None,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None = None,
) -> list[dict[str, Any]]:
    """Files (when given) become temporary views; otherwise the session's catalog is read."""
    spark = session(database)
    if leads is None or events is None:
        return run_scores(spark, model, as_of, mapping)
    report = load_spark(spark, model, leads, events, mapping)
    if on_load is not None:
        on_load(report)
    return run_scores(spark, model, as_of, dataclasses.replace(mapping, schema=None))


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
