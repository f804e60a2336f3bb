"""`scorelang history`: every lead scored at each instant from --from to --to every --every,
as a summary per instant, a file of every row, or the transitions between instants.

Exit status: 0 when done, 1 when the model does not compile or the data cannot be scored,
2 for usage errors (bad instants or duration, --to before --from, too many instants).
"""

from __future__ import annotations

import enum
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..wording import counted
from .app import app
from .backtest import progress_bar
from .score import AccountsOpt, Engine, check_out, parse_as_of, ranked_by
from .sources import ConfigOpt, StrictOpt, choose_engine, load_mapping, load_notes

if TYPE_CHECKING:
    from ..compiler import ir
    from ..history import InstantSummary


class Entity(enum.StrEnum):
    lead = "lead"
    account = "account"


def stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@app.command()
def history(
    model: Annotated[
        Path, typer.Argument(help="The .score model file.", exists=True, dir_okay=False)
    ],
    start: Annotated[
        str,
        typer.Option("--from", help="The first instant, ISO 8601 (UTC if no offset), included."),
    ],
    end: Annotated[
        str,
        typer.Option("--to", help="The last instant, ISO 8601 (UTC if no offset), included."),
    ],
    every: Annotated[
        str, typer.Option("--every", help="The step between instants: 1d, 12h, 1w, ...")
    ] = "1d",
    leads: Annotated[
        Path | None,
        typer.Option(help="Leads file (.csv or .parquet).", exists=True, dir_okay=False),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Events file (.csv or .parquet).", exists=True, dir_okay=False),
    ] = None,
    accounts: AccountsOpt = None,
    entity: Annotated[
        Entity,
        typer.Option(
            help="Whose history: every lead (default) or, for a model with an account, every "
            "account (its scores, tiers, flags and rules); --by, --out and --transitions are "
            "then the accounts'."
        ),
    ] = Entity.lead,
    engine: Annotated[
        Engine | None,
        typer.Option(
            help="Where to compute: duckdb (default), python, postgres (implied by a "
            "postgresql:// --database) or spark. SQL engines run one query over every instant."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="A DuckDB file or a postgresql:// URL: the tables to read when no files are "
            "given; the server to use for --engine postgres; the Spark master for --engine spark."
        ),
    ] = None,
    config: ConfigOpt = None,
    strict: StrictOpt = False,
    transitions: Annotated[
        bool,
        typer.Option(
            "--transitions",
            help="Output the moves of every tier, matrix and flag between consecutive "
            "instants (key, output, from, to, at, reasons) instead of the scores.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write every row (one per lead or account and instant, or per transition) to "
            "this .csv "
            "or .parquet file instead of the summary.",
            callback=check_out,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="The score whose mean the summary shows; default the last declared."),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="With --transitions: how many of the latest moves to show.")
    ] = 10,
    max_instants: Annotated[
        int,
        typer.Option("--max-instants", min=1, help="Refuse a history of more instants than this."),
    ] = 1000,
) -> None:
    """Score every lead at each instant from --from to --to (both included) every --every:
    a summary per instant (leads, mean score, leads per tier band and flag), every row to a
    file, or with --transitions the moves of tiers and flags and the rules behind them. A
    model with an account needs --accounts; --entity account gives the accounts' history."""
    from .. import history as hist
    from ..compiler.frontend import compile_file
    from ..config import ConfigError
    from ..data import DataError
    from ..report import render
    from ..targets.sql import UnsupportedConstruct

    first, last = parse_as_of(start), parse_as_of(end)
    assert first is not None and last is not None
    try:
        instants = hist.spine(first, last, hist.parse_duration(every), max_instants)
    except hist.SpineError as error:
        raise typer.BadParameter(str(error)) from None
    engine = Engine(
        choose_engine(engine, database, leads is not None or events is not None, Engine.duckdb)
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    mapping = load_mapping(config, strict)
    compilation = compile_file(model)
    if compilation.model is None:
        err.print(escape(render(compilation.diagnostics, compilation.sources, "full")), end="")
        raise typer.Exit(1)
    checked = compilation.model
    if entity == Entity.account and checked.account is None:
        raise typer.BadParameter(
            f"model {checked.name} declares no account: it has no account history",
            param_hint="--entity",
        )
    ranking = ranked_by(checked, by, entity.value, "--by")
    if transitions and not hist.moving_outputs(checked, entity.value):
        whose = "account " if entity == Entity.account else ""
        raise typer.BadParameter(
            f"model {checked.name} has no {whose}tier, matrix or flag: nothing can move",
            param_hint="--transitions",
        )
    sources: dict[str, Any] = {
        "leads": leads,
        "events": events,
        "accounts": accounts,
        "database": database,
        "mapping": mapping,
        "entity": entity.value,
    }
    what = f"{counted(len(instants), 'instant')} with {engine.value}"
    try:
        with load_notes(err), progress_bar(f"scoring {what}") as progress:
            sources["progress"] = progress
            if out is not None:
                count = hist.write_history(
                    checked, engine.value, instants, out, moves=transitions, **sources
                )
            elif transitions:
                moves = hist.transition_rows(checked, engine.value, instants, **sources)
            else:
                summary = hist.history_summary(checked, engine.value, instants, ranking, **sources)
    except UnsupportedConstruct as error:
        err.print(escape(render([error.diagnostic], compilation.sources, "full")), end="")
        raise typer.Exit(1) from None
    except (DataError, ConfigError, OSError) as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    console = Console(highlight=False)
    span = f"{stamp(instants[0])} to {stamp(instants[-1])} every {every}"
    if out is not None:
        rows = "transitions" if transitions else "rows"
        console.print(f"{count} {rows} over {what}, {span}: wrote {out}")
    elif transitions:
        show_transitions(console, checked, moves, top, f"{span}, {engine.value}", entity)
    else:
        show_summary(console, checked, summary, ranking, f"{span}, {engine.value}", entity)


def show_summary(
    console: Console,
    model: ir.Model,
    summary: list[InstantSummary],
    by: str | None,
    caption: str,
    entity: Entity,
) -> None:
    title = f"{model.name}: {'account ' if entity == Entity.account else ''}history"
    table = Table(title=title, caption=caption)
    table.add_column("as_of", no_wrap=True)
    table.add_column(f"{entity.value}s", justify="right")
    if by:
        table.add_column(f"mean {by}", justify="right")
    tiers = list(summary[0].tiers) if summary else []
    flags = list(summary[0].flags) if summary else []
    for name in tiers:
        table.add_column(name)
    for name in flags:
        table.add_column(name, justify="right")
    for line in summary:
        cells = [stamp(line.instant), str(line.leads)]
        if by:
            cells.append("–" if line.mean is None else f"{line.mean:.2f}")
        cells += [
            " ".join(f"{label} {n}" for label, n in line.tiers[name].items() if n) or "–"
            for name in tiers
        ]
        cells += [str(line.flags[name]) for name in flags]
        table.add_row(*map(escape, cells))
    console.print(table)


def show_transitions(
    console: Console,
    model: ir.Model,
    moves: list[dict[str, Any]],
    top: int,
    caption: str,
    entity: Entity,
) -> None:
    """How many leads (or accounts) made each move, then the latest moves with their
    reasons."""
    from ..history import AT, FROM, OUTPUT, REASONS, TO

    counts = Counter((m[OUTPUT], m[FROM], m[TO]) for m in moves)
    table = Table(title=f"{model.name}: transitions", caption=caption)
    for name in ("output", "from", "to"):
        table.add_column(name)
    table.add_column(f"{entity.value}s", justify="right")
    for (output, old, new), n in sorted(counts.items(), key=lambda item: -item[1]):
        table.add_row(*map(escape, (output, str(old or "–"), str(new or "–"), str(n))))
    console.print(table)
    latest = sorted(moves, key=lambda m: m[AT], reverse=True)[:top]
    if latest:
        recent = Table(title=f"latest {len(latest)} of {len(moves)} moves")
        key = model.entity(entity.value).key
        for name in (key, "at", "move", "reasons"):
            recent.add_column(name)
        for m in latest:
            move = f"{m[OUTPUT]}: {m[FROM] or '–'} → {m[TO] or '–'}"
            recent.add_row(*map(escape, (str(m[key]), stamp(m[AT]), move, m[REASONS])))
        console.print(recent)
    console.print(f"{len(moves)} moves")
