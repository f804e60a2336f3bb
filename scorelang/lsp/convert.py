"""Compiler positions (1-based lines and columns) to LSP ranges (0-based), and diagnostics.

Columns are counted in code points; LSP counts UTF-16 units, which differ only for
characters outside the Basic Multilingual Plane.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ..compiler import ast
from ..compiler.diagnostics import Diagnostic, Severity
from ..report.docs import doc_path
from .analysis import Analysis, import_sites

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
# The source tree's docs/, when the server runs from a checkout (as `pip install -e`).
LOCAL_DOCS = Path(__file__).resolve().parents[2] / "docs"


def to_range(span: ast.Span) -> types.Range:
    if span.line <= 0:
        return types.Range(types.Position(0, 0), types.Position(0, 1))
    return types.Range(
        types.Position(span.line - 1, max(0, span.column - 1)),
        types.Position(max(0, span.end_line - 1), max(0, span.end_column - 1)),
    )


def contains(span: ast.Span, line: int, column: int) -> bool:
    """Whether the 1-based position is inside the span (its end included, for a cursor
    just after a word)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def docs_link(code: str, docs_url: str) -> str | None:
    """Where the code is documented: under `docs_url` if the editor set one, else in the
    local checkout's docs/."""
    path = doc_path(code)
    if docs_url:
        return docs_url + path
    page, _, anchor = path.partition("#")
    local = LOCAL_DOCS.parent / page
    return local.as_uri() + (f"#{anchor}" if anchor else "") if local.exists() else None


def diagnostics(analysis: Analysis, docs_url: str = "") -> list[types.Diagnostic]:
    """The document's diagnostics; those in an imported file are shown at its `import`."""
    sites = import_sites(analysis.path, analysis.compilation)
    out = []
    for d in analysis.diagnostics:
        if d.span.file == analysis.path or d.span.line <= 0:
            out.append(_diagnostic(d, to_range(d.span), d.message, docs_url))
        elif d.span.file in sites:
            where = sites[d.span.file].path.span
            message = f"in {d.span}: {d.message}"
            out.append(_diagnostic(d, to_range(where), message, docs_url, d.span))
    return out


def _diagnostic(
    d: Diagnostic,
    range_: types.Range,
    message: str,
    docs_url: str,
    elsewhere: ast.Span | None = None,
) -> types.Diagnostic:
    link = docs_link(d.code, docs_url)
    related = None
    if elsewhere is not None:
        location = types.Location(Path(elsewhere.file).resolve().as_uri(), to_range(elsewhere))
        related = [types.DiagnosticRelatedInformation(location, d.message)]
    return types.Diagnostic(
        range=range_,
        message=f"{message}\nhint: {d.hint}" if d.hint else message,
        severity=SEVERITIES[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=link) if link else None,
        source="scorelang",
        related_information=related,
    )
