"""Output formats for diagnostics from `check` and `lint`.

    render(diagnostics, sources, "full" | "concise" | "json" | "github" | "sarif") -> str

`full` is for people at a terminal, `concise` for editors and grep, `json` a documented
stable schema (docs/output-formats.md), `github` workflow commands that annotate a pull
request, `sarif` for code-scanning tools.
"""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType

from ..compiler.diagnostics import Diagnostic, Severity


class Format(enum.StrEnum):
    full = "full"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


FORMATS = tuple(f.value for f in Format)


def renderer(format: str) -> ModuleType:
    """The format's module, imported only when used: json and sarif read the lint rules'
    docs, which commands such as `score` never need (they import this package too)."""
    return importlib.import_module(f"{__name__}.{'json_format' if format == 'json' else format}")


class FailLevel(enum.StrEnum):
    """The lowest severity that makes `check` / `lint` exit 1."""

    error = "error"
    warning = "warning"
    info = "info"


def fails(diagnostics: Iterable[Diagnostic], level: FailLevel) -> bool:
    threshold = Severity[level.name.upper()]
    return any(d.severity >= threshold for d in diagnostics)


def ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """By file and position, so output is stable whatever order the passes ran in."""
    return sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))


def render(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str],
    format: str = "full",
    *,
    docs_url: str = "",
) -> str:
    """Diagnostics in one format; `sources` (path -> text) lets `full` show the source line;
    `docs_url` prefixes the documentation links of `sarif`."""
    module = renderer(format)
    if format == "sarif":
        return module.render(ordered(diagnostics), sources, docs_base=docs_url)
    return module.render(ordered(diagnostics), sources)


def write(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str],
    format: str = "full",
    *,
    docs_url: str = "",
) -> None:
    """Print to stdout: `full` through Rich (colour on a terminal), the others verbatim."""
    if format == "full":
        from rich.console import Console

        from . import full

        Console(highlight=False, soft_wrap=True).print(
            full.rich_render(ordered(diagnostics), sources), end=""
        )
    else:
        sys.stdout.write(render(diagnostics, sources, format, docs_url=docs_url))
