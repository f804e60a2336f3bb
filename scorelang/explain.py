"""Why a lead (or an account) has its scores: every rule's points, the caps applied, how
far each tier band and flag threshold is, and for an account each roll-up's contacts.

An explanation is built from one output row (`ScoreResult.as_row`, or a row of the
`<model>_scores` view: the per-rule columns carry the same rule ids), so every engine can
be explained the same way. The Python evaluator additionally knows each rule's points
before its own `max` and whether it fired; SQL rows leave those as None / inferred.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compiler import ir
from .compiler.assembly import GROUPS, RESET, GroupCap, assemble, fold
from .config import SourceMapping
from .records import EVENT_LEAD, as_of_or_now, model_ir, to_utc

if TYPE_CHECKING:
    from .api import ScoringModel
from .results import RuleResult, ScoreResult

CENT = 0.01
FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}
UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


@dataclass(frozen=True)
class RuleLine:
    """One rule of a score. `points` is the per-rule column: after the rule's own `max`."""

    id: str
    label: str
    points: float
    raw_points: float | None  # before the rule's `max`; None when the engine does not say
    fired: bool
    is_reset: bool
    cap: float | None  # the rule's `max`
    group: str | None  # the label of the group the rule is in
    counting: str | None  # for `each` rules: what is counted (decay, once per, ...)
    per_unit: float | None  # for `each` rules: the points written per unit counted
    capped: bool  # the rule's `max` lowered its points (known only with raw points)


@dataclass(frozen=True)
class GroupLine:
    label: str
    cap: float
    points: float  # the group's rules summed
    capped_points: float  # after the group's cap


@dataclass(frozen=True)
class ScoreLine:
    """A score and how it was assembled: rules, then group caps, reset, clamp, rounding."""

    name: str
    description: str | None
    value: float | None
    composite: bool
    rules: tuple[RuleLine, ...] = ()
    groups: tuple[GroupLine, ...] = ()
    after_groups: float = 0.0
    reset: bool = False
    clamp: tuple[float, float] | None = None
    before_clamp: float = 0.0
    clamped: bool = False  # the clamp changed the score


@dataclass(frozen=True)
class TierLine:
    name: str
    score: str
    band: str | None
    percentile: bool
    next_band: str | None = None  # the band above, for fixed tiers
    points_to_next: float | None = None


@dataclass(frozen=True)
class Bound:
    """`score op value` inside a condition, written with the score on the left."""

    node: ir.Compare
    score: str
    op: str
    value: float


@dataclass(frozen=True)
class BoundGap:
    score: str
    op: str
    bound: float
    value: float | None
    met: bool
    points_needed: float  # signed change of the score that meets the bound; 0 when met


@dataclass(frozen=True)
class FlagLine:
    name: str
    value: bool
    bounds: tuple[BoundGap, ...]


@dataclass(frozen=True)
class Explanation:
    key: Any
    as_of: datetime | None
    scores: tuple[ScoreLine, ...]
    tiers: tuple[TierLine, ...]
    matrices: dict[str, str | None]
    flags: tuple[FlagLine, ...]

    def score(self, name: str) -> ScoreLine:
        return next(s for s in self.scores if s.name == name)

    def flag(self, name: str) -> FlagLine:
        return next(f for f in self.flags if f.name == name)


def explain(
    model: ir.Model | ScoringModel,
    lead: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]] = (),
    as_of: datetime | str | None = None,
) -> Explanation:
    """Score one lead with the Python evaluator and explain it; records are checked as
    `ScoringModel.score` checks them."""
    from .targets.python import PythonEvaluator
    from .validate import check_events, check_leads

    model = model_ir(model)
    (record,) = check_leads(model, [lead])
    result = PythonEvaluator(model).score(record, check_events(model, events, False), as_of)
    return explain_result(model, result)


