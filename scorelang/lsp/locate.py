"""The AST nodes under a cursor, outermost first (a declaration, a rule, an expression...)."""

from __future__ import annotations

from ..compiler import ast
from .convert import contains


def nodes_at(module: ast.Module, line: int, column: int) -> list[ast.Node]:
    path: list[ast.Node] = []
    level: object = module.decls
    while True:
        inner = _child_at(level, line, column)
        if inner is None:
            return path
        path.append(inner)
        level = inner


def _child_at(node: object, line: int, column: int) -> ast.Node | None:
    children = node if isinstance(node, tuple) else _children(node)
    for child in children:
        if isinstance(child, tuple):
            found = _child_at(child, line, column)
            if found is not None:
                return found
        elif isinstance(child, ast.Node) and child.span.line and contains(child.span, line, column):
            return child
    return None


def _children(node: object) -> list[object]:
    if not isinstance(node, ast.Node):
        return []
    return list(ast.children(node))


def word_at(source: str, line: int, column: int) -> str:
    """The identifier-like word under (or just before) a 1-based position."""
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return ""
    text = lines[line - 1]
    i = max(0, min(column - 1, len(text)))
    start = i
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = i
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end]
