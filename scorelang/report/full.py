"""The terminal format: `error[E201]: message`, `--> file:line:col`, the source line with a
caret span, `= help: hint`, and a summary. Styled with Rich markup; plain when not a tty."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from rich.text import Text

from ..compiler.diagnostics import Diagnostic, Severity, source_excerpt

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}


def diagnostic_text(d: Diagnostic, source: str | None) -> Text:
    text = Text()
    text.append(f"{d.severity}[{d.code}]", STYLES[d.severity])
    text.append(f": {d.message}\n", "bold")
    text.append("  --> ", "blue")
    text.append(f"{d.span}\n")
    if source is not None and d.span.line > 0:
        line, column, width = source_excerpt(source, d.span)
        gutter = str(d.span.line)
        pad = " " * len(gutter)
        text.append(f"{pad} |\n", "blue")
        text.append(f"{gutter} | ", "blue")
        text.append(f"{line}\n")
        text.append(f"{pad} | ", "blue")
        text.append(" " * (column - 1) + "^" * width + "\n", STYLES[d.severity])
    if d.hint:
        text.append("  = help: ", "bold")
        text.append(f"{d.hint}\n")
    return text


def summary(diagnostics: list[Diagnostic]) -> str:
    counts = Counter(d.severity for d in diagnostics)
    if not counts:
        return "no problems found"
    parts = [
        f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in reversed(Severity) if counts[s]
    ]
    return ", ".join(parts)


def rich_render(diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> Text:
    """The styled report, for printing through a Rich console."""
    out = Text()
    for d in diagnostics:
        out.append_text(diagnostic_text(d, sources.get(d.span.file)))
        out.append("\n")
    out.append(summary(diagnostics) + "\n", "bold")
    return out


def render(diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> str:
    return rich_render(diagnostics, sources).plain
