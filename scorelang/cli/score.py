"""`scorelang score`: score leads from files (or database tables) and show or save the result.

Exit status: 0 when scored, 1 when the model does not compile or the data cannot be scored,
2 for usage errors (unknown option, missing file, bad --as-of or --out, --engine and
--database that contradict each other).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ..compiler import ir  # light: dataclasses only, no parser
from ..wording import counted
from .app import app
from .sources import ConfigOpt, StrictOpt, choose_engine, load_mapping, load_notes

if TYPE_CHECKING:
    from ..engines.rows import Leaderboard

OUT_FORMATS = (".csv", ".parquet")
REASONS = 3  # top reasons shown per lead
LABEL_WIDTH = 28


class Engine(enum.StrEnum):
    duckdb = "duckdb"
    python = "python"
    postgres = "postgres"
    spark = "spark"


def parse_as_of(value: str | None) -> datetime | None:
    """An ISO 8601 instant (no zone means UTC) for --as-of."""
    if value is None:
        return None
    from ..records import to_utc

    try:
        return to_utc(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time; write e.g. 2026-01-01T00:00:00Z"
        ) from None


def check_out(value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() not in OUT_FORMATS:
        raise typer.BadParameter(f"{value}: write a .csv or a .parquet file")
    return value


AccountsOpt = Annotated[
    Path | None,
    typer.Option(
        "--accounts",
        help="Accounts file (.csv or .parquet), for a model that declares `account { ... }`; "
        "its columns are mapped under \\[sources.entities.account.columns] in scorelang.toml.",
        exists=True,
        dir_okay=False,
    ),
]


@app.command()
def score(
    model: Annotated[
        Path, typer.Argument(help="The .score model file.", exists=True, dir_okay=False)
    ],
    leads: Annotated[
        Path | None,
        typer.Option(help="Leads file (.csv or .parquet).", exists=True, dir_okay=False),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Events file (.csv or .parquet).", exists=True, dir_okay=False),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The instant to score at, ISO 8601 (e.g. 2026-01-01T00:00:00Z); default now.",
        ),
    ] = None,
    engine: Annotated[
        Engine | None,
        typer.Option(
            help="Where to compute the scores; default duckdb, or postgres when --database "
            "is a postgresql:// URL."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="A DuckDB file or a postgresql:// URL: the tables to score when no files "
            "are given; the server to use for --engine postgres (implied by the URL); the "
            "Spark master for --engine spark (default local[*]; spark://, sc:// for Spark Connect)."
        ),
    ] = None,
    config: ConfigOpt = None,
    strict: StrictOpt = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write every lead's scores to this .csv or .parquet file instead of a table.",
            callback=check_out,
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="How many leads (and accounts) the tables show, best first.")
    ] = 10,
    by: Annotated[
        str | None,
        typer.Option(help="The score the table ranks leads by; default the last one declared."),
    ] = None,
    accounts: AccountsOpt = None,
    account_out: Annotated[
        Path | None,
        typer.Option(
            "--account-out",
            help="Write every account's scores to this .csv or .parquet file instead of a "
            "table (a model with an account).",
            callback=check_out,
        ),
    ] = None,
    account_by: Annotated[
        str | None,
        typer.Option(
            "--account-by",
            help="The account score the accounts table ranks by; default the last one declared.",
        ),
    ] = None,
) -> None:
    """Score every lead: scores, tiers, flags and each rule's points; show the best leads.
    For a model with an account, also every account (from --accounts): a second table, or
    --account-out."""
    from .. import engines
    from ..compiler.frontend import compile_file
    from ..config import ConfigError
    from ..data import DataError
    from ..report import render
    from ..targets.sql import UnsupportedConstruct

    instant = parse_as_of(as_of) or datetime.now(UTC)
    engine = Engine(
        choose_engine(engine, database, leads is not None or events is not None, Engine.duckdb)
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    mapping = load_mapping(config, strict)
    compilation = compile_file(model)
    if compilation.model is None:
        err.print(escape(render(compilation.diagnostics, compilation.sources, "full")), end="")
        raise typer.Exit(1)
    model_ir = compilation.model
    ranking = ranked_by(model_ir, by, ir.LEAD, "--by")
    has_account = model_ir.account is not None
    if not has_account and (account_out is not None or account_by is not None):
        raise typer.BadParameter(
            f"model {model_ir.name} declares no account: it has no account scores",
            param_hint="--account-out" if account_out is not None else "--account-by",
        )
    account_ranking = ranked_by(model_ir, account_by, ir.ACCOUNT, "--account-by")
    given = engines.Given(leads, events, accounts, database, instant, mapping)
    console = Console(highlight=False)
    stamp = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    caption = f"as of {stamp}, {engine.value}"
    requests = [engines.Request(ir.LEAD, out, ranking, top)]
    if has_account and (account_out is not None or out is None):
        requests.append(engines.Request(ir.ACCOUNT, account_out, account_ranking, top))
    try:
        with load_notes(err):
            results = engines.serve(model_ir, engine.value, requests, given)
        for request, result in zip(requests, results, strict=True):
            noun = "lead" if request.entity == ir.LEAD else "account"
            if isinstance(result, int):
                console.print(
                    f"scored {counted(result, noun)} with {engine.value} as of {stamp}: "
                    f"wrote {request.out}"
                )
            else:
                show_leads(console, model_ir, result, request.by, caption, request.entity)
                console.print(summary(result, noun))
    except UnsupportedConstruct as error:
        err.print(escape(render([error.diagnostic], compilation.sources, "full")), end="")
        raise typer.Exit(1) from None
    except (DataError, ConfigError, OSError) as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None


def ranked_by(model: ir.Model, by: str | None, entity: str, option: str) -> str | None:
    """The score a table of the entity's rows ranks by: `by`, or its last score."""
    names = model.outputs_of(entity).score_names
    if by is None:
        return names[-1] if names else None
    if by not in names:
        known = ", ".join(names) or "no scores"
        whose = "account " if entity == ir.ACCOUNT else ""
        raise typer.BadParameter(
            f"no {whose}score named {by!r}; the model has {known}", param_hint=option
        )
    return by


