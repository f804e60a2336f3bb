"""The benchmarks stay runnable: each script, on a few hundred leads, end to end.

Their figures are not checked (timings belong to bench/, not to tests); what is checked is
that they run, that bench_sql's naive query computes the same rows as the compiled one on
both engines (it exits otherwise), and that every reference query appears in the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "400"},  # the report's lines unwrapped
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_bench_sql_runs_on_both_engines(pg_url: str) -> None:
    out = run(
        "bench_sql.py",
        "--sizes",
        "300",
        "--runs",
        "1",
        "--pg-url",
        pg_url,
        "--engines",
        "duckdb,postgres",
    )
    for engine in ("duckdb", "postgres"):
        line = next(line for line in out.splitlines() if line.startswith(f"{engine} 300 leads"))
        for query in ("floor", "filtered floor", "aggregates floor", "compiled", "naive", "view"):
            assert f"{query} " in line


def test_bench_python_runs() -> None:
    out = run("bench_python.py", "--leads", "200", "--runs", "1")
    assert "identical outputs on every lead" in out
    assert "ratio generated/hand-written" in out
