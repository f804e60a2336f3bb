"""`scorelang test FILE...`: run the test blocks of each model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from .app import app


@app.command()
def test(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Model files (.score) whose tests to run.", exists=True, dir_okay=False
        ),
    ],
) -> None:
    """Run the `test` blocks of each model; exit status 1 on any failure or compile error."""
    from ..compiler.diagnostics import Severity, render_plain
    from ..compiler.frontend import compile_file
    from ..testing import run_tests

    console = Console(highlight=False, soft_wrap=True)
    passed = failed = broken = 0
    for path in files:
        compilation = compile_file(path)
        console.print(Text(str(path), style="bold"))
        if compilation.model is None:
            broken += 1
            for diagnostic in compilation.diagnostics:
                if diagnostic.severity is Severity.ERROR:
                    source = compilation.sources.get(diagnostic.span.file)
                    console.print(Text(render_plain(diagnostic, source), style="red"))
            continue
        outcomes = run_tests(compilation.model)
        if not outcomes:
            console.print(Text("  no tests", style="dim"))
        for outcome in outcomes:
            passed += outcome.passed
            failed += not outcome.passed
            mark, style = ("✓", "green") if outcome.passed else ("✗", "red")
            console.print(Text.assemble("  ", (mark, style), " ", outcome.name))
            for failure in outcome.failures:
                console.print(Text(f"      {failure.text}", style="bold"))
                wanted = (
                    show(failure.expected)
                    if failure.op == "=="
                    else f"{failure.op} {show(failure.expected)}"
                )
                console.print(Text(f"        expected {wanted}", style="green"))
                console.print(Text(f"        actual   {show(failure.actual)}", style="red"))
                console.print(Text(f"        at {failure.span}", style="dim"))
    summary = f"{passed} passed, {failed} failed"
    if broken:
        summary += f", {broken} file{'s' if broken > 1 else ''} with compile errors"
    console.print(Text(summary, style="bold red" if failed or broken else "bold green"))
    if failed or broken:
        raise typer.Exit(1)


def show(value: object) -> str:
    """A value as the language writes it: "text", 15.91, 50, true, missing."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
