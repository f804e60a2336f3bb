"""IR expressions as sqlglot nodes, with the IR's missing-value semantics.

`condition` gives a two-valued boolean (every predicate is COALESCE(pred, FALSE), so `NOT`
sees what Python sees); `value` gives a nullable value. Numbers are computed in double
(integers and literals are cast before arithmetic), `x / 0` is NULL, and a timestamp is
its epoch microseconds (an exact integer), so instants compare and subtract exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from ...compiler import ir
from .dialects import Dialect, epoch_micros
from .errors import UnsupportedConstruct

Resolver = Callable[[str], exp.Expression]
MICROS_PER_DAY = 86_400_000_000


def number(value: float | int) -> exp.Expression:
    """A numeric literal spelled so every engine reads back the same double (repr round-trips)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int) or float(value).is_integer():
        return exp.Literal.number(int(value))
    return exp.Literal.number(repr(float(value)))


def false() -> exp.Expression:
    return exp.Boolean(this=False)


def null_safe(predicate: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=predicate, expressions=[false()])


def when_true(condition: exp.Expression) -> exp.Expression:
    """A condition where only TRUE counts (WHERE, FILTER, CASE WHEN): there NULL and FALSE
    are alike, so `COALESCE(p, FALSE)` is just `p`, also inside AND and OR (not NOT)."""
    match condition:
        case exp.Coalesce(this=inner) if condition.expressions == [false()]:
            return when_true(inner)
        case exp.And() | exp.Or():
            return type(condition)(
                this=when_true(condition.this), expression=when_true(condition.expression)
            )
        case exp.Paren(this=inner):
            return exp.Paren(this=when_true(inner))
    return condition


def paren(node: exp.Expression) -> exp.Expression:
    return (
        node
        if isinstance(node, exp.Column | exp.Literal | exp.Paren | exp.Func | exp.Cast)
        else exp.Paren(this=node)
    )


@dataclass(frozen=True)
class Scope:
    """Where names resolve for the expression being compiled."""

    lead_field: Resolver
    aggregate: Resolver
    output: Resolver  # scores, tiers, matrices, flags
    event_prop: Resolver | None = None
    shifted: Callable[[ir.Reference], exp.Expression] | None = None  # read at an earlier instant
    account_field: Resolver | None = None  # the account's (from a lead: its account's)
    rollup: Callable[[ir.Rollup], exp.Expression] | None = None  # inside account outputs

    def reference(self, node: ir.Reference) -> exp.Expression:
        if ir.is_shifted(node):
            assert self.shifted is not None, "a shifted reference outside a plan's projection"
            return self.shifted(node)
        if isinstance(node, ir.AggregateRef):
            return self.aggregate(node.id)
        return self.output(node.name)


