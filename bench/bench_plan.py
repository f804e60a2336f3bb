"""Benchmark two choices inside the compiled SQL (issue 16, item 6): the sequence branch and
Postgres JIT, on the b2b_saas model and bench_cli's data (datagen, ~12 events per lead).

    python bench/bench_plan.py --leads 100000 --runs 5
    python bench/bench_plan.py --leads 1000000 --runs 3 --engines postgres

The scores query is timed as `CREATE TEMPORARY TABLE .. AS` (every row computed in the
engine, nothing fetched), medians of --runs, the variants taking turns, in three forms:

- compiled:  `select_scores` as users run it (the sequence as a second scan of its event
             types with a window, ARCHITECTURE.md);
- join:      the same query with the sequence branch written by hand as a join of its two
             sides on the lead, `a.at <= b.at <= a.at + 3d` (the same answer, checked in the
             engine before timing: no row of one query is missing from the other);
- none:      the query without the sequence (its flag FALSE): not the same scores; it only
             says what the branch costs.

Postgres runs each form with `jit = on` (the server default) and `jit = off`. The SQL
builder is not changed here (targets/sql is another helper's); a form that wins is a
proposed change recorded in docs/performance.md with its figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from bench_cli import AS_OF, MAPPING, ROOT, data_files
from rich.console import Console
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import select_scores
from sqlglot import exp, parse_one

from scorelang.data import load_duckdb
from scorelang.engines import duckdb as duck
from scorelang.engines import postgres

SEQUENCE_CTES = ("sequence_scan", "sequenced", "sequence_agg")
# The model's one sequence, `content_download then demo_request within 3d`, written by hand.
JOIN = """
SELECT a.lead_id AS lead_key, TRUE AS {flag}
FROM events AS a JOIN events AS b ON a.lead_id = b.lead_id
WHERE a.event_type = 'content_download' AND b.event_type = 'demo_request'
  AND b.occurred_at <= TIMESTAMPTZ '{as_of}'
  AND a.occurred_at <= b.occurred_at
  AND b.occurred_at <= a.occurred_at + INTERVAL '{gap} seconds'
GROUP BY a.lead_id
"""


def variants(model: ir.Model, dialect: str) -> dict[str, str]:
    (sequence,) = [a for a in model.aggregates if isinstance(a, ir.Sequence)]
    assert sequence.first.types == ("content_download",), "JOIN is written for b2b_saas"
    assert sequence.second.types == ("demo_request",) and sequence.gap == 3 * 86400
    compiled = select_scores(model, dialect, as_of=AS_OF, mapping=MAPPING)
    flag = f"agg_{sequence.id}"
    joined = compiled.copy()
    ctes = joined.args["with_"].expressions
    hand = JOIN.format(flag=flag, as_of=AS_OF.isoformat(), gap=int(sequence.gap))
    ctes[:] = [c for c in ctes if c.alias not in SEQUENCE_CTES[:2]]
    next(c for c in ctes if c.alias == "sequence_agg").set("this", parse_one(hand, dialect))
    without = compiled.copy()
    without.args["with_"].set(
        "expressions",
        [c for c in without.args["with_"].expressions if c.alias not in SEQUENCE_CTES],
    )
    for join in without.find_all(exp.Join):
        if join.this.name == "sequence_agg":
            join.pop()
    for column in without.find_all(exp.Column):
        if column.table == "sequence_agg":
            column.replace(exp.false())
    return {
        name: q.sql(dialect=dialect)
        for name, q in (("compiled", compiled), ("join", joined), ("none", without))
    }


def timed(execute: Callable[[str], object], settings: list[str], query: str) -> float:
    for setting in settings:
        execute(setting)
    execute("DROP TABLE IF EXISTS bench_plan_result")
    start = time.perf_counter()
    execute(f"CREATE TEMPORARY TABLE bench_plan_result AS {query}")
    return time.perf_counter() - start


def differences(fetch: Callable[[str], int], a: str, b: str) -> int:
    """Rows of one query missing from the other's, either way."""
    return fetch(
        f"SELECT COUNT(*) FROM (({a}) EXCEPT ALL ({b}) UNION ALL (({b}) EXCEPT ALL ({a}))) AS d"
    )


def measure(
    label: str,
    execute: Callable[[str], object],
    fetch: Callable[[str], int],
    queries: dict[str, str],
    settings: dict[str, list[str]],
    runs: int,
) -> None:
    differ = differences(fetch, queries["compiled"], queries["join"])
    if differ:
        sys.exit(f"{label}: the join form differs from the compiled query on {differ} rows")
    cases = {
        f"{q} {s}".strip(): (queries[q], setting)
        for q in queries
        for s, setting in settings.items()
    }
    for query, setting in cases.values():
        timed(execute, setting, query)  # warm-up, untimed
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (query, setting) in cases.items():
            samples[name].append(timed(execute, setting, query))
    medians = {name: statistics.median(taken) for name, taken in samples.items()}
    base = medians[next(iter(medians))]
    for name, seconds in medians.items():
        print(
            f"{label} {name:16} median {seconds:7.3f} s  {seconds / base:5.2f}x",
            f"(runs: {', '.join(f'{s:.3f}' for s in samples[name])})",
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument("--data", type=Path, help="bench_cli's --data folder, to reuse its files")
    parser.add_argument("--pg-url", default=os.environ.get("SCORELANG_PG_URL"))
    args = parser.parse_args()
    model = compile_file(ROOT / "examples" / "b2b_saas" / "model.score").model
    console = Console()
    with tempfile.TemporaryDirectory(prefix="scorelang-plan-") as scratch:
        leads, events = data_files(model, args.leads, args.data or Path(scratch), 12.0, console)[
            "csv"
        ]
        label = f"{args.leads:,} leads"
        if "duckdb" in args.engines:
            with duck.connect() as con:
                load_duckdb(con, model, leads, events, MAPPING, scored_only=True)
                measure(
                    f"duckdb {label}",
                    con.execute,
                    lambda sql: con.execute(sql).fetchone()[0],
                    variants(model, "duckdb"),
                    {"": []},
                    args.runs,
                )
        if "postgres" in args.engines:
            with psycopg.connect(args.pg_url, autocommit=True) as pg:
                pg.execute("SET TIME ZONE 'UTC'")
                postgres.load_postgres(pg, model, leads, events, MAPPING)
                measure(
                    f"postgres {label}",
                    pg.execute,
                    lambda sql: pg.execute(sql).fetchone()[0],
                    variants(model, "postgres"),
                    {"jit=on": ["SET jit = on"], "jit=off": ["SET jit = off"]},
                    args.runs,
                )


if __name__ == "__main__":
    main()
