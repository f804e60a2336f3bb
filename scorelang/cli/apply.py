"""`scorelang apply`: create or replace a model's views in a database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .app import app
from .sources import ConfigOpt, SourceSchemaOpt


@app.command()
def apply(
    model: Annotated[Path, typer.Argument(help="The .score model file.")],
    database: Annotated[
        str,
        typer.Option(
            "--database",
            "-d",
            help="A DuckDB file (path) or a postgresql:// URL; a Spark master (local[*], "
            "spark://, sc://) needs PySpark; bigquery://, snowflake:// and databricks:// "
            "need their connector packages.",
        ),
    ],
    schema: Annotated[
        str | None, typer.Option(help="Schema to create the views in (created if absent).")
    ] = None,
    config: ConfigOpt = None,
    source_schema: SourceSchemaOpt = None,
) -> None:
    """Create or replace the model's views (`<model>_scores`, ...) in a database.

    Views score at the query's now (DuckDB, Postgres: windows in the time column's own type).
    """
    from ..api import load
    from ..compiler.diagnostics import CompileError, render_plain
    from ..config import ConfigError, load_config, with_source_schema
    from ..data import DataError
    from ..engines import apply as apply_views
    from ..targets.sql import UnsupportedConstruct

    err = Console(stderr=True, highlight=False)
    try:
        scoring = load(model)
        mapping = with_source_schema(load_config(config).sources, source_schema)
        names = apply_views(scoring.ir, database, mapping=mapping, schema=schema)
    except CompileError as error:
        for diagnostic in error.diagnostics:
            err.print(escape(render_plain(diagnostic, None)))
        raise typer.Exit(1) from None
    except UnsupportedConstruct as error:
        err.print(escape(render_plain(error.diagnostic, None)))
        raise typer.Exit(1) from None
    except (DataError, ConfigError, OSError) as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    out = Console(highlight=False)
    for name in names:
        out.print(f"created view {escape(name)}")
