"""SL003: nothing in the model ever subtracts points."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, flat_rules
from ..rule import Finding, Rule


def _negative(rule: ast.WhenRule | ast.EachRule) -> bool:
    points = rule.award if isinstance(rule, ast.WhenRule) else rule.points
    return isinstance(points, ast.Points) and points.sign < 0


def check(ctx: LintContext) -> Iterator[Finding]:
    scores = list(ctx.scores)
    rules = [
        r for s in scores for r in flat_rules(s.rules) if isinstance(r, ast.WhenRule | ast.EachRule)
    ]
    if rules and not any(_negative(r) for r in rules):
        model = next((d for d in ctx.module.decls if isinstance(d, ast.ModelDecl)), scores[0])
        yield Finding(
            model.span,
            "no rule in the model has negative points",
            "penalise poor fit and disqualifiers, e.g. `when email_domain(email) in free_email: -20`",
        )


RULE = Rule(
    code="SL003",
    name="no-negative-rule",
    severity=Severity.INFO,
    summary="No rule anywhere in the model awards negative points.",
    rationale="Without negative points, students, competitors and free-mail sign-ups climb "
    "as fast as buyers; every score only goes up.",
    check=check,
)
