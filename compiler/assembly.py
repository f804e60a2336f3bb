"""Score assembly, defined once: how a rule-based score is put together from its rules.

docs/language.md fixes the order: each rule's points after its own `max`, summed per group and
capped at the group's `max`, summed over the score, then 0 if a `reset` fired, then the
clamp, then rounding to cents. `assemble` writes that order down as a small tree of nodes;
every consumer folds the same tree with its own `Algebra`: the SQL builder into sqlglot
expressions, the Python code generator into source text, `explain` into numbers read back
from an output row, and the linter into intervals. None of them restates the order.

A target that names intermediate values (a CTE column, a Python variable) reads them back
through `Points` (a rule's points after its own `max`) and `Stage` (an earlier stage of
the same score).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from . import ir

V = TypeVar("V")


# ---- nodes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Raw(Node):
    """A points rule before its own `max`: a `when` rule's points if it fired (else 0), an
    `each` rule's points times its quantity."""

    rule: ir.PointsRule


@dataclass(frozen=True)
class Fired(Node):
    """Whether a reset rule's condition holds."""

    rule: ir.ResetRule


@dataclass(frozen=True)
class Points(Node):
    """A rule's points after its own `max`, as its rule step computed them."""

    rule: ir.PointsRule


@dataclass(frozen=True)
class Stage(Node):
    """The value of an earlier stage of the same score (see `STAGES`)."""

    name: str


@dataclass(frozen=True)
class Sum(Node):
    """Left to right, as Python adds; 0 for no terms."""

    terms: tuple[Node, ...]


@dataclass(frozen=True)
class RuleCap(Node):
    """An `each` rule's `max`: at most `bound` for positive points (`upper`), at least
    `bound` (= -max) for negative ones."""

    value: Node
    bound: float
    upper: bool


@dataclass(frozen=True)
class GroupCap(Node):
    """A group's `max`: an upper bound only."""

    value: Node
    cap: float


@dataclass(frozen=True)
class ResetIf(Node):
    """0 if any reset fired, else the value."""

    value: Node
    fired: tuple[Fired, ...]


@dataclass(frozen=True)
class Clamp(Node):
    value: Node
    low: float
    high: float


@dataclass(frozen=True)
class Round(Node):
    """To cents, half away from zero (ir.round_score)."""

    value: Node


# ---- a score's assembly -----------------------------------------------------------------

# The stages of every score, in order; a score without resets or clamp skips those stages.
GROUPS, RESET, CLAMP, ROUND = "groups", "reset", "clamp", "round"
STAGES = (GROUPS, RESET, CLAMP, ROUND)


@dataclass(frozen=True)
class ScoreAssembly:
    """`rules`: each points rule's node (over `Raw`); `terms`: one per item of the score, a
    rule's `Points` or a capped group of them; `stages`: (name, node), each over the stage
    before it (`Stage`), the last giving the score's value."""

    score: ir.Score
    rules: tuple[tuple[ir.PointsRule, Node], ...]
    terms: tuple[Node, ...]
    stages: tuple[tuple[str, Node], ...]

    def stage(self, name: str) -> Node | None:
        return next((node for n, node in self.stages if n == name), None)


def assemble(score: ir.Score) -> ScoreAssembly:
    rules = tuple((rule, rule_points(rule)) for rule in _points_rules(score))
    terms = tuple(
        GroupCap(Sum(tuple(Points(r) for r in item.rules)), float(item.cap))
        if isinstance(item, ir.Group)
        else Points(item)
        for item in score.items
    )
    stages: list[tuple[str, Node]] = [(GROUPS, Sum(terms))]
    if score.resets:
        stages.append((RESET, ResetIf(Stage(GROUPS), tuple(Fired(r) for r in score.resets))))
    if score.clamp is not None:
        low, high = score.clamp
        stages.append((CLAMP, Clamp(Stage(stages[-1][0]), float(low), float(high))))
    if not integral(score):
        stages.append((ROUND, Round(Stage(stages[-1][0]))))
    return ScoreAssembly(score, rules, terms, tuple(stages))


