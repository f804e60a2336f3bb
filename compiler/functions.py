"""Function calls: the event aggregates (`count`, `last`, ...) and the value functions.

Argument counts and types are checked here; the result types are those `ir.Func` documents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast, ir
from .checked import Checked, Scope, T, Value, literal
from .suggest import did_you_mean

if TYPE_CHECKING:
    from .typecheck import Checker

AGGREGATE_FUNCTIONS = ("count", "count_distinct", "sum", "last", "first")
STRING_FUNCTIONS = {"lower": T.STRING, "upper": T.STRING, "email_domain": T.STRING, "len": T.INT}
FUNCTIONS = (*AGGREGATE_FUNCTIONS, *STRING_FUNCTIONS, "days_since", "min", "max", "abs", "round")


class FunctionChecks:
    """Checker methods for `ast.Call`."""

    # ---- functions -----------------------------------------------------------------------

    def _Call(self: Checker, node: ast.Call, scope: Scope) -> Checked:
        name = node.function
        if name not in FUNCTIONS:
            self.error("E216", f"unknown function `{name}`", node, did_you_mean(name, FUNCTIONS))
            return None
        if name in AGGREGATE_FUNCTIONS:
            if not scope.events:
                self._not_here("event sets", node, scope)
                return None
            return self._aggregate(node, scope)
        if name in STRING_FUNCTIONS:
            args = self._args(node, 1, 1)
            arg = args and self.string(args[0], scope, f"{name}()")
            return arg and Value(
                ir.Func(name, (arg.expr,), STRING_FUNCTIONS[name]), STRING_FUNCTIONS[name]
            )
        if name == "days_since":
            args = self._args(node, 1, 1)
            arg = args and self.value(args[0], scope)
            if arg and arg.type is not T.TIMESTAMP:
                self.error(
                    "E300", f"days_since() needs a timestamp, found {arg.type.value}", args[0]
                )
                return None
            return arg and Value(ir.Func(name, (arg.expr,), T.NUMBER), T.NUMBER)
        if name in ("min", "max"):
            args = self._args(node, 2, None)
            values = [self.numeric(a, scope, f"{name}()") for a in args or ()]
            if not args or None in values:
                return None
            type_ = T.INT if all(v.type is T.INT for v in values) else T.NUMBER
            return Value(ir.Func(name, tuple(v.expr for v in values), type_), type_)
        if name == "abs":
            args = self._args(node, 1, 1)
            arg = args and self.numeric(args[0], scope, "abs()")
            return arg and Value(ir.Func(name, (arg.expr,), arg.type), arg.type)
        return self._round(node, scope)

    def _args(
        self: Checker, node: ast.Call, low: int, high: int | None
    ) -> tuple[ast.Expr, ...] | None:
        count = len(node.args)
        if count < low or (high is not None and count > high):
            wanted = (
                str(low)
                if low == high
                else (f"{low} or more" if high is None else f"{low} to {high}")
            )
            self.error(
                "E308",
                f"{node.function}() takes {wanted} argument{'s' if wanted != '1' else ''}, got {count}",
                node,
            )
            return None
        return node.args

    def _round(self: Checker, node: ast.Call, scope: Scope) -> Checked:
        args = self._args(node, 1, 2)
        if not args:
            return None
        value = self.numeric(args[0], scope, "round()")
        digits: Value | None = Value(literal(0), T.INT)
        if len(args) == 2:
            digits = self.value(args[1], scope)
            if digits is not None and not (
                isinstance(digits.expr, ir.Literal)
                and digits.type is T.INT
                and 0 <= digits.expr.value <= 9
            ):
                self.error(
                    "E308",
                    "round()'s second argument is a whole number of decimals from 0 to 9",
                    args[1],
                )
                return None
        if value is None or digits is None:
            return None
        return Value(ir.Func("round", (value.expr, digits.expr), T.NUMBER), T.NUMBER)

    def _aggregate(self: Checker, node: ast.Call, scope: Scope) -> Checked:
        name = node.function
        takes_prop = name in ("count_distinct", "sum")
        args = self._args(node, 2 if takes_prop else 1, 2 if takes_prop else 1)
        events = args and self.event_set(args[0], scope)
        if not events:
            return None
        if not takes_prop:
            node_type = {"count": ir.Count, "last": ir.Last, "first": ir.First}[name]
            ref = self.intern(node_type("", events.filter))
            return Value(ref, ref.type)
        prop_node = args[1]
        props = self.properties(events.filter.types)
        if not isinstance(prop_node, ast.Name) or prop_node.name not in props:
            shown = prop_node.name if isinstance(prop_node, ast.Name) else "this"
            self.error(
                "E202",
                f"{shown} is not a property of these events",
                prop_node,
                did_you_mean(
                    shown, props, f"{name}() takes an event set and one of its properties"
                ),
            )
            return None
        if name == "sum" and not props[prop_node.name].numeric:
            self.error(
                "E302",
                f"sum() needs a numeric property, `{prop_node.name}` is {props[prop_node.name].value}",
                prop_node,
            )
            return None
        aggregate = (ir.Sum if name == "sum" else ir.CountDistinct)(
            "", events.filter, prop_node.name
        )
        ref = self.intern(aggregate)
        return Value(ref, ref.type)
