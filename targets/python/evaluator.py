"""PythonEvaluator: the model's generated evaluator, compiled once, behind a small API that
turns its tuples into ScoreResults and computes percentile tiers over a batch."""

from __future__ import annotations

import gc
import linecache
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from ...compiler import ir
from ...compiler.assembly import in_cents
from ...compiler.ir import round_score
from ...compiler.plan import shifted_references
from ...records import EVENT_LEAD, as_of_or_now
from ...results import RuleResult, ScoreDetail, ScoreResult
from .codegen import generate
from .columnar import EventColumns, Unsupported, batch_aggregates
from .vector_runtime import listed, round_values

if TYPE_CHECKING:
    from .accounts import AccountEvaluator, AccountScores

Timestamp = datetime | date | str


class PythonEvaluator:
    """Scores leads in-process with the same semantics as every SQL target.

    `score` evaluates one lead; percentile tiers need the whole batch, so they are None there
    and flags depending on them are False. `score_many` computes them over its leads.

    A model with an account is scored in phases (`accounts.AccountEvaluator`):
    `score_accounts` scores accounts and leads together; `score_many` and `score_rows` take
    the accounts as `accounts` (none given: no lead has an account).
    """

    def __init__(self, model: ir.Model) -> None:
        self.model = model
        self.accounts: AccountEvaluator | None = None
        if model.account is not None:
            from .accounts import AccountEvaluator

            self.accounts = AccountEvaluator(model)
            self.source = self.accounts.source
            return
        self.source = generate(model)
        filename = f"<scorelang evaluator {model.name}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(self.source, filename, "exec"), namespace)
        self.evaluate: Callable[..., tuple] = namespace["evaluate"]
        self.derive: Callable[..., tuple] = namespace["derive"]
        self.finish: Callable[..., tuple] = namespace["finish"]
        # None when the model needs lead-by-lead `finish` (the generated comment says why).
        self.finish_batch: Callable[..., tuple] | None = namespace["finish_batch"]
        self._where = namespace["WHERE"]
        self._properties = ir.properties_read(model.aggregates)
        self._rules = [
            (score.name, rule, _fixed_results(score.name, rule))
            for score in model.scores
            for rule in score.rules
        ]
        self._resets = [isinstance(rule, ir.ResetRule) for _, rule, _ in self._rules]
        self._in_cents = [
            not reset and in_cents(rule)
            for (_, rule, _), reset in zip(self._rules, self._resets, strict=True)
        ]
        self._no_percentiles = (None,) * len(model.percentile_tiers)
        self._tier_names = [t.name for t in (*model.tiers, *model.percentile_tiers)]
        # The model's outputs are computed properties: read once, not per lead scored.
        self._scores = model.scores
        self._names = (
            model.score_names,
            [m.name for m in model.matrices],
            [f.name for f in model.flags],
        )
        self._shifted = shifted_references(model)
        # What shifted references read at the earlier instants: outputs from the model
        # without shifts, aggregates from this module's `aggregate_values` (their index).
        outputs = [r for r in self._shifted if not isinstance(r, ir.AggregateRef)]
        self._earlier = PythonEvaluator(ir.without_shifts(model)) if outputs else None
        self._output_shifts = {r.shift for r in outputs}
        self._aggregate_shifts = {r.shift for r in self._shifted if isinstance(r, ir.AggregateRef)}
        self._aggregate_values = namespace.get("aggregate_values")
        self._aggregate_index = {a.id: i for i, a in enumerate(model.aggregates)}

    def score(
        self,
        lead: Mapping[str, Any],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: Timestamp | None = None,
    ) -> ScoreResult:
        """Score one lead on the given events (all taken to be this lead's); in a model with
        an account, the lead has none."""
        if self.accounts is not None:
            return self.accounts.score((), [lead], events, as_of, batch=False).leads[0]
        when = as_of_or_now(as_of)
        shifted: tuple = ()
        if self._shifted:
            events = list(events)
            earlier = self._earlier
            rows = {
                s: [earlier.score(lead, events, when - timedelta(seconds=s)).as_row(earlier.model)]
                for s in self._output_shifts
            }
            aggregates = self._earlier_aggregates([lead], {lead.get(self.model.key): events}, when)
            shifted = self._pick(rows, aggregates, 0)
        evaluated = self.evaluate(lead, events, when, shifted)
        return self._result(lead, when, *evaluated, self._no_percentiles, shifted)

    def score_many(
        self,
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] | EventColumns = (),
        as_of: Timestamp | None = None,
        accounts: Iterable[Mapping[str, Any]] = (),
    ) -> list[ScoreResult]:
        """Score a batch: events are matched to leads by `lead_id`; results in the leads' order
        (with an account: `score_accounts(...).leads`).

        Events given as columns (`EventColumns`, as the python engine reads files) are scored
        by the columnar batch: every aggregate at once (`columnar.py`), then the rules of
        every lead at once (`finish_batch`, NumPy), or each lead's (`finish`) where the arrays
        cannot hold the model or the batch exactly; lead by lead when some `where` reads a
        lead field or a value the columns cannot hold. Records are scored lead by lead:
        turning them into columns costs about what the columns save (docs/performance.md)."""
        if self.accounts is not None:
            return self.score_accounts(accounts, leads, events, as_of).leads
        _no_accounts(self.model, accounts)
        when = as_of_or_now(as_of)
        leads = list(leads)
        if not isinstance(events, EventColumns):
            events = list(events)
        with _collector_paused():
            shifted = self._shifted_values(leads, events, when)
            evaluated = self._evaluated(leads, events, when, shifted)
            return self._results(leads, evaluated, when, shifted)

    def score_rows(
        self,
        leads: Iterable[Mapping[str, Any]],
        events: EventColumns,
        as_of: Timestamp | None = None,
        accounts: Iterable[Mapping[str, Any]] = (),
    ) -> list[dict[str, Any]]:
        """`[r.as_row(model) for r in score_many(...)]` without the ScoreResults and their
        explanations: rows built from the evaluator's tuples (the python engine's output)."""
        if self.accounts is not None:
            leads_scored = self.score_accounts(accounts, leads, events, as_of).leads
            return [r.as_row(self.model) for r in leads_scored]
        _no_accounts(self.model, accounts)
        when = as_of_or_now(as_of)
        leads = list(leads)
        columns = self.model.output_columns
        with _collector_paused():
            shifted = self._shifted_values(leads, events, when)
            finished = self._finished(leads, events, when, shifted)
            if isinstance(finished, _Batch):
                scores = finished.scores_per_lead()
                points = _transposed(self._rule_points(finished), len(leads))
                inputs = _transposed(finished.inputs, len(leads))
            else:
                rounded, resets = _Rounded(), self._resets
                scores = [values[0] for values in finished]
                points = [
                    [
                        fired if reset else rounded[capped] if capped else capped  # keeps -0.0
                        for reset, (_, capped, fired) in zip(resets, rules, strict=True)
                    ]
                    for _, _, rules, _ in finished
                ]
                inputs = [values[3] for values in finished]
            percentiles = self._percentiles(scores)
            derive, key = self.derive, self.model.key
            rows = []
            for lead, values, rule_points, read, bands, earlier in zip(
                leads, scores, points, inputs, percentiles, shifted, strict=True
            ):
                tiers, matrices, flags = derive(values, bands, read, earlier)
                row = (lead.get(key), *values, *tiers, *matrices, *flags, *rule_points)
                rows.append(dict(zip(columns, row, strict=True)))
            return rows

    def _rule_points(self, batch: _Batch) -> list[list]:
        """Per rule, its column of the engine's rows: a reset rule's `fired`, a points rule's
        points rounded (`round_score`, once per distinct value of all the rules together;
        the sign of zero kept), except where they are always in cents already."""
        columns: list[Any] = []
        rounding: list[int] = []
        for n, (reset, cents, (_, points, fired)) in enumerate(
            zip(self._resets, self._in_cents, batch.rules, strict=True)
        ):
            columns.append(fired if reset else points)
            if not (reset or cents):
                rounding.append(n)
        if rounding:
            values = np.concatenate([columns[n] for n in rounding])
            rounded = round_values(values)  # by bit pattern: -0.0 stays -0.0
            for n, part in zip(rounding, np.split(rounded, len(rounding)), strict=True):
                columns[n] = part
        return [listed(column) for column in columns]

    def score_accounts(
        self,
        accounts: Iterable[Mapping[str, Any]],
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] | EventColumns = (),
        as_of: Timestamp | None = None,
    ) -> AccountScores:
        """Score accounts over their leads, and the leads (which may read their account's
        outputs): every result of a model with an account (see ir.Rollup for roll-ups)."""
        if self.accounts is None:
            raise ValueError(f"model {self.model.name} declares no account")
        with _collector_paused():
            return self.accounts.score(accounts, leads, events, as_of)

    def _shifted_values(
        self,
        leads: list[Mapping[str, Any]],
        events: list[Mapping[str, Any]] | EventColumns,
        as_of: datetime,
    ) -> list[tuple]:
        """Per lead, the values of the shifted references: outputs from the batch scored at
        each earlier instant (percentile tiers ranked within the batch at that instant),
        aggregates from each lead's events at that instant."""
        if not self._shifted:
            return [()] * len(leads)
        rows: dict[float, list[dict[str, Any]]] = {}
        for s in self._output_shifts:
            earlier, when = self._earlier, as_of - timedelta(seconds=s)
            rows[s] = (
                earlier.score_rows(leads, events, when)
                if isinstance(events, EventColumns)
                else [r.as_row(earlier.model) for r in earlier.score_many(leads, events, when)]
            )
        aggregates: dict[float, list[tuple]] = {}
        if self._aggregate_values is not None:
            records = events.records() if isinstance(events, EventColumns) else events
            aggregates = self._earlier_aggregates(leads, events_by_lead(records), as_of)
        return [self._pick(rows, aggregates, n) for n in range(len(leads))]

    def _earlier_aggregates(
        self,
        leads: list[Mapping[str, Any]],
        events: Mapping[Any, list[Mapping[str, Any]]],
        as_of: datetime,
    ) -> dict[float, list[tuple]]:
        """Per shift of an aggregate reference, per lead, every aggregate at as_of - shift."""
        if self._aggregate_values is None:
            return {}
        key, values = self.model.key, self._aggregate_values
        return {
            s: [
                values(lead, events.get(lead.get(key), ()), as_of - timedelta(seconds=s))
                for lead in leads
            ]
            for s in self._aggregate_shifts
        }

    def _pick(
        self,
        rows: Mapping[float, list[Mapping[str, Any]]],
        aggregates: Mapping[float, list[tuple]],
        n: int,
    ) -> tuple:
        """Lead `n`'s value of each shifted reference, in shifted_references order."""
        return tuple(
            aggregates[r.shift][n][self._aggregate_index[r.id]]
            if isinstance(r, ir.AggregateRef)
            else rows[r.shift][n][ir.referenced(r)]
            for r in self._shifted
        )

    def _evaluated(
        self,
        leads: list[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] | EventColumns,
        as_of: datetime,
        shifted: list[tuple],
    ) -> list[tuple]:
        """The evaluator's tuple per lead (`evaluate`'s, `finish`'s)."""
        finished = self._finished(leads, events, as_of, shifted)
        return finished.per_lead() if isinstance(finished, _Batch) else finished

    def _finished(
        self,
        leads: list[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] | EventColumns,
        as_of: datetime,
        shifted: list[tuple],
    ) -> _Batch | list[tuple]:
        """Columns by the columnar batch where it can (`finish_batch`'s arrays, or `finish`'s
        tuple per lead), otherwise (and records always) `evaluate`'s tuple per lead."""
        if not isinstance(events, EventColumns):
            return self._per_lead(leads, list(events), as_of, shifted)
        finished = self._columnar(leads, events, as_of, shifted)
        if finished is None:
            return self._per_lead(leads, events.records(), as_of, shifted)
        return finished

    def _results(
        self,
        leads: list[Mapping[str, Any]],
        evaluated: list[tuple],
        as_of: datetime,
        shifted: list[tuple],
    ) -> list[ScoreResult]:
        percentiles = self._percentiles([values[0] for values in evaluated])
        return [
            self._result(lead, as_of, *values, bands, earlier)
            for lead, values, bands, earlier in zip(
                leads, evaluated, percentiles, shifted, strict=True
            )
        ]

    def _columnar(
        self,
        leads: list[Mapping[str, Any]],
        events: EventColumns,
        as_of: datetime,
        shifted: list[tuple],
    ) -> _Batch | list[tuple] | None:
        try:
            keys = [lead.get(self.model.key) for lead in leads]
            slots = {k: None for k in keys}
        except TypeError:  # an unhashable key
            return None
        columns = batch_aggregates(self.model, self._where, keys, events, as_of)
        if columns is None:
            return None
        if len(slots) < len(keys):  # a key twice: each lead reads its key's values
            index = {k: i for i, k in enumerate(slots)}
            rows = [index[k] for k in keys]
            columns = [
                column[rows] if isinstance(column, np.ndarray) else [column[i] for i in rows]
                for column in columns
            ]
        if self.finish_batch is not None:
            try:
                with np.errstate(all="ignore"):  # inf and NaN as Python's floats give them
                    return _Batch(*self.finish_batch(leads, columns, as_of, shifted), len(leads))
            except Unsupported:
                pass
        finish = self.finish
        aggregates = _transposed([listed(column) for column in columns], len(leads))
        return [
            finish(lead, values, as_of, earlier)
            for lead, values, earlier in zip(leads, aggregates, shifted, strict=True)
        ]

    def _per_lead(
        self,
        leads: list[Mapping[str, Any]],
        events: list[Mapping[str, Any]],
        as_of: datetime,
        shifted: list[tuple],
    ) -> list[tuple]:
        by_lead = events_by_lead(events)
        key, evaluate = self.model.key, self.evaluate
        return [
            evaluate(lead, by_lead.get(lead.get(key), ()), as_of, earlier)
            for lead, earlier in zip(leads, shifted, strict=True)
        ]

    def _percentiles(self, batch: list[tuple[float | None, ...]]) -> list[tuple[str | None, ...]]:
        """Per lead, the band of each percentile tier (see ir.PercentileTier)."""
        names = self.model.score_names
        columns = [
            percentile_bands(tier, [scores[names.index(tier.source)] for scores in batch])
            for tier in self.model.percentile_tiers
        ]
        return list(zip(*columns, strict=True)) if columns else [()] * len(batch)

    def _result(
        self,
        lead: Mapping[str, Any],
        as_of: datetime,
        scores: tuple,
        details: tuple,
        rules: tuple,
        inputs: tuple,
        percentiles: tuple,
        shifted: tuple,
    ) -> ScoreResult:
        model = self.model
        tiers, matrices, flags = self.derive(scores, percentiles, inputs, shifted)
        score_names, matrix_names, flag_names = self._names
        values = dict(zip(score_names, scores, strict=True))
        return ScoreResult(
            key=lead.get(model.key),
            as_of=as_of,
            scores=values,
            tiers=dict(zip(self._tier_names, tiers, strict=True)),
            matrices=dict(zip(matrix_names, matrices, strict=True)),
            flags=dict(zip(flag_names, flags, strict=True)),
            rules=tuple(
                RuleResult(rule.id, score, rule.label, points, raw, fired, False)
                if fixed is None
                else fixed[fired]
                for (score, rule, fixed), (raw, points, fired) in zip(
                    self._rules, rules, strict=True
                )
            ),
            details={
                score.name: ScoreDetail(score.name, total, capped, reset, values[score.name])
                for score, (total, capped, reset) in zip(self._scores, details, strict=True)
            },
        )


