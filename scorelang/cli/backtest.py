"""`scorelang backtest`: score historical leads at their scoring time and measure the model
against a real outcome; optionally write the HTML report. Also the option parsing the
explain and suggest commands share (model loading, times, progress)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..compiler import ir
from ..compiler.diagnostics import CompileError, Severity, render_plain
from ..records import to_utc
from .app import app
from .score import AccountsOpt
from .sources import ConfigOpt, StrictOpt, choose_engine, load_mapping, load_notes

if TYPE_CHECKING:
    from ..backtest.run import Backtest
    from ..backtest.scoring import AsOf

GATE_FAILED = 3  # the run worked, its result failed the gate (docs/cli.md)

# Plain lines are soft-wrapped (paths and messages stay whole); user text is escaped.
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

ModelArg = Annotated[
    Path, typer.Argument(help="The .score model file.", exists=True, dir_okay=False)
]
LeadsOpt = Annotated[
    Path, typer.Option("--leads", help="Leads file (CSV or Parquet).", exists=True, dir_okay=False)
]
EventsOpt = Annotated[
    Path,
    typer.Option("--events", help="Events file (CSV or Parquet).", exists=True, dir_okay=False),
]
OutcomeOpt = Annotated[
    str,
    typer.Option(
        "--outcome", help="Column of the leads file holding the outcome (0/1, true/false)."
    ),
]
OptionalOutcomeOpt = Annotated[
    str | None,
    typer.Option(
        "--outcome",
        help="Column of the leads file holding the outcome (0/1, true/false); or give "
        "--account-outcome.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Score every lead at this instant (ISO 8601, UTC if no zone)."),
]
AsOfColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of-column",
        help="Score each lead at its own time: a timestamp column of the leads file, plus or minus an "
        "optional offset (e.g. 'created_at + 14d'). Every engine scores each lead at its own time.",
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def load_model(path: Path) -> ir.Model:
    """Compile the model, printing its diagnostics; exit 1 if any is an error."""
    from ..compiler.frontend import compile_file

    compilation = compile_file(path)
    for diagnostic in compilation.diagnostics:
        if diagnostic.severity is Severity.ERROR or compilation.model is None:
            err.print(
                escape(render_plain(diagnostic, compilation.sources.get(diagnostic.span.file)))
            )
    if compilation.model is None:
        fail(f"{path} has errors")
    return compilation.model


def parse_instant(text: str, option: str) -> datetime:
    try:
        return to_utc(text)
    except ValueError as error:
        fail(f"{option}: {error}", 2)


def scoring_time(as_of: str | None, as_of_column: str | None) -> AsOf:
    """One instant or a per-lead column; a backtest without either would leak the future."""
    from ..backtest.scoring import AsOfColumn

    if (as_of is None) == (as_of_column is None):
        fail(
            "give exactly one of --as-of (one instant for every lead) or --as-of-column (each lead's own time, "
            "e.g. 'created_at + 14d'): scoring at today's date would use events that happened after the outcome",
            2,
        )
    if as_of is not None:
        return parse_instant(as_of, "--as-of")
    try:
        return AsOfColumn.parse(as_of_column or "")
    except ValueError as error:
        fail(f"--as-of-column: {error}", 2)


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on the terminal (silent when output is not one)."""
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(what, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors about the user's input become one clear line, not a traceback."""
    from ..config import ConfigError
    from ..data import DataError

    try:
        with load_notes(err):
            yield
    except CompileError as error:
        for diagnostic in error.diagnostics:
            err.print(escape(render_plain(diagnostic, None)))
        fail("the model does not compile")
    except (DataError, ConfigError, ValueError) as error:
        fail(str(error))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def print_backtest(result: Backtest) -> None:
    out.print(
        f"[bold]{result.model}[/] against [bold]{result.outcome}[/]: {result.leads} "
        f"{result.entity}s, "
        f"{result.positives} converted ({_pct(result.base_rate)}); scored {result.as_of}",
    )
    scores = Table("score", "ROC AUC", "top-decile lift", "gain in top 3 deciles", title="Scores")
    for s in result.scores:
        gain = s.deciles[2].cumulative_gain if len(s.deciles) > 2 else None
        scores.add_row(
            s.name, f"{s.auc:.3f}", f"{s.deciles[0].lift:.2f}" if s.deciles else "n/a", _pct(gain)
        )
    out.print(scores)
    main = result.score(result.main_score)
    deciles = Table(
        "decile",
        f"{result.entity}s",
        "converted",
        "scores",
        "conversion",
        "lift",
        "cum. gain",
        title=f"Deciles of {main.name}",
    )
    for d in main.deciles:
        span = f"{d.min_score:g}–{d.max_score:g}"
        deciles.add_row(
            str(d.rank),
            str(d.count),
            str(d.positives),
            span,
            _pct(d.conversion),
            f"{d.lift:.2f}",
            _pct(d.cumulative_gain),
        )
    out.print(deciles)
    for group in result.groups:
        table = Table(
            "band",
            f"{result.entity}s",
            "converted",
            "conversion",
            "lift",
            title=f"{group.name} (from {group.source})",
        )
        for r in group.rates:
            table.add_row(
                escape(r.label),
                str(r.count),
                str(r.positives),
                _pct(r.conversion),
                "n/a" if r.lift is None else f"{r.lift:.2f}",
            )
        out.print(table)
    if result.flags:
        flags = Table("flag", "flagged", "precision", "recall", "F1", "suggestion", title="Flags")
        for f in result.flags:
            lines = [
                f"{s.score} {s.op} {s.current:g} → {s.best_f1.value:g} for best F1 {s.best_f1.classification.f1:.3f}"
                + (f"; {s.volume.value:g} to flag {_pct(s.volume.rate)}" if s.volume else "")
                for s in f.suggestions
            ]
            c = f.classification
            flags.add_row(
                f.name,
                f"{c.predicted} ({_pct(f.rate)})",
                _pct(c.precision),
                _pct(c.recall),
                f"{c.f1:.3f}",
                "\n".join(lines) or (f.note or ""),
            )
        out.print(flags)
    rules = Table("rule", "points", "fires", "conv. fired", "not fired", "lift", title="Rules")
    for r in result.rules:
        points = "reset" if r.points is None else f"{r.points:+g}"
        lift = "n/a" if r.stats.lift is None else f"{r.stats.lift:.2f}"
        rules.add_row(
            f"{escape(r.label)} [dim]({r.id})[/]",
            points,
            _pct(r.stats.fire_rate),
            _pct(r.stats.conversion_fired),
            _pct(r.stats.conversion_not_fired),
            lift,
        )
    out.print(rules)


@app.command()
def backtest(
    model: ModelArg,
    leads: LeadsOpt,
    events: EventsOpt,
    outcome: OptionalOutcomeOpt = None,
    as_of: AsOfOpt = None,
    as_of_column: AsOfColumnOpt = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="python (the default), duckdb or postgres (SQL: every lead in one query); "
            "postgres when --database is a postgresql:// URL.",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="The Postgres server for --engine postgres (postgresql://...): the files are "
            "loaded into temporary tables there.",
        ),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    target_mql_rate: Annotated[
        float | None,
        typer.Option(
            "--target-mql-rate",
            help="Also suggest flag thresholds flagging this share of leads.",
            min=0,
            max=1,
        ),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option("--score", help="The score to rank leads by (default: the last one)."),
    ] = None,
    config: ConfigOpt = None,
    strict: StrictOpt = False,
    format: Annotated[
        str, typer.Option("--format", help="text (tables) or json (every figure, for CI).")
    ] = "text",
    fail_under_auc: Annotated[
        float | None,
        typer.Option(
            "--fail-under-auc",
            help=f"Exit {GATE_FAILED} when the ROC AUC of --score is below this (0..1).",
            min=0,
            max=1,
        ),
    ] = None,
    accounts: AccountsOpt = None,
    account_outcome: Annotated[
        str | None,
        typer.Option(
            "--account-outcome",
            help="Measure the account scores instead: the column of the --accounts file holding "
            "each account's outcome (e.g. opportunity; 0/1, true/false). Needs --as-of.",
        ),
    ] = None,
) -> None:
    """Measure a model against real outcomes: AUC, lift by decile, conversion by tier, flag
    precision/recall with threshold suggestions, and each rule's fire rate and conversion.
    With --account-outcome, the same for the account scores against an account outcome."""
    from ..backtest.accounts import backtest_accounts
    from ..backtest.export import plain
    from ..backtest.report import write_report
    from ..backtest.run import backtest as run_backtest
    from ..engines import ENGINES

    try:
        engine = choose_engine(engine, database, files=True, default="python")
    except typer.BadParameter as error:
        fail(f"{error.param_hint}: {error}", 2)
    if engine not in ENGINES:
        fail(f"--engine: use one of {', '.join(ENGINES)}", 2)
    if format not in ("text", "json"):
        fail("--format: use text or json", 2)
    if (outcome is None) == (account_outcome is None):
        fail(
            "give exactly one of --outcome (a column of the leads file: measure the lead "
            "scores) or --account-outcome (a column of the accounts file: the account scores)",
            2,
        )
    if account_outcome is not None and (accounts is None or as_of is None):
        fail("--account-outcome needs the --accounts file and one --as-of for every account", 2)
    ir_model = load_model(model)
    when = scoring_time(as_of, as_of_column)
    mapping = load_mapping(config, strict)
    with user_errors(), progress_bar("scoring") as progress:
        if account_outcome is not None and accounts is not None and as_of is not None:
            result = backtest_accounts(
                ir_model,
                leads,
                events,
                accounts,
                account_outcome,
                parse_instant(as_of, "--as-of"),
                engine=engine,
                main_score=score,
                target_rate=target_mql_rate,
                progress=progress,
                mapping=mapping,
                database=database,
            )
        else:
            result = run_backtest(
                ir_model,
                leads,
                events,
                outcome or "",
                when,
                engine=engine,
                main_score=score,
                target_rate=target_mql_rate,
                progress=progress,
                mapping=mapping,
                database=database,
                accounts=accounts,
            )
    auc = result.score(result.main_score).auc
    passed = fail_under_auc is None or auc >= fail_under_auc
    if format == "json":
        gate = {"fail_under_auc": fail_under_auc, "auc": auc, "passed": passed}
        typer.echo(json.dumps(plain(result) | {"gate": gate}, indent=2))
    else:
        print_backtest(result)
    if html is not None:
        write_report(result, html)
        (err if format == "json" else out).print(f"report written to {html}")  # stdout: JSON
    if not passed:
        err.print(
            f"[bold red]gate failed:[/] ROC AUC of {escape(result.main_score)} is {auc:.3f}, "
            f"under --fail-under-auc {fail_under_auc:g}"
        )
        raise typer.Exit(GATE_FAILED)
