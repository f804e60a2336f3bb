"""History and transitions as SQL: the scores query over a spine of instants, and the moves
of every tier, matrix and flag between consecutive instants (docs/history.md).

    history      select_scores(as_of=[t1, t2, ...]): one query, one row per (lead, instant);
                 with one instant, the single-instant query with its `as_of` added
    transitions  over a history relation: LAG over the instants per lead, one row per output
                 whose value changed, with the three rules whose points moved most

Both read the same relation columns the Python side reads (scorelang/history/), so the two
give the same rows; the reasons' text is built in SQL from whole cents, never from a
dialect's float formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlglot import exp

from ...compiler import ir
from ...compiler.plan import INSTANT, utc_naive
from ...compiler.sources import DEFAULT_SOURCES, SourceMapping
from .builder import (
    View,
    check_view_sources,
    select_account_scores,
    select_scores,
    target_of,
    union_all,
)
from .ddl import placed_relations, render_views
from .dialects import Dialect
from .names import Names, as_written, column, ident
from .relations import Relations

# The columns of a transitions row, after the lead key.
OUTPUT, FROM, TO, AT, REASONS = "output", "from", "to", "at", "reasons"
# Inside the query: k the lead, t the instant, t_before the previous one (plain names that no
# engine reads as a keyword).
TRANSITION_COLUMNS = (OUTPUT, FROM, TO, AT, REASONS)
REASONS_SHOWN = 3  # rules per transition, the largest change in points first


def history_view(model: ir.Model) -> str:
    return f"{model.name}_history"


def transitions_view(model: ir.Model) -> str:
    return f"{model.name}_transitions"


def moving_outputs(model: ir.Model, entity: str = ir.LEAD) -> list[str]:
    """The outputs a transition of the entity is about: tiers, percentile tiers, matrices,
    flags."""
    outputs = model.outputs_of(entity)
    labels = (*outputs.tiers, *outputs.percentile_tiers, *outputs.matrices)
    return [o.name for o in (*labels, *outputs.flags)]


def point_rules(model: ir.Model, entity: str = ir.LEAD) -> list[ir.PointsRule]:
    """The entity's rules whose points can be reasons, in model order (resets award no
    points)."""
    scores = model.outputs_of(entity).scores
    return [r for s in scores for r in s.rules if not isinstance(r, ir.ResetRule)]


def select_history(
    model: ir.Model,
    dialect: str,
    instants: Sequence[datetime],
    *,
    mapping: SourceMapping = DEFAULT_SOURCES,
    relations: Relations | None = None,
    entity: str = ir.LEAD,
) -> exp.Select:
    """One row per lead (or account, with `entity`) and instant: the key, `as_of`, then the
    entity's output columns. Several instants are one query over their spine (the plan's
    Instants step)."""
    if not instants:
        raise ValueError("a history needs at least one instant")
    select = select_account_scores if entity == ir.ACCOUNT else select_scores
    if len(instants) > 1:
        return select(model, dialect, as_of=list(instants), mapping=mapping, relations=relations)
    target = target_of(dialect, mapping)
    query = select(model, dialect, as_of=instants[0], mapping=mapping, relations=relations)
    pinned = exp.alias_(target.pinned_instant(utc_naive(instants[0])), ident(INSTANT))
    outputs = [column(name, "s") for name in model.columns_of(entity)]
    outputs.insert(1, pinned)
    history = exp.select(*outputs).from_(
        exp.Subquery(this=query, alias=exp.TableAlias(this=ident("s")))
    )
    return as_written(history, target)


def select_transitions(
    model: ir.Model,
    dialect: str,
    history: exp.Expression,
    *,
    mapping: SourceMapping = DEFAULT_SOURCES,
    entity: str = ir.LEAD,
) -> exp.Select:
    """Every change of a tier, matrix or flag between consecutive instants of a history
    (`history`: its query or the history view) of the entity: its key, then
    TRANSITION_COLUMNS. `at` is the first instant where the new value holds; flags read
    'true' / 'false'."""
    outputs = moving_outputs(model, entity)
    if not outputs:
        raise ValueError(f"model {model.name} has no tier, matrix or flag: nothing can move")
    target = target_of(dialect, mapping)
    rules = point_rules(model, entity)
    key = model.entity(entity).key
    source = (
        exp.Subquery(this=history, alias=exp.TableAlias(this=ident("h")))
        if isinstance(history, exp.Query)
        else history
    )
    moves = _moves(model, key, outputs, rules, source)
    moved = (
        exp.select(exp.Star())
        .from_(exp.Table(this=ident("moves")))
        .where(
            exp.and_(
                exp.Not(this=exp.Is(this=column("t_before"), expression=exp.Null())),
                exp.or_(*(_differs(n) for n in range(len(outputs)))),
            )
        )
    )
    changes = union_all(
        exp.select(
            column("k"),
            column("t"),
            exp.alias_(exp.Literal.number(n), ident("n")),
            exp.alias_(exp.Literal.string(name), ident(OUTPUT)),
            exp.alias_(column(f"p{n}"), ident(FROM)),
            exp.alias_(column(f"v{n}"), ident(TO)),
        )
        .from_(exp.Table(this=ident("moved")))
        .where(_differs(n))
        for n, name in enumerate(outputs)
    )
    query = (
        exp.select(
            exp.alias_(column("k", "c"), ident(key)),
            column(OUTPUT, "c"),
            column(FROM, "c"),
            column(TO, "c"),
            exp.alias_(column("t", "c"), ident(AT)),
        )
        .from_(exp.Table(this=ident("changes"), alias=exp.TableAlias(this=ident("c"))))
        .with_(ident("moves"), as_=moves)
        .with_(ident("moved"), as_=moved)
        .with_(ident("changes"), as_=changes)
    )
    if not rules:
        return as_written(query.select(exp.alias_(exp.Literal.string(""), ident(REASONS))), target)
    query = query.with_(ident("rule_moves"), as_=_rule_moves(rules)).with_(
        ident("ranked"), as_=_ranked()
    )
    query = query.with_(ident("reasons"), as_=_reasons(target))
    joined = exp.and_(
        exp.EQ(this=column("k", "r"), expression=column("k", "c")),
        exp.EQ(this=column("t", "r"), expression=column("t", "c")),
    )
    text = column("r1", "r")
    for place in range(2, REASONS_SHOWN + 1):
        later = exp.DPipe(this=exp.Literal.string(", "), expression=column(f"r{place}", "r"))
        text = exp.DPipe(
            this=text, expression=exp.Coalesce(this=later, expressions=[exp.Literal.string("")])
        )
    reasons = exp.Coalesce(this=text, expressions=[exp.Literal.string("")])
    query = query.select(exp.alias_(reasons, ident(REASONS))).join(
        exp.Table(this=ident("reasons"), alias=exp.TableAlias(this=ident("r"))),
        on=joined,
        join_type="LEFT",
    )
    return as_written(query, target)


def _moves(
    model: ir.Model,
    key: str,
    outputs: list[str],
    rules: list[ir.PointsRule],
    source: exp.Expression,
) -> exp.Select:
    """Per (lead, instant): the previous instant, each output now (v) and before (p) as text,
    each rule's change in whole cents (d)."""
    flags = {f.name for f in model.flags}

    def lag(value: exp.Expression) -> exp.Expression:
        order = exp.Order(expressions=[exp.Ordered(this=column(INSTANT, "h"))])
        return exp.Window(
            this=exp.Anonymous(this="LAG", expressions=[value]),
            partition_by=[column(key, "h")],
            order=order,
            over="OVER",
        )

    def text(name: str) -> exp.Expression:
        value = column(name, "h")
        if name not in flags:
            return value
        return (
            exp.case()
            .when(value, exp.Literal.string("true"))
            .when(exp.Not(this=value.copy()), exp.Literal.string("false"))
        )

    def cents(value: exp.Expression) -> exp.Expression:
        hundredfold = exp.Mul(this=value, expression=exp.Literal.number(100))
        return exp.cast(exp.Round(this=hundredfold), "BIGINT")

    select = exp.select(
        exp.alias_(column(key, "h"), ident("k")),
        exp.alias_(column(INSTANT, "h"), ident("t")),
        exp.alias_(lag(column(INSTANT, "h")), ident("t_before")),
    )
    for n, name in enumerate(outputs):
        select = select.select(
            exp.alias_(text(name), ident(f"v{n}")), exp.alias_(lag(text(name)), ident(f"p{n}"))
        )
    for n, rule in enumerate(rules):
        change = exp.Sub(
            this=cents(column(rule.id, "h")), expression=cents(lag(column(rule.id, "h")))
        )
        select = select.select(exp.alias_(change, ident(f"d{n}")))
    return select.from_(source)