@dataclass(frozen=True)
class _Batch:
    """`finish_batch`'s results for `leads` leads: per output, its values over the leads
    (arrays, or lists), grouped as `finish`'s tuple is."""

    scores: tuple
    details: tuple  # per score: (total, capped, reset)
    rules: tuple  # per rule: (raw, points, fired)
    inputs: tuple
    leads: int

    def scores_per_lead(self) -> list[tuple]:
        return _transposed([listed(column) for column in self.scores], self.leads)

    def per_lead(self) -> list[tuple]:
        """`finish`'s tuple per lead, to the bit."""

        def triples(groups: tuple) -> list[tuple]:
            columns = [zip(*map(listed, group), strict=True) for group in groups]
            return _transposed(columns, self.leads)

        return list(
            zip(
                self.scores_per_lead(),
                triples(self.details),
                triples(self.rules),
                _transposed(self.inputs, self.leads),
                strict=True,
            )
        )


def _transposed(columns: Sequence[Iterable[Any]], leads: int) -> list[tuple]:
    """Columns of values as a tuple per lead."""
    return list(zip(*columns, strict=True)) if columns else [()] * leads


def _no_accounts(model: ir.Model, accounts: Iterable[Mapping[str, Any]]) -> None:
    if accounts:
        raise ValueError(f"model {model.name} declares no account: it scores leads only")


