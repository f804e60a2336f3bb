"""IR expressions and score assembly as NumPy source over a batch of leads, for the generated
`finish_batch` (codegen.py): the per-lead `finish`'s semantics, bit for bit, over arrays.

A value is a float64 array (numbers, bools as 0/1) with, where it may be missing, a bool
mask of the missing leads; a condition is a bool array (a predicate with a missing operand
is False, as in expressions.py). Strings and timestamps have no array: a subexpression
reading them (with literals, and numbers or bools in a condition) runs the scalar code of
expressions.py once per distinct tuple of the values it reads (`vector_runtime.per_distinct`).
Whatever else the arrays cannot express exactly raises `NotVectorized` while generating;
the model then has no `finish_batch` and is scored lead by lead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...compiler import ir
from .assembly_source import SourceAssembly
from .expressions import ExpressionCompiler, literal

_EXACT = 2**53
PLAIN = (ir.Type.INT, ir.Type.NUMBER, ir.Type.BOOL)  # the types that have an array
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


class NotVectorized(Exception):
    """The model uses something the arrays cannot compute exactly: it is scored lead by
    lead (the message says what)."""


@dataclass(frozen=True)
class Array:
    """Code of a value over the batch: `values`, and `missing` (None: never missing)."""

    values: str
    missing: str | None = None


class VectorCompiler:
    """Compiles expressions to NumPy source. `statements` collects the assignments the
    returned code reads (temporaries `_v<n>`, `_m<n>`); the writer emits them first.
    `resolve` gives the array of a number or bool leaf (None: it has none); `scalar`
    compiles the per-distinct functions (appended to `functions`, module level), whose
    parameters are the scalar code's names of the leaves (`raw`), bound in `finish_batch`
    to lists of the leads' values."""

    def __init__(
        self,
        resolve: Callable[[ir.Expr], Array | None],
        scalar: ExpressionCompiler,
        raw: Callable[[ir.Expr], str],
    ) -> None:
        self._resolve, self._scalar, self._raw = resolve, scalar, raw
        self.statements: list[str] = []
        self.functions: list[str] = []
        self._temps = 0

    def take(self) -> list[str]:
        statements, self.statements = self.statements, []
        return statements

    # ---- values ----------------------------------------------------------------------

    def value(self, expr: ir.Expr) -> Array:
        leaves = _leaves(expr)
        if leaves and all(isinstance(e, ir.Literal) for e in leaves):
            if isinstance(expr, ir.Literal):
                return Array(self._literal(expr))
            raise NotVectorized("a constant expression")
        if self._distinct_value(expr):
            if expr.type not in PLAIN:
                raise NotVectorized(f"a {expr.type.value} beside numbers")
            return self._per_distinct(expr, condition=False)
        match expr:
            case ir.Arith(op=op, left=left, right=right):
                return self._arith(expr, op, left, right)
            case ir.Neg(operand=operand):
                a = self.value(operand)
                if expr.type is ir.Type.INT:
                    return self._bind(f"vr.integral(-{a.values})", a.missing)
                return Array(f"(-{a.values})", a.missing)
            case ir.Func():
                return self._func(expr)
            case ir.Predicate():
                return Array(self.condition(expr))
        array = self._resolve(expr)
        if array is None:
            raise NotVectorized(f"no array for {type(expr).__name__} {expr.type.value}")
        return array

    def _literal(self, expr: ir.Literal) -> str:
        if expr.type not in PLAIN or (isinstance(expr.value, int) and abs(expr.value) >= _EXACT):
            raise NotVectorized(f"the literal {expr.value!r}")
        return literal(expr.value)

    def _arith(self, expr: ir.Arith, op: str, left: ir.Expr, right: ir.Expr) -> Array:
        a, b = self.value(left), self.value(right)
        missing = _any(a.missing, b.missing)
        if op == "/":
            if not (isinstance(right, ir.Literal) and right.value != 0):
                missing = _any(missing, f"({b.values} == 0)")
            return self._bind(f"vr.divide({a.values}, {b.values})", missing)
        values = f"({a.values} {op} {b.values})"
        return self._bind(f"vr.integral{values}" if expr.type is ir.Type.INT else values, missing)

    def _func(self, expr: ir.Func) -> Array:
        args = [self.value(a) for a in expr.args]
        missing = _any(*(a.missing for a in args))
        match expr.name:
            case "abs":
                return self._bind(f"np.abs({args[0].values})", missing)
            case "min" | "max":
                helper = {"min": "minimum", "max": "maximum"}[expr.name]
                return self._bind(f"vr.{helper}({', '.join(a.values for a in args)})", missing)
            case "round":
                digits = expr.args[1] if len(expr.args) > 1 else ir.Literal(0, ir.Type.INT)
                if not isinstance(digits, ir.Literal):
                    raise NotVectorized("round to a number of digits that is not a literal")
                return self._bind(f"vr.round_values({args[0].values}, {digits.value!r})", missing)
        raise NotVectorized(f"the function {expr.name} over numbers")

    def _bind(self, values: str, missing: str | None) -> Array:
        n = self._temps
        self._temps += 1
        self.statements.append(f"_v{n} = {values}")
        if missing is None:
            return Array(f"_v{n}")
        self.statements.append(f"_m{n} = {missing}")
        return Array(f"_v{n}", f"_m{n}")

    # ---- conditions ------------------------------------------------------------------

    def condition(self, expr: ir.Expr) -> str:
        """A bool array: predicates with a missing operand are False."""
        leaves = _leaves(expr)
        if leaves and all(isinstance(e, ir.Literal) for e in leaves):
            raise NotVectorized("a constant condition")
        if self._distinct_condition(expr):
            return self._per_distinct(expr, condition=True).values
        match expr:
            case ir.And(operands=operands):
                return "(" + " & ".join(self.condition(o) for o in operands) + ")"
            case ir.Or(operands=operands):
                return "(" + " | ".join(self.condition(o) for o in operands) + ")"
            case ir.Not(operand=operand):
                return f"(~{self.condition(operand)})"
            case ir.IsMissing(operand=operand, negated=negated):
                missing = self.value(operand).missing
                if missing is None:
                    return "_yes" if negated else "_no"
                return f"(~{missing})" if negated else missing
            case ir.Compare(op=op, left=left, right=right) if op in _COMPARE:
                a, b = self.value(left), self.value(right)
                return _present(f"({a.values} {op} {b.values})", a, b)
            case ir.InList(value=value, options=options, negated=negated):
                v = self.value(value)
                members = ", ".join(self._literal(o) for o in options)
                test = f"np.isin({v.values}, [{members}])"
                return _present(f"(~{test})" if negated else test, v)
            case ir.Between(value=value, low=low, high=high):
                v, lo, hi = self.value(value), self.value(low), self.value(high)
                return _present(
                    f"({lo.values} <= {v.values}) & ({v.values} <= {hi.values})", v, lo, hi
                )
            case ir.Predicate():
                raise NotVectorized(f"{type(expr).__name__} over numbers")
        v = self.value(expr)
        return _present(f"({v.values} != 0)", v)

    # ---- strings and timestamps: per distinct value ------------------------------------

    def _distinct_condition(self, expr: ir.Expr) -> bool:
        """A condition reading only lead fields, timestamps of aggregates and literals, one of
        them a string or a timestamp (a number's sign of zero cannot change a condition)."""
        leaves = _leaves(expr)
        return all(_distinct_leaf(e) or isinstance(e, ir.Literal) for e in leaves) and any(
            _distinct_leaf(e) and e.type not in PLAIN for e in leaves
        )

    def _distinct_value(self, expr: ir.Expr) -> bool:
        """A value reading only strings, timestamps and literals (not numbers: 0.0 and -0.0
        are one key of a dict, and a value keeps its sign)."""
        leaves = _leaves(expr)
        return any(not isinstance(e, ir.Literal) for e in leaves) and all(
            isinstance(e, ir.Literal) or (_distinct_leaf(e) and e.type not in PLAIN) for e in leaves
        )

    def _per_distinct(self, expr: ir.Expr, condition: bool) -> Array:
        # Values at earlier instants are read from each lead's tuple `shifted` (`shifted[i]`).
        reads = list(
            dict.fromkeys(
                "shifted" if ir.is_shifted(e) else self._raw(e)
                for e in _leaves(expr)
                if not isinstance(e, ir.Literal)
            )
        )
        function = f"distinct_{len(self.functions)}"
        code = self._scalar.condition(expr) if condition else self._scalar.value(expr)
        self.functions.append(f"def {function}(as_of, {', '.join(reads)}):\n    return {code}\n")
        call = f"vr.per_distinct({function}, as_of, {', '.join(reads)})"
        if condition:
            return self._bind(f"vr.conditions({call})", None)
        if not expr.may_be_missing:
            return self._bind(f"vr.present({call})", None)
        n = self._temps
        self._temps += 1
        self.statements.append(f"_v{n}, _m{n} = vr.numbers({call})")
        return Array(f"_v{n}", f"_m{n}")


