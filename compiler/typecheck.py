"""Expressions: resolve names, check types, and build the typed IR expression in one walk.

Each AST expression becomes one of the shapes in `compiler.checked`: a `Value` (an IR
expression and its type), a duration, a list of literals, a regex, or an `EventSet` (an
event filter not yet aggregated). The caller says which shape it needs (`condition`,
`value`, `event_set`) and a wrong shape is reported once, at the offending sub-expression.
A problem yields None, which callers pass on silently so one mistake gives one diagnostic.
Each expression type has one handler, found by type in `HANDLERS`: comparisons, function
calls and event sets have modules of their own (which see the checker through the
`checked.ExprChecker` protocol, not this module); names, literals, arithmetic and logic
are handled here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from . import accountnames, ast, comparisons, eventsets, functions, ir, rollups
from .checked import (
    CONST,
    OUTPUT_KINDS,
    SEGMENT,
    Checked,
    DurationValue,
    EventSet,
    Handler,
    ListValue,
    RegexValue,
    Scope,
    T,
    Value,
    comparable,
    count_positive,
    literal,
    number_literal,
    type_word,
)
from .diagnostics import Diagnostic, Severity
from .regex import FLAGS, check_pattern
from .suggest import did_you_mean
from .symbols import KIND_WORDS, Symbol, Symbols

SECONDS_PER_DAY = 86400


@dataclass
class Checker:
    """Checks expressions against the declarations; collects diagnostics and aggregates."""

    symbols: Symbols
    diagnostics: list[Diagnostic] = field(default_factory=list)
    aggregates: dict[ir.AggregateNode, str] = field(default_factory=dict)
    references: list[Symbol] = field(default_factory=list)  # outputs referenced, for ordering
    output_choices: Callable[[Symbol], tuple[str, ...]] = lambda symbol: ()
    _consts: dict[str, Checked] = field(default_factory=dict)
    _segments: dict[str, ir.Expr | None] = field(default_factory=dict)
    _resolving: list[str] = field(default_factory=list)
    _entity: str = ir.LEAD  # the entity of the expression being checked: its aggregates'

    # ---- reporting ---------------------------------------------------------------------

    def error(
        self, code: str, message: str, node: ast.Node | ast.Span, hint: str | None = None
    ) -> None:
        span = node if isinstance(node, ast.Span) else node.span
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, hint))

    def not_here(self, what: str, node: ast.Node, scope: Scope) -> None:
        if scope is SEGMENT and what == "event sets":
            self.error(
                "E417",
                "segments are lead-only conditions and cannot use events",
                node,
                "use the event condition in the score rule itself",
            )
        else:
            self.error("E215", f"{what} cannot be used in {scope.context}", node)

    # ---- aggregates ----------------------------------------------------------------------

    def intern(self, aggregate: ir.AggregateNode, entity: str | None = None) -> ir.AggregateRef:
        """The aggregate's reference; identical aggregates share one id (a1, a2, ... by first
        use). It belongs to `entity`, by default that of the expression being checked (an
        account's aggregates read the events of all its leads)."""
        key = dataclasses.replace(aggregate, id="", entity=entity or self._entity)
        if key not in self.aggregates:
            self.aggregates[key] = f"a{len(self.aggregates) + 1}"
        return ir.AggregateRef(self.aggregates[key], ir.aggregate_type(aggregate))

    def aggregate_nodes(self) -> tuple[ir.AggregateNode, ...]:
        return tuple(dataclasses.replace(key, id=id) for key, id in self.aggregates.items())

    # ---- shapes --------------------------------------------------------------------------

    def condition(self, node: ast.Expr, scope: Scope) -> ir.Expr | None:
        checked = self.check(node, scope)
        if isinstance(checked, EventSet):
            return count_positive(self.intern(ir.Count("", checked.filter), scope.entity))
        if checked is None or (isinstance(checked, Value) and checked.type is T.BOOL):
            return checked.expr if checked else None
        self.error(
            "E307",
            f"expected a condition, found {type_word(checked)}",
            node,
            "compare it, e.g. `x > 10`, or test it with `is present`",
        )
        return None

    def value(self, node: ast.Expr, scope: Scope) -> Value | None:
        return self.as_value(self.check(node, scope), node)

    def as_value(self, checked: Checked, node: ast.Expr) -> Value | None:
        """A checked expression as a value, reporting any other shape at `node`."""
        if checked is None or isinstance(checked, Value):
            return checked
        if isinstance(checked, EventSet):
            self.error(
                "E305",
                "an event set is not a value",
                node,
                "use count(...), last(...) or the event set alone as a condition",
            )
        elif isinstance(checked, DurationValue):
            days = checked.seconds / SECONDS_PER_DAY
            self.error(
                "E303",
                "a duration where a number is expected",
                node,
                f"ages are numbers of days, e.g. days_since(t) > {days:g}",
            )
        else:
            self.error("E314", f"{type_word(checked)} cannot be used as a value here", node)
        return None

    def numeric(self, node: ast.Expr, scope: Scope, what: str) -> Value | None:
        checked = self.value(node, scope)
        if checked is not None and not checked.type.numeric:
            hint = "use days_since(...) for ages" if checked.type is T.TIMESTAMP else None
            self.error("E302", f"{what} needs numbers, found {checked.type.value}", node, hint)
            return None
        return checked

    def string(self, node: ast.Expr, scope: Scope, what: str) -> Value | None:
        checked = self.value(node, scope)
        if checked is not None and checked.type is not T.STRING:
            self.error("E301", f"{what} needs text, found {checked.type.value}", node)
            return None
        return checked

    def event_set(self, node: ast.Expr, scope: Scope) -> EventSet | None:
        if (
            isinstance(node, ast.Name)
            and node.name not in self.symbols.names
            and node.name != "leads"
            and scope.events
        ):
            events = [e.name for e in self.symbols.event_types]
            self.error(
                "E201", f"unknown event type `{node.name}`", node, did_you_mean(node.name, events)
            )
            return None
        checked = self.check(node, scope)
        if checked is None or isinstance(checked, EventSet):
            return checked
        self.error(
            "E306",
            f"expected an event set, found {type_word(checked)}",
            node,
            'name an event type, e.g. `page_view where url == "/pricing" within 7d`',
        )
        return None

    def duration(self, node: ast.Expr, scope: Scope) -> float | None:
        checked = self.check(node, scope)
        if checked is None:
            return None
        if not isinstance(checked, DurationValue):
            hint = (
                "add a unit: s, min, h, d or w, e.g. 7d"
                if isinstance(checked, Value) and checked.type.numeric
                else None
            )
            self.error("E304", f"expected a duration, found {type_word(checked)}", node, hint)
            return None
        if checked.seconds <= 0:
            self.error("E407", "a duration here must be positive", node)
            return None
        return checked.seconds

    # ---- dispatch ------------------------------------------------------------------------

    def check(self, node: ast.Expr, scope: Scope) -> Checked:
        outer, self._entity = self._entity, scope.entity
        try:
            return HANDLERS[type(node)](self, node, scope)
        finally:
            self._entity = outer

    # ---- declarations used by name ----------------------------------------------------

    def const(self, symbol: Symbol) -> Checked:
        """A const's literal value, checked once (consts may only hold literals)."""
        if symbol.name not in self._consts:
            decl = symbol.decl
            assert isinstance(decl, ast.ConstDecl)
            self._consts[symbol.name] = None
            if _is_literal(decl.value):
                self._consts[symbol.name] = self.check(decl.value, CONST)
            else:
                self.error(
                    "E416",
                    "a const holds a literal value or a list of literals",
                    decl.value,
                    "use a segment for a condition, or write the value itself",
                )
        return self._consts[symbol.name]

    def segment(self, symbol: Symbol) -> Value | None:
        """A segment's condition, checked once and inlined wherever it is used."""
        name = symbol.name
        if name in self._resolving:
            cycle = " -> ".join([*self._resolving[self._resolving.index(name) :], name])
            self.error("E418", f"segments refer to each other in a cycle: {cycle}", symbol.span)
            return None
        if name not in self._segments:
            decl = symbol.decl
            assert isinstance(decl, ast.SegmentDecl)
            self._resolving.append(name)
            try:
                self._segments[name] = self.condition(decl.condition, SEGMENT)
            finally:
                self._resolving.pop()
        expr = self._segments[name]
        return Value(expr, T.BOOL) if expr is not None else None

    def properties(self, types: tuple[str, ...]) -> dict[str, ir.Type]:
        """The properties some of these event types declare, with their (wide-table) types."""
        props: dict[str, ir.Type] = {}
        for type_name in types:
            event = self.symbols.event(type_name)
            for prop in event.properties if event else ():
                props.setdefault(prop.name, self.symbols.properties.get(prop.name, prop.type))
        return props


# ---- handlers: literals, names, arithmetic and logic ----------------------------------


def _string(checker: Checker, node: ast.String, scope: Scope) -> Checked:
    if "\x00" in node.value:
        checker.error(
            "E317",
            "a string cannot hold the NUL character",
            node,
            "no SQL engine stores it in text; remove the \\x00",
        )
        return None
    return Value(literal(node.value), T.STRING)


def _number(checker: Checker, node: ast.Number, scope: Scope) -> Checked:
    lit = number_literal(node)
    return Value(lit, lit.type)


def _bool(checker: Checker, node: ast.Bool, scope: Scope) -> Checked:
    return Value(literal(node.value), T.BOOL)


def _duration(checker: Checker, node: ast.Duration, scope: Scope) -> Checked:
    return DurationValue(node.seconds)


def _regex(checker: Checker, node: ast.Regex, scope: Scope) -> Checked:
    bad_flags = sorted(set(node.flags) - FLAGS)
    if bad_flags:
        checker.error(
            "E313",
            f"unknown pattern flag `{''.join(bad_flags)}`",
            node,
            "the only flag is i (ignore case)",
        )
        return None
    problem = check_pattern(node.pattern)
    if problem is not None:
        column = node.span.column + 1 + problem.offset
        span = dataclasses.replace(
            node.span, column=column, end_line=node.span.line, end_column=column + 1
        )
        checker.error(
            problem.code,
            problem.message,
            span if node.span.line else node.span,
            "patterns are limited to the subset RE2 and every warehouse share",
        )
        return None
    return RegexValue(node.pattern, node.flags)


def _list(checker: Checker, node: ast.ListExpr, scope: Scope) -> Checked:
    items = []
    for item in node.items:
        checked = checker.value(item, scope)
        if checked is None:
            return None
        if not isinstance(checked.expr, ir.Literal):
            checker.error("E314", "list items must be literal values", item)
            return None
        items.append(checked.expr)
    if any(not comparable(items[0].type, i.type) for i in items):
        checker.error("E314", "list items must all have the same type", node)
        return None
    return ListValue(tuple(items))


def _name(checker: Checker, node: ast.Name, scope: Scope) -> Checked:
    name = node.name
    symbol = checker.symbols.names.get(name)
    if scope.props is not None:
        if name in scope.props:
            return Value(ir.EventProp(name, scope.props[name]), scope.props[name])
        if symbol is not None and symbol.kind not in ("const", "field"):
            checker.not_here(f"{KIND_WORDS[symbol.kind]}s", node, scope)
            return None
        if symbol is None or symbol.kind != "const":
            if symbol is not None and symbol.kind == "field":
                checker.error(
                    "E309",
                    f"`{name}` is a lead field; only event properties can be used after `where`",
                    node,
                    "move the lead condition out of the event set, joined with `and`",
                )
            else:
                checker.error(
                    "E202",
                    f"unknown event property `{name}`",
                    node,
                    did_you_mean(
                        name,
                        scope.props,
                        f"the properties here are: {', '.join(sorted(scope.props)) or 'none'}",
                    ),
                )
            return None
    account = accountnames.bare(checker, node, scope)
    if account is not accountnames.NOT_MINE:
        return account
    if symbol is None:
        _unknown(checker, node, name, scope)
        return None
    return _symbol(checker, symbol, node, scope)


def _unknown(checker: Checker, node: ast.Node, name: str, scope: Scope) -> None:
    if scope.expect:
        outputs = [s.name for s in checker.symbols.of_kind(*OUTPUT_KINDS)]
        checker.error(
            "E208",
            f"unknown output `{name}`",
            node,
            did_you_mean(name, outputs, "expect compares scores, tiers, matrices and flags"),
        )
        return
    if scope.composite:
        scores = [s.name for s in checker.symbols.of_kind("score", "composite")]
        checker.error("E212", f"unknown score `{name}`", node, did_you_mean(name, scores))
        return
    allowed = {"const"} | scope.outputs
    if scope.lead:
        allowed |= {"field", "segment"}
    if scope.events:
        allowed |= {"event"}
    candidates = [s.name for s in checker.symbols.names.values() if s.kind in allowed]
    checker.error("E200", f"unknown name `{name}`", node, did_you_mean(name, candidates))


def _symbol(checker: Checker, symbol: Symbol, node: ast.Node, scope: Scope) -> Checked:
    kind = symbol.kind
    if kind == "const":
        return checker.const(symbol)
    if not accountnames.same_entity(checker, symbol, node, scope):
        return None
    if kind in OUTPUT_KINDS:
        if kind not in scope.outputs:
            checker.not_here(f"{KIND_WORDS[kind]}s", node, scope)
            return None
        checker.references.append(symbol)
        return _output(checker, symbol)
    if kind == "event":
        if not scope.events:
            checker.not_here("event sets", node, scope)
            return None
        return EventSet(ir.EventFilter((symbol.name,)))
    if not scope.lead:
        if scope.expect:
            _unknown(checker, node, symbol.name, scope)
        else:
            checker.not_here(f"{KIND_WORDS[kind]}s", node, scope)
        return None
    if kind == "field":
        typed = checker.symbols.lead_field(symbol.name)
        return Value(ir.LeadField(typed.name, typed.type), typed.type) if typed else None
    return checker.segment(symbol)


def _output(checker: Checker, symbol: Symbol) -> Value:
    kind = symbol.kind
    if kind in ("score", "composite"):
        return Value(ir.ScoreRef(symbol.name), T.NUMBER)
    if kind == "flag":
        return Value(ir.FlagRef(symbol.name), T.BOOL)
    ref = ir.MatrixRef(symbol.name) if kind == "matrix" else ir.TierRef(symbol.name)
    return Value(ref, T.STRING, checker.output_choices(symbol))


def _qualified_name(checker: Checker, node: ast.QualifiedName, scope: Scope) -> Checked:
    if node.qualifier in accountnames.QUALIFIERS:
        return accountnames.qualified(checker, node, scope)
    if node.qualifier != "lead":
        checker.error(
            "E214",
            f"unknown qualifier `{node.qualifier}`",
            node,
            "names are qualified by `lead.`, `account.` (the lead's account) or `leads.` (in a roll-up)",
        )
        return None
    typed = checker.symbols.lead_field(node.name)
    if typed is None:
        fields = [f.name for f in checker.symbols.lead_fields]
        checker.error(
            "E207",
            f"the lead has no field `{node.name}`",
            node,
            did_you_mean(node.name, fields),
        )
        return None
    if scope.props is not None:
        checker.error(
            "E309",
            f"`lead.{node.name}` is a lead field; only event properties can be used after `where`",
            node,
            "move the lead condition out of the event set, joined with `and`",
        )
        return None
    if not scope.lead:
        checker.not_here("lead fields", node, scope)
        return None
    if not accountnames.lead_field_here(checker, node, scope):
        return None
    return Value(ir.LeadField(typed.name, typed.type), typed.type)


def _neg(checker: Checker, node: ast.Neg, scope: Scope) -> Checked:
    operand = checker.numeric(node.operand, scope, "`-`")
    if operand is None:
        return None
    if isinstance(operand.expr, ir.Literal):
        return Value(literal(-operand.expr.value), operand.type)
    return Value(ir.Neg(operand.expr), operand.type)


def _arith(checker: Checker, node: ast.Arith, scope: Scope) -> Checked:
    left = checker.numeric(node.left, scope, f"`{node.op}`")
    right = checker.numeric(node.right, scope, f"`{node.op}`")
    if left is None or right is None:
        return None
    if (
        scope.composite
        and node.op == "/"
        and not (isinstance(right.expr, ir.Literal) and right.expr.value != 0)
    ):
        checker.error(
            "E411",
            "a composite score can only be divided by a non-zero number",
            node.right,
            "a score can be 0; write e.g. `(fit + engagement) / 2`",
        )
        return None
    int_result = left.type is T.INT and right.type is T.INT and node.op != "/"
    type_ = T.INT if int_result else T.NUMBER
    return Value(ir.Arith(node.op, left.expr, right.expr), type_)


def _not(checker: Checker, node: ast.Not, scope: Scope) -> Checked:
    operand = checker.condition(node.operand, scope)
    return operand and Value(ir.Not(operand), T.BOOL)


def _bool_op(checker: Checker, node: ast.BoolOp, scope: Scope) -> Checked:
    operands = [checker.condition(o, scope) for o in node.operands]
    if None in operands:
        return None
    combine = ir.And if node.op == "and" else ir.Or
    return Value(combine(tuple(operands)), T.BOOL)


def _is_literal(node: ast.Expr) -> bool:
    if isinstance(node, ast.ListExpr):
        return all(_is_literal(i) and not isinstance(i, ast.ListExpr) for i in node.items)
    if isinstance(node, ast.Neg):
        return isinstance(node.operand, ast.Number)
    return isinstance(node, ast.String | ast.Number | ast.Bool | ast.Duration | ast.Regex)


HANDLERS: dict[type[ast.Expr], Handler] = {
    ast.String: _string,
    ast.Number: _number,
    ast.Bool: _bool,
    ast.Duration: _duration,
    ast.Regex: _regex,
    ast.ListExpr: _list,
    ast.Name: _name,
    ast.QualifiedName: _qualified_name,
    ast.Neg: _neg,
    ast.Arith: _arith,
    ast.Not: _not,
    ast.BoolOp: _bool_op,
    **comparisons.HANDLERS,
    **functions.HANDLERS,
    **rollups.HANDLERS,
    **eventsets.HANDLERS,
}
