"""Where each diagnostic code is documented, relative to the repository root."""

from __future__ import annotations

from ..compiler.lint import BY_CODE


def doc_path(code: str) -> str:
    """Lint rules have a page each; compiler diagnostics share docs/diagnostics.md."""
    return BY_CODE[code].doc_path if code in BY_CODE else f"docs/diagnostics.md#{code.lower()}"