@dataclass(frozen=True)
class ExpressionCompiler:
    dialect: Dialect
    scope: Scope
    as_of_us: Callable[[], exp.Expression]

    # ---- conditions (two-valued) ---------------------------------------------------------

    def condition(self, node: ir.Expr) -> exp.Expression:
        match node:
            case ir.And(operands=operands):
                return exp.and_(*(self.condition(o) for o in operands))
            case ir.Or(operands=operands):
                return exp.or_(*(self.condition(o) for o in operands))
            case ir.Not(operand=operand):
                return exp.Not(this=exp.Paren(this=self.condition(operand)))
            case ir.IsMissing(operand=operand, negated=negated):
                missing = exp.Is(this=self.value(operand), expression=exp.Null())
                return exp.Not(this=missing) if negated else missing
            case ir.FlagRef():
                return self.scope.reference(node)
            case ir.Compare() | ir.InList() | ir.Between() | ir.StringTest() | ir.Matches():
                return null_safe(self.predicate(node))
        return null_safe(self.value(node))  # a boolean field, property or aggregate

    def predicate(self, node: ir.Expr) -> exp.Expression:
        """The raw (three-valued) SQL predicate; `condition` makes it null-safe."""
        match node:
            case ir.Compare(op=op, left=left, right=right):
                lhs, rhs = self.value(left), self.value(right)
                if op not in ("==", "!=") and left.type is ir.Type.STRING:
                    lhs, rhs = self.dialect.ordered_string(lhs), self.dialect.ordered_string(rhs)
                return _COMPARE[op](this=lhs, expression=rhs)
            case ir.InList(value=value, options=options, negated=negated):
                found = exp.In(this=self.value(value), expressions=[self.value(o) for o in options])
                return exp.Not(this=found) if negated else found
            case ir.Between(value=value, low=low, high=high):
                parts = [self.value(value), self.value(low), self.value(high)]
                if value.type is ir.Type.STRING:
                    parts = [self.dialect.ordered_string(p) for p in parts]
                return exp.Between(this=parts[0], low=parts[1], high=parts[2])
            case ir.StringTest(op=op, value=value, operand=operand):
                return self._string_test(op, self.value(value), operand)
            case ir.Matches(value=value, pattern=pattern):
                return self.dialect.regex_search(self.value(value), pattern)
        raise UnsupportedConstruct(
            "E504", f"the condition {type(node).__name__}", self.dialect.name
        )

    def _string_test(self, op: str, value: exp.Expression, operand: ir.Expr) -> exp.Expression:
        needle = self.value(operand)
        if op == "contains":
            found = exp.GT(
                this=exp.StrPosition(this=value, substr=needle), expression=exp.Literal.number(0)
            )
            if self.dialect.finds_empty_string or (
                isinstance(operand, ir.Literal) and operand.value != ""
            ):
                return found
            empty = exp.and_(
                exp.EQ(this=needle.copy(), expression=exp.Literal.string("")),
                exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
            )
            return exp.or_(found, empty)
        side = {"starts_with": exp.Left, "ends_with": exp.Right}[op]
        part = side(this=value, expression=exp.Length(this=needle))
        return exp.EQ(this=part, expression=needle.copy())

    # ---- values (nullable) ---------------------------------------------------------------

    def value(self, node: ir.Expr) -> exp.Expression:
        match node:
            case ir.Literal():
                return self.literal(node)
            case ir.LeadField(name=name, type=kind):
                return self._timestamp(self.scope.lead_field(name), kind)
            case ir.AccountField(name=name, type=kind):
                if self.scope.account_field is None:
                    raise UnsupportedConstruct(
                        "E504", f"account field {name} outside an output", self.dialect.name
                    )
                return self._timestamp(self.scope.account_field(name), kind)
            case ir.Rollup():
                if self.scope.rollup is None:
                    raise UnsupportedConstruct(
                        "E504", "a roll-up outside an account output", self.dialect.name
                    )
                return self.scope.rollup(node)
            case ir.EventProp(name=name, type=kind):
                if self.scope.event_prop is None:
                    raise UnsupportedConstruct(
                        "E504", f"event property {name} outside an event filter", self.dialect.name
                    )
                return self._timestamp(self.scope.event_prop(name), kind)
            case ir.AggregateRef() | ir.ScoreRef() | ir.TierRef() | ir.MatrixRef() | ir.FlagRef():
                return self.scope.reference(node)
            case ir.Arith(op=op, left=left, right=right):
                return self.arith(op, self.number(left), self.number(right))
            case ir.Neg(operand=operand):
                return exp.Neg(this=paren(self.value(operand)))
            case ir.Func():
                return self.function(node)
            case ir.Predicate():
                return self.condition(node)
        raise UnsupportedConstruct(
            "E504", f"the expression {type(node).__name__}", self.dialect.name
        )

    def literal(self, node: ir.Literal) -> exp.Expression:
        match node.type:
            case ir.Type.STRING:
                return exp.Literal.string(str(node.value))
            case ir.Type.BOOL:
                return exp.Boolean(this=bool(node.value))
            case ir.Type.TIMESTAMP:
                instant = (
                    node.value
                    if isinstance(node.value, datetime)
                    else datetime.fromisoformat(str(node.value))
                )
                return exp.Literal.number(epoch_micros(instant))
        return number(node.value)  # type: ignore[arg-type]

    def number(self, node: ir.Expr) -> exp.Expression:
        """An arithmetic operand in double precision."""
        value = self.value(node)
        # Results of arithmetic and scores are doubles already; columns may be INTEGER or
        # NUMERIC in the warehouse, and literals are exact decimals in some engines.
        return (
            value if isinstance(node, ir.Arith | ir.ScoreRef) else self.dialect.cast_double(value)
        )

    def arith(self, op: str, left: exp.Expression, right: exp.Expression) -> exp.Expression:
        if op == "/":
            divisor = exp.Nullif(this=right, expression=exp.Literal.number(0))
            return exp.Div(this=paren(left), expression=divisor, typed=True)
        node = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op]
        return node(this=paren(left), expression=paren(right))

    def _timestamp(self, column: exp.Expression, kind: ir.Type) -> exp.Expression:
        return self.dialect.source_epoch_us(column) if kind is ir.Type.TIMESTAMP else column

    # ---- functions -----------------------------------------------------------------------

    def function(self, node: ir.Func) -> exp.Expression:
        args = node.args
        match node.name:
            case "lower" | "upper":
                return self.dialect.ascii_case(self.value(args[0]), upper=node.name == "upper")
            case "len":
                return exp.Length(this=self.value(args[0]))
            case "abs":
                return exp.Abs(this=self.value(args[0]))
            case "email_domain":
                return self._email_domain(self.value(args[0]))
            case "days_since":
                # (as_of - ts) / 1 day, from exact microseconds, like timedelta / timedelta
                elapsed = exp.Sub(this=self.as_of_us(), expression=self.value(args[0]))
                day = self.dialect.cast_double(number(MICROS_PER_DAY))
                return exp.Div(this=self.dialect.cast_double(elapsed), expression=day, typed=True)
            case "min" | "max":
                values = [self.number(a) for a in args]
                pick = self.dialect.least if node.name == "min" else self.dialect.greatest
                missing = exp.or_(*(exp.Is(this=v.copy(), expression=exp.Null()) for v in values))
                return exp.case().when(missing, exp.Null()).else_(pick(values))
            case "round":
                digits = args[1].value if len(args) > 1 and isinstance(args[1], ir.Literal) else 0
                return round_half_away(self.dialect, self.number(args[0]), int(digits))
        raise UnsupportedConstruct("E504", f"the function {node.name}()", self.dialect.name)

    def _email_domain(self, text: exp.Expression) -> exp.Expression:
        at = exp.Literal.string("@")
        has_at = exp.GT(
            this=exp.StrPosition(this=text, substr=at), expression=exp.Literal.number(0)
        )
        return exp.case().when(has_at, self.dialect.lowered_domain(text.copy()))


def round_half_away(dialect: Dialect, value: exp.Expression, digits: int) -> exp.Expression:
    """ir.round_score's steps: a double of magnitude 2**52 or more is whole, left as it is
    (DECIMAL(38, 9) could not hold 1e29), and so is a non-finite one; else the double as a
    decimal of 9 places (the decimal it prints as, rounded: binary noise absorbed), then ROUND
    half away from zero (ROUND on a DECIMAL does that in every target), back to double.
    `NOT ABS(x) < 2**52` is true for NaN in every engine (NaN compares false in BigQuery and
    Python, greater than every number in DuckDB, Postgres and Snowflake): never a failing
    CAST(NaN AS NUMERIC)."""
    whole = exp.Not(
        this=exp.Paren(this=exp.LT(this=exp.Abs(this=value.copy()), expression=number(ir.INTEGRAL)))
    )
    rounded = dialect.at_nine_places(
        value.copy(),
        lambda nine: dialect.cast_double(exp.Round(this=nine, decimals=number(digits))),
    )
    return exp.case().when(whole, value).else_(rounded)


_COMPARE: dict[str, type[exp.Binary]] = {
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
