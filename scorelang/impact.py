"""What a model change does to real leads: the same data scored by the old and the new
version, compared. This is the review a pull request needs: who moves tier, who gains or
loses a flag (MQL), the biggest movers and the rules responsible, and which rules changed.

Works on scored rows (dicts keyed by `model.output_columns`), so any engine can feed it. For
a model with an account, the accounts' rows compare the same way (`entity`): the account
scores, tiers, flags and rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .compiler import ir

if TYPE_CHECKING:
    from .config import SourceMapping

Row = Mapping[str, object]


@dataclass(frozen=True)
class ScoreChange:
    name: str
    mean_before: float
    mean_after: float
    changed: int  # leads whose value differs


@dataclass(frozen=True)
class Transition:
    """Counts of leads per (before, after) value of a tier or flag."""

    name: str
    before: tuple[str, ...]  # row labels, in the old model's order
    after: tuple[str, ...]  # column labels, in the new model's order
    counts: Mapping[tuple[str, str], int]

    @property
    def moved(self) -> int:
        return sum(n for (a, b), n in self.counts.items() if a != b)


@dataclass(frozen=True)
class RuleDelta:
    id: str
    label: str
    delta: float


@dataclass(frozen=True)
class Mover:
    key: object
    before: float | None
    after: float | None
    rules: tuple[RuleDelta, ...]  # the rules whose points changed most, largest first

    @property
    def delta(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)


@dataclass(frozen=True)
class RuleChange:
    kind: str  # added | removed | changed
    id: str
    before: str | None  # a one-line description of the rule
    after: str | None


@dataclass(frozen=True)
class Impact:
    leads: int  # rows scored with both versions: leads, or accounts (`entity`)
    main_score: str | None
    scores: tuple[ScoreChange, ...]
    tiers: tuple[Transition, ...]
    flags: tuple[Transition, ...]
    movers: tuple[Mover, ...]
    rules: tuple[RuleChange, ...]
    entity: str = ir.LEAD


def score_rows(
    model: ir.Model,
    leads: Path,
    events: Path,
    as_of: datetime | None,
    engine: str = "python",
    mapping: SourceMapping | None = None,
    accounts: Path | None = None,
    entity: str = ir.LEAD,
) -> list[dict[str, object]]:
    """Score sample files with one engine (the Python evaluator by default): the leads' rows,
    or the accounts' (`entity`; the accounts file is given for a model with an account)."""
    from .engines import score

    return score(
        model,
        engine,
        leads=leads,
        events=events,
        accounts=accounts if model.account is not None else None,
        as_of=as_of,
        mapping=mapping,
        entity=entity,
    )


def compare(
    old: ir.Model,
    new: ir.Model,
    old_rows: Sequence[Row],
    new_rows: Sequence[Row],
    *,
    top: int = 10,
    score: str | None = None,
    entity: str = ir.LEAD,
) -> Impact:
    """Compare two scorings of the same leads (or accounts); `score` picks the score whose
    movers are listed (default: the score the new model's first tier reads, else its last
    score)."""
    before = {row[old.entity(entity).key]: row for row in old_rows}
    after = {row[new.entity(entity).key]: row for row in new_rows}
    keys = [k for k in after if k in before]
    pairs = [(before[k], after[k]) for k in keys]
    main = score or _main_score(new, entity)
    old_scores = old.outputs_of(entity).score_names
    new_scores = new.outputs_of(entity).score_names
    return Impact(
        leads=len(keys),
        main_score=main if main in old_scores and main in new_scores else None,
        scores=tuple(_score_change(n, pairs) for n in new_scores if n in old_scores),
        tiers=tuple(
            _tier_transition(t, old, new, pairs) for t in _common(old, new, "tiers", entity)
        ),
        flags=tuple(
            _transition(f, ("false", "true"), ("false", "true"), pairs, _flag)
            for f in _common(old, new, "flags", entity)
        ),
        movers=(
            _movers(old, new, keys, before, after, main, top, entity) if main in old_scores else ()
        ),
        rules=rule_changes(old, new, entity),
        entity=entity,
    )


def _main_score(model: ir.Model, entity: str = ir.LEAD) -> str | None:
    outputs = model.outputs_of(entity)
    if outputs.tiers:
        return outputs.tiers[0].source
    return outputs.score_names[-1] if outputs.score_names else None


def _common(old: ir.Model, new: ir.Model, kind: str, entity: str = ir.LEAD) -> list[str]:
    names = {x.name for x in getattr(old.outputs_of(entity), kind)}
    return [x.name for x in getattr(new.outputs_of(entity), kind) if x.name in names]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _score_change(name: str, pairs: list[tuple[Row, Row]]) -> ScoreChange:
    olds = [_number(a[name]) or 0.0 for a, _ in pairs]
    news = [_number(b[name]) or 0.0 for _, b in pairs]
    count = len(pairs) or 1
    changed = sum(a[name] != b[name] for a, b in pairs)
    return ScoreChange(name, sum(olds) / count, sum(news) / count, changed)


