"""bench_spark stays runnable (figures are not checked: they belong to bench/): both engines
side by side on a few hundred leads, growth from one size to the next, and the stop when
memory runs short for the others on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from test_spark import spark  # noqa: F401  (skips without PySpark, fails in CI)

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_spark.py"


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )


def test_both_engines_side_by_side(spark: Any) -> None:  # noqa: F811
    done = bench("--sizes", "300", "--engines", "duckdb,spark")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "spark / duckdb at 300 leads: time" in done.stdout


def test_growth_from_one_size_to_the_next(tmp_path: Path) -> None:
    done = bench("--sizes", "200,400", "--engines", "duckdb", "--data", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "duckdb from 200 to 400 leads (2x): time" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["200-12", "400-12"]  # kept


def test_stops_when_memory_runs_short() -> None:
    done = bench("--sizes", "200", "--engines", "duckdb", "--min-free-gb", "1000000")
    assert done.returncode != 0
    assert "stopped duckdb at 200 leads: available memory fell under 1000000 GB" in done.stderr
