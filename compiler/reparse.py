"""Parsing again after an edit: only the declarations, or the score rules, that the edit
touched; the rest of the previous AST is reused, its spans moved by the edit's length.

An editor re-checks on every keystroke, and parsing is most of that time; a keystroke
touches one rule. Whatever this cannot do safely (an edit between declarations, text
that does not parse, a node sharing a line with the edit's end) is left to `parse_module`,
so the result is always what parsing the whole text gives (tests/test_reparse.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from . import ast
from .diagnostics import Diagnostic
from .parse import parse_fragment, parse_module


def reparse(previous: ast.Module, source: str) -> tuple[ast.Module, list[Diagnostic]]:
    """`parse_module(source, previous.path)`, reusing `previous` (a module parsed without
    syntax errors) where the edit did not reach."""
    if source == previous.source:
        return previous, []
    module = _reuse(previous, source)
    return (module, []) if module is not None else parse_module(source, previous.path)


@dataclasses.dataclass(frozen=True)
class _Edit:
    """The old text's [start, old_end) became the new text's [start, start + len + delta)."""

    start: int
    old_end: int
    delta: int


def _reuse(previous: ast.Module, source: str) -> ast.Module | None:
    old = previous.source
    prefix = _common_prefix(old, source)
    suffix = _common_suffix(old, source, min(len(old), len(source)) - prefix)
    edit = _Edit(prefix, len(old) - suffix, len(source) - len(old))
    decls = _covering(previous.decls, edit)
    if decls is None:
        return None
    first, last = decls
    decl = previous.decls[first]
    if first == last and isinstance(decl, ast.ScoreDecl):
        rules = _covering(decl.rules, edit)
        if rules is not None:
            return _replace_rules(previous, source, edit, first, rules)
    return _replace(previous, source, edit, previous.decls, decls, "start", _set_decls)


def _replace_rules(
    previous: ast.Module, source: str, edit: _Edit, index: int, rules: tuple[int, int]
) -> ast.Module | None:
    score = previous.decls[index]
    assert isinstance(score, ast.ScoreDecl)

    def set_rules(module: ast.Module, new_rules: tuple[Any, ...], lines: int) -> ast.Module:
        span = _moved_end(score.span, source, edit.delta)
        new_score = dataclasses.replace(score, rules=new_rules, span=span)
        decls = previous.decls
        later = _shift(decls[index + 1 :], lines, edit.delta)
        return dataclasses.replace(module, decls=(*decls[:index], new_score, *later))

    return _replace(previous, source, edit, score.rules, rules, "rule_list", set_rules)


def _replace(
    previous: ast.Module,
    source: str,
    edit: _Edit,
    units: Sequence[ast.Node],
    covered: tuple[int, int],
    start: str,
    rebuild: Any,
) -> ast.Module | None:
    """Parses the covered units' new text and puts it in their place; None when that text
    does not parse or a later node starts on the line the edit ends on (its column moves)."""
    first, last = covered
    begin, old_end = units[first].span.start, units[last].span.end
    end_line = units[last].span.end_line
    later_comments = [c for c in previous.comments if c.span.start >= old_end]
    later_units = units[last + 1 :]
    if any(n.span.line <= end_line for n in (*later_units, *later_comments)):
        return None
    if any(
        isinstance(d, ast.Node) and d.span.start >= old_end and d.span.line <= end_line
        for d in previous.decls
    ):
        return None
    parsed = parse_fragment(source, previous.path, begin, old_end + edit.delta, start)
    if parsed is None:
        return None
    nodes, comments = parsed
    old_text = previous.source[begin:old_end]
    lines = source.count("\n", begin, old_end + edit.delta) - old_text.count("\n")
    new_units = (*units[:first], *nodes, *_shift(later_units, lines, edit.delta))
    module = rebuild(previous, new_units, lines)
    kept = tuple(c for c in previous.comments if c.span.start < begin)
    moved = _shift(tuple(later_comments), lines, edit.delta)
    end = ast.Span(previous.path, 1, 1, source.count("\n") + 1, 1, 0, len(source))
    return dataclasses.replace(module, source=source, comments=(*kept, *comments, *moved), span=end)


def _set_decls(module: ast.Module, decls: tuple[Any, ...], lines: int) -> ast.Module:
    return dataclasses.replace(module, decls=decls)


def _covering(units: Sequence[ast.Node], edit: _Edit) -> tuple[int, int] | None:
    """The first and last unit the edit touches, when it lies within their text."""
    touched = [
        i for i, u in enumerate(units) if u.span.start <= edit.old_end and edit.start <= u.span.end
    ]
    if not touched:
        return None
    first, last = touched[0], touched[-1]
    if units[first].span.start <= edit.start and edit.old_end <= units[last].span.end:
        return first, last
    return None


def _moved_end(span: ast.Span, source: str, delta: int) -> ast.Span:
    end = span.end + delta
    line = source.count("\n", 0, end) + 1
    column = end - source.rfind("\n", 0, end)
    return dataclasses.replace(span, end_line=line, end_column=column, end=end)


def _shift(nodes: tuple[Any, ...], lines: int, delta: int) -> tuple[Any, ...]:
    """Nodes that start on lines after the edit, moved down `lines` lines and `delta`
    characters (their columns do not change)."""
    if lines == 0 and delta == 0:
        return tuple(nodes)
    return tuple(_moved(node, lines, delta) for node in nodes)


def _moved(value: Any, lines: int, delta: int) -> Any:
    if isinstance(value, tuple):
        return tuple(_moved(item, lines, delta) for item in value)
    if not isinstance(value, ast.Node):
        return value
    cls = type(value)
    node = object.__new__(cls)
    object.__setattr__(node, "span", _moved_span(value.span, lines, delta))
    for name in ast.child_fields(cls):
        item = getattr(value, name)
        if isinstance(item, tuple | ast.Node):
            item = _moved(item, lines, delta)
        object.__setattr__(node, name, item)
    return node


def _moved_span(span: ast.Span, lines: int, delta: int) -> ast.Span:
    if not span.line:
        return span
    return ast.Span(
        span.file,
        span.line + lines,
        span.column,
        span.end_line + lines,
        span.end_column,
        span.start + delta,
        span.end + delta,
    )


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (binary search on slices: C-speed compares)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, most: int) -> int:
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low
