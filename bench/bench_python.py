"""Benchmark: the generated Python evaluator against a hand-written loop.

Both score the LANGUAGE.md example model (b2b_saas) on the same deterministic data; the
script first checks they agree on every lead (fit, engagement, total, stage, mql), then
times several runs of each and prints medians, events/second and the ratio.

    python bench/bench_python.py [--leads 20000] [--events 50] [--runs 5]

"core" times the generated `evaluate` + `derive` functions against the hand-written loop on
the same pre-grouped events; "score_many" adds grouping by lead and building ScoreResults
(per-rule explanations included), which the hand-written loop does not do; "score_many
columnar" turns the records into columns (`EventColumns.from_records`) and scores them with
the columnar batch (targets/python/columnar.py), as score_many does for events given as
columns; "score_rows" scores those columns into the engine's rows, its rules and scores by the
generated `finish_batch` (NumPy over every lead at once) and by `finish` lead by lead (as
before it), on the same columns.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scorelang.compiler.frontend import compile_source
from scorelang.compiler.ir import Model, round_score
from scorelang.targets.python import PythonEvaluator
from scorelang.targets.python.columnar import EventColumns

# The complete example of the language brief (its test block is not scored here).
MODEL = (Path(__file__).parent.parent / "tests" / "fixtures" / "brief_example.score").read_text(
    encoding="utf-8"
)

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
Outputs = tuple[float, float, float, str, bool]

# ---- deterministic data ----------------------------------------------------------------------

INDUSTRIES = ["software", "saas", "fintech", "education", "retail", "health", None]
TITLES = [
    "VP Sales",
    "Head of Growth",
    "Engineer",
    "Director, IT",
    "Analyst",
    "Chief of Staff",
    None,
]
DOMAINS = ["acme.io", "gmail.com", "initech.com", "yahoo.com", "globex.net"]
URLS = ["/pricing", "/", "/blog/a", "/docs", "/pricing/enterprise", "/careers"]
FORMS = ["contact-us", "newsletter", "trial"]
KINDS = (
    ["page_view"] * 10
    + ["email_open"] * 6
    + ["email_click"] * 3
    + ["form_submit", "content_download", "webinar_attend", "demo_request"]
)


def generate_data(
    n_leads: int, events_per_lead: int, seed: int = 7
) -> tuple[list[dict], list[dict]]:
    """Leads and events (about `events_per_lead` per lead, spread over the last 200 days
    plus a few after as_of), the same for every run."""
    rng = random.Random(seed)
    leads, events = [], []
    for i in range(n_leads):
        lead_id = f"l{i}"
        leads.append(
            {
                "id": lead_id,
                "email": f"p{i}@{rng.choice(DOMAINS)}",
                "job_title": rng.choice(TITLES),
                "industry": rng.choice(INDUSTRIES),
                "employees": rng.choice([None, 10, 49, 50, 200, 1000, 1001, 5000]),
                "country": "DE",
                "created_at": AS_OF - timedelta(days=rng.randint(1, 400)),
            }
        )
        recency = rng.choice([1, 10, 45, 75, 120, 250])  # how long ago the lead was last active
        for _ in range(rng.randint(0, 2 * events_per_lead)):
            kind = rng.choice(KINDS)
            ago = timedelta(seconds=rng.randint(-86400, 200 * 86400) + recency * 3600)
            event = {"lead_id": lead_id, "event_type": kind, "occurred_at": AS_OF - ago}
            if kind == "page_view":
                event["url"] = rng.choice(URLS)
            elif kind == "form_submit":
                event["form"] = rng.choice(FORMS)
            elif kind in ("email_open", "email_click"):
                event["campaign"] = "c1"
            elif kind == "content_download":
                event["asset"] = "guide.pdf"
            elif kind == "webinar_attend":
                event["webinar"] = "w1"
            events.append(event)
    return leads, events


# ---- the hand-written baseline -------------------------------------------------------------

DAY = 86400.0
INDUSTRIES_FIT = {"software", "saas", "fintech"}
FREE_EMAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com"}
TITLE = re.compile(r"\b(vp|head|director|chief)\b", re.IGNORECASE)


def hand_written(
    lead: Mapping[str, Any], events: Sequence[Mapping[str, Any]], as_of: datetime
) -> Outputs:
    """The example model as a person would write it in plain Python."""
    fit = 0.0
    industry, employees, title = lead.get("industry"), lead.get("employees"), lead.get("job_title")
    if industry in INDUSTRIES_FIT:
        fit += 20
    if employees is not None and 50 <= employees <= 1000:
        fit += 15
    if employees is not None and employees > 1000:
        fit += 10
    if title is not None and TITLE.search(title):
        fit += 15
    email = lead.get("email")
    if email is not None and "@" in email and email.rpartition("@")[2].lower() in FREE_EMAIL:
        fit -= 20
    if industry == "education":
        fit -= 30
    fit = round_score(min(max(fit, 0.0), 100.0))

    pricing = contact = webinar = False
    opens = clicks = 0
    decayed = 0.0
    latest = None  # smallest age of any event
    downloads: list[float] = []
    demos: list[float] = []
    for event in events:
        age = (as_of - event["occurred_at"]).total_seconds()
        if age < 0:
            continue
        if latest is None or age < latest:
            latest = age
        kind = event["event_type"]
        if kind == "page_view":
            decayed += 0.5 ** (age / (14 * DAY))
            if age < 7 * DAY and event.get("url") == "/pricing":
                pricing = True
        elif kind == "email_open":
            opens += age < 30 * DAY
        elif kind == "email_click":
            clicks += age < 30 * DAY
        elif kind == "form_submit":
            contact = contact or event.get("form") == "contact-us"
        elif kind == "webinar_attend":
            webinar = webinar or age < 90 * DAY
        elif kind == "content_download":
            downloads.append(age)
        elif kind == "demo_request":
            demos.append(age)
    sequence = any(0 <= a - b <= 3 * DAY for a in downloads for b in demos)

    engagement = 15.0 * pricing + 5.0 * (opens >= 3) + min(2.0 * clicks, 10.0) + 50.0 * contact
    engagement += 20.0 * webinar + 25.0 * sequence + min(decayed, 20.0)
    for days, points in ((30, -10.0), (60, -10.0), (90, -20.0)):
        if latest is None or latest >= days * DAY:
            engagement += points
    if latest is None or latest >= 180 * DAY:
        engagement = 0.0
    engagement = round_score(min(max(engagement, 0.0), 100.0))
    total = round_score(0.4 * fit + 0.6 * engagement)
    stage = (
        "decision"
        if total >= 76
        else "evaluation"
        if total >= 51
        else "interest"
        if total >= 26
        else "awareness"
    )
    return fit, engagement, total, stage, total >= 70 and fit >= 40


# ---- timing ----------------------------------------------------------------------------------


def median_seconds(
    contenders: dict[str, Callable[[], object]],
    runs: int,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, float]:
    """Median seconds (CPU by default) of each contender; runs are interleaved (A, B, C, A, B,
    C, ...) so that load from other processes affects them alike."""
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, work in contenders.items():
            gc.collect()  # start every run from the same heap state
            start = clock()
            work()
            timings[name].append(clock() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=50, help="mean events per lead")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compilation = compile_source(MODEL, "b2b_saas.score")
    if compilation.model is None:
        raise SystemExit("\n".join(str(d) for d in compilation.diagnostics))
    benchmark(compilation.model, args.leads, args.events, args.runs)


def engines_from_files(model: Model, leads: list[dict], events: list[dict], runs: int) -> None:
    """The same data as Parquet files, scored by `score(model, engine, ...)` end to end (load,
    validation, scoring, sorted rows): the python engine (columnar batch), the python engine
    as it was (records and the per-lead evaluator), and DuckDB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scorelang.config import SourceMapping
    from scorelang.data import event_columns, lead_columns, read_records
    from scorelang.engines import rows, score

    def per_lead(files: tuple[Path, Path]) -> list[dict]:
        records, event_records = read_records(model, *files)
        results = PythonEvaluator(model).score_many(records, event_records, AS_OF)
        return rows.sort_rows(model, [result.as_row(model) for result in results])

    with tempfile.TemporaryDirectory(prefix="bench-python-") as folder:
        files = (Path(folder) / "leads.parquet", Path(folder) / "events.parquet")
        mapping = SourceMapping()
        for path, records, columns in (
            (files[0], leads, lead_columns(model, mapping)),
            (files[1], events, event_columns(model, mapping)),
        ):
            arrays = {c.name: pa.array([r.get(c.name) for r in records]) for c in columns}
            pq.write_table(
                pa.table(
                    {
                        n: a if a.type != pa.null() else a.cast(pa.string())
                        for n, a in arrays.items()
                    }
                ),
                path,
            )
        contenders = {
            "python engine": lambda: score(
                model, "python", leads=files[0], events=files[1], as_of=AS_OF
            ),
            "python per-lead": lambda: per_lead(files),
            "duckdb engine": lambda: score(
                model, "duckdb", leads=files[0], events=files[1], as_of=AS_OF
            ),
        }
        outputs = {name: work() for name, work in contenders.items()}
        assert outputs["python engine"] == outputs["python per-lead"]
        assert len(outputs["duckdb engine"]) == len(leads)
        print("engines from Parquet files (load, validation, scoring, sorted rows); wall time:")
        medians = median_seconds(contenders, runs, time.perf_counter)
        for name, seconds in medians.items():
            print(
                f"{name:18} median {seconds:7.3f} s   {len(events) / seconds / 1e6:5.2f} M events/s"
            )
        engine = medians["python engine"]
        print(
            f"ratio python engine: {medians['python per-lead'] / engine:.2f}x faster than "
            f"per-lead, {engine / medians['duckdb engine']:.2f}x DuckDB's time"
        )


