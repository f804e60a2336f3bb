"""SL012: an `each` rule with no cap."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext
from ..rule import Finding, Rule
from .sl001_email_opens import counts_every_open


def uncapped(rules: tuple[ast.Rule, ...]) -> Iterator[ast.EachRule]:
    """`each` rules without `max` outside any group (a group's max caps them already)."""
    for rule in rules:
        if isinstance(rule, ast.EachRule) and not any(
            isinstance(o, ast.MaxOption) for o in rule.options
        ):
            yield rule


def check(ctx: LintContext) -> Iterator[Finding]:
    for score in ctx.scores:
        for rule in uncapped(score.rules):
            if not counts_every_open(rule, ctx.event_types):  # SL001 reports those
                yield Finding(
                    rule.span,
                    "`each` rule without `max`: one very active lead can take the whole score",
                    "add a cap, e.g. `max 20`, or put the rule in a `group ... max`",
                )


RULE = Rule(
    code="SL012",
    name="each-without-max",
    severity=Severity.WARNING,
    summary="An `each` rule (outside any group) has no `max`.",
    rationale="Per-event points grow without bound: bots, page refreshes and power users "
    "swamp every other signal. Decay alone does not bound a burst.",
    check=check,
)
