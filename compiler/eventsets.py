"""Event sets: `activity`, `visited`, `where`, windows, `no`, and sequences (`then`).

An event set stays an `EventFilter` until its use decides the aggregate (a condition
counts, `each` weights, `then` makes a `Sequence`)."""

from __future__ import annotations

import dataclasses

from . import ast, ir
from .checked import (
    Checked,
    DurationValue,
    EventSet,
    ExprChecker,
    Handler,
    Scope,
    T,
    Value,
    literal,
    type_word,
)


def activity(checker: ExprChecker, node: ast.Activity, scope: Scope) -> Checked:
    if not scope.events:
        checker.not_here("event sets", node, scope)
        return None
    return EventSet(ir.EventFilter(tuple(e.name for e in checker.symbols.event_types)))


def visited(checker: ExprChecker, node: ast.Visited, scope: Scope) -> Checked:
    if not scope.events:
        checker.not_here("event sets", node, scope)
        return None
    page_view = checker.symbols.event("page_view")
    url = next((p for p in page_view.properties if p.name == "url"), None) if page_view else None
    if url is None or url.type is not T.STRING:
        checker.error(
            "E404",
            "`visited` needs a `page_view` event with a string `url` property",
            node,
            "declare `event page_view { url: string }`",
        )
        return None
    prop = ir.EventProp("url", T.STRING)
    if node.path.endswith("*"):
        where: ir.Expr = ir.StringTest("starts_with", prop, literal(node.path[:-1]))
    else:
        where = ir.Compare("==", prop, literal(node.path))
    return EventSet(ir.EventFilter(("page_view",), where))


def where(checker: ExprChecker, node: ast.Where, scope: Scope) -> Checked:
    events = checker.event_set(node.source, scope)
    if events is None:
        return None
    props = checker.properties(events.filter.types)
    where_scope = Scope("a where condition", lead=False, events=False, props=props)
    condition = checker.condition(node.condition, where_scope)
    if condition is None:
        return None
    previous = events.filter.where
    combined = condition if previous is None else ir.And((previous, condition))
    return EventSet(dataclasses.replace(events.filter, where=combined))


def _windowed(
    checker: ExprChecker, node: ast.Expr, source: ast.Expr, scope: Scope, window: ir.Window | None
) -> Checked:
    events = checker.event_set(source, scope)
    if events is None or window is None:
        return None
    if events.filter.window is not None:
        checker.error(
            "E424",
            "this event set already has a window",
            node,
            "keep one `within` or `between ... ago`",
        )
        return None
    return EventSet(dataclasses.replace(events.filter, window=window))


def within(checker: ExprChecker, node: ast.Within, scope: Scope) -> Checked:
    seconds = checker.duration(node.duration, scope)
    return _windowed(checker, node, node.source, scope, seconds and ir.Window(0.0, seconds))


def between_ago(checker: ExprChecker, node: ast.BetweenAgo, scope: Scope) -> Checked:
    low = checker.check(node.low, scope)
    low_seconds = _duration_or_zero(checker, node.low, low)
    high = checker.duration(node.high, scope)
    window = None
    if low_seconds is not None and high is not None:
        if low_seconds >= high:
            checker.error(
                "E316",
                "the window is empty: the first duration must be shorter than the second",
                node,
                "write the nearer time first, e.g. `between 7d and 30d ago`",
            )
        else:
            window = ir.Window(low_seconds, high)
    return _windowed(checker, node, node.source, scope, window)


def _duration_or_zero(checker: ExprChecker, node: ast.Expr, checked: Checked) -> float | None:
    """The near end of `between D1 and D2 ago` may be 0d (now)."""
    if isinstance(checked, DurationValue):
        if checked.seconds < 0:
            checker.error("E407", "a duration here cannot be negative", node)
            return None
        return checked.seconds
    if checked is not None:
        checker.error(
            "E304",
            f"expected a duration, found {type_word(checked)}",
            node,
            "add a unit: s, min, h, d or w",
        )
    return None


def no(checker: ExprChecker, node: ast.No, scope: Scope) -> Checked:
    checked = checker.check(node.operand, scope)
    if checked is None:
        return None
    if not isinstance(checked, EventSet):
        checker.error(
            "E306",
            f"`no` needs an event set, found {type_word(checked)}",
            node.operand,
            "use `not` to negate a condition",
        )
        return None
    ref = checker.intern(ir.Count("", checked.filter))
    return Value(ir.Compare("==", ref, literal(0)), T.BOOL)


def then(checker: ExprChecker, node: ast.Then, scope: Scope) -> Checked:
    if not scope.events:
        checker.not_here("event sets", node, scope)
        return None
    first = checker.event_set(node.first, scope)
    if not isinstance(node.second, ast.Within):
        checker.error(
            "E405",
            "a sequence needs the largest gap: `A then B within D`",
            node.second,
            "add e.g. `within 3d` after the second event set",
        )
        return None
    gap = checker.duration(node.second.duration, scope)
    second = checker.event_set(node.second.source, scope)
    if first is None or second is None or gap is None:
        return None
    ref = checker.intern(ir.Sequence("", first.filter, second.filter, gap))
    return Value(ref, T.BOOL)


HANDLERS: dict[type[ast.Expr], Handler] = {
    ast.Activity: activity,
    ast.Visited: visited,
    ast.Where: where,
    ast.Within: within,
    ast.BetweenAgo: between_ago,
    ast.No: no,
    ast.Then: then,
}