def _leaves(expr: ir.Expr) -> list[ir.Expr]:
    return [
        e
        for e in ir.subexpressions(expr)
        if not isinstance(e, ir.Predicate | ir.Arith | ir.Neg | ir.Func)
    ]


def _distinct_leaf(expr: ir.Expr) -> bool:
    """A leaf the per-distinct code can read: a lead field, or a string or timestamp that
    has no array (an aggregate's time, a tier or matrix, a value at an earlier instant)."""
    return isinstance(expr, ir.LeadField) or (
        expr.type not in PLAIN and isinstance(expr, ir.Reference)
    )


def _any(*masks: str | None) -> str | None:
    present = [m for m in masks if m is not None]
    return (
        "(" + " | ".join(present) + ")" if len(present) > 1 else (present[0] if present else None)
    )


def _present(test: str, *operands: Array) -> str:
    missing = _any(*(o.missing for o in operands))
    return test if missing is None else f"(~{missing} & {test})"


class NumpyAssembly(SourceAssembly[VectorCompiler]):
    """A score's assembly (compiler/assembly.py) as NumPy source over the batch, beside
    codegen's `_PythonAssembly`: each node the same operation, element by element (`np.where`
    with the per-lead code's own comparisons, so NaN and the sign of zero come out alike)."""

    def when_points(self, rule: ir.WhenRule) -> str:
        return f"np.where({self.fired(rule)}, {literal(float(rule.points))}, 0.0)"

    def sum(self, terms: list[str]) -> str:
        return " + ".join(terms) or "_zeros"  # left to right, as the per-lead code adds

    def rule_cap(self, value: str, bound: float, upper: bool) -> str:
        b = literal(bound)
        return f"np.where({value} {'<' if upper else '>'} {b}, {value}, {b})"

    def group_cap(self, value: str, cap: float) -> str:
        c = literal(cap)
        return f"np.where({c} < {value}, {c}, {value})"  # min(value, cap)

    def reset_if(self, value: str, fired: list[str]) -> str:
        return f"np.where({' | '.join(fired)}, 0.0, {value})"

    def clamp(self, value: str, low: float, high: float) -> str:
        lo, hi = literal(low), literal(high)
        return f"np.where({value} < {lo}, {lo}, np.where({value} > {hi}, {hi}, {value}))"

    def round(self, value: str) -> str:
        return f"vr.round_values({value})"

    # ---- statements of the writer --------------------------------------------------------

    def quantity(self, expr: ir.Expr) -> str:
        if expr.may_be_missing:
            raise NotVectorized("an `each` quantity that may be missing")
        return self.compiler.value(expr).values

    def take(self) -> list[str]:
        return self.compiler.take()

    def any(self, fired: list[str]) -> str:
        return " | ".join(fired) or "_no"

    def composite(self, name: str, expr: ir.Expr) -> list[str]:
        value = self.compiler.value(expr)
        if value.missing and not expr.may_be_missing:
            raise NotVectorized("a composite missing where the per-lead code expects a value")
        lines = [*self.take(), f"{name} = vr.round_values({value.values})"]
        return lines + ([f"{name}_m = {value.missing or '_no'}"] if expr.may_be_missing else [])
