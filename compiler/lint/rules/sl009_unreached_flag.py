"""SL009: a flag no lead of the sample data reaches (only with --data). The sample is the
leads' rows: an account's flags are not checked against them."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext
from ..rule import Finding, Rule


def check(ctx: LintContext) -> Iterator[Finding]:
    rows = ctx.sample or ()
    if not rows:
        return
    for decl in ctx.module.decls:
        if (
            isinstance(decl, ast.FlagDecl)
            and decl.entity == "lead"
            and not any(row.get(decl.name.text) for row in rows)
        ):
            yield Finding(
                decl.span,
                f"no lead in the sample data ({len(rows)} leads) reaches flag {decl.name.text}",
                "check the threshold against the score distribution (`scorelang score --data`)",
            )


RULE = Rule(
    code="SL009",
    name="unreached-flag",
    severity=Severity.WARNING,
    summary="With sample data: a flag that no sample lead reaches.",
    rationale="A routing flag (MQL, SQL-ready) that never fires on realistic data means the "
    "threshold is out of reach and sales will receive nothing.",
    check=check,
    needs_data=True,
)
