"""Diagnostics: every problem the front end finds, with a code, a severity and a span.

Codes are stable and documented in docs/diagnostics.md: `E1xx` syntax, `E2xx` names,
`E3xx` types, `E4xx` structure (rules, tiers, tests), `E5xx` target support. Lint codes
(`SL...`) live with the linter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .ast import Span


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.span}: {self.severity} {self.code}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class CompileError(Exception):
    """Raised by the public API when a model has error diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        super().__init__("\n".join(str(d) for d in errors) or "compile error")


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def source_excerpt(source: str, span: Span) -> tuple[str, int, int]:
    """The span's first line, with the caret's start column and width (at least 1)."""
    lines = source.splitlines() or [""]
    line = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    width = (
        (span.end_column - span.column)
        if span.end_line == span.line
        else len(line) - span.column + 1
    )
    return line, span.column, max(1, width)


def render_plain(diagnostic: Diagnostic, source: str | None) -> str:
    """A diagnostic as text with the source line and a caret under the span."""
    out = [
        f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}",
        f"  --> {diagnostic.span}",
    ]
    if source is not None and diagnostic.span.line > 0:
        line, column, width = source_excerpt(source, diagnostic.span)
        gutter = str(diagnostic.span.line)
        pad = " " * len(gutter)
        out += [f"{pad} |", f"{gutter} | {line}", f"{pad} | {' ' * (column - 1)}{'^' * width}"]
    if diagnostic.hint:
        out.append(f"  = help: {diagnostic.hint}")
    return "\n".join(out)
