"""The naive baseline: the same model as one correlated subquery per aggregate.

This is how the query tends to be written by hand (and what a per-rule compiler emits):
each aggregate reads the lead's events on its own, so the events table is scanned (or
probed by lead) once per aggregate instead of once per model. It is derived from the
compiled query itself, so both compute exactly the same values: the event-side CTEs (the
scan of events, the sequence windows, the GROUP BY lead) are replaced by a select over the
leads table where every aggregate is a subquery over that lead's events (existence counts
the plan packs as bits of one BIT_OR: a COUNT subquery each, as written by hand); everything
downstream (rule points, caps, tiers, flags) is untouched.
"""

from __future__ import annotations

import functools
from datetime import datetime

from scorelang.compiler import ir
from scorelang.targets.sql import select_scores
from scorelang.targets.sql.names import ident
from sqlglot import exp

from scorelang.config import SourceMapping
from scorelang.data import table

OUTER = "naive_leads"


def _correlated(value: exp.Expression, rows: exp.Select, source: str) -> exp.Subquery:
    """(SELECT value FROM <the lead's rows> AS source)."""
    over = exp.Subquery(this=rows.copy(), alias=exp.TableAlias(this=ident(source)))
    return exp.Subquery(this=exp.select(value.copy()).from_(over))


def _counted_bit(term: exp.Case, rows: exp.Select, source: str) -> exp.Case:
    """`CASE WHEN c THEN bit ELSE 0 END` of a column of flags, c tested by a COUNT subquery."""
    (when,) = term.args["ifs"]
    count = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=when.this.copy()))
    some = exp.GT(this=_correlated(count, rows, source), expression=exp.Literal.number(0))
    return exp.case().when(some, when.args["true"].copy()).else_(term.args["default"].copy())


def _terms(sum_: exp.Expression) -> list[exp.Expression]:
    if isinstance(sum_, exp.Add):
        return [*_terms(sum_.this), *_terms(sum_.expression)]
    return [sum_]


def _from_name(select: exp.Select) -> str:
    return select.args["from_"].this.name


def naive_query(
    model: ir.Model, dialect: str, *, as_of: datetime, mapping: SourceMapping
) -> exp.Select:
    query = select_scores(model, dialect, as_of=as_of, mapping=mapping)
    ctes: list[exp.CTE] = list(query.args["with_"].expressions)
    selects = {cte.alias: cte.this for cte in ctes}

    def reads_events(select: exp.Select) -> bool:
        return any(t.name == mapping.events_table for t in select.find_all(exp.Table))

    # The event side: the scans of events, the windows over a scan, the GROUP BY leads.
    scans = {name for name, s in selects.items() if reads_events(s)}
    windows = {
        name: _from_name(s)
        for name, s in selects.items()
        if _from_name(s) in scans and not s.args.get("group")
    }
    groups = [
        name
        for name, s in selects.items()
        if s.args.get("group") and _from_name(s) in scans | set(windows)
    ]
    outer_key = exp.column(ident(mapping.column(model.key)), table=ident(OUTER))
    leads = table(mapping.leads_table, mapping.schema)
    leads.set("alias", exp.TableAlias(this=ident(OUTER)))
    replaced = {}
    for agg in groups:
        source = _from_name(selects[agg])
        scan = windows.get(source, source)
        # The rows an aggregate reads: the lead's own events (the scan, correlated with the
        # outer lead), then the sequence windows over them if this is the sequences' group.
        lead_events = selects[scan].copy()
        (reader,) = [
            s
            for s in lead_events.find_all(exp.Select)
            if isinstance(s.args["from_"].this, exp.Table)
            and s.args["from_"].this.name == mapping.events_table
        ]
        event_lead = reader.expressions[0].this.copy()
        reader.where(exp.EQ(this=event_lead, expression=outer_key.copy()), copy=False)
        rows = lead_events
        if source != scan:
            rows = selects[source].copy()
            rows.set(
                "from_",
                exp.From(
                    this=exp.Subquery(this=lead_events, alias=exp.TableAlias(this=ident(scan)))
                ),
            )
        lead_column = selects[agg].expressions[0]
        columns = [exp.alias_(outer_key.copy(), ident(lead_column.name))]
        for projection in selects[agg].expressions[1:]:
            value = projection.this
            if isinstance(value, exp.BitwiseOrAgg):
                # Existence counts packed as bits of one BIT_OR, which nobody writes by hand:
                # a COUNT subquery per count again, `CASE WHEN (...) > 0 THEN bit ELSE 0 END`,
                # the bits added up into the flags the rest of the query reads.
                bits = [_counted_bit(term, rows, source) for term in _terms(value.this)]
                subqueries = functools.reduce(lambda a, b: exp.Add(this=a, expression=b), bits)
            else:
                subqueries = _correlated(value, rows, source)
            columns.append(exp.alias_(subqueries, ident(projection.alias)))
        replaced[agg] = exp.select(*columns).from_(leads.copy())
    for cte in ctes:
        if cte.alias in scans or cte.alias in windows:
            cte.pop()
        elif cte.alias in replaced:
            cte.set("this", replaced[cte.alias])
    return query
