"""Benchmark the compiled scores query against a naive baseline and a floor, per engine.

    python bench/bench_sql.py                       # 10k and 100k leads, ~50 events each
    python bench/bench_sql.py --sizes 1000000 --engines duckdb --runs 3

For each size the same deterministic data (scorelang.datagen, seed 7) is loaded once per engine,
then the queries are timed (median of --runs runs after one warm-up; --naive-runs for the naive
query, which can take minutes on Postgres). Each timed run writes the query's rows into a
temporary table inside the engine (`CREATE TEMPORARY TABLE ... AS`): every column is computed,
and the time is the engine's, not the client's (turning 100k rows x 27 columns into Python
objects costs ~0.9 s with psycopg, against the floor's 88k x 2); --fetch times
execute + fetch into Python instead:

- compiled: `select_scores` as every user gets it (one scan of events, one GROUP BY lead);
- naive:    the same model with one correlated subquery per aggregate (bench/naive.py);
- floor:    a scan of events counting rows per lead: no query over these tables that reads
            every event can be much faster;
- filtered: a second reference, not a target: the floor restricted to the model's event types
            and to events at or before as_of, the rows any plan of the model must read.
- aggregates floor: a third reference: the filtered floor plus as many conditional counts
            per lead as the compiled plan has aggregates, each as cheap as a condition gets
            (one event type, one window), and a count of each event property the model reads:
            what reading those columns and computing that many aggregates costs at least.
- view for now: the view `apply` deploys (as_of is the query's now, the time column known to
            be zoned: windows bounded by instants); "view, ages" the same without knowing
            the column's type (every event's age computed). They score at the real now, not
            at the data's as_of: other window contents, the same work per event.

Targets (docs/performance.md): compiled within 2x of the floor, >= 5x faster than naive at
100k leads. Postgres gets an index on the events' lead column, which only the naive query
can use (it probes events by lead), and work_mem 256MB for every query.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
from rich.console import Console
from rich.status import Status
from rich.table import Table
from sqlglot import exp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from naive import naive_query
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import select_scores
from scorelang.targets.sql.names import column as col
from scorelang.targets.sql.names import ident

from scorelang.config import SourceMapping
from scorelang.data import load_duckdb, table
from scorelang.datagen import generate_batches, write
from scorelang.engines import duckdb as duck
from scorelang.engines import postgres

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MAPPING = SourceMapping()


@dataclass(frozen=True)
class Runs:
    runs: int
    naive: int  # the naive query can take minutes on Postgres: fewer runs
    fetch: bool  # time execute + fetch into Python, not the engine materializing the rows


def instant(moment: datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMPTZ")


def floor_query(mapping: SourceMapping) -> exp.Select:
    lead = col(mapping.event_lead)
    return (
        exp.select(lead, exp.Count(this=exp.Star()))
        .from_(table(mapping.events_table, mapping.schema))
        .group_by(lead)
    )


def filtered_floor_query(model: ir.Model, mapping: SourceMapping) -> exp.Select:
    """A second, stricter reference (not the issue's floor): the floor restricted to the
    rows every plan of this model must read, the model's event types at or before as_of."""
    return floor_query(mapping).where(
        exp.In(
            this=col(mapping.event_type),
            expressions=[exp.Literal.string(t) for t in model.used_event_types],
        ),
        exp.LTE(this=col(mapping.event_time), expression=instant(AS_OF)),
    )


def aggregates_floor_query(model: ir.Model, mapping: SourceMapping, count: int) -> exp.Select:
    """The filtered floor plus `count` conditional counts per lead, each testing one event
    type and one window, all distinct (no engine merges them), and COUNT(property) for each
    event property the model reads: about the cheapest single GROUP BY that reads the
    columns the model needs and computes that many aggregates, whatever they compute. With
    the compiled plan's number of aggregates, its ratio to the floor is about the best a plan
    of this model gets."""
    types = model.used_event_types
    reads = [
        exp.alias_(exp.Count(this=col(mapping.column(name))), ident(f"read_{name}"))
        for name in ir.properties_read(model.aggregates)
    ]
    counts = [
        exp.alias_(
            exp.Filter(
                this=exp.Count(this=exp.Star()),
                expression=exp.Where(
                    this=exp.and_(
                        exp.EQ(
                            this=col(mapping.event_type),
                            expression=exp.Literal.string(types[i % len(types)]),
                        ),
                        exp.GT(
                            this=col(mapping.event_time),
                            expression=instant(AS_OF - timedelta(days=i + 1)),
                        ),
                    )
                ),
            ),
            ident(f"count_{i + 1}"),
        )
        for i in range(count)
    ]
    return filtered_floor_query(model, mapping).select(*reads, *counts)


def aggregate_count(query: exp.Select) -> int:
    """The distinct aggregates a query computes per lead (window functions aside): the
    compiled plan shares some between the model's aggregates (one MAX for several windows)."""
    return len(
        {
            (node.parent if isinstance(node.parent, exp.Filter) else node).sql()
            for node in query.find_all(exp.AggFunc)
            if not isinstance(node.parent, exp.Window)
        }
    )


def queries(model: ir.Model, dialect: str) -> dict[str, exp.Select]:
    # The loaded time column is zoned (scorelang.data, and the Postgres copy of it).
    zoned = dataclasses.replace(MAPPING, event_time_zoned=True)
    compiled = select_scores(model, dialect, as_of=AS_OF, mapping=MAPPING)
    return {
        "floor": floor_query(MAPPING),
        "filtered": filtered_floor_query(model, MAPPING),
        "aggregates": aggregates_floor_query(model, MAPPING, aggregate_count(compiled)),
        "compiled": compiled,
        "naive": naive_query(model, dialect, as_of=AS_OF, mapping=MAPPING),
        "view": select_scores(model, dialect, mapping=zoned),
        "view_ages": select_scores(model, dialect, mapping=MAPPING),
    }


def materialized(query: exp.Select, dialect: str) -> list[str]:
    """Statements that compute every row and column of `query` inside the engine."""
    result = table("bench_result")
    return [
        exp.Drop(tables=[result], kind="TABLE", exists=True).sql(dialect=dialect),
        exp.Create(
            this=result.copy(),
            kind="TABLE",
            expression=query,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        ).sql(dialect=dialect),
    ]


def disagreements(model: ir.Model, compiled: exp.Select, naive: exp.Select) -> exp.Select:
    """How many leads the two queries score differently, counted inside the engine (no
    million rows fetched twice): the naive query is only a fair baseline if it computes the
    same rows."""
    first, second = "compiled_rows", "naive_rows"
    same_lead = exp.EQ(this=col(model.key, first), expression=col(model.key, second))
    differs = exp.or_(
        *(
            exp.NullSafeNEQ(this=col(name, first), expression=col(name, second))
            for name in model.output_columns
        )
    )
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.Subquery(this=compiled, alias=exp.TableAlias(this=ident(first))))
        .join(
            exp.Subquery(this=naive, alias=exp.TableAlias(this=ident(second))),
            on=same_lead,
            join_type="FULL",
        )
        .where(differs)
    )