def explain_lead(
    model: ir.Model | ScoringModel,
    key: str,
    leads: str | Path,
    events: str | Path,
    as_of: datetime | str | None = None,
    engine: str = "python",
    mapping: SourceMapping | None = None,
    database: str | None = None,
    accounts: str | Path | None = None,
) -> Explanation:
    """Explain the lead whose key reads as `key` in the leads file, scored by `engine`
    (`database`: the Postgres server for the postgres engine; `accounts`: the accounts file
    of a model with an account).

    The Python engine scores that lead alone unless percentile tiers or accounts need the
    whole batch; a SQL engine scores the batch (see `explain_leads`).
    """
    from .data import DataError, read_records

    model = model_ir(model)
    as_of = as_of_or_now(as_of)  # one instant for the scoring and the explanation
    if engine != "python" or model.percentile_tiers or model.account is not None:
        found = explain_leads(model, leads, events, as_of, engine, mapping, key, database, accounts)
        if not found:
            raise DataError(f"{leads}: no lead with {model.key} {key!r}")
        return found[0]
    from .targets.python import PythonEvaluator

    records, event_records = read_records(model, leads, events, mapping)
    lead = [r for r in records if str(r[model.key]) == key]
    if not lead:
        raise DataError(f"{leads}: no lead with {model.key} {key!r}")
    own = [e for e in event_records if e[EVENT_LEAD] == lead[0][model.key]]
    return explain_result(model, PythonEvaluator(model).score(lead[0], own, as_of))


def explain_leads(
    model: ir.Model | ScoringModel,
    leads: str | Path,
    events: str | Path,
    as_of: datetime | str | None = None,
    engine: str = "python",
    mapping: SourceMapping | None = None,
    only: str | None = None,
    database: str | None = None,
    accounts: str | Path | None = None,
) -> list[Explanation]:
    """Explain every lead of the files (`only`: the one whose key reads so), in lead key
    order, as scored by `engine`.

    A SQL row holds each rule's points after its `max` but not what it counted, so the
    details (counts, points before `max`, whether a rule fired) come from the Python
    evaluator on the same typed records, after checking that it gives the row's points and
    scores to the cent: every engine explains a lead alike, or the command fails loudly.
    """
    from .data import read_inputs
    from .targets.python import PythonEvaluator

    model, as_of = model_ir(model), as_of_or_now(as_of)
    inputs = read_inputs(model, leads, events, mapping, accounts=accounts)
    results = PythonEvaluator(model).score_many(
        inputs.leads, inputs.events, as_of, accounts=inputs.accounts or ()
    )
    by_key = {r.key: r for r in results if only is None or str(r.key) == only}
    if engine == "python":
        return [explain_result(model, by_key[key]) for key in sorted(by_key)]
    from .engines import score

    given = {"accounts": accounts} if accounts is not None else {}
    rows = score(
        model,
        engine,
        leads=leads,
        events=events,
        as_of=as_of,
        mapping=mapping,
        database=database,
        **given,
    )
    rows = [row for row in rows if row[model.key] in by_key]
    return [
        explain_row(model, row, as_of, agreed(model, row, by_key[row[model.key]], engine))
        for row in rows
    ]


@dataclass(frozen=True)
class RuleChange:
    """A rule's points (after its own `max`) at both instants."""

    id: str
    label: str
    score: str
    then: float
    now: float
    change: float  # now - then, to the cent


@dataclass(frozen=True)
class ValueChange:
    """A score, tier band, matrix cell, flag or reset rule (fired) at both instants."""

    name: str
    then: Any
    now: Any


@dataclass(frozen=True)
class Change:
    """One lead explained over time: what moved between `then` and `now`."""

    key: Any
    then: datetime
    now: datetime
    scores: tuple[ValueChange, ...]
    rules: tuple[RuleChange, ...]  # the largest change first; ties in model order
    resets: tuple[ValueChange, ...]
    tiers: tuple[ValueChange, ...]  # tiers, percentile tiers and matrices
    flags: tuple[ValueChange, ...]

    def rule(self, id: str) -> RuleChange:
        return next(r for r in self.rules if r.id == id)


def explain_change(
    model: ir.Model | ScoringModel,
    key: str,
    leads: str | Path,
    events: str | Path,
    since: timedelta,
    as_of: datetime | str | None = None,
    engine: str = "python",
    mapping: SourceMapping | None = None,
    database: str | None = None,
) -> Change:
    """The lead explained at `as_of - since` and at `as_of` (each a point-in-time evaluation
    by `engine`, as `explain_lead`), compared rule by rule."""
    model, now = model_ir(model), as_of_or_now(as_of)
    before, after = (
        explain_lead(model, key, leads, events, when, engine, mapping, database)
        for when in (now - since, now)
    )
    return compare(before, after)


