"""Spark local beside DuckDB: the whole `scorelang score` command, its time and peak memory.

    python bench/bench_spark.py                             # 100k and 1M leads
    nice -n 10 python bench/bench_spark.py --sizes 10000000 --events-per-lead 1.2

For each size the same deterministic data (scorelang.datagen, seed 7) is written as Parquet
in batches of 100k leads (one batch in memory at a time), then `scorelang score --engine E`
runs once per engine as a subprocess, writing its scores to a Parquet file. Time is the
command's wall time (start-up included: Spark's JVM is most of it at small sizes); peak
memory is the largest sum of resident memory over the command's process tree (the JVM is a
child of the Python process), sampled every 50 ms. Printed: the ratios spark / duckdb at each
size, and how each engine's time and memory grow from one size to the next.

The machine may be shared: when the available memory (MemAvailable) falls under
--min-free-gb, the running command is stopped and the bench ends, saying so.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from scorelang.compiler.frontend import compile_file

from scorelang.datagen import generate_batches, write

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * PAGE
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier += [child for child, parent in parents.items() if parent == pid]
    return total


def available() -> int:
    """Bytes of memory the kernel can still give (MemAvailable)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(command: list[str], label: str, min_free: int) -> tuple[float, int]:
    """(wall seconds, peak tree RSS bytes) of one run; a failing command stops the bench,
    and so does memory running short for the others on the machine."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        if available() < min_free:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            sys.exit(
                f"stopped {label}: available memory fell under "
                f"{min_free / 2**30:.0f} GB (peak so far {peak / 2**20:,.0f} MB)"
            )
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-3000:]}")
    return seconds, peak


def growth(results: dict[int, dict[str, tuple[float, int]]]) -> list[str]:
    """How each engine's time and memory grow from one size to the next."""
    sizes = sorted(results)
    lines = []
    for small, large in itertools.pairwise(sizes):
        for engine in results[large]:
            if engine in results[small]:
                (ts, ms), (tl, ml) = results[small][engine], results[large][engine]
                lines.append(
                    f"{engine} from {small:,} to {large:,} leads ({large / small:g}x): "
                    f"time {tl / ts:.1f}x, memory {ml / ms:.1f}x"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="lead counts, comma-separated")
    parser.add_argument("--events-per-lead", type=float, default=12.0, help="mean per lead")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the generated files here and reuse them on the next run (default: a "
        "temporary folder, removed size by size)",
    )
    parser.add_argument(
        "--min-free-gb", type=float, default=4.0, help="stop when less memory is available"
    )
    parser.add_argument(
        "--model", type=Path, default=ROOT / "examples" / "b2b_saas" / "model.score"
    )
    args = parser.parse_args()
    model = compile_file(args.model).model
    if model is None:
        sys.exit(f"{args.model} does not compile")
    scorelang = [str(Path(sys.executable).parent / "scorelang")]  # the installed command
    print("engine  leads  events  seconds  peak MB")
    by_size: dict[int, dict[str, tuple[float, int]]] = {}
    min_free = int(args.min_free_gb * 2**30)
    with tempfile.TemporaryDirectory(prefix="scorelang-bench-spark-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            data = (args.data or Path(folder)) / f"{size}-{args.events_per_lead:g}"
            leads, events = data / "leads.parquet", data / "events.parquet"
            if not (args.data and leads.exists() and events.exists()):
                batches = generate_batches(
                    model, size, seed=7, as_of=AS_OF, events_per_lead=args.events_per_lead
                )
                write(batches, data, "parquet")
            event_count = pq.ParquetFile(events).metadata.num_rows
            results = by_size.setdefault(size, {})
            for engine in args.engines.split(","):
                out = Path(folder) / f"scores-{engine}-{size}.parquet"
                command = [
                    *scorelang,
                    "score",
                    str(args.model),
                    "--leads",
                    str(leads),
                    "--events",
                    str(events),
                    "--engine",
                    engine,
                    "--as-of",
                    AS_OF.isoformat(),
                    "--out",
                    str(out),
                ]
                seconds, peak = measure(command, f"{engine} at {size:,} leads", min_free)
                results[engine] = (seconds, peak)
                print(f"{engine}  {size:,}  {event_count:,}  {seconds:.1f}  {peak / 2**20:,.0f}")
            if {"duckdb", "spark"} <= set(results):
                (ds, dm), (ss, sm) = results["duckdb"], results["spark"]
                print(
                    f"spark / duckdb at {size:,} leads: time {ss / ds:.1f}x, memory {sm / dm:.1f}x"
                )
            for path in Path(folder).glob("**/*.parquet"):
                path.unlink()  # the next size's data needs the disk
    print("\n".join(growth(by_size)))


if __name__ == "__main__":
    main()
