"""Function calls: the event aggregates (`count`, `last`, ...) and the value functions.

Argument counts and types are checked here; the result types are those `ir.Func` documents."""

from __future__ import annotations

from . import ast, ir, rollups
from .checked import Checked, ExprChecker, Handler, Scope, T, Value, literal
from .shifts import SHIFT_FUNCTIONS, shifted
from .suggest import did_you_mean

AGGREGATE_FUNCTIONS = ("count", "count_distinct", "sum", "last", "first")
STRING_FUNCTIONS = {"lower": T.STRING, "upper": T.STRING, "email_domain": T.STRING, "len": T.INT}
FUNCTIONS = (
    *AGGREGATE_FUNCTIONS,
    *STRING_FUNCTIONS,
    "days_since",
    "min",
    "max",
    "abs",
    "round",
    *SHIFT_FUNCTIONS,
)


def call(checker: ExprChecker, node: ast.Call, scope: Scope) -> Checked:
    if rollups.is_rollup(node):
        return rollups.rollup(checker, node, scope)
    name = node.function
    if name not in FUNCTIONS:
        checker.error("E216", f"unknown function `{name}`", node, did_you_mean(name, FUNCTIONS))
        return None
    if name in SHIFT_FUNCTIONS:
        return shifted(checker, node, scope)
    if name in AGGREGATE_FUNCTIONS:
        if not scope.events:
            checker.not_here("event sets", node, scope)
            return None
        return _aggregate(checker, node, scope)
    if name in STRING_FUNCTIONS:
        args = _args(checker, node, 1, 1)
        arg = args and checker.string(args[0], scope, f"{name}()")
        return arg and Value(
            ir.Func(name, (arg.expr,), STRING_FUNCTIONS[name]), STRING_FUNCTIONS[name]
        )
    if name == "days_since":
        args = _args(checker, node, 1, 1)
        arg = args and checker.value(args[0], scope)
        if arg and arg.type is not T.TIMESTAMP:
            checker.error(
                "E300", f"days_since() needs a timestamp, found {arg.type.value}", args[0]
            )
            return None
        return arg and Value(ir.Func(name, (arg.expr,), T.NUMBER), T.NUMBER)
    if name in ("min", "max"):
        args = _args(checker, node, 2, None)
        values = [checker.numeric(a, scope, f"{name}()") for a in args or ()]
        if not args or None in values:
            return None
        type_ = T.INT if all(v.type is T.INT for v in values) else T.NUMBER
        return Value(ir.Func(name, tuple(v.expr for v in values), type_), type_)
    if name == "abs":
        args = _args(checker, node, 1, 1)
        arg = args and checker.numeric(args[0], scope, "abs()")
        return arg and Value(ir.Func(name, (arg.expr,), arg.type), arg.type)
    return _round(checker, node, scope)


def _args(
    checker: ExprChecker, node: ast.Call, low: int, high: int | None
) -> tuple[ast.Expr, ...] | None:
    count = len(node.args)
    if count < low or (high is not None and count > high):
        wanted = (
            str(low) if low == high else (f"{low} or more" if high is None else f"{low} to {high}")
        )
        checker.error(
            "E308",
            f"{node.function}() takes {wanted} argument{'s' if wanted != '1' else ''}, got {count}",
            node,
        )
        return None
    return node.args


def _round(checker: ExprChecker, node: ast.Call, scope: Scope) -> Checked:
    args = _args(checker, node, 1, 2)
    if not args:
        return None
    value = checker.numeric(args[0], scope, "round()")
    digits: Value | None = Value(literal(0), T.INT)
    if len(args) == 2:
        digits = checker.value(args[1], scope)
        if digits is not None and not (
            isinstance(digits.expr, ir.Literal)
            and digits.type is T.INT
            and 0 <= digits.expr.value <= 9
        ):
            checker.error(
                "E308",
                "round()'s second argument is a whole number of decimals from 0 to 9",
                args[1],
            )
            return None
    if value is None or digits is None:
        return None
    return Value(ir.Func("round", (value.expr, digits.expr), T.NUMBER), T.NUMBER)


def _aggregate(checker: ExprChecker, node: ast.Call, scope: Scope) -> Checked:
    name = node.function
    takes_prop = name in ("count_distinct", "sum")
    args = _args(checker, node, 2 if takes_prop else 1, 2 if takes_prop else 1)
    events = args and checker.event_set(args[0], scope)
    if not events:
        return None
    if not takes_prop:
        node_type = {"count": ir.Count, "last": ir.Last, "first": ir.First}[name]
        ref = checker.intern(node_type("", events.filter))
        return Value(ref, ref.type)
    prop_node = args[1]
    props = checker.properties(events.filter.types)
    if not isinstance(prop_node, ast.Name) or prop_node.name not in props:
        shown = prop_node.name if isinstance(prop_node, ast.Name) else "this"
        checker.error(
            "E202",
            f"{shown} is not a property of these events",
            prop_node,
            did_you_mean(shown, props, f"{name}() takes an event set and one of its properties"),
        )
        return None
    if name == "sum" and not props[prop_node.name].numeric:
        checker.error(
            "E302",
            f"sum() needs a numeric property, `{prop_node.name}` is {props[prop_node.name].value}",
            prop_node,
        )
        return None
    aggregate = (ir.Sum if name == "sum" else ir.CountDistinct)("", events.filter, prop_node.name)
    ref = checker.intern(aggregate)
    return Value(ref, ref.type)


HANDLERS: dict[type[ast.Expr], Handler] = {
    ast.Call: call,
}
