"""Comparisons and tests: `==` ..., `in`, `between`, text tests, `matches`, `is missing`.

Operands must have comparable types; strings and booleans only compare for equality
(ordering text differs between warehouses)."""

from __future__ import annotations

import dataclasses

from . import ast, ir
from .checked import (
    Checked,
    EventSet,
    ExprChecker,
    Handler,
    ListValue,
    RegexValue,
    Scope,
    T,
    Value,
    comparable,
    type_word,
)
from .regex import ascii_case_insensitive
from .suggest import did_you_mean


def compare(checker: ExprChecker, node: ast.Compare, scope: Scope) -> Checked:
    left = checker.value(node.left, scope)
    right = checker.value(node.right, scope)
    if left is None or right is None:
        return None
    if not comparable(left.type, right.type):
        hint = (
            "use days_since(t) to compare an age in days"
            if T.TIMESTAMP in (left.type, right.type)
            else None
        )
        checker.error(
            "E300",
            f"cannot compare {left.type.value} with {right.type.value}",
            node.right,
            hint,
        )
        return None
    if node.op not in ("==", "!=") and left.type in (T.STRING, T.BOOL):
        checker.error("E300", f"{left.type.value} values can only be compared with == or !=", node)
        return None
    _check_choice(checker, left, right, node.right)
    _check_choice(checker, right, left, node.left)
    return Value(ir.Compare(node.op, left.expr, right.expr), T.BOOL)


def _check_choice(checker: ExprChecker, output: Value, other: Value, node: ast.Node) -> None:
    """`stage == "intrest"`: a literal a tier or matrix can never be."""
    if (
        output.choices
        and isinstance(other.expr, ir.Literal)
        and other.expr.value not in output.choices
    ):
        checker.error(
            "E217",
            f"{other.expr.value!r} is not one of {', '.join(output.choices)}",
            node,
            did_you_mean(str(other.expr.value), output.choices),
        )


def in_list(checker: ExprChecker, node: ast.In, scope: Scope) -> Checked:
    value = checker.value(node.value, scope)
    options = checker.check(node.options, scope)
    if options is not None and not isinstance(options, ListValue):
        checker.error(
            "E314",
            f"`in` needs a list, found {type_word(options)}",
            node.options,
            'write e.g. `in ["a", "b"]` or name a const list',
        )
        return None
    if value is None or options is None:
        return None
    for item in options.items:
        if not comparable(value.type, item.type):
            checker.error(
                "E300",
                f"cannot compare {value.type.value} with a list of {item.type.value}",
                node.options,
            )
            return None
        _check_choice(checker, value, Value(item, item.type), node.options)
    return Value(ir.InList(value.expr, options.items, node.negated), T.BOOL)


def between(checker: ExprChecker, node: ast.Between, scope: Scope) -> Checked:
    value, low, high = (checker.value(n, scope) for n in (node.value, node.low, node.high))
    if value is None or low is None or high is None:
        return None
    for bound, bound_node in ((low, node.low), (high, node.high)):
        if not (
            comparable(value.type, bound.type) and value.type in (T.INT, T.NUMBER, T.TIMESTAMP)
        ):
            checker.error(
                "E300",
                f"`between` cannot compare {value.type.value} with {bound.type.value}",
                bound_node,
            )
            return None
    if (
        isinstance(low.expr, ir.Literal)
        and isinstance(high.expr, ir.Literal)
        and low.expr.value > high.expr.value
    ):
        span = dataclasses.replace(
            node.low.span,
            end_line=node.high.span.end_line,
            end_column=node.high.span.end_column,
            end=node.high.span.end,
        )
        checker.error(
            "E316",
            f"`between {low.expr.value} and {high.expr.value}` can never hold: the bounds are reversed",
            span,
            f"write `between {high.expr.value} and {low.expr.value}`",
        )
        return None
    return Value(ir.Between(value.expr, low.expr, high.expr), T.BOOL)


def string_test(checker: ExprChecker, node: ast.StringTest, scope: Scope) -> Checked:
    words = node.op.replace("_", " ")
    value = checker.string(node.value, scope, f"`{words}`")
    operand = checker.string(node.operand, scope, f"`{words}`")
    if value is None or operand is None:
        return None
    return Value(ir.StringTest(node.op, value.expr, operand.expr), T.BOOL)


def matches(checker: ExprChecker, node: ast.Matches, scope: Scope) -> Checked:
    value = checker.string(node.value, scope, "`matches`")
    pattern = checker.check(node.pattern, scope)
    if pattern is not None and not isinstance(pattern, RegexValue):
        checker.error(
            "E314",
            f"`matches` needs a pattern such as /text/i, found {type_word(pattern)}",
            node.pattern,
        )
        return None
    if value is None or pattern is None:
        return None
    text = pattern.pattern
    if "i" in pattern.flags:
        text = ascii_case_insensitive(text)
    return Value(ir.Matches(value.expr, text), T.BOOL)


def is_missing(checker: ExprChecker, node: ast.IsMissing, scope: Scope) -> Checked:
    operand = checker.check(node.operand, scope)
    if isinstance(operand, EventSet):
        checker.error(
            "E305",
            "an event set is never missing",
            node.operand,
            "use `no E` for no such event",
        )
        return None
    value = checker.as_value(operand, node.operand)
    return value and Value(ir.IsMissing(value.expr, node.negated), T.BOOL)


HANDLERS: dict[type[ast.Expr], Handler] = {
    ast.Compare: compare,
    ast.In: in_list,
    ast.Between: between,
    ast.StringTest: string_test,
    ast.Matches: matches,
    ast.IsMissing: is_missing,
}
