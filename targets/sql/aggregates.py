"""The event side of the plan: one scan of the events table, one GROUP BY lead.

`scan` filters to the event types the model uses and to events at or before as_of, and
computes each event's age in microseconds (exactly as the Python evaluator does). When the
model has sequences, `sequenced` adds one window column per sequence: the smallest age of
a `first` event at or before this event (RANGE ... CURRENT ROW includes equal times, so
`a.at == b.at` counts). `agg` then computes every aggregate at once by conditional
aggregation. Aggregates of a lead without events are filled in by the caller's LEFT JOIN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from ...compiler import ir
from ...config import SourceMapping
from .dialects import Dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, walk
from .names import Names, column, ident

INFINITY = float("inf")


def micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


def qualified_table(table: str, schema: tuple[str, ...], alias: str | None = None) -> exp.Table:
    """`[catalog.][schema.]table`, every part a quoted identifier."""
    parts = [ident(p) for p in schema]
    return exp.Table(
        this=ident(table),
        db=parts[-1] if parts else None,
        catalog=parts[-2] if len(parts) > 1 else None,
        alias=exp.TableAlias(this=ident(alias)) if alias else None,
    )


def source_table(mapping: SourceMapping, table: str, alias: str) -> exp.Table:
    return qualified_table(table, mapping.schema_parts, alias)


@dataclass(frozen=True)
class EventPlan:
    """The CTEs over events, and where each aggregate's raw value is in the last one."""

    ctes: tuple[tuple[str, exp.Select], ...]
    lead_column: str
    columns: dict[str, str]  # aggregate id -> column of the last CTE


def _filters(aggregate: ir.AggregateNode) -> tuple[ir.EventFilter, ...]:
    return (
        (aggregate.first, aggregate.second)
        if isinstance(aggregate, ir.Sequence)
        else (aggregate.filter,)
    )


def _is_type(kind: exp.Expression, types: tuple[str, ...] | list[str]) -> exp.Expression:
    """The event is of one of these types (none: no event is)."""
    names = [exp.Literal.string(t) for t in types]
    if not names:
        return exp.Boolean(this=False)
    return (
        exp.EQ(this=kind, expression=names[0])
        if len(names) == 1
        else exp.In(this=kind, expressions=names)
    )


def _props_used(model: ir.Model) -> list[str]:
    used: dict[str, None] = {}
    for aggregate in model.aggregates:
        if isinstance(aggregate, ir.CountDistinct | ir.Sum):
            used[aggregate.prop] = None
        for event_filter in _filters(aggregate):
            if event_filter.where is not None:
                for node in walk(event_filter.where):
                    if isinstance(node, ir.EventProp):
                        used[node.name] = None
    return list(used)


