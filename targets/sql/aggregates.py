"""The event side of the plan: one scan of the events table, one GROUP BY lead.

`scan` filters to the event types the aggregates use and to events at or before as_of, and
computes each event's age in microseconds (exactly as the Python evaluator does); `agg`
computes every aggregate at once by conditional aggregation. Each filter tests only what the
scan does not already guarantee, and existence counts that differ only in their window share
one MIN(age). Sequences get their own, smaller scan (only their event types: the window
sorts every row it reads): `sequenced` adds one window column per sequence, the smallest age
of a `first` event at or before this event (RANGE ... CURRENT ROW includes equal times, so
`a.at == b.at` counts), and `sequence_agg` groups it by lead. Aggregates of a lead without
events are filled in by the caller's LEFT JOINs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from ...compiler import ir
from ...config import SourceMapping
from .dialects import Dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, walk, when_true
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
class AggregateCte:
    """A CTE with one row per lead (that has events) and some aggregates' raw values."""

    name: str
    lead_column: str
    columns: dict[str, str]  # aggregate id -> column


@dataclass(frozen=True)
class EventPlan:
    """The CTEs over events, and the grouped ones the leads are joined to."""

    ctes: tuple[tuple[str, exp.Select], ...]
    results: tuple[AggregateCte, ...]


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


def _props_used(aggregates: list[ir.AggregateNode]) -> list[str]:
    used: dict[str, None] = {}
    for aggregate in aggregates:
        if isinstance(aggregate, ir.CountDistinct | ir.Sum):
            used[aggregate.prop] = None
        for event_filter in ir.event_filters(aggregate):
            if event_filter.where is not None:
                for node in walk(event_filter.where):
                    if isinstance(node, ir.EventProp):
                        used[node.name] = None
    return list(used)


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _none_or_some(op: str, bound: object) -> bool:
    """`count op bound` is the same for every count >= 1: only "none" or "some" matters."""
    if isinstance(bound, bool) or not isinstance(bound, int | float):
        return False
    match op:
        case ">" | "<=":
            return bound < 1
        case ">=" | "<":
            return bound <= 1
        case "==" | "!=":
            return bound < 1 or not float(bound).is_integer()
    return False


def _existence_counts(model: ir.Model) -> set[str]:
    """Counts every use of which only asks whether there is some event (`E`, `no E`,
    `count(E) > 0`): such a count may be computed as 0 or 1."""
    existence: set[str] = set()
    values: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, ir.Compare):
            for ref, bound, op in (
                (node.left, node.right, node.op),
                (node.right, node.left, _MIRROR[node.op]),
            ):
                if (
                    isinstance(ref, ir.AggregateRef)
                    and isinstance(bound, ir.Literal)
                    and _none_or_some(op, bound.value)
                ):
                    existence.add(ref.id)
                    return
        if isinstance(node, ir.AggregateRef):
            values.add(node.id)
            return
        for value in vars(node).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, ir.Expr | ir.WhenRule | ir.EachRule | ir.ResetRule):
                    visit(child)

    for score in model.scores:
        for rule in score.rules:
            visit(rule)
    for root in (*model.composites, *model.flags):
        visit(root)
    counts = {a.id for a in model.aggregates if isinstance(a, ir.Count)}
    return (existence - values) & counts


