"""Where the time of `scorelang score --out` goes, phase by phase, beside the floor query.

    python bench/profile_score.py --leads 1000000 --runs 3 --data /tmp/bench-data

On bench_cli's files (generated, or reused from --data), per format, taking turns: the
interpreter start with the CLI's imports and the model's compilation (a fresh process),
then `engines.write_scores(model, "duckdb", out, ...)` under cProfile, split into the load's
validation scan (`data.check_columns`), its counts (`data.count_where`: rows, and for a
Parquet file read in place whether every event's lead is known), the rest of the load
(typed tables or views: `data.load_duckdb` minus those) and the query with its COPY
(`engines.duckdb.copy_to`); and bench_cli's floor. Medians of --runs, and each phase as a multiple of the floor.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import AS_OF, ROOT, data_files, floor
from rich.console import Console
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file

from scorelang.engines import write_scores

PHASES = {
    "validation scan": ("data.py", "check_columns"),
    "counts": ("data.py", "count_where"),
    "load": ("data.py", "load_duckdb"),
    "query + COPY": ("duckdb.py", "copy_to"),
}
MODEL = ROOT / "examples" / "b2b_saas" / "model.score"
STARTED = (
    "import scorelang.cli, scorelang.engines.duckdb\n"
    "from scorelang.compiler.frontend import compile_file\n"
    f"compile_file({str(MODEL)!r})"
)


def started() -> float:
    """Seconds to start the interpreter, import the CLI and compile the model in a fresh
    process, as `scorelang score` does (the grammar from its cache, as after a first run)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", STARTED], check=True)
    return time.perf_counter() - start


def phases(model: ir.Model, leads: Path, events: Path, out: Path) -> dict[str, float]:
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.runcall(write_scores, model, "duckdb", out, leads=leads, events=events, as_of=AS_OF)
    total = time.perf_counter() - start
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    cumulative = {
        name: sum(
            entry[3]
            for (file, _line, function), entry in stats.items()
            if file.endswith(suffix) and function == wanted
        )
        for name, (suffix, wanted) in PHASES.items()
    }
    cumulative["load"] -= cumulative["validation scan"] + cumulative["counts"]
    return {
        "validation scan": cumulative["validation scan"],
        "counts": cumulative["counts"],
        "typed tables": cumulative["load"],
        "query + COPY": cumulative["query + COPY"],
        "other": total - sum(cumulative.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--data", type=Path, help="bench_cli's --data folder, to reuse its files")
    args = parser.parse_args()
    model = compile_file(MODEL).model
    console = Console()
    with tempfile.TemporaryDirectory(prefix="scorelang-profile-") as scratch:
        folder = Path(scratch)
        files = data_files(model, args.leads, args.data or folder, 12.0, console)
        for fmt in args.formats.split(","):
            leads, events = files[fmt]
            samples: dict[str, list[float]] = {}
            for _ in range(args.runs):
                taken = {"start, imports, compile": started()}
                taken |= phases(model, leads, events, folder / "out.parquet")
                start = time.perf_counter()
                floor(events, folder / "floor.parquet")
                taken["floor"] = time.perf_counter() - start
                for name, seconds in taken.items():
                    samples.setdefault(name, []).append(seconds)
            medians = {name: statistics.median(s) for name, s in samples.items()}
            bottom = medians.pop("floor")
            whole = sum(medians.values())
            print(f"{args.leads:,} leads {fmt}: floor {bottom:.2f} s, score {whole:.2f} s")
            for name, seconds in medians.items():
                print(
                    f"  {name:16} {seconds:7.2f} s  {seconds / whole:6.1%}  "
                    f"{seconds / bottom:5.2f}x the floor"
                )


if __name__ == "__main__":
    main()
