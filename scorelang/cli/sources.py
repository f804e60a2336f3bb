"""The one data path every command shares: `--config` (default ./scorelang.toml), `--strict`,
and the note on stderr about rows dropped or columns read as missing while loading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from ..config import SourceMapping
    from ..data import LoadReport

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="scorelang.toml naming the source tables and columns (\\[sources]); "
        "default ./scorelang.toml when it exists.",
        dir_okay=False,
    ),
]
SourceSchemaOpt = Annotated[
    str | None,
    typer.Option(
        "--source-schema",
        help="Schema (BigQuery: dataset, or project.dataset) of the source tables; "
        "overrides [sources] schema. BigQuery needs one.",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Make any dropped input row (an undeclared event type, an event of an unknown "
        "lead) an error, for CI and scheduled runs; also `strict = true` under \\[sources].",
    ),
]


def load_mapping(config: Path | None, strict: bool = False) -> SourceMapping:
    """The [sources] of `config` (or ./scorelang.toml), strict if asked; exit 1 on an error."""
    from ..config import ConfigError, load_config

    try:
        mapping = load_config(config).sources
    except ConfigError as error:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]error:[/red] {escape(str(error))}"
        )
        raise typer.Exit(1) from None
    return replace(mapping, strict=True) if strict else mapping


@contextmanager
def load_notes(err: Console) -> Iterator[None]:
    """Print each distinct LoadReport worth a note (docs/data.md) on stderr while loading."""
    from ..data import watch_loads

    said: set[str] = set()

    def note(report: LoadReport) -> None:
        text = report.summary()
        if report.noteworthy and text not in said:
            said.add(text)
            err.print(f"[yellow]note:[/yellow] read {escape(text)}")

    with watch_loads(note):
        yield


def choose_engine(engine: str | None, database: str | None, files: bool, default: str) -> str:
    """The engine the options mean: a postgresql:// URL implies postgres; options that
    cannot both hold are a usage error rather than one of them silently ignored. For
    postgres and spark, --database names the server (the Spark master) beside any files."""
    is_postgres = database is not None and database.split("://", 1)[0].lower() in (
        "postgresql",
        "postgres",
    )
    if engine is None:
        engine = "postgres" if is_postgres else default
    if is_postgres and engine != "postgres":
        raise typer.BadParameter(
            f"--database {database} is a Postgres server but --engine is {engine}: "
            "use --engine postgres, or leave --engine out",
            param_hint="--engine",
        )
    if engine == "postgres" and database is not None and not is_postgres:
        raise typer.BadParameter(
            f"--engine postgres needs a postgresql:// URL as --database, not {database!r}",
            param_hint="--database",
        )
    if engine == "spark":
        return engine  # --database is the Spark master; files are read through it
    if engine != "postgres" and database is not None and files:
        raise typer.BadParameter(
            f"--engine {engine} reads either files (--leads/--events) or the tables in "
            "--database, not both",
            param_hint="--database",
        )
    return engine