def _shared_youngest(model: ir.Model, plain: list[ir.AggregateNode]) -> dict[str, ir.EventFilter]:
    """Existence counts that differ only in how far back they look (`no activity within
    30d`, `... 60d`, ...): each is "the youngest such event is younger than D", so one
    MIN(age) serves them all. Returns id -> the filter without its window."""
    existence = _existence_counts(model)
    groups: dict[tuple, list[str]] = {}
    for aggregate in plain:
        window = aggregate.filter.window
        if aggregate.id in existence and (window is None or window.min_age == 0):
            key = (aggregate.filter.types, aggregate.filter.where)
            groups.setdefault(key, []).append(aggregate.id)
    return {
        id: ir.EventFilter(types, where)
        for (types, where), ids in groups.items()
        if len(ids) > 1
        for id in ids
    }


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
        self.props = {
            name: self.columns.fresh("prop", name) for name in _props_used(list(model.aggregates))
        }
        self.declaring = {
            prop: {t.name for t in model.event_types if any(p.name == prop for p in t.properties)}
            for prop in self.props
        }

    def plan(self) -> EventPlan:
        """The per-event aggregates over one scan; sequences over a second, smaller one."""
        ctes: list[tuple[str, exp.Select]] = []
        results: list[AggregateCte] = []
        plain = [a for a in self.model.aggregates if not isinstance(a, ir.Sequence)]
        sequences = [a for a in self.model.aggregates if isinstance(a, ir.Sequence)]
        if plain:
            types = self.model.event_types_read(plain)
            scan = self.cte_names.fresh("scan")
            ctes.append((scan, self._scan(types, _props_used(plain))))
            shared = _shared_youngest(self.model, plain)

            def value(aggregate: ir.AggregateNode) -> exp.Expression:
                if aggregate.id in shared:
                    return self._some_within(aggregate, shared[aggregate.id], scan, types)
                return self._aggregate(aggregate, scan, types)

            cte, result = self._grouped("agg", scan, plain, value)
            ctes.append(cte)
            results.append(result)
        if sequences:
            # The window sorts every row it reads: only the sequences' own event types.
            types = self.model.event_types_read(sequences)
            scan = self.cte_names.fresh("sequence_scan")
            ctes.append((scan, self._scan(types, _props_used(sequences))))
            windows = {a.id: self.columns.fresh("nearest_first", a.id) for a in sequences}
            sequenced = exp.select(exp.Star()).from_(ident(scan))
            for aggregate in sequences:
                nearest = self._nearest_first(aggregate, scan, types)
                sequenced = sequenced.select(exp.alias_(nearest, ident(windows[aggregate.id])))
            source = self.cte_names.fresh("sequenced")
            ctes.append((source, sequenced))
            cte, result = self._grouped(
                "sequence_agg",
                source,
                sequences,
                lambda a: self._sequence(a, source, windows[a.id], types),
            )
            ctes.append(cte)
            results.append(result)
        return EventPlan(tuple(ctes), tuple(results))

    def _grouped(
        self,
        prefix: str,
        source: str,
        aggregates: list[ir.AggregateNode],
        value: Callable[[ir.AggregateNode], exp.Expression],
    ) -> tuple[tuple[str, exp.Select], AggregateCte]:
        """A CTE `prefix` with one row per lead of `source` and each aggregate's value."""
        names = {a.id: self.columns.fresh("agg", a.id) for a in aggregates}
        lead = column(self.lead, source)
        select = exp.select(lead).from_(ident(source)).group_by(lead.copy())
        for aggregate in aggregates:
            select = select.select(exp.alias_(value(aggregate), ident(names[aggregate.id])))
        name = self.cte_names.fresh(prefix)
        return (name, select), AggregateCte(name, self.lead, names)

    # ---- scan ------------------------------------------------------------------------------

    def _scan(self, types: tuple[str, ...], props: list[str]) -> exp.Select:
        """Events of these types at or before as_of, with their age in microseconds."""
        m = self.mapping
        alias = "e"
        age = exp.Sub(
            this=self.as_of_us(), expression=self.dialect.epoch_us(column(m.event_time, alias))
        )
        select = (
            exp.select(
                exp.alias_(column(m.event_lead, alias), ident(self.lead)),
                exp.alias_(column(m.event_type, alias), ident(self.type)),
                exp.alias_(age, ident(self.age)),
                *(exp.alias_(column(m.column(p), alias), ident(self.props[p])) for p in props),
            )
            .from_(source_table(m, m.events_table, alias))
            .where(_is_type(column(m.event_type, alias), types))
        )
        return select.where(exp.GTE(this=age.copy(), expression=exp.Literal.number(0)))

    # ---- per-event conditions --------------------------------------------------------------

    def _condition(
        self, event_filter: ir.EventFilter, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        """The event passes the filter, knowing the scan kept only `scanned` types."""
        kept = [t for t in scanned if t in event_filter.types]
        parts = [] if len(kept) == len(scanned) else [_is_type(column(self.type, table), kept)]
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
            where = self._compiler(event_filter, table).condition(event_filter.where)
            parts.append(when_true(where))  # only ever read as FILTER or CASE WHEN
        return exp.and_(*parts) if parts else exp.Boolean(this=True)

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

    def _nearest_first(
        self, aggregate: ir.Sequence, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        first_age = exp.case().when(
            self._condition(aggregate.first, table, scanned), column(self.age, table)
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

    def _sequence(
        self, aggregate: ir.Sequence, table: str, nearest_first: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        """Some `second` event whose nearest earlier-or-equal `first` event is within the gap."""
        gap = exp.Sub(this=column(nearest_first, table), expression=column(self.age, table))
        within = exp.LTE(this=gap, expression=number(micros(aggregate.gap)))
        second = self._condition(aggregate.second, table, scanned)
        hits = self.dialect.count_if(exp.and_(second, within))
        return exp.GT(this=hits, expression=exp.Literal.number(0))

    def _some_within(
        self, count: ir.Count, unbounded: ir.EventFilter, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        """An existence count as 1 or 0: the youngest event of the filter without its window
        is inside the window. The same MIN(...) for every window: computed once."""
        condition = self._condition(unbounded, table, scanned)
        age = column(self.age, table)
        youngest = exp.Min(
            this=age if condition == exp.Boolean(this=True) else exp.case().when(condition, age)
        )
        window = count.filter.window
        some = (
            exp.LT(this=youngest, expression=number(micros(window.max_age)))
            if window is not None and window.max_age != INFINITY
            else exp.Not(this=exp.Is(this=youngest, expression=exp.Null()))
        )
        return exp.case().when(some, exp.Literal.number(1)).else_(exp.Literal.number(0))

    def _aggregate(
        self, aggregate: ir.AggregateNode, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        condition = self._condition(aggregate.filter, table, scanned)
        age = column(self.age, table)
        double = self.dialect.cast_double

        every = condition == exp.Boolean(this=True)  # every scanned event passes

        def when(value: exp.Expression) -> exp.Expression:
            return value if every else exp.case().when(condition, value)

        match aggregate:
            case ir.Count():
                return exp.Count(this=exp.Star()) if every else self.dialect.count_if(condition)
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
                above = exp.GT(this=weight, expression=exp.Literal.number(0))
                positive = above if every else exp.and_(condition, above)
                return exp.Sum(this=exp.case().when(positive, weight.copy()))
            case ir.PeriodCount(period=period):
                bucket = self.dialect.floor_div(age, number(micros(period)))
                return exp.Count(this=exp.Distinct(expressions=[when(bucket)]))
        raise ValueError(f"unknown aggregate {type(aggregate).__name__}")
