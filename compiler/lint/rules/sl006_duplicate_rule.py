"""SL006: the same condition twice in one score."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, flat_rules
from ..rule import Finding, Rule


def _key(rule: ast.Rule) -> tuple[str, object] | None:
    """What a rule tests, as written (wherever it stands)."""
    if isinstance(rule, ast.WhenRule):
        return ("when", ast.syntax_key(rule.condition))
    if isinstance(rule, ast.EachRule):
        return ("each", ast.syntax_key(rule.events))
    return None


def check(ctx: LintContext) -> Iterator[Finding]:
    for score in ctx.scores:
        seen: dict[tuple[str, object], ast.Rule] = {}
        for rule in flat_rules(score.rules):
            key = _key(rule)
            if key is None:
                continue
            if key in seen:
                yield Finding(
                    rule.span,
                    f"the same condition as the rule on line {seen[key].span.line} of score {score.name.text}",
                    "merge the two rules into one with the combined points",
                )
            else:
                seen[key] = rule


RULE = Rule(
    code="SL006",
    name="duplicate-rule",
    severity=Severity.WARNING,
    summary="Two rules of one score test exactly the same condition.",
    rationale="Duplicates double-count silently and make explanations confusing; different "
    "thresholds (`> 10` and `> 20`) are fine, identical conditions are almost always a "
    "copy-paste slip.",
    check=check,
)
