"""Event sets: `activity`, `visited`, `where`, windows, `no`, and sequences (`then`).

An event set stays an `EventFilter` until its use decides the aggregate (a condition
counts, `each` weights, `then` makes a `Sequence`)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from . import ast, ir
from .checked import Checked, DurationValue, EventSet, Scope, T, Value, literal, type_word

if TYPE_CHECKING:
    from .typecheck import Checker


class EventSetChecks:
    """Checker methods for event-set expressions."""

    # ---- event sets ----------------------------------------------------------------------

    def _Activity(self: Checker, node: ast.Activity, scope: Scope) -> Checked:
        if not scope.events:
            self._not_here("event sets", node, scope)
            return None
        return EventSet(ir.EventFilter(tuple(e.name for e in self.symbols.event_types)))

    def _Visited(self: Checker, node: ast.Visited, scope: Scope) -> Checked:
        if not scope.events:
            self._not_here("event sets", node, scope)
            return None
        page_view = self.symbols.event("page_view")
        url = (
            next((p for p in page_view.properties if p.name == "url"), None) if page_view else None
        )
        if url is None or url.type is not T.STRING:
            self.error(
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

    def _Where(self: Checker, node: ast.Where, scope: Scope) -> Checked:
        events = self.event_set(node.source, scope)
        if events is None:
            return None
        props = self.properties(events.filter.types)
        where_scope = Scope("a where condition", lead=False, events=False, props=props)
        condition = self.condition(node.condition, where_scope)
        if condition is None:
            return None
        previous = events.filter.where
        combined = condition if previous is None else ir.And((previous, condition))
        return EventSet(dataclasses.replace(events.filter, where=combined))

    def _windowed(
        self, node: ast.Expr, source: ast.Expr, scope: Scope, window: ir.Window | None
    ) -> Checked:
        events = self.event_set(source, scope)
        if events is None or window is None:
            return None
        if events.filter.window is not None:
            self.error(
                "E424",
                "this event set already has a window",
                node,
                "keep one `within` or `between ... ago`",
            )
            return None
        return EventSet(dataclasses.replace(events.filter, window=window))

    def _Within(self: Checker, node: ast.Within, scope: Scope) -> Checked:
        seconds = self.duration(node.duration, scope)
        return self._windowed(node, node.source, scope, seconds and ir.Window(0.0, seconds))

    def _BetweenAgo(self: Checker, node: ast.BetweenAgo, scope: Scope) -> Checked:
        low = self.check(node.low, scope)
        low_seconds = self._duration_or_zero(node.low, low)
        high = self.duration(node.high, scope)
        window = None
        if low_seconds is not None and high is not None:
            if low_seconds >= high:
                self.error(
                    "E316",
                    "the window is empty: the first duration must be shorter than the second",
                    node,
                    "write the nearer time first, e.g. `between 7d and 30d ago`",
                )
            else:
                window = ir.Window(low_seconds, high)
        return self._windowed(node, node.source, scope, window)

    def _duration_or_zero(self: Checker, node: ast.Expr, checked: Checked) -> float | None:
        """The near end of `between D1 and D2 ago` may be 0d (now)."""
        if isinstance(checked, DurationValue):
            if checked.seconds < 0:
                self.error("E407", "a duration here cannot be negative", node)
                return None
            return checked.seconds
        if checked is not None:
            self.error(
                "E304",
                f"expected a duration, found {type_word(checked)}",
                node,
                "add a unit: s, min, h, d or w",
            )
        return None

    def _No(self: Checker, node: ast.No, scope: Scope) -> Checked:
        checked = self.check(node.operand, scope)
        if checked is None:
            return None
        if not isinstance(checked, EventSet):
            self.error(
                "E306",
                f"`no` needs an event set, found {type_word(checked)}",
                node.operand,
                "use `not` to negate a condition",
            )
            return None
        ref = self.intern(ir.Count("", checked.filter))
        return Value(ir.Compare("==", ref, literal(0)), T.BOOL)

    def _Then(self: Checker, node: ast.Then, scope: Scope) -> Checked:
        if not scope.events:
            self._not_here("event sets", node, scope)
            return None
        first = self.event_set(node.first, scope)
        if not isinstance(node.second, ast.Within):
            self.error(
                "E405",
                "a sequence needs the largest gap: `A then B within D`",
                node.second,
                "add e.g. `within 3d` after the second event set",
            )
            return None
        gap = self.duration(node.second.duration, scope)
        second = self.event_set(node.second.source, scope)
        if first is None or second is None or gap is None:
            return None
        ref = self.intern(ir.Sequence("", first.filter, second.filter, gap))
        return Value(ref, T.BOOL)
