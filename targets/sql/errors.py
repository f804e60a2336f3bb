"""Constructs a SQL target cannot express faithfully are refused at compile time.

Codes (documented in docs/diagnostics.md, E5xx "target support"):
E501 a `matches` pattern the target's regex engine cannot run with RE2's meaning;
E502 a name the target cannot hold as a column (too long, or equal to another name
     ignoring case where the target folds identifiers);
E503 an unknown target.
"""

from __future__ import annotations

import dataclasses

from ...compiler.ast import NO_SPAN, Span
from ...compiler.diagnostics import Diagnostic, Severity


class UnsupportedConstruct(Exception):
    """Raised instead of generating SQL that would disagree with the Python evaluator."""

    def __init__(
        self,
        code: str,
        construct: str,
        target: str,
        *,
        hint: str | None = None,
        span: Span = NO_SPAN,
    ):
        message = f"{construct} cannot be compiled for {target}"
        self.diagnostic = Diagnostic(code, Severity.ERROR, message, span, hint)
        super().__init__(f"{code}: {message}" + (f" (hint: {hint})" if hint else ""))

    def at(self, span: Span) -> UnsupportedConstruct:
        """The same refusal pointing at the rule or output that needs the construct."""
        if self.diagnostic.span == NO_SPAN:
            self.diagnostic = dataclasses.replace(self.diagnostic, span=span)
        return self
