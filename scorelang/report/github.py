"""GitHub Actions workflow commands: each diagnostic becomes an annotation on the PR diff.

::error file=model.score,line=3,col=5,endLine=3,endColumn=9,title=E201::unknown name
"""

from __future__ import annotations

from collections.abc import Mapping

from ..compiler.diagnostics import Diagnostic, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def line(d: Diagnostic) -> str:
    s = d.span
    props = f"file={_property(s.file)},line={s.line},col={s.column},endLine={s.end_line},endColumn={s.end_column}"
    message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
    return f"::{COMMANDS[d.severity]} {props},title={_property(d.code)}::{_data(message)}"


def render(diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> str:
    return "".join(line(d) + "\n" for d in diagnostics)
