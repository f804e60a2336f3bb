"""A backtest: score historical leads at their scoring time, then measure how well every
score, tier, flag and rule anticipated the outcome, and which flag thresholds would do better."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..compiler import ir
from ..config import SourceMapping
from ..explain import score_bounds
from ..records import model_ir, to_utc
from . import metrics
from .conditions import COMPARE, Column, UnsupportedCondition, evaluate, prepare
from .scoring import AsOf, AsOfColumn, Progress, ScoredLeads, score_leads

if TYPE_CHECKING:
    from ..api import ScoringModel


@dataclass(frozen=True)
class ScoreMetrics:
    name: str
    auc: float
    deciles: tuple[metrics.Decile, ...]
    histogram: metrics.Histogram


@dataclass(frozen=True)
class GroupMetrics:
    """Conversion per band of a tier (or cell of a matrix)."""

    name: str
    source: str
    rates: tuple[metrics.GroupRate, ...]


@dataclass(frozen=True)
class ThresholdSuggestion:
    """One bound of a flag (`total >= 70`) moved, the rest of the condition kept."""

    score: str
    op: str
    current: float
    best_f1: metrics.ThresholdChoice
    volume: metrics.ThresholdChoice | None  # matching the target flagged share, if one was given


@dataclass(frozen=True)
class FlagMetrics:
    name: str
    classification: metrics.Classification
    rate: float  # share of leads flagged
    suggestions: tuple[ThresholdSuggestion, ...]
    note: str | None = None  # why no suggestion could be made


@dataclass(frozen=True)
class RuleMetrics:
    id: str
    score: str
    label: str
    points: float | None  # the rule's declared points; None for a reset
    stats: metrics.FireStats
    mean_points: float  # average points awarded over all leads (0 for a reset)


@dataclass(frozen=True)
class Backtest:
    model: str
    outcome: str
    as_of: str  # how leads were timed, for the reader
    leads: int
    positives: int
    main_score: str
    target_rate: float | None
    scores: tuple[ScoreMetrics, ...]
    groups: tuple[GroupMetrics, ...]
    flags: tuple[FlagMetrics, ...]
    rules: tuple[RuleMetrics, ...]
    entity: str = ir.LEAD  # what was scored and measured: leads, or accounts (`leads` counts them)

    @property
    def base_rate(self) -> float:
        return self.positives / self.leads if self.leads else 0.0

    def score(self, name: str) -> ScoreMetrics:
        return next(s for s in self.scores if s.name == name)


def describe_as_of(as_of: AsOf) -> str:
    if isinstance(as_of, AsOfColumn):
        from ..explain import duration_text

        sign = "+" if as_of.offset > 0 else "-"
        return f"each lead at its {as_of.column}" + (
            f" {sign} {duration_text(abs(as_of.offset))}" if as_of.offset else ""
        )
    return f"all leads at {as_of.isoformat()}"


def outputs(model: ir.Model, scored: ScoredLeads, entity: str = ir.LEAD) -> dict[str, NDArray]:
    """Scores, tiers, matrices and flags of the entity as columns (what flag conditions read)."""
    names = model.outputs_of(entity).names
    return {name: np.array([row[name] for row in scored.rows], dtype=object) for name in names}


def _score_values(column: NDArray) -> NDArray[np.float64]:
    """A score column as floats; a missing composite counts as the lowest score."""
    values = np.array([np.nan if v is None else float(v) for v in column])
    return np.nan_to_num(values, nan=np.nanmin(values) if np.isfinite(values).any() else 0.0)


def _flag_metrics(
    flag: ir.Flag,
    columns: dict[str, NDArray],
    prepared: Mapping[str, Column],
    outcomes: NDArray,
    target_rate: float | None,
) -> FlagMetrics:
    flagged = columns[flag.name].astype(bool)
    classification = metrics.classification(flagged, outcomes)
    suggestions = []
    try:
        for bound in score_bounds(flag.condition):
            scores = _score_values(columns[bound.score])
            compare, present = COMPARE[bound.op], prepared[bound.score].present

            def predict(
                value: float, node=bound.node, scores=scores, compare=compare, present=present
            ) -> NDArray[np.bool_]:
                """The flag with this bound moved to `value` (a missing score never meets it)."""
                moved = present & compare(scores, value)
                return evaluate(flag.condition, prepared, {id(node): moved})

            candidates = metrics.candidate_thresholds(scores)
            best = metrics.best_f1_threshold(candidates, predict, outcomes)
            volume = (
                metrics.volume_threshold(candidates, predict, outcomes, target_rate)
                if target_rate
                else None
            )
            if best is not None:
                suggestions.append(
                    ThresholdSuggestion(bound.score, bound.op, bound.value, best, volume)
                )
    except UnsupportedCondition as error:
        return FlagMetrics(
            flag.name, classification, float(flagged.mean()), (), f"no suggestion: {error}"
        )
    note = None if suggestions else "no suggestion: the condition compares no score with a number"
    return FlagMetrics(flag.name, classification, float(flagged.mean()), tuple(suggestions), note)


def _rule_metrics(model: ir.Model, scored: ScoredLeads, entity: str) -> list[RuleMetrics]:
    result = []
    for score in model.outputs_of(entity).scores:
        for rule in score.rules:
            values = [row[rule.id] for row in scored.rows]
            reset = isinstance(rule, ir.ResetRule)
            points = np.zeros(len(values)) if reset else np.array(values, dtype=float)
            fired = np.array(values, dtype=bool) if reset else points != 0
            declared = None if reset else rule.points
            stats = metrics.fire_stats(fired, scored.outcomes)
            mean = float(points.mean()) if len(points) else 0.0
            result.append(RuleMetrics(rule.id, score.name, rule.label, declared, stats, mean))
    return result


def analyse(
    model: ir.Model,
    scored: ScoredLeads,
    *,
    outcome: str,
    as_of: str,
    main_score: str | None = None,
    target_rate: float | None = None,
    entity: str = ir.LEAD,
) -> Backtest:
    """Every metric of a backtest from scored leads (or accounts: `entity`, whose outputs are
    measured); a clear ValueError when it cannot be measured."""
    outcomes = scored.outcomes
    if outcomes.all() or not outcomes.any():
        raise ValueError(
            f"the outcome column {outcome!r} needs both converted and not converted {entity}s"
        )
    own = model.outputs_of(entity)
    main = main_score or own.score_names[-1]
    if main not in own.score_names:
        raise ValueError(f"no score named {main!r}; the model has {', '.join(own.score_names)}")
    columns = outputs(model, scored, entity)
    scores = []
    for name in own.score_names:
        values = _score_values(columns[name])
        scores.append(
            ScoreMetrics(
                name,
                metrics.roc_auc(values, outcomes),
                tuple(metrics.deciles(values, outcomes)),
                metrics.histogram(values, outcomes),
            )
        )
    groups = [
        GroupMetrics(
            t.name,
            t.source,
            tuple(
                metrics.conversion_by_group(
                    list(columns[t.name]), outcomes, [b for b, _ in t.bands]
                )
            ),
        )
        for t in (*own.tiers, *own.percentile_tiers)
    ]
    tier_labels = {t.name: [b for b, _ in t.bands] for t in (*model.tiers, *model.percentile_tiers)}
    for m in own.matrices:
        cells = [
            f"{chr(65 + r)}{c + 1}"
            for r in range(len(tier_labels[m.rows]))
            for c in range(len(tier_labels[m.columns]))
        ]
        rates = metrics.conversion_by_group(list(columns[m.name]), outcomes, cells)
        groups.append(
            GroupMetrics(m.name, f"{m.rows} x {m.columns}", tuple(r for r in rates if r.count))
        )
    prepared = prepare(columns)
    flags = [_flag_metrics(f, columns, prepared, outcomes, target_rate) for f in own.flags]
    return Backtest(
        model=model.name,
        outcome=outcome,
        as_of=as_of,
        leads=len(outcomes),
        positives=int(outcomes.sum()),
        main_score=main,
        target_rate=target_rate,
        scores=tuple(scores),
        groups=tuple(groups),
        flags=tuple(flags),
        rules=tuple(_rule_metrics(model, scored, entity)),
        entity=entity,
    )


def backtest(
    model: ir.Model | ScoringModel,
    leads: Path,
    events: Path,
    outcome: str,
    as_of: AsOf | str,
    *,
    engine: str = "python",
    main_score: str | None = None,
    target_rate: float | None = None,
    progress: Progress | None = None,
    mapping: SourceMapping | None = None,
    database: str | None = None,
    accounts: Path | None = None,
) -> Backtest:
    """Score the leads file at `as_of` (one instant, as a datetime or ISO 8601 text, or a
    per-lead column) on `engine` (with `database`, its server: Postgres) and measure it; a
    model with an account reads the `accounts` file."""
    model, as_of = model_ir(model), to_utc(as_of) if isinstance(as_of, str) else as_of
    scored = score_leads(
        model, leads, events, outcome, as_of, engine, progress, mapping, database, accounts
    )
    return analyse(
        model,
        scored,
        outcome=outcome,
        as_of=describe_as_of(as_of),
        main_score=main_score,
        target_rate=target_rate,
    )
