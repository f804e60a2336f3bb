"""`scorelang dbt`: write a dbt project (or package) from one or more models."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .app import app
from .compile import parse_as_of


class Adapter(enum.StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    bigquery = "bigquery"
    snowflake = "snowflake"
    spark = "spark"
    databricks = "databricks"


class Materialized(enum.StrEnum):
    view = "view"
    table = "table"
    incremental = "incremental"  # refused with the reason: it waits for score history


@app.command("dbt")
def dbt(
    models: Annotated[
        list[Path],
        typer.Argument(help="The .score model files.", exists=True, dir_okay=False),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Directory of the dbt project (created).", file_okay=False
        ),
    ],
    adapter: Annotated[
        Adapter, typer.Option(help="The dbt adapter: decides the SQL dialect of the models.")
    ] = Adapter.duckdb,
    materialized: Annotated[
        Materialized,
        typer.Option(
            help="How dbt materializes the score models: view (scores at query time) or table "
            "(a snapshot per build); incremental waits for score history, which scorelang "
            "does not have yet."
        ),
    ] = Materialized.view,
    name: Annotated[
        str, typer.Option(help="The dbt project name (and its profile's name).")
    ] = "scorelang_scores",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Pin the evaluation instant (ISO 8601, UTC if no offset); default: the build's current time.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="scorelang.toml naming the source tables and columns (\\[sources] table): "
            "becomes the dbt source `scorelang`; default ./scorelang.toml when it exists.",
        ),
    ] = None,
) -> None:
    """Write a dbt project: one model per scorelang view reading {{ source('scorelang', ...) }},
    sources.yml from scorelang.toml, schema.yml with column descriptions and data tests
    (unique/not_null key, accepted_values for tiers), and the test blocks as unit tests.

    The test blocks become dbt unit tests in unit_tests.yml (a note says why any block is
    not one); the macro scorelang_as_of() gives the instant the models score at, which the
    var scorelang_as_of sets. Drop the project into your repo or use it as a package; the
    profile (connection) is yours."""
    from ..columns import check_mapping, declared_names
    from ..compiler.diagnostics import Severity, render_plain
    from ..compiler.frontend import compile_file
    from ..config import ConfigError, load_config
    from ..dbt import write_project
    from ..targets.sql import UnsupportedConstruct

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise typer.BadParameter(f"{name!r}: a dbt project name is letters, digits and _")
    if materialized is Materialized.incremental:
        from ..dbt import NO_INCREMENTAL

        raise typer.BadParameter(NO_INCREMENTAL, param_hint="--materialized")
    pinned = parse_as_of(as_of)
    compiled = []
    for path in models:
        compilation = compile_file(path)
        for diagnostic in compilation.diagnostics:
            source = compilation.sources.get(diagnostic.span.file)
            err.print(escape(render_plain(diagnostic, source)))
        if compilation.model is None or any(
            d.severity is Severity.ERROR for d in compilation.diagnostics
        ):
            raise typer.Exit(1)
        compiled.append(compilation)
    try:
        mapping = load_config(config).sources
        checked = [c.model for c in compiled]
        for model in checked:  # a mapped name must belong to one of the models
            check_mapping(model, mapping, [n for m in checked for n in declared_names(m)])
        written, skipped = write_project(
            checked,
            out,
            adapter=adapter.value,
            mapping=mapping,
            materialized=materialized.value,
            name=name,
            as_of=pinned,
        )
    except UnsupportedConstruct as error:
        sources = {k: v for c in compiled for k, v in c.sources.items()}
        err.print(escape(render_plain(error.diagnostic, sources.get(error.diagnostic.span.file))))
        raise typer.Exit(1) from None
    except ConfigError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    for path in written:
        err.print(f"wrote {escape(str(path))}")
    for test in skipped:
        err.print(f"note: {escape(str(test))}; run it with `scorelang test`")
