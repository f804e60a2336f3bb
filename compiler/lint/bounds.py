"""The lowest and highest value each score can take, from its rules alone.

Positive `when` points may all fire; an `each` without `max` is unbounded; a group caps its
sum from above; a reset can force 0; the clamp bounds the result. Composite scores follow by
interval arithmetic over their inputs' bounds. Lints use this to find inflated scores and
tier bands no lead can reach. A score's bounds fold its assembly (compiler/assembly.py), the
one definition of that order, over intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import ir
from ..assembly import GROUPS, ScoreAssembly, assemble, fold, fold_value

INF = math.inf


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.low + other.low, self.high + other.high)

    def __neg__(self) -> Interval:
        return Interval(-self.high, -self.low)

    def __mul__(self, other: Interval) -> Interval:
        products = [_mul(a, b) for a in (self.low, self.high) for b in (other.low, other.high)]
        return Interval(min(products), max(products))

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.low, other.low), max(self.high, other.high))


UNBOUNDED = Interval(-INF, INF)


def _mul(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b  # 0 * inf is 0 here: a zero factor stays zero


@dataclass(frozen=True)
class Bounds:
    raw: Interval  # the sum of rule points (groups capped), before reset and clamp
    final: Interval  # the score's possible values


class _Intervals:
    """The assembly's algebra over intervals: what each node can be, given what its inputs
    can be. A `when` rule gives 0 or its points; an `each` rule any multiple of its points."""

    def __init__(self, assembly: ScoreAssembly) -> None:
        self.assembly, self.rules = assembly, dict(assembly.rules)
        self.stages: dict[str, Interval] = {}

    def raw(self, rule: ir.PointsRule) -> Interval:
        if isinstance(rule, ir.WhenRule):
            return Interval(min(rule.points, 0.0), max(rule.points, 0.0))
        return Interval(0.0, INF) if rule.points >= 0 else Interval(-INF, 0.0)

    def fired(self, rule: ir.ResetRule) -> Interval:
        return Interval(0.0, 1.0)  # unused: a reset only ever makes the score 0

    def points(self, rule: ir.PointsRule) -> Interval:
        return fold(self.assembly, self, self.rules[rule])

    def stage(self, name: str) -> Interval:
        return self.stages[name]

    def sum(self, terms: list[Interval]) -> Interval:
        return sum(terms, Interval(0.0, 0.0))

    def rule_cap(self, value: Interval, bound: float, upper: bool) -> Interval:
        if upper:
            return Interval(min(value.low, bound), min(value.high, bound))
        return Interval(max(value.low, bound), max(value.high, bound))

    def group_cap(self, value: Interval, cap: float) -> Interval:
        return Interval(min(value.low, cap), min(value.high, cap))

    def reset_if(self, value: Interval, fired: list[Interval]) -> Interval:
        return value.hull(Interval(0.0, 0.0))

    def clamp(self, value: Interval, low: float, high: float) -> Interval:
        return Interval(min(max(value.low, low), high), min(max(value.high, low), high))

    def round(self, value: Interval) -> Interval:
        return value  # rounding moves a bound by less than a cent: advice needs no more


def score_bounds(model: ir.Model) -> dict[str, Bounds]:
    bounds: dict[str, Bounds] = {}
    for score in model.scores:
        assembly = assemble(score)
        intervals = _Intervals(assembly)
        for name, node in assembly.stages:
            intervals.stages[name] = fold(assembly, intervals, node)
        bounds[score.name] = Bounds(intervals.stages[GROUPS], fold_value(assembly, intervals))
    for composite in model.composites:
        value = expr_interval(composite.expr, bounds)
        bounds[composite.name] = Bounds(value, value)
    return bounds


def expr_interval(expr: ir.Expr, bounds: dict[str, Bounds]) -> Interval:
    match expr:
        case ir.ScoreRef(name=name) if name in bounds:
            return bounds[name].final
        case ir.Literal(value=value) if isinstance(value, int | float) and not isinstance(
            value, bool
        ):
            return Interval(float(value), float(value))
        case ir.Neg(operand=operand):
            return -expr_interval(operand, bounds)
        case ir.Arith(op=op, left=left, right=right):
            a, b = expr_interval(left, bounds), expr_interval(right, bounds)
            if op == "+":
                return a + b
            if op == "-":
                return a + -b
            if op == "*":
                return a * b
            if b.low > 0 or b.high < 0:  # division by an interval without 0
                return a * Interval(*sorted((1 / b.high, 1 / b.low)))
            return UNBOUNDED
        case ir.Func(name="min" | "max" as name, args=args) if args:
            parts = [expr_interval(a, bounds) for a in args]
            pick = min if name == "min" else max
            return Interval(pick(p.low for p in parts), pick(p.high for p in parts))
        case ir.Func(name="round", args=(arg, _)):
            return expr_interval(arg, bounds)  # as `_Intervals.round`: less than a cent
        case ir.Func(name="abs", args=(arg,)):
            inner = expr_interval(arg, bounds)
            if inner.low >= 0:
                return inner
            if inner.high <= 0:
                return -inner
            return Interval(0.0, max(-inner.low, inner.high))
        case ir.Rollup(func="max" | "avg", value=value) if value is not None:
            return expr_interval(value, bounds)  # within the leads' values
        case ir.Rollup(func="count" | "count_distinct"):
            return Interval(0.0, INF)
    return UNBOUNDED
