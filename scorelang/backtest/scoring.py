"""Score historical leads as they looked at their scoring time, paired with their outcome.

No leakage: a lead scored at T sees only its events at or before T, on every engine, by
the semantics of as_of. With a per-lead time (`--as-of-column`) the Python evaluator scores
the leads grouped by scoring time, each lead's events cut at its own time before it sees
them; the SQL engines evaluate every lead at its own instant in one query (the plan's
`LeadInstant`). Either way the file's times are read, and a lead without one refused,
before anything is scored.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from numpy.typing import NDArray
from sqlglot import exp

from .. import data
from ..columns import model_columns
from ..compiler import ir
from ..compiler.parse import duration
from ..compiler.plan import LeadInstant
from ..config import SourceMapping
from ..records import EVENT_LEAD, event_time, to_utc

Progress = Callable[[int, int], None]  # (leads scored, leads in all)
CHUNK = 1000  # leads per evaluator call, so progress moves on large files
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n"})
AS_OF_COLUMN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\S+))?\s*$")


class AsOfColumn(LeadInstant):
    """Each lead's scoring time: a timestamp column of the leads file plus an offset in
    seconds (`created_at + 14d`; `scored_at - 1d` is before it)."""

    @classmethod
    def parse(cls, text: str) -> AsOfColumn:
        match = AS_OF_COLUMN.match(text)
        if match is None:
            raise ValueError(
                "expected COLUMN, COLUMN + DURATION or COLUMN - DURATION (e.g. created_at + 14d), "
                f"got {text!r}"
            )
        sign, offset = match.group(2), match.group(3)
        try:
            if offset and not offset[0].isdigit():
                raise ValueError(offset)
            seconds = duration(offset).seconds if offset else 0.0
        except (KeyError, ValueError):
            raise ValueError(f"not a duration such as 14d: {offset!r}") from None
        return cls(match.group(1), -seconds if sign == "-" else seconds)


AsOf = datetime | AsOfColumn


@dataclass(frozen=True)
class ScoredLeads:
    """Output rows (keyed by `model.output_columns`) in the leads file's order, with outcomes."""

    rows: list[dict[str, Any]]
    outcomes: NDArray[np.bool_]
    as_of: list[datetime]


def parse_outcome(value: Any) -> bool | None:
    """A 0/1, true/false, yes/no value as a bool; None when it is none of those."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


@dataclass(frozen=True)
class LeadFacts:
    """What the leads file says about each lead beyond the model: outcome and scoring time."""

    outcome: dict[Any, bool]
    as_of: dict[Any, datetime]


def fact_names(outcome: str, as_of: AsOf) -> list[str]:
    """The leads file's columns a backtest reads beyond the model's: outcome, scoring time."""
    return [outcome, *([as_of.column] if isinstance(as_of, AsOfColumn) else [])]


def with_time_field(model: ir.Model, as_of: AsOf) -> ir.Model:
    """The model as the SQL engines load the leads for `as_of`: a per-lead time column the
    model does not declare becomes an optional timestamp field (so the table keeps it); one
    it declares must be a timestamp."""
    if not isinstance(as_of, AsOfColumn):
        return model
    declared = next((f for f in model.lead_fields if f.name == as_of.column), None)
    if declared is None:
        field = ir.FieldType(as_of.column, ir.Type.TIMESTAMP, optional=True)
        return dataclasses.replace(model, lead_fields=(*model.lead_fields, field))
    if declared.type is not ir.Type.TIMESTAMP:
        raise ValueError(
            f"the scoring time column {as_of.column!r} is a {declared.type.value} field of "
            f"model {model.name}: declare it a timestamp"
        )
    return model


def read_lead_facts(
    model: ir.Model, leads: Path, outcome: str, as_of: AsOf, mapping: SourceMapping | None = None
) -> LeadFacts:
    """Read the outcome (and per-lead time) columns, keyed by the lead key typed as the model
    says. A time is parsed as the loader parses a timestamp field, so every engine reads the
    same instant; a lead without one is an error naming its row."""
    mapping = mapping or SourceMapping()
    with_time_field(model, as_of)  # refuses a time column declared with another type
    key = mapping.column(model.key)
    key_type = next(f.type for f in model.lead_fields if f.name == model.key)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")  # zone-less times are UTC, as when loading
        present = data.read_raw(con, Path(leads), "_scorelang_backtest_leads", mapping)
        wanted = [mapping.column(name) for name in fact_names(outcome, as_of)]
        for column in (key, *wanted):
            if column not in present:
                raise data.DataError(
                    f"{leads}: no column {column!r} (the file has: {', '.join(present)})"
                )
        parsed = [data.col(c) for c in wanted]
        if isinstance(as_of, AsOfColumn):  # the time as the loader types it, in UTC
            time = data.try_cast(data.col(wanted[-1]), ir.Type.TIMESTAMP)
            parsed.append(exp.cast(time, "TIMESTAMP"))
        query = (
            exp.select(data.try_cast(data.col(key), key_type), *parsed)
            .from_(data.table("_scorelang_backtest_leads"))
            .order_by(exp.column("rowid"))
        )
        rows = data.run(con, query)
    finally:
        con.close()
    outcomes = {row[0]: parse_outcome(row[1]) for row in rows}
    bad = [i + 1 for i, row in enumerate(rows) if outcomes[row[0]] is None]
    if bad:
        shown = ", ".join(f"row {i}: {rows[i - 1][1]!r}" for i in bad[:3])
        raise data.DataError(
            f"{leads}: column {outcome!r} must be 0/1 or true/false; {len(bad)} values are not, e.g. {shown}"
        )
    times: dict[Any, datetime] = {}
    if isinstance(as_of, AsOfColumn):
        shift = timedelta(seconds=as_of.offset)
        for i, row in enumerate(rows):
            if row[2] is None:
                raise data.DataError(f"{leads}: row {i + 1} has no {as_of.column!r} to score it at")
            if row[3] is None:
                raise data.DataError(
                    f"{leads}: row {i + 1}, column {as_of.column!r}: not a timestamp: {row[2]!r}"
                )
            times[row[0]] = to_utc(row[3]) + shift
    return LeadFacts({k: bool(v) for k, v in outcomes.items()}, times)


def score_python(
    model: ir.Model,
    leads: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    as_of: Sequence[datetime],
    progress: Progress | None = None,
    accounts: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows for `leads`, lead i scored at `as_of[i]` on its events up to that instant only.

    Leads sharing a scoring time are scored together (percentile tiers rank among them;
    accounts, for a model with one, roll up all their leads).
    """
    from ..targets.python import PythonEvaluator

    evaluator = PythonEvaluator(model)
    by_lead: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for event in events:
        by_lead[event[EVENT_LEAD]].append(event)
    batches: dict[datetime, list[int]] = defaultdict(list)
    for index, instant in enumerate(as_of):
        batches[instant].append(index)
    whole = model.percentile_tiers or accounts is not None
    step = max(1, len(leads)) if whole else CHUNK
    rows: list[dict[str, Any] | None] = [None] * len(leads)
    done = 0
    for instant, members in batches.items():
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            seen = [
                e
                for i in chunk
                for e in by_lead.get(leads[i][model.key], ())
                if event_time(e) <= instant
            ]
            results = evaluator.score_many(
                [leads[i] for i in chunk], seen, instant, accounts=accounts or ()
            )
            for i, result in zip(chunk, results, strict=True):
                rows[i] = result.as_row(model)
            done += len(chunk)
            if progress:
                progress(done, len(leads))
    return [row for row in rows if row is not None]