def _differs(n: int) -> exp.Expression:
    """v IS DISTINCT FROM p, spelled so that every engine and emulator reads it alike."""
    now, before = column(f"v{n}"), column(f"p{n}")
    missing = exp.NEQ(
        this=exp.Paren(this=exp.Is(this=now.copy(), expression=exp.Null())),
        expression=exp.Paren(this=exp.Is(this=before.copy(), expression=exp.Null())),
    )
    return exp.Coalesce(this=exp.NEQ(this=now, expression=before), expressions=[missing])


def _rule_moves(rules: list[ir.PointsRule]) -> exp.Query:
    """One row per (lead, instant, rule whose points changed)."""
    return union_all(
        exp.select(
            column("k"),
            column("t"),
            exp.alias_(exp.Literal.number(n), ident("n")),
            exp.alias_(exp.Literal.string(rule.label), ident("label")),
            exp.alias_(column(f"d{n}"), ident("cents")),
        )
        .from_(exp.Table(this=ident("moved")))
        .where(exp.NEQ(this=column(f"d{n}"), expression=exp.Literal.number(0)))
        for n, rule in enumerate(rules)
    )


def _ranked() -> exp.Select:
    """Each rule change's place: the largest change first, ties in model order."""
    order = exp.Order(
        expressions=[
            exp.Ordered(this=exp.Abs(this=column("cents")), desc=True),
            exp.Ordered(this=column("n")),
        ]
    )
    place = exp.Window(
        this=exp.RowNumber(), partition_by=[column("k"), column("t")], order=order, over="OVER"
    )
    return exp.select(
        column("k"),
        column("t"),
        column("label"),
        column("cents"),
        exp.alias_(place, ident("place")),
    ).from_(exp.Table(this=ident("rule_moves")))