def _flag(value: object) -> str:
    return "true" if value else "false"


def _tier_label(value: object) -> str:
    return "(none)" if value is None else str(value)


def _tier_transition(
    name: str, old: ir.Model, new: ir.Model, pairs: list[tuple[Row, Row]]
) -> Transition:
    labels = {
        m: tuple(label for label, _ in next(t for t in m.tiers if t.name == name).bands)
        for m in (old, new)
    }  # output names are one namespace across entities
    return _transition(name, labels[old], labels[new], pairs, _tier_label)


def _transition(
    name: str, rows: tuple[str, ...], columns: tuple[str, ...], pairs, show
) -> Transition:
    counts = Counter((show(a[name]), show(b[name])) for a, b in pairs)
    extra_rows = tuple(sorted({a for a, _ in counts} - set(rows)))
    extra_columns = tuple(sorted({b for _, b in counts} - set(columns)))
    return Transition(name, rows + extra_rows, columns + extra_columns, dict(counts))


def _rule_points(model: ir.Model, row: Row, entity: str = ir.LEAD) -> dict[str, float]:
    return {
        rule.id: float(row.get(rule.id) or 0.0)
        for score in model.outputs_of(entity).scores
        for rule in score.rules
        if not isinstance(rule, ir.ResetRule)
    }


def _labels(model: ir.Model, entity: str = ir.LEAD) -> dict[str, str]:
    return {
        rule.id: rule.label for score in model.outputs_of(entity).scores for rule in score.rules
    }


def _movers(
    old: ir.Model,
    new: ir.Model,
    keys,
    before,
    after,
    main: str,
    top: int,
    entity: str = ir.LEAD,
) -> tuple[Mover, ...]:
    labels = _labels(old, entity) | _labels(new, entity)
    found = []
    for key in keys:
        a, b = before[key], after[key]
        if a[main] == b[main]:
            continue
        points_a, points_b = _rule_points(old, a, entity), _rule_points(new, b, entity)
        deltas = [
            RuleDelta(
                rule_id, labels[rule_id], points_b.get(rule_id, 0.0) - points_a.get(rule_id, 0.0)
            )
            for rule_id in dict.fromkeys([*points_a, *points_b])
        ]
        responsible = sorted((d for d in deltas if d.delta), key=lambda d: -abs(d.delta))[:3]
        found.append(Mover(key, _number(a[main]), _number(b[main]), tuple(responsible)))
    found.sort(key=lambda m: (-abs(m.delta), str(m.key)))
    return tuple(found[:top])


def describe_rule(rule: ir.PointsRule | ir.ResetRule, caps: Mapping[str, float]) -> str:
    """One line a reviewer can read: label, points, caps."""
    if isinstance(rule, ir.ResetRule):
        return f"{rule.label}: reset"
    text = f"{rule.label}: {rule.points:+g}"
    if isinstance(rule, ir.EachRule):
        text += " each" + (f" max {rule.cap:g}" if rule.cap is not None else "")
    if rule.id in caps:
        text += f" (group max {caps[rule.id]:g})"
    return text


def _rules(
    model: ir.Model, entity: str = ir.LEAD
) -> tuple[dict[str, ir.PointsRule | ir.ResetRule], dict[str, float]]:
    scores = model.outputs_of(entity).scores
    rules = {rule.id: rule for score in scores for rule in score.rules}
    caps = {
        r.id: g.cap for s in scores for g in s.items if isinstance(g, ir.Group) for r in g.rules
    }
    return rules, caps


def rule_changes(old: ir.Model, new: ir.Model, entity: str = ir.LEAD) -> tuple[RuleChange, ...]:
    """Rules of the entity's scores by id: added, removed, or changed (points, caps,
    condition, label, group cap)."""
    (old_rules, old_caps), (new_rules, new_caps) = _rules(old, entity), _rules(new, entity)
    changes = []
    for rule_id, rule in new_rules.items():
        if rule_id not in old_rules:
            changes.append(RuleChange("added", rule_id, None, describe_rule(rule, new_caps)))
        elif rule != old_rules[rule_id] or old_caps.get(rule_id) != new_caps.get(rule_id):
            was, now = describe_rule(old_rules[rule_id], old_caps), describe_rule(rule, new_caps)
            if was == now:
                now += " (condition changed)"
            changes.append(RuleChange("changed", rule_id, was, now))
    changes += [
        RuleChange("removed", i, describe_rule(r, old_caps), None)
        for i, r in old_rules.items()
        if i not in new_rules
    ]
    return tuple(changes)
