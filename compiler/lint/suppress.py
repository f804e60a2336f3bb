"""Inline suppression: `# scorelang: ignore[SL003]` (or `ignore[SL001, SL012]`, or a bare
`ignore` for every rule) on the reported line or the line above it."""

from __future__ import annotations

import re

from .. import ast
from ..diagnostics import Diagnostic

_IGNORE = re.compile(r"#\s*scorelang:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")
ALL = "*"


def suppressions(module: ast.Module) -> dict[int, frozenset[str]]:
    """Line -> codes silenced on that line (ALL for every code)."""
    lines: dict[int, set[str]] = {}
    for comment in module.comments:
        match = _IGNORE.search(comment.text)
        if match is None:
            continue
        codes = match["codes"]
        found = {c.strip() for c in codes.split(",") if c.strip()} if codes is not None else {ALL}
        for line in (comment.span.line, comment.span.line + 1):
            lines.setdefault(line, set()).update(found)
    return {line: frozenset(codes) for line, codes in lines.items()}


def is_suppressed(diagnostic: Diagnostic, silenced: dict[int, frozenset[str]]) -> bool:
    codes = silenced.get(diagnostic.span.line, frozenset())
    return ALL in codes or diagnostic.code in codes