def compare(before: Explanation, after: Explanation) -> Change:
    """Two explanations of the same lead, side by side."""
    assert before.as_of is not None and after.as_of is not None
    then_rules = {r.id: r for s in before.scores for r in s.rules}
    rules = [
        RuleChange(
            rule.id,
            rule.label,
            score.name,
            then_rules[rule.id].points,
            rule.points,
            ir.round_score(rule.points - then_rules[rule.id].points),
        )
        for score in after.scores
        for rule in score.rules
        if not rule.is_reset
    ]
    rules.sort(key=lambda r: -abs(r.change))  # stable: ties in model order
    resets = [
        ValueChange(rule.label, then_rules[rule.id].fired, rule.fired)
        for score in after.scores
        for rule in score.rules
        if rule.is_reset
    ]
    then_tiers = {t.name: t.band for t in before.tiers} | before.matrices
    tiers = [ValueChange(t.name, then_tiers[t.name], t.band) for t in after.tiers]
    tiers += [ValueChange(n, then_tiers[n], cell) for n, cell in after.matrices.items()]
    return Change(
        after.key,
        before.as_of,
        after.as_of,
        tuple(ValueChange(s.name, before.score(s.name).value, s.value) for s in after.scores),
        tuple(rules),
        tuple(resets),
        tuple(tiers),
        tuple(ValueChange(f.name, before.flag(f.name).value, f.value) for f in after.flags),
    )


def change_to_json(change: Change) -> dict[str, Any]:
    data = asdict(change)
    data["then"], data["now"] = change.then.isoformat(), change.now.isoformat()
    return data


def agreed(
    model: ir.Model, row: Mapping[str, Any], result: ScoreResult, engine: str
) -> dict[str, RuleResult]:
    """The Python evaluator's rule results for `row`, once its scores and points match."""
    python = result.as_row(model)
    lead = model.outputs_of(ir.LEAD)
    columns = [*lead.score_names, *(r.id for s in lead.scores for r in s.rules)]
    differing = [
        c
        for c in columns
        if (python[c] if isinstance(python[c], bool | None) else ir.round_score(python[c]))
        != (row[c] if isinstance(row[c], bool | None) else ir.round_score(row[c]))
    ]
    if differing:
        shown = ", ".join(f"{c}: {engine} {row[c]!r}, python {python[c]!r}" for c in differing)
        raise RuntimeError(
            f"the engines disagree on lead {row[model.key]!r} ({shown}); please report this"
        )
    return {rule.id: rule for rule in result.rules}


def to_json(explanation: Explanation) -> dict[str, Any]:
    """Plain JSON-ready data (timestamps as ISO 8601)."""
    data = asdict(explanation)
    data["as_of"] = explanation.as_of.isoformat() if explanation.as_of else None
    return data


def explain_result(
    model: ir.Model | ScoringModel, result: ScoreResult, entity: str = ir.LEAD
) -> Explanation:
    model = model_ir(model)
    row = result.as_row(model, entity)
    return explain_row(model, row, result.as_of, {r.id: r for r in result.rules}, entity)