class EventPlanner:
    def __init__(
        self,
        model: ir.Model,
        dialect: Dialect,
        mapping: SourceMapping,
        as_of_us: Callable[[], exp.Expression],
        cte_names: Names,
    ):
        self.model, self.dialect, self.mapping, self.as_of_us = model, dialect, mapping, as_of_us
        self.cte_names = cte_names
        self.columns = Names(dialect)
        self.lead = self.columns.fresh("lead_key")
        self.type = self.columns.fresh("event_type")
        self.age = self.columns.fresh("age_us")
        self.props = {name: self.columns.fresh("prop", name) for name in _props_used(model)}
        self.declaring = {
            prop: {t.name for t in model.event_types if any(p.name == prop for p in t.properties)}
            for prop in self.props
        }

    def plan(self) -> EventPlan:
        scan_name = self.cte_names.fresh("scan")
        ctes = [(scan_name, self._scan())]
        source = scan_name
        sequences = [a for a in self.model.aggregates if isinstance(a, ir.Sequence)]
        windows = {a.id: self.columns.fresh("nearest_first", a.id) for a in sequences}
        if sequences:
            sequenced = exp.select(exp.Star()).from_(ident(scan_name))
            for aggregate in sequences:
                sequenced = sequenced.select(
                    exp.alias_(
                        self._nearest_first(aggregate, scan_name), ident(windows[aggregate.id])
                    )
                )
            source = self.cte_names.fresh("sequenced")
            ctes.append((source, sequenced))
        agg = (
            exp.select(column(self.lead, source))
            .from_(ident(source))
            .group_by(column(self.lead, source))
        )
        names = {}
        for aggregate in self.model.aggregates:
            names[aggregate.id] = self.columns.fresh("agg", aggregate.id)
            value = (
                self._sequence(aggregate, source, windows[aggregate.id])
                if isinstance(aggregate, ir.Sequence)
                else self._aggregate(aggregate, source)
            )
            agg = agg.select(exp.alias_(value, ident(names[aggregate.id])))
        agg_name = self.cte_names.fresh("agg")
        ctes.append((agg_name, agg))
        return EventPlan(tuple(ctes), self.lead, names)

    # ---- scan ------------------------------------------------------------------------------

    def _scan(self) -> exp.Select:
        m = self.mapping
        alias = "e"
        age = exp.Sub(
            this=self.as_of_us(), expression=self.dialect.epoch_us(column(m.event_time, alias))
        )
        select = exp.select(
            exp.alias_(column(m.event_lead, alias), ident(self.lead)),
            exp.alias_(column(m.event_type, alias), ident(self.type)),
            exp.alias_(age, ident(self.age)),
            *(exp.alias_(column(m.column(p), alias), ident(c)) for p, c in self.props.items()),
        ).from_(source_table(m, m.events_table, alias))
        return select.where(
            _is_type(column(m.event_type, alias), self.model.used_event_types),
            exp.GTE(this=age.copy(), expression=exp.Literal.number(0)),
        )

    # ---- per-event conditions --------------------------------------------------------------

    def _condition(self, event_filter: ir.EventFilter, table: str) -> exp.Expression:
        parts = [_is_type(column(self.type, table), event_filter.types)]
        window = event_filter.window
        if window is not None and window.min_age > 0:
            parts.append(
                exp.GTE(this=column(self.age, table), expression=number(micros(window.min_age)))
            )
        if window is not None and window.max_age != INFINITY:
            parts.append(
                exp.LT(this=column(self.age, table), expression=number(micros(window.max_age)))
            )
        if event_filter.where is not None:
            parts.append(self._compiler(event_filter, table).condition(event_filter.where))
        return exp.and_(*parts)

    def _compiler(self, event_filter: ir.EventFilter, table: str) -> ExpressionCompiler:
        def unavailable(name: str) -> exp.Expression:
            construct = f"`{name}` (a lead value or output inside an event filter)"
            raise UnsupportedConstruct("E504", construct, self.dialect.name)

        scope = Scope(
            lead_field=unavailable,
            aggregate=unavailable,
            output=unavailable,
            event_prop=lambda name: self._prop(name, event_filter.types, table),
        )
        return ExpressionCompiler(self.dialect, scope, self.as_of_us)

    def _prop(self, name: str, types: tuple[str, ...], table: str) -> exp.Expression:
        """A property as the filter's event types see it: missing for a type that does not
        declare it, even if the (wide) events table has a value in that column."""
        value = column(self.props[name], table)
        kept = [t for t in types if t in self.declaring[name]]
        if len(kept) == len(types):
            return value
        if not kept:
            return exp.Null()
        return exp.case().when(_is_type(column(self.type, table), kept), value)

    # ---- aggregates -----------------------------------------------------------------------

    def _nearest_first(self, aggregate: ir.Sequence, table: str) -> exp.Expression:
        first_age = exp.case().when(
            self._condition(aggregate.first, table), column(self.age, table)
        )
        return exp.Window(
            this=exp.Min(this=first_age),
            partition_by=[column(self.lead, table)],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=column(self.age, table), desc=True, nulls_first=False)
                ]
            ),
            spec=exp.WindowSpec(
                kind="RANGE", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"
            ),
            over="OVER",
        )

    def _sequence(self, aggregate: ir.Sequence, table: str, nearest_first: str) -> exp.Expression:
        """Some `second` event whose nearest earlier-or-equal `first` event is within the gap."""
        gap = exp.Sub(this=column(nearest_first, table), expression=column(self.age, table))
        within = exp.LTE(this=gap, expression=number(micros(aggregate.gap)))
        hits = self.dialect.count_if(exp.and_(self._condition(aggregate.second, table), within))
        return exp.GT(this=hits, expression=exp.Literal.number(0))

    def _aggregate(self, aggregate: ir.AggregateNode, table: str) -> exp.Expression:
        condition = self._condition(aggregate.filter, table)
        age = column(self.age, table)
        double = self.dialect.cast_double

        def when(value: exp.Expression) -> exp.Expression:
            return exp.case().when(condition, value)

        match aggregate:
            case ir.Count():
                return self.dialect.count_if(condition)
            case ir.CountDistinct(prop=prop):
                value = self._prop(prop, aggregate.filter.types, table)
                return exp.Count(this=exp.Distinct(expressions=[when(value)]))
            case ir.Sum(prop=prop):
                return exp.Sum(this=when(double(self._prop(prop, aggregate.filter.types, table))))
            case ir.Last():
                return exp.Min(this=when(age))
            case ir.First():
                return exp.Max(this=when(age))
            case ir.DecayedSum(half_life=half_life):
                exponent = exp.Div(
                    this=double(age), expression=double(number(micros(half_life))), typed=True
                )
                return exp.Sum(this=when(exp.Pow(this=double(number(0.5)), expression=exponent)))
            case ir.LinearDecaySum(percent=percent, period=period):
                periods = double(self.dialect.floor_div(age, number(micros(period))))
                step = exp.Mul(this=double(number(percent / 100)), expression=periods)
                weight = exp.Sub(this=double(number(1)), expression=step)
                positive = exp.and_(
                    condition, exp.GT(this=weight, expression=exp.Literal.number(0))
                )
                return exp.Sum(this=exp.case().when(positive, weight.copy()))
            case ir.PeriodCount(period=period):
                bucket = self.dialect.floor_div(age, number(micros(period)))
                return exp.Count(this=exp.Distinct(expressions=[when(bucket)]))
        raise ValueError(f"unknown aggregate {type(aggregate).__name__}")
