"""SL008: a const, segment or event type nothing refers to."""

from __future__ import annotations

from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ..context import LintContext, walk
from ..rule import Finding, Rule


def referenced_names(ctx: LintContext) -> set[str]:
    """Every name the scoring declarations use, in every file read (tests do not count)."""
    modules = ctx.modules.values() if ctx.modules else (ctx.module,)
    names: set[str] = set()
    for module in modules:
        for decl in module.decls:
            if isinstance(decl, ast.TestDecl):
                continue
            for node in walk(decl):
                if isinstance(node, ast.Name):
                    names.add(node.name)
                elif isinstance(node, ast.Visited):
                    names.add("page_view")
                elif isinstance(node, ast.Activity):
                    names.update(ctx.event_types)
    return names


def check(ctx: LintContext) -> Iterator[Finding]:
    used = referenced_names(ctx)
    for decl in ctx.module.decls:
        if (
            isinstance(decl, ast.ConstDecl | ast.SegmentDecl | ast.EventDecl)
            and decl.name.text not in used
        ):
            kind = {
                ast.ConstDecl: "const",
                ast.SegmentDecl: "segment",
                ast.EventDecl: "event type",
            }[type(decl)]
            yield Finding(
                decl.name.span,
                f"{kind} {decl.name.text} is never used",
                "remove it, or use it in a rule",
            )


RULE = Rule(
    code="SL008",
    name="unused-declaration",
    severity=Severity.WARNING,
    summary="A const, segment or event type is declared but never used by a rule, flag or score.",
    rationale="Unused declarations suggest a rule was deleted or misspelt, and they make "
    "readers look for behaviour that is not there.",
    check=check,
)
