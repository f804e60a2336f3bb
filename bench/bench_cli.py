"""Benchmark `scorelang score` as a user times it: the whole command, against its own SQL.

    python bench/bench_cli.py                        # 100k and 1M leads, CSV and Parquet
    python bench/bench_cli.py --leads 20000 --runs 1 --engines duckdb
    python bench/bench_cli.py --data /tmp/bench-data  # generate once, reuse in later runs

For each size, deterministic data (scorelang.datagen, seed 7, ~12 events per lead) is written
once as Parquet and copied to CSV by DuckDB. Then, per format, side by side in one run (median
of --runs runs, taking turns):

- cli:     `scorelang score MODEL --leads .. --events .. --out out.parquet` as a subprocess,
           start to end (interpreter start, compile, load and validation, query, output),
           with its peak RSS (GNU time's maximum resident set size);
- select:  the compiled scores query run by DuckDB directly over the same files (typed views
           on read_csv/read_parquet, no validation) with `COPY (query) TO out.parquet`;
- floor:   `COPY (SELECT lead, count(*) FROM <events file> GROUP BY lead) TO out.parquet`:
           no command that reads every event can be much faster.

Postgres (CSV only): `scorelang score --engine postgres --out out.parquet` against psql running
the same compiled query from a script: CREATE TEMP TABLE, \\copy both files in, ANALYZE,
\\copy (query) TO a CSV file; load included on both sides.

Targets (issue 16, docs/performance.md): cli / select <= 1.5, cli / floor <= 3, Postgres
cli / psql <= 2; peak RSS of `score` below 1.5 GB at 1M leads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import select_scores
from scorelang.targets.sql.names import column as col
from scorelang.targets.sql.names import ident
from sqlglot import exp

from scorelang.config import SourceMapping
from scorelang.data import SQL_TYPES, Column, event_columns, lead_columns, table
from scorelang.datagen import generate_batches, write
from scorelang.engines.postgres import PG_TYPES

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MAPPING = SourceMapping()
FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class Timed:
    seconds: float  # median
    peak_mb: float | None = None  # the child's peak RSS (max over runs), when a subprocess


def run_child(command: Sequence[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one subprocess, start to end; exits on failure. The peak
    is GNU time's: the kernel's count for a child forked from this (large) process would
    start from this process's own RSS."""
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", peak.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
        return seconds, int(peak.read().split()[-1]) / 1024


def run_here(action: Callable[[], object]) -> tuple[float, None]:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start, None


Sample = tuple[float, float | None]  # seconds, peak RSS in MB (a subprocess's)


