"""SL001: points for every email open."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, event_names, flat_rules
from ..rule import Finding, Rule

EMAIL_OPEN = re.compile(r"mail.*open|open.*mail", re.IGNORECASE)


def counts_every_open(rule: ast.Rule, event_types: frozenset[str]) -> bool:
    """An `each` over email-open events only, without `max`: what SL001 reports."""
    if not isinstance(rule, ast.EachRule) or any(
        isinstance(o, ast.MaxOption) for o in rule.options
    ):
        return False
    names = event_names(rule.events, event_types)
    return bool(names) and all(EMAIL_OPEN.search(n) for n in names)


def check(ctx: LintContext) -> Iterator[Finding]:
    for score in ctx.scores:
        for rule in flat_rules(score.rules):
            if counts_every_open(rule, ctx.event_types):
                yield Finding(
                    rule.span,
                    "points for every single email open",
                    "opens are inflated by mail-privacy prefetching; award a threshold "
                    "(`when count(email_open within 30d) >= 3: +5`) or add `max`",
                )


RULE = Rule(
    code="SL001",
    name="email-open-points",
    severity=Severity.WARNING,
    summary="An `each` rule awards points for every email open, without a cap.",
    rationale="Email opens are cheap and noisy (privacy proxies open every message), so a "
    "point per open lets a newsletter subscriber outscore a buyer.",
    check=check,
)