def _fixed_results(
    score: str, rule: ir.PointsRule | ir.ResetRule
) -> tuple[RuleResult, RuleResult] | None:
    """The only two results a when or reset rule can have (not fired, fired), built once and
    shared by every lead (results are immutable); None for each rules, whose points vary."""
    if isinstance(rule, ir.EachRule):
        return None
    is_reset = isinstance(rule, ir.ResetRule)
    points = 0.0 if is_reset else float(rule.points)
    return (
        RuleResult(rule.id, score, rule.label, 0.0, 0.0, False, is_reset),
        RuleResult(rule.id, score, rule.label, points, points, True, is_reset),
    )


class _Rounded(dict[float, float]):
    """`round_score` of each value, computed once per distinct value: a batch's rule points
    take few distinct values, and each rounding goes through Decimal (~2 us)."""

    def __missing__(self, value: float) -> float:
        rounded = self[value] = round_score(value)
        return rounded


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Batch scoring allocates many small acyclic objects (results, rule explanations); with
    the input's events alive, each cyclic-GC pass walks them all and doubled the run time.
    Nothing scored here can form a cycle, so the collector waits until the batch is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def percentile_bands(tier: ir.PercentileTier, values: list[float | None]) -> list[str | None]:
    """With N scored leads and g of them strictly greater than a lead, the lead is in the
    first band `top X%` with g * 100 < X * N (ties share a band); missing scores get None."""
    ranked = sorted(v for v in values if v is not None)
    count = len(ranked)

    def band(value: float | None) -> str | None:
        if value is None:
            return None
        greater = count - bisect_right(ranked, value)
        return next(
            (label for label, top in tier.bands if top is None or greater * 100 < top * count), None
        )

    return [band(v) for v in values]


def events_by_lead(events: Iterable[Mapping[str, Any]]) -> dict[Any, list[Mapping[str, Any]]]:
    """Events grouped by their lead (`lead_id`), in order."""
    by_lead: dict[Any, list[Mapping[str, Any]]] = {}
    for event in events:
        try:
            by_lead.setdefault(event[EVENT_LEAD], []).append(event)
        except KeyError:
            raise ValueError(f"event record without {EVENT_LEAD!r}: {event!r}") from None
    return by_lead
