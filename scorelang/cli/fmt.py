"""`scorelang fmt [--check] [--diff] FILE...`: rewrite models in the canonical layout.

--check writes nothing and exits 1 if a file would change (for CI and pre-commit);
--diff prints what would change. A file that does not parse is reported and exits 1.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .app import app


@app.command()
def fmt(
    files: Annotated[
        list[Path],
        typer.Argument(help="Model files (.score) to format.", exists=True, dir_okay=False),
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if a file is not formatted.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Write nothing; print a unified diff of the changes.")
    ] = False,
) -> None:
    """Format models in place (one canonical layout; comments kept; meaning unchanged)."""
    from ..compiler.fmt import format_source
    from ..report import write

    console = Console(stderr=True, highlight=False)
    changed = broken = 0
    for path in files:
        source = path.read_text()
        formatted, diagnostics = format_source(source, str(path))
        if formatted is None:
            broken += 1
            write(diagnostics, {str(path): source})
            continue
        if formatted == source:
            continue
        changed += 1
        if diff:
            lines = difflib.unified_diff(
                source.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{path}",
                f"{path} (formatted)",
            )
            sys.stdout.writelines(lines)
        if check or diff:
            console.print(f"would reformat {path}")
        else:
            path.write_text(formatted)
            console.print(f"reformatted {path}")
    verb = "would be reformatted" if check or diff else "reformatted"
    console.print(
        f"{changed} file{'s' if changed != 1 else ''} {verb}, {len(files) - changed - broken} unchanged"
    )
    if broken or (check and changed):
        raise typer.Exit(1)
