"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDE viewers): one run, the
rules that were reported with their metadata, one result per diagnostic."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .. import __version__
from ..compiler.diagnostics import Diagnostic, Severity
from ..compiler.lint import BY_CODE
from .docs import doc_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# helpUri is this base + the doc's repository path; the CLI's --docs-url sets the base (e.g. the
# repository's blob URL in CI), otherwise links stay relative to the repository root.
DOCS_BASE = ""


def rule_descriptor(code: str, docs_base: str) -> dict[str, object]:
    descriptor: dict[str, object] = {"id": code, "helpUri": docs_base + doc_path(code)}
    rule = BY_CODE.get(code)
    if rule is not None:
        descriptor |= {
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.rationale},
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
        }
    return descriptor


def result(d: Diagnostic, index: int) -> dict[str, object]:
    s = d.span
    region = {
        "startLine": s.line,
        "startColumn": s.column,
        "endLine": s.end_line,
        "endColumn": s.end_column,
    }
    message = d.message + (f" (help: {d.hint})" if d.hint else "")
    return {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": LEVELS[d.severity],
        "message": {"text": message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": s.file}, "region": region}}
        ],
    }


def render(
    diagnostics: list[Diagnostic], sources: Mapping[str, str], docs_base: str = DOCS_BASE
) -> str:
    codes = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    driver = {
        "name": "scorelang",
        "version": __version__,
        "informationUri": docs_base + "docs/lint.md",
        "rules": [rule_descriptor(code, docs_base) for code in codes],
    }
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "results": [result(d, index[d.code]) for d in diagnostics]}
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