def explain_row(
    model: ir.Model | ScoringModel,
    row: Mapping[str, Any],
    as_of: datetime | str | None = None,
    rule_results: Mapping[str, RuleResult] | None = None,
    entity: str = ir.LEAD,
) -> Explanation:
    """Explain one output row of `entity` (a `<model>_scores` row, or with ACCOUNT a
    `<model>_account_scores` row); `rule_results` (from the Python evaluator) adds raw
    points."""
    model = model_ir(model)
    outputs = model.outputs_of(entity)
    as_of = None if as_of is None else to_utc(as_of)
    known = rule_results or {}
    aggregates = {a.id: a for a in model.aggregates}
    scores = [_score_line(score, row, known, aggregates) for score in outputs.scores]
    scores += [
        ScoreLine(c.name, c.description, _number(row[c.name]), composite=True)
        for c in outputs.composites
    ]
    tiers = [_tier_line(tier, row) for tier in outputs.tiers]
    tiers += [
        TierLine(t.name, t.source, row[t.name], percentile=True) for t in outputs.percentile_tiers
    ]
    flags = [
        FlagLine(
            f.name,
            bool(row[f.name]),
            tuple(
                _gap(b, _number(row[b.score]))
                for b in score_bounds(f.condition)
                if b.score in row  # an account's score read from a lead is not in its row
            ),
        )
        for f in outputs.flags
    ]
    matrices = {m.name: row[m.name] for m in outputs.matrices}
    key = row[model.entity(entity).key]
    return Explanation(key, as_of, tuple(scores), tuple(tiers), matrices, tuple(flags))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _score_line(
    score: ir.Score,
    row: Mapping[str, Any],
    known: Mapping[str, RuleResult],
    aggregates: Mapping[str, ir.AggregateNode],
) -> ScoreLine:
    """The score's assembly (compiler/assembly.py) replayed on the row's rule points."""
    assembly = assemble(score)
    numbers = _RowNumbers(row)
    groups = [
        GroupLine(
            item.label, item.cap, fold(assembly, numbers, term.value), fold(assembly, numbers, term)
        )
        for item, term in zip(score.items, assembly.terms, strict=True)
        if isinstance(item, ir.Group) and isinstance(term, GroupCap)
    ]
    group_of = {r.id: g.label for g in score.items if isinstance(g, ir.Group) for r in g.rules}
    lines = [
        _rule_line(
            rule, numbers.points(rule), known.get(rule.id), group_of.get(rule.id), aggregates
        )
        for rule, _ in assembly.rules
    ]
    resets = [
        _rule_line(rule, 0.0, known.get(rule.id), None, aggregates, fired=numbers.fired(rule))
        for rule in score.resets
    ]
    for name, node in assembly.stages:
        numbers.stages[name] = fold(assembly, numbers, node)
    before_clamp = ir.round_score(numbers.stages.get(RESET, numbers.stages[GROUPS]))
    return ScoreLine(
        name=score.name,
        description=score.description,
        value=_number(row[score.name]),
        composite=False,
        rules=(*lines, *resets),
        groups=tuple(groups),
        after_groups=ir.round_score(numbers.stages[GROUPS]),
        reset=any(r.fired for r in resets),
        clamp=score.clamp,
        before_clamp=before_clamp,
        clamped=score.clamp is not None and not score.clamp[0] <= before_clamp <= score.clamp[1],
    )


# ---- accounts: the account's rules, and each roll-up's contacts -----------------------------


@dataclass(frozen=True)
class Contribution:
    """One lead of the account in one roll-up: whether its `where` held (`counted`), its
    value (None: missing or not counted; True for `count`), and whether that value is part
    of the roll-up's result (`used`: counted and present, and among the top N for `avg top`)."""

    lead: Any
    counted: bool
    value: Any
    used: bool


@dataclass(frozen=True)
class RollupLine:
    text: str  # e.g. `avg(top 3 leads.engagement)`
    read_by: tuple[str, ...]  # the rules (ids) and outputs (names) that read it
    value: Any  # the roll-up's value for this account (None: missing)
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class AccountExplanation:
    """An account's outputs explained like a lead's, its leads, and each roll-up with what
    each lead contributed."""

    account: Explanation
    leads: tuple[Any, ...]
    rollups: tuple[RollupLine, ...]


def explain_account(
    model: ir.Model | ScoringModel,
    key: str,
    accounts: str | Path,
    leads: str | Path,
    events: str | Path,
    as_of: datetime | str | None = None,
    mapping: SourceMapping | None = None,
) -> AccountExplanation:
    """Explain the account whose key reads as `key` in the accounts file, scored with its
    leads by the Python evaluator."""
    from .data import DataError, read_inputs
    from .targets.python import PythonEvaluator

    model, as_of = model_ir(model), as_of_or_now(as_of)
    if model.account is None:
        raise DataError(f"model {model.name} declares no account: explain a lead with --lead")
    inputs = read_inputs(model, leads, events, mapping, accounts=accounts)
    evaluator = PythonEvaluator(model)
    scored = evaluator.score_accounts(inputs.accounts or [], inputs.leads, inputs.events, as_of)
    found = [r for r in scored.accounts if str(r.key) == key]
    if not found:
        raise DataError(f"{accounts}: no account with {model.account.key} {key!r}")
    account = found[0]
    members = [
        {**lead, **result.scores, **result.tiers, **result.matrices, **result.flags}
        for lead, result in zip(inputs.leads, scored.leads, strict=True)
        if lead.get(model.account_link or "") == account.key
    ]
    assert evaluator.accounts is not None
    keys = tuple(row.get(model.key) for row in members)
    rollups = tuple(
        _rollup_line(
            rollup, read_by, evaluator.accounts.contributions(rollup, members, as_of), keys
        )
        for rollup, read_by in _rollups(model).items()
    )
    return AccountExplanation(explain_result(model, account, ir.ACCOUNT), keys, rollups)


