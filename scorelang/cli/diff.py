"""`scorelang diff OLD.score NEW.score --leads L --events E`: what a model change does to leads.

With `--base REV` give only the new file; the old version is `git show REV:FILE`. Output is
a terminal view, or with `--markdown` the comment to post on a pull request. When both
versions declare an account, the accounts (`--accounts`) are compared too, after the leads.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..compiler import ir
from ..config import SourceMapping
from .app import app
from .score import AccountsOpt
from .sources import ConfigOpt, StrictOpt, load_mapping, load_notes


def _instant(text: str) -> datetime:
    from ..records import to_utc

    try:
        return to_utc(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        parser=_instant,
        help="Score at this instant (ISO 8601, UTC if no zone); default now.",
    ),
]


@app.command()
def diff(
    files: Annotated[
        list[Path],
        typer.Argument(help="OLD.score NEW.score, or NEW.score with --base.", dir_okay=False),
    ],
    leads: Annotated[
        Path,
        typer.Option("--leads", exists=True, dir_okay=False, help="Leads to score (CSV/Parquet)."),
    ],
    events: Annotated[
        Path, typer.Option("--events", exists=True, dir_okay=False, help="Events (CSV/Parquet).")
    ],
    as_of: AsOfOption = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Read the old model from this git revision.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown for a pull-request comment.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the Markdown to this file.")
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="How many of the largest changes to list.")
    ] = 10,
    score: Annotated[
        str | None, typer.Option("--score", help="Score whose largest changes to list.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="python or duckdb (or postgres, spark). A model with an account: duckdb.",
        ),
    ] = "python",
    config: ConfigOpt = None,
    strict: StrictOpt = False,
    accounts: AccountsOpt = None,
) -> None:
    """Score the same data with two versions of a model and show tier/flag moves and why."""
    from ..compiler.diagnostics import has_errors
    from ..compiler.frontend import compile_file, compile_source
    from ..impact import compare
    from ..report import write
    from ..report.impact import markdown as to_markdown
    from ..report.impact import rich_view

    expected = 1 if base else 2
    if len(files) != expected:
        raise typer.BadParameter(
            f"give {'NEW.score with --base' if base else 'OLD.score and NEW.score'}"
        )
    new_path = files[-1]
    if base:
        old = compile_source(_git_show(base, new_path), str(new_path))
    else:
        if not files[0].is_file():
            raise typer.BadParameter(f"{files[0]} does not exist")
        old = compile_file(files[0])
    if not new_path.is_file():
        raise typer.BadParameter(f"{new_path} does not exist")
    new = compile_file(new_path)
    for compilation in (old, new):
        if compilation.model is None or has_errors(compilation.diagnostics):
            write(compilation.diagnostics, compilation.sources)
            raise typer.Exit(1)
    assert old.model is not None and new.model is not None
    as_of = as_of or datetime.now(UTC)  # one instant for both versions: decay must not drift
    mapping = load_mapping(config, strict)
    models = (old.model, new.model)
    entities = [ir.LEAD] + ([ir.ACCOUNT] if all(m.account for m in models) else [])
    impacts = []
    with load_notes(Console(stderr=True, highlight=False, soft_wrap=True)):
        for entity in entities:
            old_rows, new_rows = (
                sample_rows(m, leads, events, as_of, engine, mapping, accounts, entity)
                for m in models
            )
            impacts.append(
                compare(*models, old_rows, new_rows, top=top, score=score, entity=entity)
            )
    title = f"`{new_path}`" + (f" vs `{base}`" if base else f" vs `{files[0]}`")
    text = "\n".join(to_markdown(impact, title, i == 0) for i, impact in enumerate(impacts))
    if output is not None:
        output.write_text(text)
    if markdown:
        typer.echo(text)
    elif output is None:
        for impact in impacts:
            Console(highlight=False).print(rich_view(impact, title.replace("`", "")))


def _git_show(revision: str, path: Path) -> str:
    """The file as it was at `revision` (`./` makes the path relative to its directory)."""
    result = subprocess.run(
        ["git", "show", f"{revision}:./{path.name}"],
        cwd=path.resolve().parent,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise typer.BadParameter(
            f"git show {revision}:{path} failed: {result.stderr.strip()}", param_hint="--base"
        )
    return result.stdout


def sample_rows(
    model: ir.Model,
    leads: Path,
    events: Path,
    as_of: datetime | None,
    engine: str = "python",
    mapping: SourceMapping | None = None,
    accounts: Path | None = None,
    entity: str = ir.LEAD,
) -> list[dict]:
    """Scored rows of sample files (the leads', or the accounts'); unreadable or invalid
    data, or a mapping that does not fit the model, is a usage error."""
    from ..data import DataError
    from ..impact import score_rows

    try:
        return score_rows(model, leads, events, as_of, engine, mapping, accounts, entity)
    except (DataError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="--leads/--events") from None
