"""The shapes a checked expression can take, and the scopes that say which names it may use.

A checker method returns one of these; callers ask for the shape they need and report the
others (see `compiler.typecheck`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from . import ast, ir
from .symbols import Symbols

T = ir.Type
OUTPUT_KINDS = frozenset({"score", "composite", "tier", "percentile_tier", "matrix", "flag"})


@dataclass(frozen=True)
class Value:
    expr: ir.Expr
    type: ir.Type
    choices: tuple[str, ...] = ()  # the strings a tier or matrix can be, for checking literals


@dataclass(frozen=True)
class DurationValue:
    seconds: float


@dataclass(frozen=True)
class ListValue:
    items: tuple[ir.Literal, ...]


@dataclass(frozen=True)
class RegexValue:
    pattern: str
    flags: str


@dataclass(frozen=True)
class EventSet:
    filter: ir.EventFilter


Checked = Value | DurationValue | ListValue | RegexValue | EventSet | None


@dataclass(frozen=True)
class Scope:
    """Where an expression appears, and so which names it may use."""

    context: str  # in words, for messages: "a score rule", "a segment", ...
    lead: bool = True  # lead fields and segments
    events: bool = True  # event sets and aggregates
    outputs: frozenset[str] = frozenset()  # output kinds (symbol kinds) it may reference
    props: Mapping[str, ir.Type] | None = None  # inside `where`: the event properties
    expect: bool = False  # a test expectation: unknown names are unknown outputs
    composite: bool = False  # a composite score: division only by a non-zero number
    # Whose expression it is: inside account outputs bare fields are the account's, outputs
    # must be the account's, events are the account's leads' and roll-ups read its leads.
    entity: str = ir.LEAD

    def of_account(self) -> Scope:
        """The same place inside an account output (or an expectation on the account)."""
        return dataclasses.replace(self, entity=ir.ACCOUNT)


RULE = Scope("a score rule")
SEGMENT = Scope("a segment", events=False)
COMPOSITE = Scope(
    "a composite score",
    lead=False,
    events=False,
    outputs=frozenset({"score", "composite"}),
    composite=True,
)
CONST = Scope("a const", lead=False, events=False)
FLAG = Scope("a flag", outputs=OUTPUT_KINDS)
EXPECT = Scope("a test expectation", lead=False, events=False, outputs=OUTPUT_KINDS, expect=True)
# Inside a roll-up (`sum(leads.fit where C)`): each of the account's leads, their fields and
# outputs as in a flag, but no events (roll up a lead output that scores them).
ROLLUP = Scope("a roll-up over leads", events=False, outputs=OUTPUT_KINDS)


class ExprChecker(Protocol):
    """What a handler may ask of the checker (`compiler.typecheck.Checker`): the handlers
    live in modules of their own, which import this and not the checker."""

    symbols: Symbols

    def error(
        self, code: str, message: str, node: ast.Node | ast.Span, hint: str | None = None
    ) -> None: ...
    def not_here(self, what: str, node: ast.Node, scope: Scope) -> None: ...
    def intern(self, aggregate: ir.AggregateNode, entity: str | None = None) -> ir.AggregateRef: ...
    def check(self, node: ast.Expr, scope: Scope) -> Checked: ...
    def condition(self, node: ast.Expr, scope: Scope) -> ir.Expr | None: ...
    def value(self, node: ast.Expr, scope: Scope) -> Value | None: ...
    def as_value(self, checked: Checked, node: ast.Expr) -> Value | None: ...
    def numeric(self, node: ast.Expr, scope: Scope, what: str) -> Value | None: ...
    def string(self, node: ast.Expr, scope: Scope, what: str) -> Value | None: ...
    def event_set(self, node: ast.Expr, scope: Scope) -> EventSet | None: ...
    def duration(self, node: ast.Expr, scope: Scope) -> float | None: ...
    def properties(self, types: tuple[str, ...]) -> dict[str, ir.Type]: ...


# Checks one kind of expression node; each handler module has a table of them, and
# `compiler.typecheck.HANDLERS` joins the tables (one entry per AST expression type).
Handler = Callable[[ExprChecker, Any, Scope], Checked]


def literal(value: str | int | float | bool) -> ir.Literal:
    if isinstance(value, bool):
        return ir.Literal(value, T.BOOL)
    if isinstance(value, str):
        return ir.Literal(value, T.STRING)
    return ir.Literal(value, T.INT if isinstance(value, int) else T.NUMBER)


def number_literal(node: ast.Number) -> ir.Literal:
    integral = not any(c in node.text for c in ".eE")
    return literal(int(node.value) if integral else node.value)


def count_positive(ref: ir.AggregateRef) -> ir.Expr:
    return ir.Compare(">", ref, literal(0))


def type_word(checked: Checked) -> str:
    if isinstance(checked, Value):
        return checked.type.value
    return {
        DurationValue: "a duration",
        ListValue: "a list",
        RegexValue: "a pattern",
        EventSet: "an event set",
    }.get(type(checked), "a value")


def comparable(left: ir.Type, right: ir.Type) -> bool:
    return left is right or (left.numeric and right.numeric)