@dataclass(frozen=True)
class Dataset:
    """Lead and event records with each lead's outcome and scoring time, in file order."""

    leads: list[dict[str, Any]]
    events: list[dict[str, Any]]
    outcomes: NDArray[np.bool_]
    as_of: list[datetime]
    accounts: list[dict[str, Any]] | None = None  # a model with an account: its accounts


def load_dataset(
    model: ir.Model,
    leads: Path,
    events: Path,
    outcome: str,
    as_of: AsOf,
    mapping: SourceMapping | None = None,
    accounts: Path | None = None,
) -> Dataset:
    facts = read_lead_facts(model, leads, outcome, as_of, mapping)
    scoring = model_columns(model, mapping or SourceMapping(), fact_names(outcome, as_of))
    inputs = data.read_inputs(model, leads, events, scoring, accounts=accounts)
    records, event_records = inputs.leads, inputs.events
    assert isinstance(event_records, list)
    keys = [r[model.key] for r in records]
    times = (
        [facts.as_of[k] for k in keys]
        if isinstance(as_of, AsOfColumn)
        else [to_utc(as_of)] * len(keys)
    )
    outcomes = np.array([facts.outcome[k] for k in keys], dtype=bool)
    return Dataset(records, event_records, outcomes, times, inputs.accounts)


def score_leads(
    model: ir.Model,
    leads: Path,
    events: Path,
    outcome: str,
    as_of: AsOf,
    engine: str = "python",
    progress: Progress | None = None,
    mapping: SourceMapping | None = None,
    database: str | None = None,
    accounts: Path | None = None,
) -> ScoredLeads:
    """Score every lead of the file at its scoring time and pair it with its outcome, rows
    in the file's order on every engine (deciles split ties in that order); a model with an
    account is scored with the `accounts` file, at one instant.

    `database`: the server of an engine that needs one (Postgres: a postgresql:// URL)."""
    if isinstance(as_of, AsOfColumn) and model.account is not None:
        raise ValueError(
            f"model {model.name} scores its leads with their accounts, which roll up every "
            "lead at one instant: give --as-of, not --as-of-column"
        )
    if engine == "python":
        dataset = load_dataset(model, leads, events, outcome, as_of, mapping, accounts)
        rows = score_python(
            model, dataset.leads, dataset.events, dataset.as_of, progress, dataset.accounts
        )
        return ScoredLeads(rows, dataset.outcomes, dataset.as_of)
    from .. import engines

    facts = read_lead_facts(model, leads, outcome, as_of, mapping)
    loaded = with_time_field(model, as_of)
    scoring = model_columns(loaded, mapping or SourceMapping(), fact_names(outcome, as_of))
    instant = as_of if isinstance(as_of, AsOfColumn) else to_utc(as_of)
    rows = engines.score(
        loaded,
        engine,
        leads=leads,
        events=events,
        accounts=accounts,
        database=database,
        as_of=instant,
        mapping=scoring,
    )
    if progress:
        progress(len(rows), len(rows))
    order = {key: i for i, key in enumerate(facts.outcome)}
    rows.sort(key=lambda row: order[row[model.key]])
    keys = [row[model.key] for row in rows]
    outcomes = np.array([facts.outcome[k] for k in keys], dtype=bool)
    times = (
        [facts.as_of[k] for k in keys] if isinstance(as_of, AsOfColumn) else [instant] * len(keys)
    )
    return ScoredLeads(rows, outcomes, times)
