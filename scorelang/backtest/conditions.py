"""Flag conditions re-evaluated over scored outputs, a whole column at a time.

Suggesting a flag threshold means asking "what if `total >= 70` were `total >= t`?" for
many t; re-scoring every lead each time would be wasteful when the condition only reads
outputs (scores, tiers, other flags). Semantics follow compiler/ir.py: a predicate with a
missing operand is False; arithmetic with one is missing; `x / 0` is missing.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..compiler import ir

COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}

Truth = NDArray[np.bool_]


class UnsupportedCondition(ValueError):
    """The condition uses something that is not a function of the outputs alone."""


@dataclass(frozen=True)
class Column:
    values: NDArray
    present: Truth


@dataclass(frozen=True)
class _Context:
    columns: Mapping[str, Column]
    overrides: Mapping[int, Truth]
    size: int


def column(values: Sequence[Any]) -> Column:
    """One output column; all-numeric columns become floats so comparisons run in numpy."""
    data = np.asarray(values, dtype=object)
    present = np.array([v is not None for v in data], dtype=bool)
    if present.all() and all(isinstance(v, int | float) and not isinstance(v, bool) for v in data):
        data = data.astype(float)
    return Column(data, present)


def prepare(outputs: Mapping[str, Sequence[Any]]) -> dict[str, Column]:
    """Columns to evaluate conditions over, built once for many evaluations."""
    return {name: column(values) for name, values in outputs.items()}


def evaluate(
    expr: ir.Expr, columns: Mapping[str, Column], overrides: Mapping[int, Truth] | None = None
) -> Truth:
    """The condition's truth per lead; `overrides` maps `id(node)` of a sub-condition to the
    truth to use in its place (the node being varied in a threshold search)."""
    size = len(next(iter(columns.values())).present) if columns else 0
    return _truth(expr, _Context(columns, overrides or {}, size))


def _truth(expr: ir.Expr, ctx: _Context) -> Truth:
    if id(expr) in ctx.overrides:
        return ctx.overrides[id(expr)]
    if isinstance(expr, ir.And):
        return np.logical_and.reduce([_truth(e, ctx) for e in expr.operands])
    if isinstance(expr, ir.Or):
        return np.logical_or.reduce([_truth(e, ctx) for e in expr.operands])
    if isinstance(expr, ir.Not):
        return ~_truth(expr.operand, ctx)
    if isinstance(expr, ir.Compare):
        return _where_present(COMPARE[expr.op], _column(expr.left, ctx), _column(expr.right, ctx))
    if isinstance(expr, ir.Between):
        value = _column(expr.value, ctx)
        low = _where_present(operator.ge, value, _column(expr.low, ctx))
        return low & _where_present(operator.le, value, _column(expr.high, ctx))
    if isinstance(expr, ir.InList):
        value = _column(expr.value, ctx)
        member = np.array([v in {o.value for o in expr.options} for v in value.values], dtype=bool)
        return value.present & (~member if expr.negated else member)
    if isinstance(expr, ir.IsMissing):
        present = _column(expr.operand, ctx).present
        return present.copy() if expr.negated else ~present
    column = _column(expr, ctx)
    return column.present & column.values.astype(bool)


def _where_present(op, left: Column, right: Column) -> Truth:
    both = left.present & right.present
    result = np.zeros(len(both), dtype=bool)
    result[both] = np.asarray(op(left.values[both], right.values[both]), dtype=bool)
    return result


def _column(expr: ir.Expr, ctx: _Context) -> Column:
    everywhere = np.ones(ctx.size, dtype=bool)
    if isinstance(expr, ir.Literal):  # as `column` builds it, without a loop per lead
        value = expr.value
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        values = np.full(ctx.size, float(value) if numeric else value, float if numeric else object)
        return Column(values, np.full(ctx.size, value is not None))
    if isinstance(expr, ir.ScoreRef | ir.TierRef | ir.MatrixRef | ir.FlagRef):
        return ctx.columns[expr.name]
    if isinstance(expr, ir.Neg):
        operand = _column(expr.operand, ctx)
        values = np.array([None] * ctx.size, dtype=object)
        values[operand.present] = -operand.values[operand.present]
        return Column(values, operand.present)
    if isinstance(expr, ir.Arith):
        left, right = _column(expr.left, ctx), _column(expr.right, ctx)
        present = left.present & right.present
        if expr.op == "/":
            present &= np.array([v not in (0, None) for v in right.values], dtype=bool)
        values = np.array([None] * ctx.size, dtype=object)
        op = ARITH.get(expr.op, operator.truediv)
        values[present] = [
            op(float(a), float(b))
            for a, b in zip(left.values[present], right.values[present], strict=True)
        ]
        return Column(values, present)
    if isinstance(expr, ir.Func) and expr.name in ("min", "max", "abs"):
        args = [_column(a, ctx) for a in expr.args]
        present = np.logical_and.reduce([a.present for a in args])
        values = np.array([None] * ctx.size, dtype=object)
        pick = {"min": min, "max": max, "abs": lambda x: abs(x)}[expr.name]
        values[present] = [
            pick(*(float(v) for v in row))
            for row in zip(*(a.values[present] for a in args), strict=True)
        ]
        return Column(values, present)
    if isinstance(
        expr, ir.Compare | ir.Between | ir.InList | ir.IsMissing | ir.And | ir.Or | ir.Not
    ):
        return Column(_truth(expr, ctx).astype(object), everywhere)
    raise UnsupportedCondition(f"{type(expr).__name__} is not a function of the scored outputs")
