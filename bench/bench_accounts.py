"""Benchmark the account view against the lead view on DuckDB: what rolling leads up to
accounts costs on top of scoring the leads.

    python bench/bench_accounts.py                          # 50k leads, 20 events each
    python bench/bench_accounts.py --leads 200000 --runs 5

The data is generated inside DuckDB (deterministic: `hash` of the row number): N leads over
N / 5 accounts (a tenth of the leads have no account, some accounts none), events of two
types over 60 days. Each timed run writes the query's rows into a temporary table
(`CREATE TEMPORARY TABLE ... AS`), median of --runs after one warm-up:

- leads only: the same model without its account (no roll-up, no lookup);
- lead view: `<model>_scores` of the account model (the lead outputs, the roll-ups and the
  account outputs its second lead phase reads, then that phase);
- account view: `<model>_account_scores` (lead outputs once, grouped by account, joined
  to every account, the account events from the same scan).

The design target (docs/architecture.md, "Accounts in the plan"): the account view within
2x of scoring the leads alone, since it reads every event once and every lead row once more.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime

import duckdb
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.targets.sql.builder import select_account_scores, select_scores

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = """model bench_abm "accounts benchmark"

account {
  id: string key
  industry: string?
}
lead {
  id: string key
  account_id: string? account
  department: string?
}
event page_view { url: string }
event email_click { campaign: string }

score engagement {
  each page_view within 30d: +2 max 40
  when email_click within 7d: +10
  when department == "it": +5
  clamp 0..100
}
flag mql = engagement >= 30

account score intent {
  when industry == "saas": +20
  when count(leads where mql) >= 2: +30
  when avg(top 3 leads.engagement) >= 40: +20
  when count_distinct(leads.department where engagement >= 20) >= 3: +25
  when count(page_view within 30d) >= 40: +10
  each email_click within 30d: +2 max 10
  clamp 0..100
}
account score pipeline = sum(leads.engagement)
account tier heat from intent { hot >= 60  warm >= 30  cold }
score boost { when account.heat == "hot": +10 }
"""


def load(con: duckdb.DuckDBPyConnection, leads: int, events_per_lead: int) -> None:
    accounts = max(1, leads // 5)
    con.execute(
        f"""CREATE TABLE accounts AS SELECT 'A' || i AS id,
        CASE WHEN hash(i) % 3 = 0 THEN 'saas' ELSE 'retail' END AS industry
        FROM range({accounts + accounts // 10}) t(i)"""
    )
    con.execute(
        f"""CREATE TABLE leads AS SELECT 'L' || i AS id,
        CASE WHEN i % 10 = 0 THEN NULL ELSE 'A' || (hash(i * 7) % {accounts}) END AS account_id,
        ['it', 'sales', 'ops', 'hr'][(1 + hash(i * 3) % 4)::BIGINT] AS department
        FROM range({leads}) t(i)"""
    )
    con.execute(
        f"""CREATE TABLE events AS SELECT 'L' || (i // {events_per_lead}) AS lead_id,
        CASE WHEN hash(i) % 4 = 0 THEN 'email_click' ELSE 'page_view' END AS event_type,
        TIMESTAMP '2026-01-01' - to_microseconds((hash(i * 11) % (60 * 86400000000)::UBIGINT)::BIGINT)
          AS occurred_at,
        '/p' || (hash(i) % 7) AS url, 'c' || (hash(i) % 3) AS campaign
        FROM range({leads * events_per_lead}) t(i)"""
    )


def timed(con: duckdb.DuckDBPyConnection, sql: str, runs: int) -> float:
    times = []
    for run in range(runs + 1):
        con.execute("DROP TABLE IF EXISTS result")
        start = time.perf_counter()
        con.execute(f"CREATE TEMPORARY TABLE result AS {sql}")
        if run:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--events-per-lead", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    model = compile_source(MODEL, "bench_abm.score").model
    assert model is not None
    leads_only = replace(
        ir.without_shifts(model),
        account=None,
        account_link=None,
        scores=tuple(s for s in model.scores if s.name == "engagement"),
        composites=(),
        tiers=(),
        aggregates=model.aggregates_of(ir.LEAD),
    )
    con = duckdb.connect()
    load(con, args.leads, args.events_per_lead)
    queries = {
        "leads only": select_scores(leads_only, "duckdb", as_of=AS_OF),
        "lead view": select_scores(model, "duckdb", as_of=AS_OF),
        "account view": select_account_scores(model, "duckdb", as_of=AS_OF),
    }
    print(
        f"{args.leads} leads, {args.leads * args.events_per_lead} events, DuckDB, "
        f"median of {args.runs}"
    )
    results = {name: timed(con, q.sql(dialect="duckdb"), args.runs) for name, q in queries.items()}
    base = results["leads only"]
    for name, seconds in results.items():
        print(f"  {name:13} {seconds:7.3f} s   {seconds / base:5.2f}x leads only")


if __name__ == "__main__":
    main()
