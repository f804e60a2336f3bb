"""What scoring one lead produces: every score, tier, matrix cell and flag, plus each rule's
contribution so a score can always explain itself ("why this score")."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from .compiler import ir


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule for one lead: `raw_points` before the rule's own `max`, `points` after it.
    Reset rules have no points; `fired` says whether they zeroed the score."""

    id: str
    score: str
    label: str
    points: float
    raw_points: float
    fired: bool
    is_reset: bool


@dataclass(frozen=True, slots=True)
class ScoreDetail:
    """How a rule-based score was assembled, in the documented order of caps."""

    name: str
    rules_total: float  # sum of rule points (each after its own max)
    after_groups: float  # the same with group caps applied
    reset: bool  # some reset rule fired (the score is 0 before clamp)
    value: float  # the final score: clamped and rounded


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outputs for one lead at one instant.

    `scores` holds rule-based and composite scores (rounded; a composite is None only when
    its expression is missing, e.g. a division by zero). Percentile tiers are None unless
    the lead was scored in a batch (`score_many`). `details` covers rule-based scores.
    """

    key: Hashable
    as_of: datetime
    scores: dict[str, float | None]
    tiers: dict[str, str | None]
    matrices: dict[str, str | None]
    flags: dict[str, bool]
    rules: tuple[RuleResult, ...]
    details: dict[str, ScoreDetail]

    def top_reasons(self, score: str, n: int = 3) -> list[RuleResult]:
        """The rules that moved `score` most: a fired reset first (it overrides everything),
        then rules with non-zero points by |points|, ties in source order."""
        if score not in self.details:
            raise KeyError(f"no rule-based score named {score!r}")
        rules = [r for r in self.rules if r.score == score]
        resets = [r for r in rules if r.is_reset and r.fired]
        movers = sorted((r for r in rules if r.points != 0), key=lambda r: -abs(r.points))
        return (resets + movers)[:n]

    def as_row(self, model: ir.Model, entity: str = ir.LEAD) -> dict[str, object]:
        """One row keyed by exactly `model.columns_of(entity)`, the same shape as every SQL
        target's `<model>_scores` view (`<model>_account_scores` for an account's result):
        rule columns hold points rounded to cents like scores (so every engine agrees on them
        too), reset rules a boolean."""
        rule_values = {
            r.id: (r.fired if r.is_reset else ir.round_score(r.points)) for r in self.rules
        }
        outputs = {**self.scores, **self.tiers, **self.matrices, **self.flags, **rule_values}
        key, *columns = model.columns_of(entity)
        return {key: self.key} | {column: outputs[column] for column in columns}
