"""`scorelang explain`: why one lead (or account) has its scores, how far it is from the next
band and from each flag, and for an account which contacts each roll-up counted."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..compiler import ir
from ..explain import (
    AccountExplanation,
    Change,
    Explanation,
    ScoreLine,
    account_to_json,
    change_to_json,
    explain_account,
    explain_change,
    explain_lead,
    to_json,
)
from .app import app
from .backtest import (
    EventsOpt,
    LeadsOpt,
    ModelArg,
    load_model,
    out,
    parse_instant,
    user_errors,
)
from .score import AccountsOpt
from .sources import ConfigOpt, StrictOpt, choose_engine, load_mapping


def _num(value: float) -> str:
    """To the cent, as scores are rounded (decayed points are long fractions)."""
    return f"{round(value, 2) + 0.0:g}"


def _points(value: float) -> str:
    return ("+" if value >= 0 else "") + _num(value)


def _score_table(score: ScoreLine) -> Table:
    value = "missing" if score.value is None else f"{score.value:g}"
    table = Table(
        "rule",
        "points",
        "detail",
        title=f"{score.name} = {value}",
        title_justify="left",
        caption_justify="left",
    )
    fired = sorted(
        (r for r in score.rules if r.fired and not r.is_reset), key=lambda r: -abs(r.points)
    )
    for rule in fired:
        detail = [rule.counting or ""]
        if rule.per_unit:
            units = (rule.points if rule.raw_points is None else rule.raw_points) / rule.per_unit
            detail[0] += f": {units:.4g} × {rule.per_unit:+g}"
        if rule.capped and rule.raw_points is not None:
            detail.append(f"{_num(rule.raw_points)} before max {rule.cap:g}")
        if rule.group:
            detail.append(f"group {rule.group!r}")
        table.add_row(
            f"{escape(rule.label)} [dim]({rule.id})[/]",
            _points(rule.points),
            ", ".join(d for d in detail if d),
        )
    for group in score.groups:
        if group.points > group.capped_points:
            table.add_row(
                f"group {escape(repr(group.label))} max {group.cap:g}",
                _points(group.capped_points - group.points),
                f"{_num(group.points)} capped",
            )
    for rule in score.rules:
        if rule.is_reset and rule.fired:
            table.add_row(
                f"{escape(rule.label)} [dim]({rule.id})[/]", "reset", f"{score.after_groups:g} → 0"
            )
    if score.clamped and score.clamp is not None:
        low, high = score.clamp
        table.add_row(
            f"clamp {low:g}..{high:g}",
            _points((score.value or 0) - score.before_clamp),
            f"{score.before_clamp:g} clamped",
        )
    silent = sum(1 for r in score.rules if not r.fired)
    if silent:
        table.caption = f"{silent} other rule{'s' if silent > 1 else ''} did not fire"
    return table


def render_text(explanation: Explanation, entity: str = "lead") -> None:
    when = explanation.as_of.isoformat() if explanation.as_of else "now"
    out.print(f"[bold]{entity} {escape(str(explanation.key))}[/] as of {when}")
    for score in explanation.scores:
        value = "missing" if score.value is None else f"{score.value:g}"
        if score.composite:
            out.print(f"{score.name} = {value} (composite)")
        elif any(r.fired for r in score.rules) or score.clamped:
            out.print(_score_table(score))
        else:
            out.print(f"{score.name} = {value}: none of its {len(score.rules)} rules fired")
    for tier in explanation.tiers:
        line = f"tier {tier.name}: {tier.band or 'none'}"
        if tier.percentile:
            line += " (percentile: relative to the batch)"
        elif tier.next_band is not None and tier.points_to_next is not None:
            line += f" — {tier.points_to_next:g} points of {tier.score} from {tier.next_band}"
        out.print(line)
    for name, cell in explanation.matrices.items():
        out.print(f"matrix {name}: {cell or 'none'}")
    for flag in explanation.flags:
        gaps = [
            f"{g.score} {g.op} {g.bound:g}: "
            + (
                "met"
                if g.met
                else "missing"
                if g.value is None
                else f"{abs(g.points_needed):g} points {'short' if g.points_needed > 0 else 'over'}"
            )
            for g in flag.bounds
        ]
        summary = "yes" if flag.value else "no"
        unmet = [g for g in flag.bounds if not g.met and g.value is not None]
        if not flag.value and unmet:
            summary += (
                " — "
                + " and ".join(f"{abs(g.points_needed):g} points of {g.score}" for g in unmet)
                + f" from {flag.name}"
            )
        out.print(f"flag {flag.name}: {summary}" + (f" ({'; '.join(gaps)})" if gaps else ""))


def _value(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def render_change(change: Change, since: str) -> None:
    """Scores then and now, then every rule that held points at either instant, largest
    change first, then tiers, flags and resets."""
    then, now = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (change.then, change.now))
    out.print(f"[bold]lead {escape(str(change.key))}[/] over {escape(since)}: {then} → {now}")
    scores = Table("score", "then", "now", "change", title="scores", title_justify="left")
    for score in change.scores:
        both = score.now is not None and score.then is not None
        moved = ir.round_score(score.now - score.then) if both else 0.0
        moved = _points(moved) if moved else ""
        scores.add_row(escape(score.name), _value(score.then), _value(score.now), moved)
    out.print(scores)
    rules = Table(
        "rule", "then", "now", "change", title="rules", title_justify="left", caption_justify="left"
    )
    shown = [r for r in change.rules if r.then or r.now]
    for rule in shown:
        rules.add_row(
            f"{escape(rule.label)} [dim]({rule.score})[/]",
            _num(rule.then),
            _num(rule.now),
            _points(rule.change) if rule.change else "",
        )
    silent = len(change.rules) - len(shown)
    if silent:
        rules.caption = f"{silent} other rule{'s' if silent > 1 else ''}: 0 at both instants"
    out.print(rules)
    for kind, values in (("tier", change.tiers), ("flag", change.flags)):
        for item in values:
            moved = "unchanged" if item.then == item.now else f"{_value(item.then)} →"
            out.print(f"{kind} {escape(item.name)}: {moved} {escape(_value(item.now))}")
    for reset in change.resets:
        if reset.then or reset.now:
            out.print(f"reset {escape(reset.name)}: {_value(reset.then)} → {_value(reset.now)}")


def render_account(explanation: AccountExplanation) -> None:
    """The account's outputs as a lead's, then each roll-up with every contact's part."""
    render_text(explanation.account, "account")
    count = len(explanation.leads)
    out.print(f"{count} contact{'s' if count != 1 else ''} at this account")
    for line in explanation.rollups:
        value = "missing" if line.value is None else _num(float(line.value))
        table = Table(
            "contact",
            "counted",
            "value",
            title=f"{escape(line.text)} = {value} [dim](read by {escape(', '.join(line.read_by))})[/]",
            title_justify="left",
        )
        for part in line.contributions:
            shown = (
                ""
                if part.value is None or part.value is True
                else _num(float(part.value))
                if isinstance(part.value, int | float)
                else escape(str(part.value))
            )
            if part.counted and part.value is not None and not part.used:
                shown += " (not in the top)"
            table.add_row(escape(str(part.lead)), "yes" if part.counted else "no", shown)
        out.print(table)