# ---- the table ------------------------------------------------------------------------------


def top_reasons(
    model: ir.Model, row: dict[str, Any], n: int = REASONS, entity: str = ir.LEAD
) -> list[str]:
    """The rules that moved this row's scores most: a fired reset first, then by |points|.
    Points are the rule's own (after its `max`); a rule whose group hit its cap says so."""
    resets, movers = [], []
    for score in model.outputs_of(entity).scores:
        capped = capped_groups(score, row)
        for rule in score.rules:
            value = row[rule.id]
            if isinstance(rule, ir.ResetRule):
                if value:
                    resets.append(f"{short(rule.label)}: reset {score.name}")
            elif value:
                note = f" (group capped at {capped[rule.id]:g})" if rule.id in capped else ""
                movers.append((abs(value), f"{short(rule.label)} {signed(value)}{note}"))
    movers.sort(key=lambda mover: -mover[0])  # stable: ties stay in source order
    return (resets + [text for _size, text in movers])[:n]


def capped_groups(score: ir.Score, row: dict[str, Any]) -> dict[str, float]:
    """Rule id -> its group's cap, for the groups whose rules sum past the cap."""
    capped: dict[str, float] = {}
    for group in (item for item in score.items if isinstance(item, ir.Group)):
        if sum(row[rule.id] for rule in group.rules) > group.cap:
            capped |= dict.fromkeys((rule.id for rule in group.rules), group.cap)
    return capped


def short(label: str) -> str:
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"


def signed(points: float) -> str:
    """Points as a rule writes them: +50, -20, +0.95."""
    return f"{points:+.2f}".rstrip("0").rstrip(".")


def cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def leads_table(
    model: ir.Model,
    ranked: Sequence[dict[str, Any]],
    title: str,
    caption: str,
    wide: bool,
    entity: str = ir.LEAD,
) -> Table:
    """Key, scores and tiers of the entity's rows (leads, or accounts); when `wide`, also the
    raised flags and the top reasons."""
    outputs, key = model.outputs_of(entity), model.entity(entity).key
    labels = [t.name for t in (*outputs.tiers, *outputs.percentile_tiers, *outputs.matrices)]
    flags = [f.name for f in outputs.flags] if wide else []
    keys = [str(row[key]) for row in ranked]
    table = Table(title=title, caption=caption)
    table.add_column(key, style="bold", no_wrap=True, min_width=max(map(len, keys), default=0))
    for name in outputs.score_names:
        table.add_column(name, justify="right", no_wrap=True)
    for name in labels:
        table.add_column(name, justify="center", no_wrap=True)
    if flags:
        table.add_column("flags", style="green", no_wrap=True)
    if wide:
        table.add_column("top reasons", style="dim", no_wrap=True)
    for row in ranked:
        values = [cell(row[c]) for c in (key, *outputs.score_names, *labels)]
        values += ["\n".join(f for f in flags if row[f])] if flags else []
        values += ["\n".join(top_reasons(model, row, entity=entity))] if wide else []
        table.add_row(*map(escape, values))
    return table


def show_leads(
    console: Console,
    model: ir.Model,
    board: Leaderboard,
    by: str | None,
    caption: str,
    entity: str = ir.LEAD,
) -> None:
    """The best leads (or accounts) as a table with their flags and top reasons; on a
    terminal too narrow for that, a narrower table, then each row's flags and reasons on a
    line of their own."""
    ranked, noun = board.best, "leads" if entity == ir.LEAD else "accounts"
    title = f"{model.name}: top {len(ranked)} of {board.leads} {noun}" + (f" by {by}" if by else "")
    table = leads_table(model, ranked, title, caption, True, entity)
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if natural <= console.width:
        console.print(table)
        return
    console.print(leads_table(model, ranked, title, caption, False, entity))
    key_name, flags = model.entity(entity).key, model.outputs_of(entity).flags
    for row in ranked:
        key = f"[bold]{escape(str(row[key_name]))}[/bold]"
        raised = [f"[green]{escape(f.name)}[/green]" for f in flags if row[f.name]]
        reasons = top_reasons(model, row, entity=entity)
        why = f"[dim]{escape(' · '.join(reasons) or 'no rule fired')}[/dim]"
        console.print(" ".join([key, *raised, why]))


def summary(board: Leaderboard, noun: str = "lead") -> str:
    """One line: how many rows were scored and how many each flag raised."""
    counts = [f"{name}: {n}" for name, n in board.flags.items()]
    return f"{counted(board.leads, noun)} scored" + (f"; {', '.join(counts)}" if counts else "")
