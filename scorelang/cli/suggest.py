"""`scorelang suggest`: points fitted to real outcomes, as a diff of the .score file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .app import app
from .backtest import (
    GATE_FAILED,
    AsOfColumnOpt,
    AsOfOpt,
    EventsOpt,
    LeadsOpt,
    ModelArg,
    OutcomeOpt,
    err,
    out,
    progress_bar,
    scoring_time,
    user_errors,
)
from .score import AccountsOpt
from .sources import ConfigOpt, StrictOpt, load_mapping


@app.command()
def suggest(
    model: ModelArg,
    leads: LeadsOpt,
    events: EventsOpt,
    outcome: OutcomeOpt,
    as_of: AsOfOpt = None,
    as_of_column: AsOfColumnOpt = None,
    score: Annotated[
        str | None,
        typer.Option("--score", help="The score whose AUC is compared (default: the last one)."),
    ] = None,
    l2: Annotated[
        float, typer.Option("--l2", help="L2 penalty on standardised rule units.", min=0)
    ] = 1.0,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout", help="Share of leads held out to compare AUCs.", min=0.05, max=0.95
        ),
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the train/held-out split.")] = 0,
    diff: Annotated[
        Path | None,
        typer.Option("--diff", help="Write the unified diff here instead of printing it."),
    ] = None,
    config: ConfigOpt = None,
    strict: StrictOpt = False,
    accounts: AccountsOpt = None,
) -> None:
    """Fit rule points to an outcome (L2-regularised logistic regression on what each rule
    counted), rescaled to the model's point scale. The held-out AUC of current and suggested
    points comes first; only points that rank held-out leads better are shown, as a diff of
    the model (otherwise the command says so and exits 3). Uses the Python evaluator."""
    from ..backtest.suggest import suggest as run_suggest

    when = scoring_time(as_of, as_of_column)
    mapping = load_mapping(config, strict)
    with user_errors(), progress_bar("scoring leads") as progress:
        result = run_suggest(
            model,
            leads,
            events,
            outcome,
            when,
            score=score,
            l2=l2,
            holdout=holdout,
            seed=seed,
            progress=progress,
            mapping=mapping,
            accounts=accounts,
        )
    out.print(
        f"ROC AUC of {result.score} on {result.holdout} held-out leads (trained on {result.train}, seed {result.seed}): "
        f"current {result.auc_current:.3f}, suggested {result.auc_suggested:.3f}"
    )
    if not result.diff:
        out.print("no point changes to suggest")
        return
    if result.auc_suggested <= result.auc_current:
        err.print(
            f"[bold]no suggestion:[/] the fitted points do not rank the held-out leads better "
            f"than the current ones ({result.auc_suggested:.3f} against "
            f"{result.auc_current:.3f}); the model is best left as it is "
            "(more leads, another --l2 or --seed may fit better)"
        )
        raise typer.Exit(GATE_FAILED)
    table = Table("rule", "current", "suggested", "log-odds per unit", title="Points")
    for rule in result.rules:
        fitted = "n/a" if rule.coefficient is None else f"{rule.coefficient:+.3f}"
        table.add_row(
            f"{escape(rule.label)} [dim]({rule.id})[/]",
            f"{rule.current:+g}",
            f"{rule.suggested:+g}",
            fitted + (f" [dim]{rule.note}[/]" if rule.note else ""),
        )
    out.print(table)
    if diff is not None:
        diff.write_text(result.diff)
        out.print(f"diff written to {diff}")
    else:
        typer.echo(result.diff, nl=False)
