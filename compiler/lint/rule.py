"""What a lint rule is: stable metadata (code, name, severity, rationale) plus a check.

Rules report `Finding`s; the runner turns them into `Diagnostic`s with the configured
severity, so a rule never decides how loud it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..ast import Span
from ..diagnostics import Severity
from .context import LintContext


@dataclass(frozen=True)
class Finding:
    span: Span
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str  # SLxxx, stable, documented in docs/rules/<code>.md
    name: str  # kebab-case, usable in configuration instead of the code
    severity: Severity  # the default; `[lint] severity` overrides it
    summary: str  # one line: what the rule reports
    rationale: str  # why it matters for a lead-scoring model
    check: Callable[[LintContext], Iterable[Finding]]
    needs_data: bool = False  # runs only when sample data was scored

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.code}.md"