def _reasons(target: Dialect) -> exp.Select:
    """Per (lead, instant), the top rule changes as text: `Requested a demo +30`."""
    said = exp.DPipe(
        this=exp.DPipe(this=column("label"), expression=exp.Literal.string(" ")),
        expression=signed_cents(target, column("cents")),
    )
    select = exp.select(column("k"), column("t"))
    for place in range(1, REASONS_SHOWN + 1):
        here = exp.EQ(this=column("place"), expression=exp.Literal.number(place))
        select = select.select(
            exp.alias_(exp.Max(this=exp.case().when(here, said)), ident(f"r{place}"))
        )
    top = exp.LTE(this=column("place"), expression=exp.Literal.number(REASONS_SHOWN))
    return (
        select.from_(exp.Table(this=ident("ranked"))).where(top).group_by(column("k"), column("t"))
    )


def signed_cents(target: Dialect, cents: exp.Expression) -> exp.Expression:
    """Whole cents as points are written: +30, -10, +0.95, +2.5 (what `signed` prints)."""

    def text(value: exp.Expression) -> exp.Expression:
        return exp.cast(value, "TEXT")

    magnitude = exp.Abs(this=cents)
    whole = target.floor_div(magnitude, exp.Literal.number(100))
    part = exp.Mod(this=magnitude.copy(), expression=exp.Literal.number(100))
    tenths = target.floor_div(part.copy(), exp.Literal.number(10))
    fraction = (
        exp.case()
        .when(exp.EQ(this=part.copy(), expression=exp.Literal.number(0)), exp.Literal.string(""))
        .when(
            exp.EQ(
                this=exp.Mod(this=part.copy(), expression=exp.Literal.number(10)),
                expression=exp.Literal.number(0),
            ),
            exp.DPipe(this=exp.Literal.string("."), expression=text(tenths)),
        )
        .else_(
            exp.DPipe(
                this=exp.Literal.string("."),
                expression=exp.Pad(
                    this=text(part.copy()),
                    expression=exp.Literal.number(2),
                    fill_pattern=exp.Literal.string("0"),
                    is_left=True,
                ),
            )
        )
    )
    sign = (
        exp.case()
        .when(exp.GT(this=cents.copy(), expression=exp.Literal.number(0)), exp.Literal.string("+"))
        .else_(exp.Literal.string("-"))
    )
    return exp.DPipe(this=exp.DPipe(this=sign, expression=text(whole)), expression=fraction)


def build_history_views(
    model: ir.Model,
    dialect: str,
    instants: Sequence[datetime],
    *,
    mapping: SourceMapping = DEFAULT_SOURCES,
    relations: Relations,
) -> list[View]:
    """`<model>_history` over the instants, then (with a tier, matrix or flag)
    `<model>_transitions` reading it."""
    names = (history_view(model), transitions_view(model))
    Names(target_of(dialect, mapping), outputs=names)  # the views' names must fit the target
    history = View(
        history_view(model),
        select_history(model, dialect, instants, mapping=mapping, relations=relations),
    )
    if not moving_outputs(model):
        return [history]
    moves = select_transitions(model, dialect, relations.view(history.name, "h"), mapping=mapping)
    return [history, View(transitions_view(model), moves)]


def render_history_ddl(
    model: ir.Model,
    dialect: str,
    instants: Sequence[datetime],
    *,
    mapping: SourceMapping = DEFAULT_SOURCES,
    schema: str | None = None,
) -> str:
    """One file creating `<model>_history` and `<model>_transitions` (in `schema` when
    given), pretty-printed."""
    check_view_sources(dialect, mapping)
    relations = placed_relations(dialect, mapping, schema)
    views = build_history_views(model, dialect, instants, mapping=mapping, relations=relations)
    first, last = (utc_naive(i).isoformat() + "Z" for i in (instants[0], instants[-1]))
    spine = f"{len(instants)} instants from {first} to {last} (the history's as_of column)"
    return render_views(model, dialect, views, relations, mapping, spine)
