"""The event side of the plan (compiler/plan.py) in SQL: its scans, windows and groups.

`scan` filters to the event types the aggregates use and to events at or before as_of, and
computes each event's age in microseconds (exactly as the Python evaluator does); `agg`
computes every aggregate at once by conditional aggregation. Each filter tests only what the
scan does not already guarantee, existence counts that differ only in their window share
one MIN(age), and the other existence counts are bits of one BIT_OR (one aggregate to
update per event instead of one per count). On engines that read an untyped instant literal
in the column's own type, windows compare the event's time with an instant bound instead
(age < D exactly when at > as_of - D): a literal for a pinned as_of, or the query's now in
the column's type minus an interval of microseconds when the mapping knows that type; no
age per event per window (Postgres evaluates a CTE column's expression at every use).
Sequences get their own, smaller scan (only their event types: the window sorts every row
it reads): `sequenced` adds one window column per sequence, the smallest age of a `first`
event at or before this event (RANGE ... CURRENT ROW includes equal times, so `a.at ==
b.at` counts), and `sequence_agg` groups it by lead. Aggregates of a lead without events
are filled in by the caller's LEFT JOINs. With several instants, each scan reads every event
once per instant (a CROSS JOIN with the instants), and the groups and windows are per
(lead, instant).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from ...compiler import ir, plan
from ...compiler.sources import SourceMapping
from .dialects import Dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, when_true
from .names import Names, column, ident
from .relations import Relations

INFINITY = float("inf")
# A view's now minus a longer window could leave an engine's timestamp range (Postgres: 4713
# BC); such windows test ages, which are exact at any length.
NOW_BOUND_HORIZON_US = 1000 * 366 * 86_400 * 1_000_000


def micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


@dataclass(frozen=True)
class AggregateCte:
    """A CTE with one row per lead (that has events) and some aggregates' raw values: a
    column each, or, for existence counts, one bit of a column of flags."""

    name: str
    lead_column: str
    columns: dict[str, str]  # aggregate id -> column
    bits: dict[str, tuple[str, int]]  # existence count id -> (flags column, its bit)

    def values(self) -> dict[str, exp.Expression]:
        """Each aggregate's raw value read from this CTE (NULL for a lead without events); an
        existence count's is its bit, `flags & bit`: 0 for none, positive for some."""
        values: dict[str, exp.Expression] = {
            id: column(c, self.name) for id, c in self.columns.items()
        }
        for id, (flags, bit) in self.bits.items():
            values[id] = exp.BitwiseAnd(this=column(flags, self.name), expression=number(bit))
        return values


@dataclass(frozen=True)
class InstantsCte:
    """The CTE of the instants a query for several of them evaluates at: `column` holds
    each one's epoch microseconds (a key of every later step), `timestamp` the instant.
    With an instant per lead (plan.LeadInstant), `lead` holds the lead's key instead of
    a timestamp (a row reads only its lead's instants) and, with shifts, `own` the lead's
    own instant, which the rows of its earlier instants keep (a percentile tier at one
    ranks the leads that share the own instant, as the Python engine's batches do)."""

    name: str
    column: str
    timestamp: str
    lead: str | None = None
    own: str | None = None

    def joined(self, select: exp.Select, alias: str, lead: exp.Expression) -> exp.Select:
        """`select` joined to the instants (as `alias`) that `lead`, its lead key, has: all
        of them, or that lead's own."""
        instants = _alias(self.name, alias)
        if self.lead is None:
            return select.join(instants, join_type="CROSS")
        return select.join(instants, on=exp.EQ(this=lead, expression=column(self.lead, alias)))


def _alias(table: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(table), alias=exp.TableAlias(this=ident(alias)))


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


