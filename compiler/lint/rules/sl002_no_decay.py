"""SL002: an engagement score that never forgets."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, event_names, flat_rules, walk
from ..rule import Finding, Rule


def forgets(rule: ast.Rule) -> bool:
    """A rule that lowers the weight of old behaviour: decay, inactivity or days_since."""
    if isinstance(rule, ast.EachRule) and any(
        isinstance(o, ast.DecayOption | ast.LinearDecayOption) for o in rule.options
    ):
        return True
    return any(
        isinstance(n, ast.No) or (isinstance(n, ast.Call) and n.function == "days_since")
        for n in walk(rule)
    )


def uses_events(rule: ast.Rule, event_types: frozenset[str]) -> bool:
    if isinstance(rule, ast.EachRule):
        return True
    return isinstance(rule, ast.WhenRule) and bool(event_names(rule.condition, event_types))


def check(ctx: LintContext) -> Iterator[Finding]:
    for score in ctx.scores:
        rules = list(flat_rules(score.rules))
        if any(uses_events(r, ctx.event_types) for r in rules) and not any(
            forgets(r) for r in rules
        ):
            yield Finding(
                score.name.span,
                f"score {score.name.text} rewards events but has no decay or inactivity rule",
                "add `decay 14d` to an `each` rule or `when no activity within 30d: -10`",
            )


RULE = Rule(
    code="SL002",
    name="engagement-without-decay",
    severity=Severity.WARNING,
    summary="A score with event rules has no decay, `no activity` or `days_since` rule.",
    rationale="Interest fades: a lead who was busy a year ago and silent since should not "
    "keep the score of a lead who is busy today.",
    check=check,
)
