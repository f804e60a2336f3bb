"""SL004: the rules can add up to far more than the clamp allows."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext
from ..rule import Finding, Rule


def check(ctx: LintContext) -> Iterator[Finding]:
    factor = ctx.config.inflation_factor
    for score in ctx.scores:
        clamp = next((r for r in score.rules if isinstance(r, ast.ClampRule)), None)
        bounds = ctx.bounds.get(score.name.text)
        if clamp is None or bounds is None or clamp.high.value <= 0:
            continue
        most = bounds.raw.high
        if math.isfinite(most) and most > factor * clamp.high.value:
            yield Finding(
                clamp.span,
                f"score {score.name.text} can reach {most:g} but is clamped at {clamp.high.text} "
                f"(more than {factor:g}x)",
                "lower the points or add caps, so the clamp trims outliers instead of most leads",
            )


RULE = Rule(
    code="SL004",
    name="score-inflation",
    severity=Severity.WARNING,
    summary="The maximum possible score is far above the clamp's upper bound.",
    rationale="When the rules can add up to several times the clamp, many leads pile up at "
    "the ceiling and the score stops telling them apart.",
    check=check,
)
