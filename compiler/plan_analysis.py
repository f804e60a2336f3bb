"""Analyses of a model that planning needs and no target should re-derive: which counts only
ask "is there some event", which of them can share one aggregate, and in which order the
derived outputs can be computed together."""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .output_graph import output_graph

# Bits 0..30 of a column of flags: their sum fits a 32-bit integer in every engine.
FLAG_BITS = 31

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

Derived = ir.Composite | ir.Tier | ir.PercentileTier | ir.Matrix | ir.Flag


def _none_or_some(op: str, bound: object) -> bool:
    """`count op bound` is the same for every count >= 1: only "none" or "some" matters."""
    if isinstance(bound, bool) or not isinstance(bound, int | float):
        return False
    match op:
        case ">" | "<=":
            return bound < 1
        case ">=" | "<":
            return bound <= 1
        case "==" | "!=":
            return bound < 1 or not float(bound).is_integer()
    return False


def existence_counts(model: ir.Model) -> set[str]:
    """Counts every use of which only asks whether there is some event (`E`, `no E`,
    `count(E) > 0`): such a count may be computed as 0 or as any positive number."""
    existence: set[str] = set()
    values: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, ir.Compare):
            for ref, bound, op in (
                (node.left, node.right, node.op),
                (node.right, node.left, _MIRROR[node.op]),
            ):
                if (
                    isinstance(ref, ir.AggregateRef)
                    and isinstance(bound, ir.Literal)
                    and _none_or_some(op, bound.value)
                ):
                    existence.add(ref.id)
                    return
        if isinstance(node, ir.AggregateRef):
            values.add(node.id)
            return
        for value in vars(node).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, ir.Expr | ir.WhenRule | ir.EachRule | ir.ResetRule):
                    visit(child)

    for score in model.scores:
        for rule in score.rules:
            visit(rule)
    for root in (*model.composites, *model.flags):
        visit(root)
    counts = {a.id for a in model.aggregates if isinstance(a, ir.Count)}
    return (existence - values) & counts


def shared_youngest(
    existence: set[str], plain: list[ir.AggregateNode]
) -> dict[str, ir.EventFilter]:
    """Existence counts that differ only in how far back they look (`no activity within
    30d`, `... 60d`, ...): each is "the youngest such event is younger than D", so one
    MIN(age) serves them all. Returns id -> the filter without its window."""
    groups: dict[tuple, list[str]] = {}
    for aggregate in plain:
        window = aggregate.filter.window
        if aggregate.id in existence and (window is None or window.min_age == 0):
            key = (aggregate.filter.types, aggregate.filter.where)
            groups.setdefault(key, []).append(aggregate.id)
    return {
        id: ir.EventFilter(types, where)
        for (types, where), ids in groups.items()
        if len(ids) > 1
        for id in ids
    }


def flag_groups(
    existence: set[str], plain: list[ir.AggregateNode], shared: dict[str, ir.EventFilter]
) -> list[list[ir.Count]]:
    """The other existence counts, FLAG_BITS to a group: each group is one BIT_OR over a sum
    of distinct bits, one per count, instead of one COUNT per count (an aggregate less to
    update per event: 10% of the whole query, DuckDB and Postgres). None for a single one."""
    flags = [
        a for a in plain if isinstance(a, ir.Count) and a.id in existence and a.id not in shared
    ]
    if len(flags) < 2:
        return []
    return [flags[i : i + FLAG_BITS] for i in range(0, len(flags), FLAG_BITS)]


def windowed(aggregates: list[ir.AggregateNode]) -> bool:
    return any(f.window is not None for a in aggregates for f in ir.event_filters(a))


def derived_levels(model: ir.Model, only: set[str] | None = None) -> list[tuple[Derived, ...]]:
    """The derived outputs (composites, tiers, percentile tiers, matrices, flags) in the
    model's order, cut by dependency level of the output graph, so outputs of one level can
    be computed side by side. Scores are level 0; a derived output reading none is computed
    with the first level. `only`: these outputs (one phase's), levels counted among them."""
    derived: list[Derived] = [
        o
        for o in (
            *model.composites,
            *model.tiers,
            *model.percentile_tiers,
            *model.matrices,
            *model.flags,
        )
        if only is None or o.name in only
    ]
    graph = output_graph(model)
    if only is None:
        level = {o.name: max(n, 1) for n, outputs in enumerate(graph.levels()) for o in outputs}
    else:
        level = {}
        for output in graph.walk()[0]:
            if output.name in only:
                inside = (level[r] for r in output.reads if r in level)
                level[output.name] = (
                    0 if output.kind == "score" else max(1, 1 + max(inside, default=0))
                )
    depth = max((level[o.name] for o in derived), default=0)
    return [tuple(o for o in derived if level[o.name] == d) for d in range(1, depth + 1)]


@dataclass(frozen=True)
class Phase:
    """Outputs of one entity computed together: each reads outputs of its own phase or of
    earlier ones. A model without an account has one phase, the lead's; with one, the
    phases alternate (lead, account, lead, ...): an account output comes after the lead
    outputs its roll-ups read, a lead output reading an account output after that output."""

    entity: str
    outputs: frozenset[str]


def phases(model: ir.Model) -> list[Phase]:
    """The model's outputs cut into phases, fewest first: lead outputs from phase 0, account
    outputs from phase 1 (even phases are the lead's, odd ones the account's)."""
    graph = output_graph(model)
    entity = {o.name: o.entity for o in graph.outputs}
    phase: dict[str, int] = {}
    for output in graph.walk()[0]:
        least = 0 if output.entity == ir.LEAD else 1
        for read in output.reads:
            if read in phase:
                least = max(least, phase[read] + (entity[read] != output.entity))
        if (least % 2 == 1) != (output.entity == ir.ACCOUNT):
            least += 1
        phase[output.name] = least
    count = max(phase.values(), default=0) + 1
    return [
        Phase(
            ir.LEAD if n % 2 == 0 else ir.ACCOUNT,
            frozenset(name for name, p in phase.items() if p == n),
        )
        for n in range(count)
    ]


def rollups(nodes: object) -> tuple[ir.Rollup, ...]:
    """The distinct roll-ups inside these outputs (each computed once), first use first."""
    return tuple(dict.fromkeys(n for n in ir.subexpressions(nodes) if isinstance(n, ir.Rollup)))


def summed_per_lead(aggregate: ir.AggregateNode) -> bool:
    """An account aggregate whose value is its leads' values combined: a count or sum is the
    sum of theirs, the latest (earliest) time the latest (earliest) of theirs. Computed per
    lead with the lead's aggregates, then rolled up, it needs no join of every event to its
    lead's account: only a distinct count, a count of periods or a sequence does."""
    return isinstance(
        aggregate, ir.Count | ir.Sum | ir.DecayedSum | ir.LinearDecaySum | ir.Last | ir.First
    )