def interleaved(actions: dict[str, Callable[[], Sample]], runs: int) -> dict[str, Timed]:
    """Each action `runs` times, taking turns (the machine's load then weighs on all alike):
    the median time of each and its peak RSS (the highest)."""
    samples: dict[str, list[Sample]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            samples[name].append(action())
    return {
        name: Timed(
            statistics.median(seconds for seconds, _ in taken),
            max((peak for _, peak in taken if peak is not None), default=None),
        )
        for name, taken in samples.items()
    }


def reader(path: Path) -> exp.Expression:
    """read_parquet(path), or read_csv(path) with every column as text (cast afterwards)."""
    if path.suffix == ".parquet":
        return exp.func("read_parquet", exp.Literal.string(str(path)))
    return exp.func(
        "read_csv",
        exp.Literal.string(str(path)),
        exp.EQ(this=exp.var("header"), expression=exp.true()),
        exp.EQ(this=exp.var("all_varchar"), expression=exp.true()),
    )


def typed_view(name: str, path: Path, columns: list[Column]) -> str:
    """A view with the model's column types over a file, as the scores query expects."""
    casts = [
        exp.alias_(
            exp.cast(col(c.source), exp.DataType.build(SQL_TYPES[c.type], dialect="duckdb")),
            ident(c.source),
        )
        for c in columns
    ]
    query = exp.select(*casts).from_(reader(path))
    return exp.Create(this=table(name), kind="VIEW", replace=True, expression=query).sql("duckdb")


def copy_to(query: exp.Expression, out: Path) -> str:
    return f"COPY ({query.sql(dialect='duckdb')}) TO '{out}' (FORMAT parquet)"


def direct_select(model: ir.Model, leads: Path, events: Path, out: Path) -> None:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(typed_view(MAPPING.leads_table, leads, lead_columns(model, MAPPING)))
        con.execute(typed_view(MAPPING.events_table, events, event_columns(model, MAPPING)))
        con.execute(copy_to(select_scores(model, "duckdb", as_of=AS_OF, mapping=MAPPING), out))


def floor(events: Path, out: Path) -> None:
    lead = col(MAPPING.event_lead)
    query = exp.select(lead, exp.Count(this=exp.Star())).from_(reader(events)).group_by(lead)
    with duckdb.connect() as con:
        con.execute(copy_to(query, out))


def psql_script(model: ir.Model, leads: Path, events: Path, out: Path) -> str:
    """What a user of psql would run: temp tables, \\copy in, the query, \\copy out."""
    lines = []
    for name, path, columns in (
        (MAPPING.leads_table, leads, lead_columns(model, MAPPING)),
        (MAPPING.events_table, events, event_columns(model, MAPPING)),
    ):
        defs = [
            exp.ColumnDef(this=ident(c.source), kind=exp.DataType.build(PG_TYPES[c.type]))
            for c in columns
        ]
        target = table(name)
        create = exp.Create(
            this=exp.Schema(this=target, expressions=defs),
            kind="TABLE",
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        lines.append(create.sql("postgres") + ";")
        lines.append(f"\\copy {target.sql('postgres')} FROM '{path}' WITH (FORMAT csv, HEADER)")
        lines.append(exp.Analyze(tables=[target.copy()]).sql("postgres") + ";")
    query = select_scores(model, "postgres", as_of=AS_OF, mapping=MAPPING).sql("postgres")
    lines.append(f"\\copy ({query}) TO '{out}' WITH (FORMAT csv, HEADER)")
    return "\n".join(lines) + "\n"


def row_count(path: Path) -> int:
    with duckdb.connect() as con:
        return con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]


def generate(model: ir.Model, size: int, folder: Path, per_lead: float) -> dict[str, tuple]:
    """The same data as Parquet (datagen) and CSV (DuckDB's copy of it)."""
    batches = generate_batches(model, size, seed=7, as_of=AS_OF, events_per_lead=per_lead)
    files = {"parquet": write(batches, folder / "parquet", "parquet")}
    (folder / "csv").mkdir()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        paths = []
        for source in files["parquet"]:
            target = folder / "csv" / f"{source.stem}.csv"
            con.execute(f"COPY (SELECT * FROM '{source}') TO '{target}' (HEADER)")
            paths.append(target)
    files["csv"] = tuple(paths)
    return files


def data_files(
    model: ir.Model, size: int, folder: Path, per_lead: float, console: Console
) -> dict[str, tuple]:
    """The files of one size in `folder`, generated unless a previous run left them there."""
    target = folder / str(size)
    names = {
        fmt: tuple(target / fmt / f"{n}.{fmt}" for n in ("leads", "events")) for fmt in FORMATS
    }
    if all(path.exists() for paths in names.values() for path in paths):
        return names
    shutil.rmtree(target, ignore_errors=True)
    with console.status(f"generating {size:,} leads"):
        return generate(model, size, target, per_lead)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", default="100000,1000000", help="lead counts, comma-separated")
    parser.add_argument("--events-per-lead", type=float, default=12.0)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the generated files in this folder and reuse them (default: a temporary one)",
    )
    parser.add_argument(
        "--model", type=Path, default=ROOT / "examples" / "b2b_saas" / "model.score"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("SCORELANG_PG_URL"), help="default: $SCORELANG_PG_URL"
    )
    args = parser.parse_args()
    compilation = compile_file(args.model)
    if compilation.model is None:
        sys.exit("\n".join(str(d) for d in compilation.diagnostics))
    model = compilation.model
    engines = args.engines.split(",")
    if "postgres" in engines and not (args.pg_url and shutil.which("psql")):
        sys.exit("postgres needs psql and --pg-url or SCORELANG_PG_URL")
    scorelang = [str(Path(sys.executable).parent / "scorelang"), "score", str(args.model)]
    stamp = ["--as-of", AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")]
    console = Console(width=max(Console().width, 150))
    result = Table(title=f"{model.name}: seconds, median of {args.runs} runs; peak RSS of score")
    for heading in ("engine", "leads", "format", "score", "peak MB", "reference", "ratio"):
        result.add_column(heading, justify="right")

    def show(engine: str, size: int, fmt: str, cli: Timed, references: dict[str, Timed]) -> None:
        for i, (name, ref) in enumerate(references.items()):
            ratio = cli.seconds / ref.seconds
            cells = (f"{cli.seconds:.2f}", f"{cli.peak_mb:.0f}") if i == 0 else ("", "")
            result.add_row(
                engine, f"{size:,}", fmt, *cells, f"{name} {ref.seconds:.2f}", f"{ratio:.2f}x"
            )
            console.print(
                f"{engine} {size:,} leads {fmt}: score {cli.seconds:.3f}s "
                f"(peak {cli.peak_mb:.0f} MB), {name} {ref.seconds:.3f}s, ratio {ratio:.2f}x"
            )

    with tempfile.TemporaryDirectory(prefix="scorelang-bench-") as scratch:
        folder = Path(scratch)
        for size in (int(s) for s in args.leads.split(",")):
            files = data_files(model, size, args.data or folder, args.events_per_lead, console)
            out, reference = folder / "out.parquet", folder / "reference.parquet"
            bottom = folder / "floor.parquet"
            for fmt in args.formats.split(","):
                leads, events = files[fmt]
                inputs = ["--leads", str(leads), "--events", str(events), *stamp]
                if "duckdb" in engines:
                    command = [*scorelang, *inputs, "--out", str(out)]
                    select = partial(direct_select, model, leads, events, reference)
                    with console.status(f"duckdb, {size:,} leads, {fmt}"):
                        t = interleaved(
                            {
                                "score": partial(run_child, command),
                                "select": partial(run_here, select),
                                "floor": partial(run_here, partial(floor, events, bottom)),
                            },
                            args.runs,
                        )
                        if row_count(out) != row_count(reference):
                            sys.exit("score and the direct query wrote different row counts")
                    show(
                        "duckdb",
                        size,
                        fmt,
                        t["score"],
                        {"select": t["select"], "floor": t["floor"]},
                    )
                if "postgres" in engines and fmt == "csv":
                    script = folder / "score.psql"
                    script.write_text(psql_script(model, leads, events, folder / "psql.csv"))
                    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.pg_url]
                    pg = ["--engine", "postgres", "--database", args.pg_url]
                    command = [*scorelang, *inputs, *pg, "--out", str(out)]
                    with console.status(f"postgres, {size:,} leads"):
                        t = interleaved(
                            {
                                "score": partial(run_child, command),
                                "psql": partial(run_child, [*psql, "-f", str(script)]),
                            },
                            args.runs,
                        )
                    show("postgres", size, fmt, t["score"], {"psql": t["psql"]})
    console.print(result)


if __name__ == "__main__":
    main()