def rule_points(rule: ir.PointsRule) -> Node:
    """A rule's points after its own `max`."""
    if isinstance(rule, ir.EachRule) and rule.cap is not None:
        upper = rule.points >= 0
        return RuleCap(Raw(rule), float(rule.cap if upper else -rule.cap), upper)
    return Raw(rule)


def _points_rules(score: ir.Score) -> list[ir.PointsRule]:
    return [r for r in score.rules if not isinstance(r, ir.ResetRule)]


# ---- what rounding can skip -----------------------------------------------------------------


def integral_rule(rule: ir.PointsRule | ir.ResetRule) -> bool:
    """The rule's points are always an integer (in double, exactly)."""
    match rule:
        case ir.ResetRule():
            return True
        case ir.WhenRule(points=points):
            return float(points).is_integer()
        case ir.EachRule(points=points, cap=cap, quantity=quantity):
            return (
                quantity.type is ir.Type.INT
                and float(points).is_integer()
                and (cap is None or float(cap).is_integer())
            )
    return False


def in_cents(rule: ir.PointsRule) -> bool:
    """The rule's points are always a value ir.round_score leaves as it is."""
    if isinstance(rule, ir.WhenRule):
        return abs(rule.points) < 1e15 and ir.round_score(rule.points) == rule.points
    return integral_rule(rule)


def integral(score: ir.Score) -> bool:
    """Every value of the score is an integer: a sum of integers in double is exact, so
    rounding to cents would not change it."""
    return (
        all(integral_rule(r) for r in score.rules)
        and all(float(g.cap).is_integer() for g in score.items if isinstance(g, ir.Group))
        and all(float(b).is_integer() for b in score.clamp or ())
    )


# ---- folding ---------------------------------------------------------------------------------


class Algebra(Protocol[V]):
    """What a consumer makes of each node; `raw`, `fired`, `points` and `stage` are its
    leaves (a stage is None when the consumer inlines it: `fold` then folds its node)."""

    def raw(self, rule: ir.PointsRule) -> V: ...
    def fired(self, rule: ir.ResetRule) -> V: ...
    def points(self, rule: ir.PointsRule) -> V: ...
    def stage(self, name: str) -> V | None: ...
    def sum(self, terms: list[V]) -> V: ...
    def rule_cap(self, value: V, bound: float, upper: bool) -> V: ...
    def group_cap(self, value: V, cap: float) -> V: ...
    def reset_if(self, value: V, fired: list[V]) -> V: ...
    def clamp(self, value: V, low: float, high: float) -> V: ...
    def round(self, value: V) -> V: ...


@dataclass
class Folder(Generic[V]):
    """Folds the nodes of one score's assembly; inlined stages are folded from their node
    (no assembly: a node without stages, such as a rule's)."""

    assembly: ScoreAssembly | None
    algebra: Algebra[V]

    def __call__(self, node: Node) -> V:
        a, fold = self.algebra, self
        match node:
            case Raw(rule=rule):
                return a.raw(rule)
            case Fired(rule=rule):
                return a.fired(rule)
            case Points(rule=rule):
                return a.points(rule)
            case Stage(name=name):
                named = a.stage(name)
                if named is not None:
                    return named
                inner = self.assembly and self.assembly.stage(name)
                assert inner is not None, f"no stage {name}"
                return fold(inner)
            case Sum(terms=terms):
                return a.sum([fold(t) for t in terms])
            case RuleCap(value=value, bound=bound, upper=upper):
                return a.rule_cap(fold(value), bound, upper)
            case GroupCap(value=value, cap=cap):
                return a.group_cap(fold(value), cap)
            case ResetIf(value=value, fired=fired):
                return a.reset_if(fold(value), [fold(f) for f in fired])
            case Clamp(value=value, low=low, high=high):
                return a.clamp(fold(value), low, high)
            case Round(value=value):
                return a.round(fold(value))
        raise ValueError(f"unknown assembly node {node!r}")


def fold(assembly: ScoreAssembly | None, algebra: Algebra[V], node: Node) -> V:
    return Folder(assembly, algebra)(node)


def fold_value(assembly: ScoreAssembly, algebra: Algebra[V]) -> V:
    """The score's value: its last stage, folded."""
    return fold(assembly, algebra, assembly.stages[-1][1])
