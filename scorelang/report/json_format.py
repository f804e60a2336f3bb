"""The `json` format: one stable, documented object (docs/output-formats.md, schema version 1).

    {"version": 1,
     "diagnostics": [{"code", "severity", "message", "hint", "file",
                      "line", "column", "end_line", "end_column", "docs"}],
     "summary": {"error": n, "warning": n, "info": n}}

Fields are only ever added; a change to existing ones bumps `version`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..compiler.diagnostics import Diagnostic, Severity
from .docs import doc_path

SCHEMA_VERSION = 1


def as_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "code": d.code,
        "severity": str(d.severity),
        "message": d.message,
        "hint": d.hint,
        "file": d.span.file,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "docs": doc_path(d.code),
    }


def render(diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "diagnostics": [as_dict(d) for d in diagnostics],
        "summary": {str(s): sum(d.severity is s for d in diagnostics) for s in reversed(Severity)},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
