"""`scorelang check FILE...`: parse and type-check models, report every diagnostic.

Exit status: 0 when no diagnostic reaches --fail-level (default: error), 1 when one does,
2 for usage errors (unknown option, missing file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report import FailLevel, Format
from .app import app


@app.command()
def check(
    files: Annotated[
        list[Path],
        typer.Argument(help="Model files (.score) to check.", exists=True, dir_okay=False),
    ],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Output format (docs/output-formats.md).")
    ] = Format.full,
    fail_level: Annotated[
        FailLevel, typer.Option("--fail-level", help="Lowest severity that exits 1.")
    ] = FailLevel.error,
    docs_url: Annotated[
        str, typer.Option("--docs-url", help="Base URL for documentation links (sarif).")
    ] = "",
) -> None:
    """Check models: names, types, structure. Exit 1 if a diagnostic reaches --fail-level."""
    from ..compiler.frontend import compile_file
    from ..report import fails, write

    diagnostics, sources = [], {}
    for path in files:
        compilation = compile_file(path)
        diagnostics += compilation.diagnostics
        sources |= compilation.sources
    write(list(dict.fromkeys(diagnostics)), sources, format, docs_url=docs_url)
    if fails(diagnostics, fail_level):
        raise typer.Exit(1)