def _rollups(model: ir.Model) -> dict[ir.Rollup, tuple[str, ...]]:
    """Every roll-up of the account's outputs, with the rules and outputs that read it."""
    found: dict[ir.Rollup, list[str]] = {}
    outputs = model.outputs_of(ir.ACCOUNT)
    readers = [
        *((r.id, r) for s in outputs.scores for r in s.rules),
        *((c.name, c.expr) for c in outputs.composites),
        *((f.name, f.condition) for f in outputs.flags),
    ]
    for name, node in readers:
        for e in ir.subexpressions(node):
            if isinstance(e, ir.Rollup) and name not in found.setdefault(e, []):
                found[e].append(name)
    return {rollup: tuple(names) for rollup, names in found.items()}


def _rollup_line(
    rollup: ir.Rollup,
    read_by: tuple[str, ...],
    given: list[tuple[bool, Any]],
    keys: tuple[Any, ...],
) -> RollupLine:
    """The roll-up over each lead's (counted, value), by the evaluator's own aggregation."""
    from .targets.python.accounts import rollup_value

    present = [(n, v) for n, (counted, v) in enumerate(given) if counted and v is not None]
    used = {n for n, _ in present}
    if rollup.top:
        ranked = sorted(present, key=lambda item: item[1], reverse=True)
        used = {n for n, _ in ranked[: rollup.top]}
    value = rollup_value(rollup, lambda pair, _: pair[1], lambda pair, _: pair[0], given, None)
    contributions = tuple(
        Contribution(key, counted, v, n in used)
        for n, (key, (counted, v)) in enumerate(zip(keys, given, strict=True))
    )
    return RollupLine(_rollup_text(rollup), read_by, value, contributions)


def _rollup_text(rollup: ir.Rollup) -> str:
    top = f"top {rollup.top} " if rollup.top else ""
    value = f"leads.{_text(rollup.value)}" if rollup.value is not None else "leads"
    where = f" where {_text(rollup.where)}" if rollup.where is not None else ""
    return f"{rollup.func}({top}{value}{where})"


def _text(e: ir.Expr) -> str:
    """An expression in the language's words, for explanations."""
    match e:
        case ir.Literal(value=str() as value):
            return repr(value).replace("'", '"')
        case ir.Literal(value=value):
            return str(value).lower() if isinstance(value, bool) else f"{value:g}"
        case ir.LeadField(name=name) | ir.ScoreRef(name=name) | ir.TierRef(name=name):
            return name
        case ir.MatrixRef(name=name) | ir.FlagRef(name=name):
            return name
        case ir.Compare(op=op, left=left, right=right) | ir.Arith(op=op, left=left, right=right):
            return f"{_text(left)} {op} {_text(right)}"
        case ir.InList(value=value, options=options, negated=negated):
            listed = ", ".join(_text(o) for o in options)
            return f"{_text(value)} {'not in' if negated else 'in'} [{listed}]"
        case ir.IsMissing(operand=operand, negated=negated):
            return f"{_text(operand)} is {'present' if negated else 'missing'}"
        case ir.And(operands=operands) | ir.Or(operands=operands):
            word = " and " if isinstance(e, ir.And) else " or "
            return "(" + word.join(_text(o) for o in operands) + ")"
        case ir.Not(operand=operand):
            return f"not {_text(operand)}"
        case ir.Between(value=value, low=low, high=high):
            return f"{_text(value)} between {_text(low)} and {_text(high)}"
        case ir.Func(name=name, args=args):
            return f"{name}({', '.join(_text(a) for a in args)})"
    return "…"


def account_to_json(explanation: AccountExplanation) -> dict[str, Any]:
    """Plain JSON-ready data (timestamps as ISO 8601)."""
    data = asdict(explanation)
    data["account"] = to_json(explanation.account)
    return data


class _RowNumbers:
    """The assembly's algebra over plain numbers, starting from an output row's per-rule
    columns (each rule's points after its own `max`)."""

    def __init__(self, row: Mapping[str, Any]):
        self.row = row
        self.stages: dict[str, float] = {}

    def raw(self, rule: ir.PointsRule) -> float:
        raise ValueError("a row holds each rule's points after its own max, not before")

    def fired(self, rule: ir.ResetRule) -> bool:
        return bool(self.row[rule.id])

    def points(self, rule: ir.PointsRule) -> float:
        return float(self.row[rule.id])

    def stage(self, name: str) -> float:
        return self.stages[name]

    def sum(self, terms: list[float]) -> float:
        return sum(terms, 0.0)

    def rule_cap(self, value: float, bound: float, upper: bool) -> float:
        return min(value, bound) if upper else max(value, bound)

    def group_cap(self, value: float, cap: float) -> float:
        return min(value, cap)

    def reset_if(self, value: float, fired: list[bool]) -> float:
        return 0.0 if any(fired) else value

    def clamp(self, value: float, low: float, high: float) -> float:
        return low if value < low else high if value > high else value

    def round(self, value: float) -> float:
        return ir.round_score(value)


