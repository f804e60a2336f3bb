"""SL010: a time window longer than the event data is kept."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, walk
from ..rule import Finding, Rule


def windows(decl: ast.Decl) -> Iterator[ast.Duration]:
    """The lookback durations of a declaration (a sequence's `within` is a gap, not one)."""
    nodes = list(walk(decl))
    gaps = {id(n.second) for n in nodes if isinstance(n, ast.Then)}
    for node in nodes:
        if isinstance(node, ast.Within) and id(node) not in gaps:
            yield node.duration
        elif isinstance(node, ast.BetweenAgo) and isinstance(node.high, ast.Duration):
            yield node.high


def check(ctx: LintContext) -> Iterator[Finding]:
    retention = ctx.config.retention_seconds
    if retention is None:
        return
    for decl in ctx.module.decls:
        if isinstance(decl, ast.TestDecl):
            continue
        for duration in windows(decl):
            if duration.seconds > retention:
                yield Finding(
                    duration.span,
                    f"window {duration.text} is longer than the configured data retention "
                    f"({retention / 86400:g}d)",
                    "events older than the retention are gone: shorten the window or raise `[lint] retention`",
                )


RULE = Rule(
    code="SL010",
    name="window-exceeds-retention",
    severity=Severity.WARNING,
    summary="A `within` / `between ... ago` window reaches further back than the data retention.",
    rationale="The warehouse no longer holds those events, so the rule silently behaves like a "
    "shorter window and backtests disagree with production.",
    check=check,
)
