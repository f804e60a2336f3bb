"""SL007: two rules of a score with the same label."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ...lower import slug
from ..context import LintContext, flat_rules
from ..rule import Finding, Rule


def check(ctx: LintContext) -> Iterator[Finding]:
    for score in ctx.scores:
        seen: dict[str, ast.String] = {}
        for rule in flat_rules(score.rules):
            label = getattr(rule, "label", None)
            if label is None:
                continue
            key = slug(label.value)
            if key in seen:
                yield Finding(
                    label.span,
                    f"label {label.value!r} reads the same as the one on line {seen[key].span.line} "
                    f"of score {score.name.text}",
                    "give each rule its own label, so explanations and rule columns tell them apart",
                )
            else:
                seen[key] = label


RULE = Rule(
    code="SL007",
    name="duplicate-label",
    severity=Severity.WARNING,
    summary="Two labels of one score differ only in case, spacing or punctuation.",
    rationale="Labels are what sales sees in 'why this score' and name the per-rule columns; "
    "two that read alike look like one reason, and their columns become `x` and `x_2`. "
    "(Identical labels are a compile error, E415.)",
    check=check,
)
