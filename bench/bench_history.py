"""Benchmark `scorelang history` as a user times it: 30 daily instants against one.

    python bench/bench_history.py                       # 100k leads, DuckDB, 3 runs
    python bench/bench_history.py --leads 20000 --runs 1
    python bench/bench_history.py --data /tmp/bench-data  # generate once, reuse later

Deterministic data (scorelang.datagen, seed 7, ~12 events per lead, as bench_cli.py makes
it) as Parquet. Then, side by side in one run (median of --runs runs, taking turns), the
whole command as a subprocess, start to end (interpreter start, compile, load and
validation, the one query, the Parquet file of every row), with its peak RSS:

- one:    `scorelang history MODEL --from T --to T --out out.parquet` (one instant);
- many:   `scorelang history MODEL --from T-29d --to T --every 1d --out out.parquet`.

Target (issue 17, docs/performance.md): many / one <= 8.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bench_cli import AS_OF, ROOT, data_files, interleaved, run_child
from rich.console import Console
from scorelang.compiler.frontend import compile_file

TARGET = 8.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, default=ROOT / "examples" / "b2b_saas" / "model.score"
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--instants", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events-per-lead", type=float, default=12.0)
    parser.add_argument("--data", type=Path, help="keep the generated files here and reuse them")
    args = parser.parse_args()
    compilation = compile_file(args.model)
    if compilation.model is None:
        sys.exit("\n".join(str(d) for d in compilation.diagnostics))
    console = Console()
    with tempfile.TemporaryDirectory(prefix="scorelang-bench-") as scratch:
        folder = args.data or Path(scratch)
        files = data_files(compilation.model, args.leads, folder, args.events_per_lead, console)
        leads, events = files["parquet"]
        scorelang = [str(Path(sys.executable).parent / "scorelang"), "history", str(args.model)]
        scorelang += ["--leads", str(leads), "--events", str(events)]
        end = AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")
        start = (AS_OF - timedelta(days=args.instants - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out = Path(scratch) / "out.parquet"
        commands = {
            "1 instant": [*scorelang, "--from", end, "--to", end, "--out", str(out)],
            f"{args.instants} instants": [
                *scorelang,
                *("--from", start, "--to", end, "--every", "1d", "--out", str(out)),
            ],
        }
        timed = interleaved(
            {name: lambda c=command: run_child(c) for name, command in commands.items()},
            args.runs,
        )
    one, many = timed.values()
    for name, result in timed.items():
        console.print(
            f"{name:>12}: {result.seconds:6.2f} s (median of {args.runs}), "
            f"peak RSS {result.peak_mb:.0f} MB"
        )
    ratio = many.seconds / one.seconds
    verdict = "within" if ratio <= TARGET else "over"
    console.print(
        f"{args.leads:,} leads, DuckDB: {args.instants} instants / 1 instant = {ratio:.2f}x "
        f"({verdict} the target of {TARGET:g}x)"
    )


if __name__ == "__main__":
    main()