def _plus(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return exp.Add(this=left, expression=right)


class EventRenderer:
    """Renders the scan, window and group steps of a plan over the events table."""

    def __init__(
        self,
        model: ir.Model,
        dialect: Dialect,
        mapping: SourceMapping,
        relations: Relations,
        as_of_us: Callable[[str], exp.Expression],
        instants: InstantsCte | None,
        instant_bounds: datetime | bool,
    ):
        """`as_of_us(table)`: the instant's microseconds for a row of `table`; `instants`: the
        CTE of several instants, if any; `instant_bounds`: the plan's rewrite for one instant
        applies: the pinned as_of (naive UTC), or True for the query's now."""
        self.model, self.dialect, self.mapping, self.as_of_us = model, dialect, mapping, as_of_us
        self.relations = relations
        self.instants = instants
        # What instant window bounds count back from, if anything (else windows test ages):
        # a pinned as_of, read as an untyped literal; for a view of "now", the query's now in
        # the event-time column's type, when the mapping knows that type.
        self.bounds_from: datetime | exp.Expression | None = None
        if dialect.reads_untyped_instants and instant_bounds is not False:
            if isinstance(instant_bounds, datetime):
                self.bounds_from = instant_bounds
            elif mapping.event_time_zoned is not None:
                self.bounds_from = dialect.now_as(zoned=mapping.event_time_zoned)
        self.columns = Names(dialect, reserved=(instants.column,) if instants else ())
        self.lead = self.columns.fresh("lead_key")
        # Each event's lead's account key, when account aggregates group by it.
        self.account = self.columns.fresh("account_key") if model.account else self.lead
        self.type = self.columns.fresh("event_type")
        self.age = self.columns.fresh("age_us")
        self.time = self.columns.fresh("event_time")
        self.props = {
            name: self.columns.fresh("prop", name) for name in ir.properties_read(model.aggregates)
        }
        self.declaring = {
            prop: {t.name for t in model.event_types if any(p.name == prop for p in t.properties)}
            for prop in self.props
        }

    def keys(self, table: str, entity: str = ir.LEAD) -> list[exp.Expression]:
        """What a row of a per-event step belongs to: its lead or its lead's account (and
        instant)."""
        keys = [column(self._key(entity), table)]
        return [*keys, column(self.instants.column, table)] if self.instants else keys

    def _key(self, entity: str) -> str:
        return self.lead if entity == ir.LEAD else self.account

    def window(
        self, step: plan.Window, source: str, scanned: tuple[str, ...]
    ) -> tuple[exp.Select, dict[str, str]]:
        """The scan's rows plus, per sequence, the column of its nearest `first` event."""
        columns = {a.id: self.columns.fresh("nearest_first", a.id) for a in step.sequences}
        select = exp.select(exp.Star()).from_(ident(source))
        for aggregate in step.sequences:
            nearest = self._nearest_first(aggregate, source, scanned, step.entity)
            select = select.select(exp.alias_(nearest, ident(columns[aggregate.id])))
        return select, columns

    def group(
        self,
        step: plan.Group,
        source: str,
        name: str,
        scanned: tuple[str, ...],
        nearest: dict[str, str],
    ) -> tuple[exp.Select, AggregateCte]:
        """`nearest`: the window columns of the sequences, if the source is a window step."""
        youngest = dict(step.youngest)

        def value(aggregate: ir.AggregateNode) -> exp.Expression:
            if isinstance(aggregate, ir.Sequence):
                return self._sequence(aggregate, source, nearest[aggregate.id], scanned)
            if aggregate.id in youngest:
                return self._some_within(aggregate, youngest[aggregate.id], source, scanned)
            return self._aggregate(aggregate, source, scanned)

        flags = [
            [(a.id, self._condition(a.filter, source, scanned)) for a in g] for g in step.flags
        ]
        return self._grouped(name, source, step.aggregates, value, flags, step.entity)

    def _grouped(
        self,
        name: str,
        source: str,
        aggregates: Sequence[ir.AggregateNode],
        value: Callable[[ir.AggregateNode], exp.Expression],
        flag_groups: Sequence[Sequence[tuple[str, exp.Expression]]] = (),
        entity: str = ir.LEAD,
    ) -> tuple[exp.Select, AggregateCte]:
        """A CTE `name` with one row per lead (or account) of `source`, each aggregate's
        value, and per group of (existence count id, condition) a column of flags: bit i set
        if some event meets the i-th condition."""
        names = {a.id: self.columns.fresh("agg", a.id) for a in aggregates}
        keys = self.keys(source, entity)
        select = exp.select(*keys).from_(ident(source)).group_by(*(k.copy() for k in keys))
        for aggregate in aggregates:
            select = select.select(exp.alias_(value(aggregate), ident(names[aggregate.id])))
        bits: dict[str, tuple[str, int]] = {}
        for group in flag_groups:
            flags = self.columns.fresh("flags")
            terms = [
                exp.case().when(condition, number(1 << i)).else_(exp.Literal.number(0))
                for i, (_, condition) in enumerate(group)
            ]
            packed = exp.BitwiseOrAgg(this=functools.reduce(_plus, terms))
            select = select.select(exp.alias_(packed, ident(flags)))
            bits |= {id: (flags, 1 << i) for i, (id, _) in enumerate(group)}
        return select, AggregateCte(name, self._key(entity), names, bits)

    # ---- scan ------------------------------------------------------------------------------

    def scan(self, step: plan.Scan) -> exp.Select:
        """Events of the step's types at or before as_of (each instant's), with their age in
        microseconds (and their time, if windows are bounded by instants)."""
        m = self.mapping
        alias, at = "e", "i"
        time = column(m.event_time, alias)
        age = exp.Sub(this=self.as_of_us(at), expression=self.dialect.source_epoch_us(time.copy()))
        instants = self.bounds_from is not None and step.windowed and step.instant_bounds
        times = [exp.alias_(time.copy(), ident(self.time))] if instants else []
        keys = (
            [exp.alias_(column(self.instants.column, at), ident(self.instants.column))]
            if self.instants
            else []
        )
        select = (
            exp.select(
                exp.alias_(column(m.event_lead, alias), ident(self.lead)),
                *keys,
                exp.alias_(column(m.event_type, alias), ident(self.type)),
                exp.alias_(age, ident(self.age)),
                *times,
                *(exp.alias_(column(m.column(p), alias), ident(self.props[p])) for p in step.props),
            )
            .from_(self.relations.source(m.events_table, alias))
            .where(_is_type(column(m.event_type, alias), step.types))
        )
        if step.accounts:
            select = self._with_accounts(select, alias)
        if self.instants:
            select = self.instants.joined(select, at, column(m.event_lead, alias))
        return select.where(self._age_test(False, 0, time, age))

    def _with_accounts(self, select: exp.Select, events: str) -> exp.Select:
        """Each event with its lead's account key (an event of an unknown lead is dropped:
        it counts for no lead and no account)."""
        m, leads, model = self.mapping, "l", self.model
        assert model.account_link is not None
        on = exp.EQ(
            this=column(m.event_lead, events), expression=column(m.column(model.key), leads)
        )
        key = exp.alias_(column(m.column(model.account_link), leads), ident(self.account))
        return select.select(key).join(self.relations.source(m.leads_table, leads), on=on)

    # ---- windows ---------------------------------------------------------------------------

    def _instant_before(self, micros: int) -> exp.Expression | None:
        """as_of minus `micros` in the event-time column's type. Pinned, an untyped literal,
        which the engine reads in that type: the instant for a zoned column; a naive column
        (UTC) ignores the `+00`. None without instant bounds (or out of the engine's range)."""
        if self.bounds_from is None:
            return None
        if isinstance(self.bounds_from, exp.Expression):
            if micros > NOW_BOUND_HORIZON_US:
                return None
            now = self.bounds_from.copy()
            return self.dialect.once(now if micros == 0 else self.dialect.minus_micros(now, micros))
        try:
            instant = self.bounds_from - timedelta(microseconds=micros)
        except OverflowError:
            return None
        return exp.Literal.string(instant.isoformat(sep=" ", timespec="microseconds") + "+00")

    def _age_test(
        self, younger: bool, micros: int, time: exp.Expression, age: exp.Expression
    ) -> exp.Expression:
        """age < micros (`younger`) or age >= micros: on the time, if it has an instant bound."""
        bound = self._instant_before(micros)
        if bound is None:
            return (exp.LT if younger else exp.GTE)(this=age, expression=number(micros))
        return (exp.GT if younger else exp.LTE)(this=time, expression=bound)

    # ---- per-event conditions --------------------------------------------------------------

    def _condition(
        self, event_filter: ir.EventFilter, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        """The event passes the filter, knowing the scan kept only `scanned` types."""
        kept = [t for t in scanned if t in event_filter.types]
        parts = [] if len(kept) == len(scanned) else [_is_type(column(self.type, table), kept)]
        window = event_filter.window
        time, age = column(self.time, table), column(self.age, table)
        if window is not None and window.min_age > 0:
            parts.append(self._age_test(False, micros(window.min_age), time, age))
        if window is not None and window.max_age != INFINITY:
            parts.append(self._age_test(True, micros(window.max_age), time.copy(), age.copy()))
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
        return ExpressionCompiler(self.dialect, scope, lambda: self.as_of_us(table))

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
        self, aggregate: ir.Sequence, table: str, scanned: tuple[str, ...], entity: str
    ) -> exp.Expression:
        first_age = exp.case().when(
            self._condition(aggregate.first, table, scanned), column(self.age, table)
        )
        return exp.Window(
            this=exp.Min(this=first_age),
            partition_by=[self._partition_key(table, entity), *self.keys(table)[1:]],
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

    def _partition_key(self, table: str, entity: str) -> exp.Expression:
        """The lead (or account) key, for the window's sort: a text key in code-point order
        (Postgres: C collation, a byte comparison instead of the locale's; the partitions are
        the same)."""
        key = column(self._key(entity), table)
        declared = self.model.entity(entity)
        (field,) = [f for f in declared.fields if f.name == declared.key]
        return self.dialect.ordered_string(key) if field.type is ir.Type.STRING else key

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
        is inside the window. The same MAX(time) / MIN(age) for every window: computed once."""
        condition = self._condition(unbounded, table, scanned)
        newest = self._where(lambda v: exp.Max(this=v), column(self.time, table), condition)
        youngest = self._where(lambda v: exp.Min(this=v), column(self.age, table), condition)
        window = count.filter.window
        some = (
            self._age_test(True, micros(window.max_age), newest, youngest)
            if window is not None and window.max_age != INFINITY
            else exp.Not(
                this=exp.Is(
                    this=youngest if self.bounds_from is None else newest, expression=exp.Null()
                )
            )
        )
        return exp.case().when(some, exp.Literal.number(1)).else_(exp.Literal.number(0))

    def _where(
        self,
        aggregate: Callable[[exp.Expression], exp.Expression],
        value: exp.Expression,
        condition: exp.Expression,
    ) -> exp.Expression:
        """aggregate(value) over the events that pass `condition` (TRUE: every scanned one)."""
        if condition == exp.Boolean(this=True):
            return aggregate(value)
        return self.dialect.only_when(aggregate, value, condition.copy())

    def _aggregate(
        self, aggregate: ir.AggregateNode, table: str, scanned: tuple[str, ...]
    ) -> exp.Expression:
        condition = self._condition(aggregate.filter, table, scanned)
        age = column(self.age, table)
        double = self.dialect.cast_double

        every = condition == exp.Boolean(this=True)  # every scanned event passes

        def where(
            make: Callable[[exp.Expression], exp.Expression], value: exp.Expression
        ) -> exp.Expression:
            return self._where(make, value, condition)

        def distinct(value: exp.Expression) -> exp.Expression:
            return exp.Count(this=exp.Distinct(expressions=[value]))

        def total(value: exp.Expression) -> exp.Expression:
            return exp.Sum(this=value)

        match aggregate:
            case ir.Count():
                return exp.Count(this=exp.Star()) if every else self.dialect.count_if(condition)
            case ir.CountDistinct(prop=prop):
                return where(distinct, self._prop(prop, aggregate.filter.types, table))
            case ir.Sum(prop=prop):
                return where(total, double(self._prop(prop, aggregate.filter.types, table)))
            case ir.Last():
                return where(lambda v: exp.Min(this=v), age)
            case ir.First():
                return where(lambda v: exp.Max(this=v), age)
            case ir.DecayedSum(half_life=half_life):
                exponent = exp.Div(
                    this=double(age), expression=double(number(micros(half_life))), typed=True
                )
                return where(total, exp.Pow(this=double(number(0.5)), expression=exponent))
            case ir.LinearDecaySum(percent=percent, period=period):
                periods = double(self.dialect.floor_div(age, number(micros(period))))
                step = exp.Mul(this=double(number(percent / 100)), expression=periods)
                weight = exp.Sub(this=double(number(1)), expression=step)
                above = exp.GT(this=weight, expression=exp.Literal.number(0))
                positive = above if every else exp.and_(condition.copy(), above)
                return self.dialect.only_when(total, weight.copy(), positive)
            case ir.PeriodCount(period=period):
                return where(distinct, self.dialect.floor_div(age, number(micros(period))))
        raise ValueError(f"unknown aggregate {type(aggregate).__name__}")
