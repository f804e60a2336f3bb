"""One line per diagnostic, `file:line:col: CODE message`: what editors and grep expect
(the severity is in the code: E errors; lint codes SLxxx are warnings or info)."""

from __future__ import annotations

from collections.abc import Mapping

from ..compiler.diagnostics import Diagnostic


def line(d: Diagnostic) -> str:
    return f"{d.span.file}:{d.span.line}:{d.span.column}: {d.code} {d.message}"


def render(diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> str:
    return "".join(line(d) + "\n" for d in diagnostics)