def _rule_line(
    rule: ir.WhenRule | ir.EachRule | ir.ResetRule,
    points: float,
    known: RuleResult | None,
    group: str | None,
    aggregates: Mapping[str, ir.AggregateNode],
    fired: bool | None = None,
) -> RuleLine:
    each = isinstance(rule, ir.EachRule)
    raw = known.raw_points if known else None
    return RuleLine(
        id=rule.id,
        label=rule.label,
        points=points,
        raw_points=raw,
        fired=known.fired if known else (fired if fired is not None else points != 0),
        is_reset=isinstance(rule, ir.ResetRule),
        cap=rule.cap if each else None,
        group=group,
        counting=_counting(aggregates[rule.quantity.id]) if each else None,
        per_unit=rule.points if each else None,
        capped=raw is not None and each and rule.cap is not None and abs(raw) > rule.cap,
    )


def duration_text(seconds: float) -> str:
    """`1209600` -> `14d`: the largest unit up to days that divides the duration."""
    unit, size = next((u, s) for u, s in UNITS if seconds % s == 0 or s == 1)
    return f"{seconds / size:g}{unit}"


def _counting(aggregate: ir.AggregateNode) -> str:
    if isinstance(aggregate, ir.DecayedSum):
        return f"decay, half-life {duration_text(aggregate.half_life)}"
    if isinstance(aggregate, ir.LinearDecaySum):
        return f"linear decay {aggregate.percent:g}% per {duration_text(aggregate.period)}"
    if isinstance(aggregate, ir.PeriodCount):
        return f"once per {duration_text(aggregate.period)}"
    if isinstance(aggregate, ir.Sum):
        return f"sum of {aggregate.prop}"
    if isinstance(aggregate, ir.CountDistinct):
        return f"distinct {aggregate.prop}"
    return "per event"


def _tier_line(tier: ir.Tier, row: Mapping[str, Any]) -> TierLine:
    band = row[tier.name]
    labels = [label for label, _ in tier.bands]
    index = labels.index(band) if band in labels else None
    if not index:  # the top band (0) or unknown: nothing above
        return TierLine(tier.name, tier.source, band, percentile=False)
    label, bound = tier.bands[index - 1]
    value = _number(row[tier.source])
    needed = None if bound is None or value is None else ir.round_score(bound - value)
    return TierLine(tier.name, tier.source, band, False, label, needed)


def _children(expr: ir.Expr) -> Iterator[ir.Expr]:
    for f in fields(expr):
        value = getattr(expr, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ir.Expr):
                yield item


def score_bounds(condition: ir.Expr) -> list[Bound]:
    """Every `score <op> number` comparison in a condition (either side), in source order;
    not of a score read at an earlier instant (what the lead does now cannot move it)."""
    found: list[Bound] = []
    if isinstance(condition, ir.Compare) and condition.op in FLIP:
        left, right, op = condition.left, condition.right, condition.op
        if isinstance(right, ir.ScoreRef) and isinstance(left, ir.Literal):
            left, right, op = right, left, FLIP[op]
        if (
            isinstance(left, ir.ScoreRef)
            and not ir.is_shifted(left)
            and isinstance(right, ir.Literal)
            and isinstance(right.value, int | float)
        ):
            found.append(Bound(condition, left.name, op, float(right.value)))
    for child in _children(condition):
        found += score_bounds(child)
    return found


def _gap(bound: Bound, value: float | None) -> BoundGap:
    """Points are in cents after rounding, so `> 70` needs 70.01."""
    if value is None:
        return BoundGap(bound.score, bound.op, bound.value, None, False, 0.0)
    target = {
        ">=": bound.value,
        ">": bound.value + CENT,
        "<=": bound.value,
        "<": bound.value - CENT,
    }[bound.op]
    met = value >= target if bound.op in (">=", ">") else value <= target
    return BoundGap(
        bound.score,
        bound.op,
        bound.value,
        value,
        met,
        0.0 if met else ir.round_score(target - value),
    )
