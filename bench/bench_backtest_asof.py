"""Benchmark `scorelang backtest --as-of-column` (each lead at its own time) per engine.

    python bench/bench_backtest_asof.py                       # 100k leads, python and duckdb
    python bench/bench_backtest_asof.py --leads 20000 --runs 1
    python bench/bench_backtest_asof.py --engines python,duckdb,postgres   # $SCORELANG_PG_URL

Deterministic data (scorelang.datagen, seed 7, ~12 events per lead, bench_cli's files) gets an
outcome column (`won`, a quarter of the leads by hash of the key). Then, side by side in one
run (median of --runs runs, taking turns), the whole command as a user runs it, start to end,
with its peak RSS (GNU time's maximum resident set size):

    scorelang backtest MODEL --leads L --events E --outcome won \\
        --as-of-column "created_at + 14d" --format json --engine ENGINE

The Python engine scores the leads grouped by instant; the SQL engines evaluate every lead at
its own instant in one query. The JSON reports of all engines must be equal (the script exits
otherwise), and the ratio of each engine's time to DuckDB's is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from functools import partial
from pathlib import Path

import duckdb
from bench_cli import ROOT, data_files, interleaved, run_child
from rich.console import Console
from rich.table import Table
from scorelang.compiler.frontend import compile_file

OUTCOME = "won"


def with_outcome(leads: Path, out: Path) -> Path:
    """The leads file plus the outcome column."""
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT *, CAST(hash(id) % 4 = 0 AS INTEGER) AS {OUTCOME} "
            f"FROM '{leads}') TO '{out}' (FORMAT parquet)"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events-per-lead", type=float, default=12.0)
    parser.add_argument("--engines", default="python,duckdb")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--as-of-column", default="created_at + 14d")
    parser.add_argument("--data", type=Path, help="reuse bench_cli's generated files here")
    parser.add_argument(
        "--model", type=Path, default=ROOT / "examples" / "b2b_saas" / "model.score"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("SCORELANG_PG_URL"), help="default: $SCORELANG_PG_URL"
    )
    args = parser.parse_args()
    model = compile_file(args.model).model
    if model is None:
        sys.exit(f"{args.model} does not compile")
    engines = args.engines.split(",")
    if "postgres" in engines and not args.pg_url:
        sys.exit("postgres needs --pg-url or SCORELANG_PG_URL")
    console = Console(width=max(Console().width, 120))
    with tempfile.TemporaryDirectory(prefix="scorelang-bench-") as scratch:
        folder = Path(scratch)
        files = data_files(model, args.leads, args.data or folder, args.events_per_lead, console)
        leads, events = files["parquet"]
        leads = with_outcome(leads, folder / "leads_won.parquet")
        scorelang = str(Path(sys.executable).parent / "scorelang")
        common = [scorelang, "backtest", str(args.model), "--leads", str(leads)]
        common += ["--events", str(events), "--outcome", OUTCOME]
        common += ["--as-of-column", args.as_of_column, "--format", "json"]
        commands = {}
        for engine in engines:
            server = ["--database", args.pg_url] if engine == "postgres" else []
            command = [*common, "--engine", engine, *server]
            report = folder / f"{engine}.json"
            # Through a shell that writes the report: GNU time's peak is its largest child's.
            commands[engine] = ["sh", "-c", f"{shlex.join(command)} > {shlex.quote(str(report))}"]
        with console.status(f"backtest of {args.leads:,} leads"):
            timed = interleaved(
                {engine: partial(run_child, command) for engine, command in commands.items()},
                args.runs,
            )
        reports = {e: json.loads((folder / f"{e}.json").read_text()) for e in engines}
    first = reports[engines[0]]
    if any(report != first for report in reports.values()):
        sys.exit("the engines' backtest reports differ")
    reference = timed["duckdb"].seconds if "duckdb" in timed else None
    table = Table(
        title=f"backtest --as-of-column '{args.as_of_column}', {args.leads:,} leads, "
        f"median of {args.runs}"
    )
    for heading in ("engine", "seconds", "peak MB", "vs duckdb"):
        table.add_column(heading, justify="right")
    for engine, t in timed.items():
        ratio = f"{t.seconds / reference:.2f}x" if reference else "n/a"
        table.add_row(engine, f"{t.seconds:.2f}", f"{t.peak_mb:.0f}", ratio)
        console.print(
            f"{engine} {args.leads:,} leads: backtest {t.seconds:.3f}s "
            f"(peak {t.peak_mb:.0f} MB), {ratio} of duckdb"
        )
    console.print(table)
    console.print(f"same report on {', '.join(engines)}: AUC {first['scores'][-1]['auc']:.4f}")


if __name__ == "__main__":
    main()
