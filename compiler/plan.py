"""The logical plan: what every backend computes for a model, as a small DAG of relational
steps between `ir.Model` and the targets (sqlglot's planner and PRQL's rq play this part).

    scan ──▶ group ─────────────────┐
    scan ──▶ window ──▶ group ──────┤        (sequences, over their own event types)
                              entity rows ──▶ join ──▶ project (points) ──▶ project (totals)
                 ──▶ [project (clamped)] ──▶ project (scored) ──▶ project (derived_1) ──▶ ...

Every step after a scan has one row per (entity key, instant): the plan is keyed by the
entity the model scores and by the instant it is evaluated at, so one query can evaluate
several instants (`instants`), each event counted at every instant it precedes. A step
names its inputs; it reads them by name only, so a target can render the whole plan as one
query or each step on its own (a dbt model per step, a columnar executor).

The plan decides what is computed and how it is shared (existence counts as bits, one
MIN(age) for windows that differ in length only, derived outputs by dependency level, the
score's assembly from compiler/assembly.py); a target decides only how to spell it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import ir
from .assembly import CLAMP, GROUPS, RESET, ScoreAssembly, assemble
from .output_graph import output_graph
from .plan_analysis import (
    Derived,
    Phase,
    derived_levels,
    existence_counts,
    flag_groups,
    phases,
    rollups,
    shared_youngest,
    summed_per_lead,
    windowed,
)

INSTANT = "as_of"  # the instant key's name in a multi-instant result


@dataclass(frozen=True)
class Step:
    """`name`: the step's own name (a target may need to spell it otherwise); `inputs`: the
    names of the steps it reads; `keys`: the columns that identify one of its rows (none:
    one row per event read)."""

    name: str
    inputs: tuple[str, ...]
    keys: tuple[str, ...] = field(default=(), kw_only=True)
    entity: str = field(default=ir.LEAD, kw_only=True)  # whose rows (a scan: whose groups)


@dataclass(frozen=True)
class LeadInstant:
    """Each entity evaluated at its own instant: a timestamp column of its rows plus `offset`
    seconds (`created_at + 14d`; negative: before it). A row whose column is missing has no
    instant and no result."""

    column: str
    offset: float = 0.0


@dataclass(frozen=True)
class Instants(Step):
    """The instants the plan evaluates at, one row each: a step only when there are several
    (one instant is a constant of the query). `instants`: the requested ones (none: the
    query's now); `per_entity`: instead, one instant per entity, read from its row (one row
    per entity and instant); `shifts`: each requested instant minus each shift is evaluated
    too (its rows are read by shifted references, not output)."""

    instants: tuple[datetime, ...]
    shifts: tuple[float, ...] = ()
    per_entity: LeadInstant | None = None

    def rows(self) -> list[tuple[datetime, bool]]:
        """Each pinned instant to evaluate, once, and whether it was requested."""
        requested = set(self.instants)
        earlier = (i - timedelta(seconds=s) for s in self.shifts for i in self.instants)
        extra = dict.fromkeys(e for e in earlier if e not in requested)
        return [(i, True) for i in self.instants] + [(e, False) for e in extra]


@dataclass(frozen=True)
class Scan(Step):
    """The events of `types` at or before each instant (a filter on the source table), with
    their age at that instant and the properties `props`. `windowed`: some aggregate over it
    tests a window. `instant_bounds`: windows may compare the event's time with an instant
    instead of its age (only with a single instant: see `pin_single_instant`). `accounts`:
    each event also carries its lead's account key (account aggregates group by it), so
    one scan serves both entities."""

    types: tuple[str, ...]
    props: tuple[str, ...]
    windowed: bool
    instant_bounds: bool = False
    accounts: bool = False


@dataclass(frozen=True)
class Window(Step):
    """Per sequence, the smallest age of a `first` event at or before each scanned event,
    over the events of the same (entity, instant)."""

    sequences: tuple[ir.Sequence, ...]


@dataclass(frozen=True)
class Group(Step):
    """One row per (entity, instant) that has events in its input: `aggregates` one column
    each; `youngest` (id -> the filter without its window): existence counts answered by one
    shared youngest event; `flags`: groups of existence counts packed as bits of a column."""

    aggregates: tuple[ir.AggregateNode, ...]
    youngest: tuple[tuple[str, ir.EventFilter], ...] = ()
    flags: tuple[tuple[ir.Count, ...], ...] = ()


@dataclass(frozen=True)
class Join(Step):
    """The entity's rows, once per instant, with the `fields` later steps read, LEFT JOIN
    each grouped input on (entity key, instant); an aggregate of a row without events is
    filled in (0, FALSE; missing for times), and so is a roll-up of an account without
    leads (0 for sum and counts; missing for max and avg) and an account aggregate summed
    from its leads' (`rolled_aggregates`). `account_fields`: of a lead's account, looked up
    by the lead's account key (missing without one)."""

    fields: tuple[str, ...]
    aggregates: tuple[ir.AggregateNode, ...]
    rollups: tuple[ir.Rollup, ...] = field(default=(), kw_only=True)
    account_fields: tuple[str, ...] = field(default=(), kw_only=True)
    rolled_aggregates: tuple[ir.AggregateNode, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class Ranked(Step):
    """The lead rows of its input, plus per roll-up of the top N (`avg(top N leads.X)`) each
    lead's rank among its account's leads that count (`where` holds, X present), by X
    descending: the roll-up then averages the ranks up to N."""

    rollups: tuple[ir.Rollup, ...]


@dataclass(frozen=True)
class RollUp(Step):
    """One row per (account, instant) that has leads in its input: each roll-up over the
    account's leads, from the columns the lead steps computed (the lead outputs once), and
    each account aggregate of `aggregates` combined from its leads' values of it
    (`plan_analysis.summed_per_lead`: sums, the latest or earliest time)."""

    rollups: tuple[ir.Rollup, ...]
    aggregates: tuple[ir.AggregateNode, ...] = ()


@dataclass(frozen=True)
class AccountLookup(Step):
    """Its input's lead rows, plus the account `outputs` of each lead's account (inputs:
    the lead step, then the account step), LEFT JOINed on the lead's account key: missing
    for a lead without one."""

    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Shift(Step):
    """Its input's columns, plus each shifted reference of `references`: the column it
    reads, taken from the input's row of the same entity at the instant minus its shift
    (a self join on (entity key, instant - shift))."""

    references: tuple[ir.Reference, ...]


@dataclass(frozen=True)
class RuleColumn:
    """A rule's column: its points after its own `max` (compiler/assembly.py), or, for a
    reset rule, whether it fired."""

    rule: ir.PointsRule | ir.ResetRule


@dataclass(frozen=True)
class StageColumn:
    """One stage of a score's assembly (compiler/assembly.STAGES); stages before it that no
    earlier step holds are computed inline. `output`: the column is the score itself."""

    assembly: ScoreAssembly
    stage: str
    output: bool = False


@dataclass(frozen=True)
class OutputColumn:
    """A composite, tier, percentile tier (a window over the instant's entities), matrix or
    flag."""

    output: Derived


Column = RuleColumn | StageColumn | OutputColumn


@dataclass(frozen=True)
class Project(Step):
    """Its input's columns, plus `columns`."""

    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Plan:
    """`instants`: the pinned instants (UTC, naive), none for the query's now; `per_entity`:
    instead, each entity's own instant; `entity`: what one row of a step after the scans is
    about (with an instant); `shifts`: the shifts of the model's shifted references (their
    instants are evaluated too, not output)."""

    model: ir.Model
    entity: str
    instants: tuple[datetime, ...]
    steps: tuple[Step, ...]
    assemblies: tuple[ScoreAssembly, ...]  # one per rule-based score, in model order
    shifts: tuple[float, ...] = ()
    per_entity: LeadInstant | None = None

    def assembly(self, score: str) -> ScoreAssembly:
        return next(a for a in self.assemblies if a.score.name == score)

    def final(self, entity: str) -> Step:
        """The step whose rows hold every output of `entity`: its view's source."""
        return next(
            s
            for s in reversed(self.steps)
            if s.entity == entity and isinstance(s, Join | Project | Shift | AccountLookup)
        )

    @property
    def single_instant(self) -> bool:
        """One instant evaluated: the instant is a constant of the query."""
        return len(self.instants) <= 1 and not self.shifts and self.per_entity is None

    @property
    def several_output(self) -> bool:
        """Several instants requested: the result has a row per (entity, instant)."""
        return len(self.instants) > 1


class ShiftError(ValueError):
    """A shifted reference the plan cannot evaluate (a shift of a shift, a negative one)."""


def entity_of(model: ir.Model) -> str:
    """The entity the model scores: its first (today its only) entity, `lead`."""
    return model.entities[0].name


def utc_naive(instant: datetime) -> datetime:
    return instant if instant.tzinfo is None else instant.astimezone(UTC).replace(tzinfo=None)


def build_plan(model: ir.Model, instants: Sequence[datetime] | LeadInstant = ()) -> Plan:
    """The plan of `model` at `instants` (none: the query's now; a LeadInstant: each
    entity's own), with the rewrites that apply (see `pin_single_instant`)."""
    per_entity = instants if isinstance(instants, LeadInstant) else None
    pinned: tuple[datetime, ...] = (
        () if isinstance(instants, LeadInstant) else tuple(utc_naive(i) for i in instants)
    )
    if len(set(pinned)) != len(pinned):
        raise ValueError("the instants to evaluate at must differ")
    shifts = tuple(sorted({r.shift for r in shifted_references(model)}))
    if shifts and model.account is not None:
        raise ShiftError("a shifted reference in a model with an account is not supported yet")
    if per_entity is not None and model.account is not None:
        raise ValueError("a model with an account is evaluated at one instant for every lead")
    several = len(pinned) > 1 or bool(shifts) or per_entity is not None
    # One row per entity and instant; with one instant, the instant is a constant.
    keys = {e.name: (e.key, INSTANT) if several else (e.key,) for e in model.entities}
    steps: list[Step] = (
        [Instants("instants", (), pinned, shifts, per_entity, keys=(INSTANT,))] if several else []
    )
    at = tuple(s.name for s in steps)  # what scans and the join read the instants from
    groups, per_lead = _event_steps(model, at, keys, steps)
    lead_outputs = _outputs(model, ir.LEAD)
    steps.append(
        Join(
            "base",
            (*at, *groups[ir.LEAD]),
            _fields_read(model),
            (*model.aggregates_of(ir.LEAD), *per_lead),
            account_fields=_account_fields((lead_outputs, rollups(_outputs(model, ir.ACCOUNT)))),
            keys=keys[ir.LEAD],
        )
    )
    assemblies = tuple(assemble(score) for score in model.scores)
    last = {ir.LEAD: "base"}
    for number, phase in enumerate(_phases(model)):
        prefix = ("", "account_")[number] if number < 2 else f"phase{number}_"
        entity = phase.entity
        if entity == ir.ACCOUNT:
            steps.extend(_rolled_up(model, phase, prefix, at, groups, per_lead, last, keys))
        elif number:
            reads = {
                r for o in output_graph(model).outputs if o.name in phase.outputs for r in o.reads
            }
            account = tuple(o for o in _names(model, ir.ACCOUNT) if o in reads)
            steps.append(
                AccountLookup(
                    f"{prefix}lookup", (last[ir.LEAD], last[ir.ACCOUNT]), account, keys=keys[entity]
                )
            )
        last[entity] = steps[-1].name
        scores = tuple(a for a in assemblies if a.score.name in phase.outputs)
        if number == 0 or scores:
            steps.extend(_score_steps(scores, keys[entity], last[entity], prefix, entity))
        only = None if model.account is None else set(phase.outputs)
        for depth, outputs in enumerate(derived_levels(model, only), 1):
            columns = tuple(OutputColumn(o) for o in outputs)
            project = Project(
                f"{prefix}derived_{depth}",
                (steps[-1].name,),
                columns,
                keys=keys[entity],
                entity=entity,
            )
            steps.append(project)
        last[entity] = steps[-1].name
    if shifts:
        steps = _with_shifts(steps, keys[ir.LEAD])
    plan = Plan(model, entity_of(model), pinned, tuple(steps), assemblies, shifts, per_entity)
    return pin_single_instant(plan) if plan.single_instant else plan


def _event_steps(
    model: ir.Model, at: tuple[str, ...], keys: dict[str, tuple[str, ...]], steps: list[Step]
) -> tuple[dict[str, list[str]], tuple[ir.AggregateNode, ...]]:
    """The scans, windows and groups of the model's aggregates, appended to `steps`: one scan
    for every entity's plain aggregates (an account's events are its leads'), one per entity
    with sequences (each window sorts its entity's events). An account aggregate summed per
    lead is computed with the lead's, then rolled up; the other account aggregates group
    the scan's events by their lead's account. Returns each entity's groups, and the account
    aggregates computed per lead."""
    groups: dict[str, list[str]] = {e.name: [] for e in model.entities}
    plain = [a for a in model.aggregates if not isinstance(a, ir.Sequence)]
    per_lead = tuple(a for a in plain if a.entity == ir.ACCOUNT and summed_per_lead(a))
    by_entity = {
        entity: [a for a in plain if a.entity == entity and a not in per_lead] for entity in groups
    }
    if plain:
        existence = existence_counts(model)
        shared = {entity: shared_youngest(existence, mine) for entity, mine in by_entity.items()}
        steps.append(
            Scan(
                "scan",
                at,
                model.event_types_read(plain),
                tuple(ir.properties_read(plain)),
                any(shared.values()) or windowed(plain),
                accounts=bool(by_entity.get(ir.ACCOUNT)),
            )
        )
        for entity, mine in by_entity.items():
            extra = per_lead if entity == ir.LEAD else ()
            if not mine and not extra:
                continue
            packed = flag_groups(existence, mine, shared[entity])
            flagged = {a.id for group in packed for a in group}
            name = _prefixed(entity, "agg")
            steps.append(
                Group(
                    name,
                    ("scan",),
                    (*(a for a in mine if a.id not in flagged), *extra),
                    tuple(shared[entity].items()),
                    tuple(tuple(g) for g in packed),
                    keys=keys[entity],
                    entity=entity,
                )
            )
            groups[entity].append(name)
    for entity in groups:
        sequences = [
            a for a in model.aggregates if isinstance(a, ir.Sequence) and a.entity == entity
        ]
        if not sequences:
            continue
        # The window sorts every row it reads: only the sequences' own event types.
        scan, window, group = (
            _prefixed(entity, n) for n in ("sequence_scan", "sequenced", "sequence_agg")
        )
        steps.append(
            Scan(
                scan,
                at,
                model.event_types_read(sequences),
                tuple(ir.properties_read(sequences)),
                windowed(sequences),
                accounts=entity == ir.ACCOUNT,
                entity=entity,
            )
        )
        steps.append(Window(window, (scan,), tuple(sequences), entity=entity))
        steps.append(Group(group, (window,), tuple(sequences), keys=keys[entity], entity=entity))
        groups[entity].append(group)
    return groups, per_lead


def _prefixed(entity: str, name: str) -> str:
    return name if entity == ir.LEAD else f"{entity}_{name}"


def _phases(model: ir.Model) -> list[Phase]:
    """The output phases; a model with an account has an account phase, if only to list its
    accounts."""
    found = phases(model)
    if model.account is not None and not any(p.entity == ir.ACCOUNT for p in found):
        found.append(Phase(ir.ACCOUNT, frozenset()))
    return found


def _rolled_up(
    model: ir.Model,
    phase: Phase,
    prefix: str,
    at: tuple[str, ...],
    groups: dict[str, list[str]],
    per_lead: tuple[ir.AggregateNode, ...],
    last: dict[str, str],
    keys: dict[str, tuple[str, ...]],
) -> list[Step]:
    """An account phase's rows: the roll-ups its outputs read, over the lead rows computed
    so far, joined to the accounts (the first account phase: every account row, with its
    event aggregates) or to the previous account phase's rows."""
    assert model.account is not None
    steps: list[Step] = []
    mine = rollups(_outputs(model, ir.ACCOUNT, phase.outputs))
    first = ir.ACCOUNT not in last
    summed = per_lead if first else ()
    inputs: tuple[str, ...] = ()
    if mine or summed:
        source = last[ir.LEAD]
        tops = tuple(r for r in mine if r.top is not None)
        if tops:
            steps.append(Ranked(f"{prefix}ranked", (source,), tops, keys=keys[ir.LEAD]))
            source = steps[-1].name
        rolled = RollUp(
            f"{prefix}rollup", (source,), mine, summed, keys=keys[ir.ACCOUNT], entity=ir.ACCOUNT
        )
        steps.append(rolled)
        inputs = (rolled.name,)
    fields = (
        (model.account.key, *_account_fields(_outputs(model, ir.ACCOUNT), model.account))
        if first
        else ()
    )
    steps.append(
        Join(
            f"{prefix}accounts" if first else f"{prefix}rows",
            (*at, *groups[ir.ACCOUNT], *inputs) if first else (last[ir.ACCOUNT], *inputs),
            fields,
            tuple(a for a in model.aggregates_of(ir.ACCOUNT) if a not in summed) if first else (),
            rollups=mine,
            rolled_aggregates=summed,
            keys=keys[ir.ACCOUNT],
            entity=ir.ACCOUNT,
        )
    )
    return steps


def _outputs(model: ir.Model, entity: str, only: frozenset[str] | None = None) -> list[object]:
    """The outputs of one entity (of those named in `only`), each with what defines it."""
    return [
        o
        for o in (
            *model.scores,
            *model.composites,
            *model.tiers,
            *model.percentile_tiers,
            *model.matrices,
            *model.flags,
        )
        if o.entity == entity and (only is None or o.name in only)
    ]


def _names(model: ir.Model, entity: str) -> list[str]:
    return [o.name for o in _outputs(model, entity)]


def _account_fields(nodes: object, account: ir.Entity | None = None) -> tuple[str, ...]:
    """The account fields these nodes read, in declaration order (`account`: of this
    entity's fields, else by first use)."""
    used = dict.fromkeys(n.name for n in ir.subexpressions(nodes) if isinstance(n, ir.AccountField))
    if account is None:
        return tuple(used)
    return tuple(f.name for f in account.fields if f.name in used and f.name != account.key)


def shifted_references(model: ir.Model) -> tuple[ir.Reference, ...]:
    """The model's shifted references, first use first; refuses a reference that reads
    the future or whose value itself reads a shifted one (a shift of a shift)."""
    found: dict[ir.Reference, None] = {}
    moving: set[str] = set()  # outputs and aggregates whose value reads a shifted one
    for name, node in _definitions(model):
        refs = [n for n in ir.subexpressions(node) if isinstance(n, ir.Reference)]
        refs += [ir.ScoreRef(s) for s in _sources(node)]
        if any(ir.is_shifted(r) or ir.referenced(r) in moving for r in refs):
            moving.add(name)
        for ref in refs:
            if not ir.is_shifted(ref):
                continue
            if ref.shift < 0:
                raise ShiftError(
                    f"`{ir.referenced(ref)}` is read at a later instant ({ref.shift:g}s)"
                )
            if ir.referenced(ref) in moving:
                raise ShiftError(
                    f"`{ir.referenced(ref)}` is read at an earlier instant but itself reads "
                    "a value at an earlier instant: a shift of a shift is not supported"
                )
            found[ref] = None
    return tuple(found)


def _definitions(model: ir.Model) -> list[tuple[str, object]]:
    """Each output with what defines it, each after what it reads (the output graph's
    evaluation order)."""
    by_name = {
        o.name: o
        for o in (
            *model.scores,
            *model.composites,
            *model.tiers,
            *model.percentile_tiers,
            *model.matrices,
            *model.flags,
        )
    }
    return [(o.name, by_name[o.name]) for o in output_graph(model).walk()[0]]


def _sources(node: object) -> tuple[str, ...]:
    """The outputs a tier or matrix reads by name."""
    if isinstance(node, ir.Tier | ir.PercentileTier):
        return (node.source,)
    if isinstance(node, ir.Matrix):
        return (node.rows, node.columns)
    return ()


def _with_shifts(steps: list[Step], keys: tuple[str, ...]) -> list[Step]:
    """A `Shift` step before each projection whose columns read shifted references: it adds
    them from its input, which holds every column computed before."""
    result: list[Step] = []
    for step in steps:
        if isinstance(step, Project):
            defined = [
                c.rule if isinstance(c, RuleColumn) else c.output
                for c in step.columns
                if not isinstance(c, StageColumn)  # its rules are the points step's
            ]
            read = dict.fromkeys(n for n in ir.subexpressions(defined) if ir.is_shifted(n))
            if read:
                shift = Shift(f"shifted_{step.name}", step.inputs, tuple(read), keys=keys)
                result.append(shift)
                step = dataclasses.replace(step, inputs=(shift.name,))
        result.append(step)
    return result


def pin_single_instant(plan: Plan) -> Plan:
    """The rewrite for one instant: scans and windows may test the event's time against the
    instant minus their length, a bound the engine computes once (a literal, when pinned),
    instead of every event's age. With several instants each event has an age per instant."""
    steps = tuple(
        dataclasses.replace(s, instant_bounds=True) if isinstance(s, Scan) else s
        for s in plan.steps
    )
    return dataclasses.replace(plan, steps=steps)


def _score_steps(
    assemblies: tuple[ScoreAssembly, ...],
    keys: tuple[str, ...],
    source: str,
    prefix: str = "",
    entity: str = ir.LEAD,
) -> list[Project]:
    """points -> totals (group caps, reset) -> [clamped] -> scored (rounding)."""
    rules = tuple(RuleColumn(r) for a in assemblies for r in a.score.rules)
    totals = tuple(StageColumn(a, RESET if a.stage(RESET) else GROUPS) for a in assemblies)
    # Clamped in a step of its own: the rounding reads its value several times.
    clamps = tuple(StageColumn(a, CLAMP) for a in assemblies if a.stage(CLAMP))
    scored = tuple(StageColumn(a, a.stages[-1][0], output=True) for a in assemblies)
    steps = [Project(f"{prefix}points", (source,), rules, keys=keys, entity=entity)]
    for name, columns in (("totals", totals), ("clamped", clamps), ("scored", scored)):
        if columns or name != "clamped":
            step = Project(f"{prefix}{name}", (steps[-1].name,), columns, keys=keys, entity=entity)
            steps.append(step)
    return steps


def _fields_read(model: ir.Model) -> tuple[str, ...]:
    """The lead's key and the fields that rules, composites, flags and roll-ups read (and
    the lead's account key, if the model has accounts)."""
    roots: list[ir.Expr] = [c.expr for c in model.composites] + [f.condition for f in model.flags]
    for score in model.scores:
        roots += [r.condition for r in score.rules if isinstance(r, ir.WhenRule | ir.ResetRule)]
    used = {
        n.name for root in roots for n in ir.subexpressions(root) if isinstance(n, ir.LeadField)
    }
    if model.account_link is not None:
        used.add(model.account_link)
    return (
        model.key,
        *(f.name for f in model.lead_fields if f.name in used and f.name != model.key),
    )
