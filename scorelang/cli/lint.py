"""`scorelang lint FILE...`: best-practice advice on models that check (rules SLxxx, docs/lint.md).

Configured by the `[lint]` table of the nearest scorelang.toml (or --config). With --leads and
--events the sample is scored and data-based rules (SL009) run too. Exit status as `check`:
0 below --fail-level (default: warning), 1 at or above it or on compile errors, 2 on usage errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report import FailLevel, Format
from .app import app
from .diff import AsOfOption, sample_rows
from .sources import load_mapping


@app.command()
def lint(
    files: Annotated[
        list[Path],
        typer.Argument(help="Model files (.score) to lint.", exists=True, dir_okay=False),
    ],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Output format (docs/output-formats.md).")
    ] = Format.full,
    fail_level: Annotated[
        FailLevel, typer.Option("--fail-level", help="Lowest severity that exits 1.")
    ] = FailLevel.warning,
    leads: Annotated[
        Path | None,
        typer.Option("--leads", exists=True, dir_okay=False, help="Sample leads (CSV/Parquet)."),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option("--events", exists=True, dir_okay=False, help="Sample events (CSV/Parquet)."),
    ] = None,
    as_of: AsOfOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", exists=True, dir_okay=False, help="A scorelang.toml.")
    ] = None,
    docs_url: Annotated[
        str, typer.Option("--docs-url", help="Base URL for documentation links (sarif).")
    ] = "",
) -> None:
    """Lint models: points per email open, missing decay, unreachable tiers, ... (docs/lint.md)."""
    from ..compiler import lint as linter
    from ..compiler.diagnostics import Severity
    from ..compiler.frontend import compile_file
    from ..report import fails, write

    if (leads is None) != (events is None):
        raise typer.BadParameter("give both --leads and --events, or neither")
    diagnostics, sources = [], {}
    for path in files:
        compilation = compile_file(path)
        sources |= compilation.sources
        if compilation.model is None:
            diagnostics += [d for d in compilation.diagnostics if d.severity is Severity.ERROR]
            continue
        try:
            settings = linter.load_config(config or linter.find_config(path.parent))
        except linter.ConfigError as error:
            raise typer.BadParameter(str(error), param_hint="--config") from None
        sample = None
        if leads and events:  # the sample is read with the same [sources] mapping
            mapping = load_mapping(config or linter.find_config(path.parent))
            sample = sample_rows(compilation.model, leads, events, as_of, mapping=mapping)
        module = next(
            m for p, m in compilation.modules.items() if Path(p).resolve() == path.resolve()
        )
        ctx = linter.LintContext(module, compilation.model, settings, compilation.modules, sample)
        diagnostics += linter.lint(ctx)
    write(diagnostics, sources, format, docs_url=docs_url)
    if fails(diagnostics, fail_level):
        raise typer.Exit(1)
