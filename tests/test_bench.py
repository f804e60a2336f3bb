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

import pytest
from sqlglot import exp

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


def test_bench_cli_runs_on_both_engines(pg_url: str) -> None:
    out = run("bench_cli.py", "--leads", "300", "--runs", "1", "--pg-url", pg_url)
    lines = out.splitlines()
    for fmt, reference in (("csv", "select"), ("csv", "floor"), ("parquet", "select")):
        assert any(
            line.startswith(f"duckdb 300 leads {fmt}: score ") and f"{reference} " in line
            for line in lines
        ), out
    assert any(
        line.startswith("postgres 300 leads csv: score ") and "psql " in line for line in lines
    )


def test_bench_plan_runs_on_both_engines(pg_url: str) -> None:
    """The hand-written sequence join is checked equal to the compiled query (it exits
    otherwise) and every form is timed, with and without Postgres JIT."""
    out = run("bench_plan.py", "--leads", "300", "--runs", "1", "--pg-url", pg_url)
    for engine, forms in (
        ("duckdb", ("compiled", "join", "none")),
        (
            "postgres",
            tuple(f"{f} jit={s}" for f in ("compiled", "join", "none") for s in ["on", "off"]),
        ),
    ):
        for form in forms:
            assert any(
                line.startswith(f"{engine} 300 leads {form} ") for line in out.splitlines()
            ), out


def test_bench_python_runs() -> None:
    out = run("bench_python.py", "--leads", "200", "--runs", "1")
    assert "identical outputs on every lead" in out
    assert "ratio generated/hand-written" in out


def test_the_aggregates_floor_reads_what_the_model_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference is only a lower bound for the model's plans if it reads every event
    column they read and computes as many aggregates as the compiled plan."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_sql
    from scorelang.compiler.frontend import compile_file

    model = compile_file(BENCH.parent / "examples" / "b2b_saas" / "model.score").model
    compiled = bench_sql.queries(model, "duckdb")["compiled"]
    floor = bench_sql.aggregates_floor_query(
        model, bench_sql.MAPPING, bench_sql.aggregate_count(compiled)
    )
    read = {c.this.name for c in floor.find_all(exp.Count) if isinstance(c.this, exp.Column)}
    assert read == {"url", "form"}
    assert len(list(floor.find_all(exp.Filter))) == bench_sql.aggregate_count(compiled) == 6


def test_bench_backtest_asof_runs_on_every_engine(pg_url: str) -> None:
    """It exits unless the three engines print the same backtest report."""
    engines = "python,duckdb,postgres"
    out = run(
        "bench_backtest_asof.py", "--leads", "300", "--runs", "1", "--engines", engines,
        "--pg-url", pg_url,
    )  # fmt: skip
    for engine in engines.split(","):
        assert any(line.startswith(f"{engine} 300 leads: backtest ") for line in out.splitlines())
    assert f"same report on {engines.replace(',', ', ')}" in out
