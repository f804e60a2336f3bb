"""`scorelang compile MODEL --target DIALECT`: the model's views as deployable SQL.

Writes `<model>.<target>.sql` into --out, or prints the SQL to stdout. Diagnostics (and a
construct the target cannot express, E5xx) go to stderr with the source line; exit 1.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .app import app
from .sources import ConfigOpt, SourceSchemaOpt


class Target(enum.StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    bigquery = "bigquery"
    snowflake = "snowflake"
    spark = "spark"


def parse_as_of(text: str | None) -> datetime | None:
    """An ISO 8601 instant; without an offset it is UTC."""
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time such as 2026-01-01T00:00:00Z"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def history_spine(
    start: str | None, end: str | None, every: str, as_of: str | None
) -> list[datetime]:
    """The instants of --history's --from, --to and --every; usage errors otherwise."""
    from ..history import SpineError, parse_duration, spine

    if as_of is not None:
        raise typer.BadParameter("--history evaluates --from .. --to, not --as-of")
    if start is None or end is None:
        raise typer.BadParameter("--history needs --from and --to (ISO 8601 instants)")
    first, last = parse_as_of(start), parse_as_of(end)
    assert first is not None and last is not None
    try:
        return spine(first, last, parse_duration(every))
    except SpineError as error:
        raise typer.BadParameter(str(error)) from None


@app.command("compile")
def compile_(
    model: Annotated[
        Path, typer.Argument(help="The .score model file.", exists=True, dir_okay=False)
    ],
    target: Annotated[Target, typer.Option("--target", "-t", help="The SQL dialect.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Directory to write `<model>.<target>.sql` into (default: stdout).",
            file_okay=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Pin the evaluation instant (ISO 8601, UTC if no offset); default: the query's current time.",
        ),
    ] = None,
    schema: Annotated[
        str | None, typer.Option("--schema", help="Schema to create the views in.")
    ] = None,
    config: ConfigOpt = None,
    source_schema: SourceSchemaOpt = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Emit `<model>_history` (every lead at each instant of --from/--to/--every, "
            "one query) and `<model>_transitions` instead of the scores view (docs/history.md).",
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option("--from", help="With --history: the first instant (included).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="With --history: the last instant (included).")
    ] = None,
    every: Annotated[
        str, typer.Option("--every", help="With --history: the step between instants.")
    ] = "1d",
) -> None:
    """Compile a model to CREATE OR REPLACE VIEW statements for one SQL dialect."""
    from ..columns import check_mapping
    from ..compiler.diagnostics import Severity, render_plain
    from ..compiler.frontend import compile_file
    from ..config import ConfigError, load_config, with_source_schema
    from ..targets.sql import UnsupportedConstruct, render_ddl
    from ..targets.sql.history import render_history_ddl

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    pinned = parse_as_of(as_of)
    instants = history_spine(start, end, every, as_of) if history else None
    compilation = compile_file(model)
    for diagnostic in compilation.diagnostics:
        err.print(escape(render_plain(diagnostic, compilation.sources.get(diagnostic.span.file))))
    if compilation.model is None or any(
        d.severity is Severity.ERROR for d in compilation.diagnostics
    ):
        raise typer.Exit(1)
    try:
        mapping = with_source_schema(load_config(config).sources, source_schema)
        check_mapping(compilation.model, mapping)
        if instants is None:
            sql = render_ddl(
                compilation.model, target.value, as_of=pinned, mapping=mapping, schema=schema
            )
        else:
            sql = render_history_ddl(
                compilation.model, target.value, instants, mapping=mapping, schema=schema
            )
    except UnsupportedConstruct as error:
        source = compilation.sources.get(error.diagnostic.span.file)
        err.print(escape(render_plain(error.diagnostic, source)))
        raise typer.Exit(1) from None
    except ConfigError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    if out is None:
        typer.echo(sql, nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    kind = ".history" if history else ""
    path = out / f"{compilation.model.name}.{target.value}{kind}.sql"
    path.write_text(sql, encoding="utf-8")
    err.print(f"wrote {escape(str(path))}")