def benchmark(model: Model, n_leads: int, events_per_lead: int, runs: int) -> None:
    evaluator = PythonEvaluator(model)
    leads, events = generate_data(n_leads, events_per_lead)
    by_lead: dict[str, list[dict]] = {lead["id"]: [] for lead in leads}
    for event in events:
        by_lead[event["lead_id"]].append(event)
    pairs = [(lead, by_lead[lead["id"]]) for lead in leads]
    evaluate, derive, no_percentiles = evaluator.evaluate, evaluator.derive, ()

    def generated() -> list[Outputs]:
        out = []
        for lead, lead_events in pairs:
            scores, _, _, inputs = evaluate(lead, lead_events, AS_OF)
            (stage,), _, (mql,) = derive(scores, no_percentiles, inputs)
            out.append((*scores, stage, mql))
        return out

    def columnar() -> list:
        columns = EventColumns.from_records(events, evaluator._properties)
        return evaluator.score_many(leads, columns, AS_OF)

    def hand() -> list[Outputs]:
        return [hand_written(lead, lead_events, AS_OF) for lead, lead_events in pairs]

    # The engine's scoring on the same columns: rules and scores by `finish_batch` (NumPy,
    # over every lead at once), and by `finish` lead by lead as before it (round 4).
    columns = EventColumns.from_records(events, evaluator._properties)
    lead_by_lead = PythonEvaluator(model)
    lead_by_lead.finish_batch = None
    assert evaluator.finish_batch is not None

    expected, actual = hand(), generated()
    mismatches = [
        (lead["id"], e, a)
        for (lead, _), e, a in zip(pairs, expected, actual, strict=True)
        if e != a
    ]
    if mismatches:
        raise SystemExit(f"{len(mismatches)} leads differ, e.g. {mismatches[:3]}")
    many = evaluator.score_many(leads, events, AS_OF)
    assert [(*r.scores.values(), r.tiers["stage"], r.flags["mql"]) for r in many] == expected
    assert columnar() == many
    rows = evaluator.score_rows(leads, columns, AS_OF)
    assert rows == lead_by_lead.score_rows(leads, columns, AS_OF)

    print(f"{len(leads)} leads, {len(events)} events; identical outputs on every lead")
    medians = median_seconds(
        {
            "hand-written loop": hand,
            "generated (core)": generated,
            "score_many": lambda: evaluator.score_many(leads, events, AS_OF),
            "score_many columnar": columnar,
            "score_rows, finish per lead": lambda: lead_by_lead.score_rows(leads, columns, AS_OF),
            "score_rows, finish_batch": lambda: evaluator.score_rows(leads, columns, AS_OF),
        },
        runs,
    )
    for name, seconds in medians.items():
        print(f"{name:28} median {seconds:7.3f} s   {len(events) / seconds / 1e6:5.2f} M events/s")
    hand_time = medians["hand-written loop"]
    core, many = medians["generated (core)"] / hand_time, medians["score_many"] / hand_time
    print(f"ratio generated/hand-written: {core:.2f}x (score_many: {many:.2f}x)")
    batch = medians["score_rows, finish per lead"] / medians["score_rows, finish_batch"]
    print(f"ratio score_rows on columns: finish_batch {batch:.2f}x faster than finish per lead")
    from_records = medians["score_many columnar"] / medians["score_many"]
    print(f"ratio score_many columnar (from records)/per-lead: {from_records:.2f}x")
    engines_from_files(model, leads, events, runs)


if __name__ == "__main__":
    main()
