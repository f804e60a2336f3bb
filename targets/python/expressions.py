"""IR expressions to Python expression source, with the IR's missing-value semantics.

One compiler serves the evaluator (rules, event filters, composites, flags) and the test
runner (expectations), so there is a single meaning for every operator. Leaves that name
data (fields, properties, aggregates, outputs) are resolved by the caller: each gives the
Python code reading it. Whether a value may be missing is the IR's (`Expr.may_be_missing`):
where it cannot be, the code skips the None tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ...compiler import ir

Resolve = Callable[[ir.Expr], str]
"""Code reading a leaf (LeadField, EventProp, AggregateRef, ScoreRef, TierRef, MatrixRef,
FlagRef)."""

_ARITH_HELPERS = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
_STRING_TESTS = {
    "contains": "({o} in {v})",
    "starts_with": "{v}.startswith({o})",
    "ends_with": "{v}.endswith({o})",
}
_NULLABLE_FUNCS = {"lower": "lower", "upper": "upper", "len": "length", "abs": "absolute"}
_PLAIN_FUNCS = {
    "lower": "{0}.translate(ASCII_LOWER)",
    "upper": "{0}.translate(ASCII_UPPER)",
    "len": "len({0})",
    "abs": "abs({0})",
}


class Constants:
    """Module-level constants of generated code (sets, compiled regexes, lookup tables),
    each defined once however often it is used."""

    def __init__(self) -> None:
        self._by_code: dict[str, str] = {}

    def define(self, prefix: str, code: str) -> str:
        if code not in self._by_code:
            self._by_code[code] = f"{prefix}_{len(self._by_code)}"
        return self._by_code[code]

    def lines(self) -> list[str]:
        return [f"{name} = {code}" for code, name in self._by_code.items()]


def literal(value: object) -> str:
    """Python source for a literal value (non-finite floats have no literal syntax)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


class ExpressionCompiler:
    """Compiles expressions; `value` gives the value (None when missing), `condition` a
    Python bool. Temporaries (`_t0`, `_t1`, ...) are locals of the function using the code."""

    def __init__(self, resolve: Resolve, constants: Constants, as_of: str = "as_of") -> None:
        self._resolve = resolve
        self._constants = constants
        self._as_of = as_of
        self._temps = 0

    # ---- values ----------------------------------------------------------------------

    def value(self, expr: ir.Expr) -> str:
        match expr:
            case ir.Literal(value=value):
                return literal(value)
            case ir.Arith(op=op, left=left, right=right):
                return self._arith(expr, op, left, right)
            case ir.Neg(operand=operand):
                code = self.value(operand)
                return f"neg({code})" if operand.may_be_missing else f"(-{code})"
            case ir.Func():
                return self._func(expr)
            case ir.Predicate():
                return self.condition(expr)
            case _:
                return self._resolve(expr)

    def _arith(self, expr: ir.Arith, op: str, left: ir.Expr, right: ir.Expr) -> str:
        a, b = self.value(left), self.value(right)
        if expr.may_be_missing:
            return f"{_ARITH_HELPERS[op]}({a}, {b})"
        return f"({a} {op} {b})"

    def _func(self, expr: ir.Func) -> str:
        args = [self.value(a) for a in expr.args]
        missing = any(a.may_be_missing for a in expr.args)
        match expr.name:
            case "email_domain":
                return f"email_domain({args[0]})"
            case "days_since":
                return f"days_since({args[0]}, {self._as_of})"
            case "round":
                digits = args[1] if len(args) > 1 else "0"
                return f"round_half_away({args[0]}, {digits})"
            case "min" | "max":
                helper = {"min": "minimum", "max": "maximum"}[expr.name]
                return f"{helper if missing else expr.name}({', '.join(args)})"
            case name if name in _PLAIN_FUNCS:
                return (
                    f"{_NULLABLE_FUNCS[name]}({args[0]})"
                    if missing
                    else _PLAIN_FUNCS[name].format(args[0])
                )
        raise ValueError(f"the Python target has no function {expr.name!r}")

    # ---- conditions ------------------------------------------------------------------

    def condition(self, expr: ir.Expr) -> str:
        """A Python bool: predicates with a missing operand are False."""
        match expr:
            case ir.And(operands=operands):
                return "(" + " and ".join(self.condition(o) for o in operands) + ")"
            case ir.Or(operands=operands):
                return "(" + " or ".join(self.condition(o) for o in operands) + ")"
            case ir.Not(operand=operand):
                return f"(not {self.condition(operand)})"
            case ir.IsMissing(operand=operand, negated=negated):
                return f"({self.value(operand)} is {'not ' if negated else ''}None)"
            case ir.Compare(op="==", left=left, right=right) if not (
                left.may_be_missing and right.may_be_missing
            ):
                return f"({self.value(left)} == {self.value(right)})"
            case ir.Compare(op=op, left=left, right=right):
                (a, b), guard = self._present(left, right)
                return self._guarded(guard, f"{a} {op} {b}")
            case ir.InList(value=value, options=options, negated=negated):
                return self._in_list(value, options, negated)
            case ir.Between(value=value, low=low, high=high):
                (v, lo, hi), guard = self._present(value, low, high)
                return self._guarded(guard, f"{lo} <= {v} <= {hi}")
            case ir.StringTest(op=op, value=value, operand=operand):
                (v, o), guard = self._present(value, operand)
                return self._guarded(guard, _STRING_TESTS[op].format(v=v, o=o))
            case ir.Matches(value=value, pattern=pattern):
                regex = self._constants.define("REGEX", f"Regex({pattern!r})")
                (v,), guard = self._present(value)
                return self._guarded(guard, f"{regex}.found_in({v})")
            case _:
                code = self.value(expr)
                return f"bool({code})" if expr.may_be_missing else code

    def _in_list(self, value: ir.Expr, options: tuple[ir.Literal, ...], negated: bool) -> str:
        members = ", ".join(literal(o.value) for o in options)
        options_set = self._constants.define(
            "OPTIONS", f"frozenset({{{members}}})" if members else "frozenset()"
        )
        if not negated:  # None is never a member
            return f"({self.value(value)} in {options_set})"
        (v,), guard = self._present(value)
        return self._guarded(guard, f"{v} not in {options_set}")

    def _present(self, *operands: ir.Expr) -> tuple[list[str], list[str]]:
        """Codes for operands evaluated once each, and the `is not None` tests of the
        operands that may be missing (binding non-trivial ones to temporaries)."""
        codes: list[str] = []
        guard: list[str] = []
        for operand in operands:
            code = self.value(operand)
            if operand.may_be_missing:
                if not code.isidentifier():
                    temp = f"_t{self._temps}"
                    self._temps += 1
                    guard.append(f"({temp} := {code}) is not None")
                    code = temp
                else:
                    guard.append(f"{code} is not None")
            codes.append(code)
        return codes, guard

    @staticmethod
    def _guarded(guard: list[str], test: str) -> str:
        return "(" + " and ".join([*guard, test]) + ")"
