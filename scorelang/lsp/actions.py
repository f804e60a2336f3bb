"""Quick fixes: the replacement a "did you mean `x`?" hint names, and the fixes the lint
hints describe (a `max` for an uncapped `each` rule, a decay for a score that never forgets)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lsprotocol import types

from ..compiler import ast
from ..compiler.diagnostics import Diagnostic
from ..compiler.lint.context import flat_rules
from .analysis import Analysis
from .convert import to_range

_SUGGESTION = re.compile(r"did you mean `([^`]+)`\?")
_NAMED = re.compile(r"`([^`]+)`")
DEFAULT_MAX = "max 20"
DEFAULT_DECAY = "decay 14d"
INACTIVITY_RULE = "when no activity within 30d: -10"


def code_actions(analysis: Analysis, uri: str, range_: types.Range) -> list[types.CodeAction]:
    first, last = range_.start.line + 1, range_.end.line + 1
    actions = []
    for d in analysis.diagnostics:
        if d.span.file == analysis.path and first <= d.span.line <= last:
            for title, edits in _fixes(analysis, d):
                actions.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        edit=types.WorkspaceEdit(changes={uri: edits}),
                        is_preferred=len(actions) == 0,
                    )
                )
    return actions


def _fixes(analysis: Analysis, d: Diagnostic) -> Iterator[tuple[str, list[types.TextEdit]]]:
    suggestion = _SUGGESTION.search(d.hint or "")
    if suggestion is not None:
        edit = _replace_name(analysis, d, suggestion[1])
        if edit is not None:
            yield f"Replace with `{suggestion[1]}`", [edit]
    root = analysis.root
    if root is None:
        return
    if d.code == "SL012":
        rule = _node_at(root, ast.EachRule, d.span)
        if rule is not None:
            yield f"Add `{DEFAULT_MAX}`", [_insert_after(_last_option(rule), f" {DEFAULT_MAX}")]
    elif d.code == "SL002":
        score = next((s for s in _scores(root) if s.name.span == d.span), None)
        if score is None:
            return
        each = next((r for r in flat_rules(score.rules) if isinstance(r, ast.EachRule)), None)
        if each is not None and not any(
            isinstance(o, ast.DecayOption | ast.LinearDecayOption) for o in each.options
        ):
            yield (
                f"Add `{DEFAULT_DECAY}` to an `each` rule",
                [_insert_after(_last_option(each), f" {DEFAULT_DECAY}")],
            )
        last = score.rules[-1] if score.rules else None
        if last is not None:
            indent = " " * (last.span.column - 1)
            yield f"Add `{INACTIVITY_RULE}`", [_insert_after(last, f"\n{indent}{INACTIVITY_RULE}")]


def _replace_name(analysis: Analysis, d: Diagnostic, replacement: str) -> types.TextEdit | None:
    """Replaces the unknown name the message quotes, where it stands in the span."""
    named = _NAMED.search(d.message)
    if named is None:
        return None
    wrong = named[1]
    text = analysis.source[d.span.start : d.span.end]
    at = text.rfind(wrong)
    if at < 0 or "\n" in text[:at]:
        return None
    start = types.Position(d.span.line - 1, d.span.column - 1 + at)
    end = types.Position(start.line, start.character + len(wrong))
    return types.TextEdit(types.Range(start, end), replacement)


def _scores(module: ast.Module) -> Iterator[ast.ScoreDecl]:
    return (d for d in module.decls if isinstance(d, ast.ScoreDecl))


def _node_at(module: ast.Module, kind: type, span: ast.Span) -> ast.EachRule | None:
    for score in _scores(module):
        for rule in flat_rules(score.rules):
            if isinstance(rule, kind) and rule.span == span:
                return rule  # type: ignore[return-value]
    return None


def _last_option(rule: ast.EachRule) -> ast.Node:
    """Where an option goes: after the points and any options, before the label."""
    return rule.options[-1] if rule.options else rule.points


def _insert_after(node: ast.Node, text: str) -> types.TextEdit:
    end = to_range(node.span).end
    return types.TextEdit(types.Range(end, end), text)