def median_seconds(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_queries(
    fetch: Callable[[str], list[tuple]], model: ir.Model, dialect: str, runs: Runs
) -> dict[str, float]:
    """Median seconds per query, after one untimed run of each: for compiled and naive, the
    check that both compute the same rows (one query joining the two)."""
    plans = queries(model, dialect)
    sql = {name: query.sql(dialect=dialect) for name, query in plans.items()}
    check = disagreements(model, plans["compiled"].copy(), plans["naive"].copy())
    ((differing,),) = fetch(check.sql(dialect=dialect))
    if differing:
        raise SystemExit(f"{dialect}: the naive query scores {differing} leads differently")

    def timed(name: str) -> Callable[[], object]:
        if runs.fetch:
            return lambda: fetch(sql[name])
        statements = materialized(plans[name], dialect)
        return lambda: [fetch(statement) for statement in statements]

    for name in sql.keys() - {"compiled", "naive"}:  # those two just ran in the check
        timed(name)()
    return {
        name: median_seconds(timed(name), runs.naive if name == "naive" else runs.runs)
        for name in sql
    }


def bench_duckdb(
    model: ir.Model, leads: Path, events: Path, runs: Runs, status: Status
) -> dict[str, float]:
    with duck.connect() as con:
        load_duckdb(
            con,
            model,
            leads,
            events,
            MAPPING,
            progress=lambda step: status.update(f"duckdb: {step}"),
        )
        status.update("duckdb: timing")
        return time_queries(lambda sql: con.execute(sql).fetchall(), model, "duckdb", runs)


def fetch_postgres(pg: psycopg.Connection, sql: str) -> list[tuple]:
    cursor = pg.execute(sql)
    return cursor.fetchall() if cursor.description else []


def bench_postgres(
    model: ir.Model,
    leads: Path,
    events: Path,
    runs: Runs,
    url: str,
    status: Status,
    settings: list[str] = (),
) -> dict[str, float]:
    with postgres.connect(url) as pg:
        status.update("postgres: loading")
        _report, mapping = postgres.load_postgres(pg, model, leads, events, MAPPING)
        index = exp.Create(
            this=exp.Index(
                this=ident("bench_events_lead"),
                table=table(mapping.events_table),
                params=exp.IndexParameters(columns=[col(mapping.event_lead)]),
            ),
            kind="INDEX",
        )
        pg.execute(index.sql(dialect="postgres"))
        pg.execute("SET work_mem = '256MB'")
        for setting in settings:  # e.g. jit=off: not the configuration, for study
            name, _, value = setting.partition("=")
            pg.execute(
                exp.Set(
                    expressions=[
                        exp.SetItem(
                            this=exp.EQ(
                                this=exp.var(name.strip()), expression=exp.var(value.strip())
                            )
                        )
                    ]
                ).sql(dialect="postgres")
            )
        status.update("postgres: timing")
        timings = time_queries(lambda sql: fetch_postgres(pg, sql), model, "postgres", runs)
        pg.rollback()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="lead counts, comma-separated")
    parser.add_argument("--events-per-lead", type=float, default=50.0, help="mean per active lead")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument(
        "--naive-runs", type=int, help="timed runs of the naive query (default: --runs)"
    )
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="time execute + fetch into Python instead of materializing inside the engine",
    )
    parser.add_argument(
        "--model", type=Path, default=ROOT / "examples" / "b2b_saas" / "model.score"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("SCORELANG_PG_URL"), help="default: $SCORELANG_PG_URL"
    )
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra Postgres session setting for every query, e.g. jit=off (repeatable)",
    )
    args = parser.parse_args()
    compilation = compile_file(args.model)
    if compilation.model is None:
        sys.exit("\n".join(str(d) for d in compilation.diagnostics))
    model = compilation.model
    engines = args.engines.split(",")
    if "postgres" in engines and not args.pg_url:
        sys.exit("postgres needs --pg-url or SCORELANG_PG_URL (scripts/pg-test-server prints one)")

    runs = Runs(args.runs, args.naive_runs or args.runs, args.fetch)
    console = Console(width=max(Console().width, 150))
    result = Table(
        title=f"{model.name}: {len(model.aggregates)} aggregates; seconds, median of {runs.runs} runs"
        + (f" ({runs.naive} for naive)" if runs.naive != runs.runs else "")
        + ("; execute + fetch" if runs.fetch else "; rows materialized in the engine")
    )
    for heading in (
        "engine",
        "leads",
        "events",
        "floor",
        "filtered floor",
        "aggregates floor",
        "compiled",
        "naive",
        "compiled / floor",
        "aggregates floor / floor",
        "compiled / aggregates floor",
        "naive / compiled",
        "view for now",
        "view, ages",
    ):
        result.add_column(heading, justify="right")
    with tempfile.TemporaryDirectory(prefix="scorelang-bench-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            with console.status(f"generating {size:,} leads"):
                batches = generate_batches(
                    model, size, seed=7, as_of=AS_OF, events_per_lead=args.events_per_lead
                )
                leads, events = write(batches, Path(folder) / str(size), "parquet")
                event_count = pq.ParquetFile(events).metadata.num_rows
            for engine in engines:
                with console.status(f"{engine}, {size:,} leads") as status:
                    if engine == "duckdb":
                        t = bench_duckdb(model, leads, events, runs, status)
                    else:
                        t = bench_postgres(
                            model, leads, events, runs, args.pg_url, status, args.pg_setting
                        )
                result.add_row(
                    engine,
                    f"{size:,}",
                    f"{event_count:,}",
                    f"{t['floor']:.3f}",
                    f"{t['filtered']:.3f}",
                    f"{t['aggregates']:.3f}",
                    f"{t['compiled']:.3f}",
                    f"{t['naive']:.3f}",
                    f"{t['compiled'] / t['floor']:.2f}x",
                    f"{t['aggregates'] / t['floor']:.2f}x",
                    f"{t['compiled'] / t['aggregates']:.2f}x",
                    f"{t['naive'] / t['compiled']:.1f}x",
                    f"{t['view']:.3f}",
                    f"{t['view_ages']:.3f}",
                )
                console.print(
                    f"{engine} {size:,} leads: floor {t['floor']:.3f}s, filtered floor "
                    f"{t['filtered']:.3f}s, aggregates floor {t['aggregates']:.3f}s, compiled "
                    f"{t['compiled']:.3f}s, naive {t['naive']:.3f}s, "
                    f"view for now {t['view']:.3f}s (with ages {t['view_ages']:.3f}s)"
                )
    console.print(result)


if __name__ == "__main__":
    main()
