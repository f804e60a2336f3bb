"""SL005: a tier band above the highest score the rules allow."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext
from ..rule import Finding, Rule


def check(ctx: LintContext) -> Iterator[Finding]:
    for tier in ctx.module.decls:
        if not isinstance(tier, ast.TierDecl) or tier.source.text not in ctx.bounds:
            continue
        most = ctx.bounds[tier.source.text].final.high
        for band in tier.bands:
            if band.bound is not None and band.bound.value > most:
                yield Finding(
                    band.span,
                    f"tier band {band.label.text} needs {tier.source.text} >= {band.bound.text}, "
                    f"but {tier.source.text} is at most {most:g}",
                    "lower the bound or raise the points that feed the score",
                )


RULE = Rule(
    code="SL005",
    name="unreachable-tier-band",
    severity=Severity.WARNING,
    summary="A tier band's bound is above the maximum possible value of its score.",
    rationale="No lead can ever land in the band, which usually means the points or the clamp "
    "changed and the tier was not updated.",
    check=check,
)