@app.command()
def explain(
    model: ModelArg,
    leads: LeadsOpt,
    events: EventsOpt,
    lead: Annotated[str | None, typer.Option("--lead", help="The lead's key.")] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            help="The account's key (a model with an account; needs --accounts): its rules, "
            "and for each roll-up the contacts it counted and their values.",
        ),
    ] = None,
    accounts: AccountsOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score at this instant (default: now).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="python (default), duckdb or postgres (implied by a postgresql:// --database): "
            "the same details on each (counts, points before caps from the Python evaluator, "
            "checked against the engine's row).",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--database", help="The postgresql:// server for --engine postgres."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Compare with the lead at --as-of minus this duration (e.g. 7d): each "
            "rule's points then and now, largest change first, and each score, tier and flag.",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    config: ConfigOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Explain one lead (--lead) or one account (--account): the rules that fired with their
    points, caps, reset and clamp, its tiers and flags, and how many points it needs for the
    next band or flag; for an account, each roll-up's contacts and what each contributed."""
    if format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    if (lead is None) == (account is None):
        raise typer.BadParameter("give --lead KEY or --account KEY", param_hint="--lead")
    engine = choose_engine(engine, database, True, "python")
    ir_model = load_model(model)
    if account is not None and accounts is None:
        raise typer.BadParameter("--account needs the accounts file", param_hint="--accounts")
    if account is not None and engine != "python":
        raise typer.BadParameter(
            "an account is explained by the python engine", param_hint="--engine"
        )
    if since is not None and ir_model.account is not None:
        raise typer.BadParameter(
            "--since explains a lead of a model without an account (not supported yet with one)",
            param_hint="--since",
        )
    when = parse_instant(as_of, "--as-of") if as_of else None
    mapping = load_mapping(config, strict)
    if account is not None:
        assert accounts is not None
        with user_errors():
            explained = explain_account(ir_model, account, accounts, leads, events, when, mapping)
        if format == "json":
            typer.echo(json.dumps(account_to_json(explained), indent=2, default=str))
        else:
            render_account(explained)
        return
    assert lead is not None
    if since is not None:
        from ..history import SpineError, parse_duration

        try:
            window = parse_duration(since)
        except SpineError as error:
            raise typer.BadParameter(str(error), param_hint="--since") from None
        with user_errors():
            change = explain_change(
                ir_model, lead, leads, events, window, when, engine, mapping, database
            )
        if format == "json":
            typer.echo(json.dumps(change_to_json(change), indent=2, default=str))
        else:
            render_change(change, since)
        return
    with user_errors():
        explanation = explain_lead(
            ir_model, lead, leads, events, when, engine, mapping, database, accounts
        )
    if format == "json":
        typer.echo(json.dumps(to_json(explanation), indent=2, default=str))
    else:
        render_text(explanation)
