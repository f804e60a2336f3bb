"""`score --engine spark --out FILE` and its leaderboard: the file DuckDB writes, byte for byte
(CSV) or value for value and type for type (Parquet), and the same best leads and counts,
without bringing every score row to the driver: they still work when
spark.driver.maxResultSize is far smaller than the scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scorelang.compiler.frontend import compile_file
from test_spark import spark
from typer.testing import CliRunner

from scorelang import engines
from scorelang.cli import app
from scorelang.data import DataError
from scorelang.datagen import generate_batches, write

__all__ = ["spark"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
runner = CliRunner()


def cli_out(example: Path, engine: str, out: Path) -> Path:
    arguments = ["score", str(example / "model.score"), "--engine", engine, "--out", str(out)]
    arguments += ["--leads", str(example / "leads.csv"), "--events", str(example / "events.csv")]
    if (example / "accounts.csv").exists():  # a model with an account (examples/abm)
        arguments += ["--accounts", str(example / "accounts.csv")]
    result = runner.invoke(app, [*arguments, "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"with {engine} as of" in result.output
    return out


def contents(parquet: Path) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Column names and types, and the rows in order. Not the NOT NULL marks: each engine
    marks the columns it can prove never missing (Postgres's and Python's files none)."""
    table = pq.read_table(parquet)
    return [(field.name, str(field.type)) for field in table.schema], table.to_pylist()


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_spark_writes_the_files_duckdb_writes(spark: Any, example: str, tmp_path: Path) -> None:
    folder = EXAMPLES / example
    duck, sparks = (cli_out(folder, e, tmp_path / f"{e}.csv") for e in ("duckdb", "spark"))
    assert sparks.read_bytes() == duck.read_bytes()
    duck, sparks = (cli_out(folder, e, tmp_path / f"{e}.parquet") for e in ("duckdb", "spark"))
    assert contents(sparks) == contents(duck)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_spark_ranks_and_counts_as_duckdb_does(spark: Any, example: str) -> None:
    folder = EXAMPLES / example
    model = compile_file(folder / "model.score").model
    assert model is not None
    files = {"leads": folder / "leads.csv", "events": folder / "events.csv", "as_of": AS_OF}
    if model.account is not None:
        files["accounts"] = folder / "accounts.csv"
    for by in (None, *model.score_names):
        boards = (engines.leaderboard(model, e, by, 7, **files) for e in ("duckdb", "spark"))
        assert next(boards) == next(boards)


@pytest.fixture
def tiny_result_size(spark: Any) -> Iterator[None]:
    """spark.driver.maxResultSize set to 64 KiB in the running context (new jobs read it),
    and no broadcast joins (a broadcast table is collected on the driver too; at millions of
    leads none is small enough to be broadcast); then both put back."""
    conf = spark.sparkContext._conf  # the live SparkConf, not a copy
    limit = conf.get("spark.driver.maxResultSize", "1g")
    broadcast = spark.conf.get("spark.sql.autoBroadcastJoinThreshold")
    conf.set("spark.driver.maxResultSize", "64k")
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        yield
    finally:
        conf.set("spark.driver.maxResultSize", limit)
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", broadcast)


def test_no_path_brings_every_score_row_to_the_driver(
    spark: Any, tiny_result_size: None, tmp_path: Path
) -> None:
    """4,000 leads' scores exceed the limit: collecting them fails, as it did at 10M leads
    with the default 1 GB; the file and the leaderboard do not collect them."""
    model = compile_file(EXAMPLES / "b2b_saas" / "model.score").model
    assert model is not None
    leads, events = write(generate_batches(model, 4_000, seed=3, events_per_lead=2), tmp_path)
    files = {"leads": leads, "events": events, "as_of": AS_OF}
    with pytest.raises(DataError, match="maxResultSize"):
        engines.score(model, "spark", **files)
    for name in ("spark.parquet", "duckdb.parquet"):
        engine = name.split(".")[0]
        assert engines.write_scores(model, engine, tmp_path / name, **files) == 4_000
    assert contents(tmp_path / "spark.parquet") == contents(tmp_path / "duckdb.parquet")
    board = engines.leaderboard(model, "spark", "total", 10, **files)
    assert board == engines.leaderboard(model, "duckdb", "total", 10, **files)
    assert board.leads == 4_000
