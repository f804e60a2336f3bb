"""The event side of the plan: one scan of the events table, one GROUP BY lead.

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
are filled in by the caller's LEFT JOINs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from ...compiler import ir
from ...compiler.sources import SourceMapping
from .dialects import Dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, when_true
from .names import Names, column, ident
from .relations import source_table

INFINITY = float("inf")
# Bits 0..30 of a column of flags: their sum fits a 32-bit integer in every engine.
FLAG_BITS = 31
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


def _plus(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return exp.Add(this=left, expression=right)


def _windowed(aggregates: list[ir.AggregateNode]) -> bool:
    return any(f.window is not None for a in aggregates for f in ir.event_filters(a))


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
    `count(E) > 0`): such a count may be computed as 0 or as any positive number."""
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


def _flag_groups(
    existence: set[str], plain: list[ir.AggregateNode], shared: dict[str, ir.EventFilter]
) -> list[list[ir.Count]]:
    """The other existence counts, FLAG_BITS to a group: each group is one BIT_OR over a sum
    of distinct bits, one per count, instead of one COUNT per count (an aggregate less to
    update per event: 10% of the whole query, DuckDB and Postgres). None for a single one."""
    flags = [
        a for a in plain if isinstance(a, ir.Count) and a.id in existence and a.id not in shared
    ]
    if len(flags) < 2:
        return []
    return [flags[i : i + FLAG_BITS] for i in range(0, len(flags), FLAG_BITS)]


def _shared_youngest(
    existence: set[str], plain: list[ir.AggregateNode]
) -> dict[str, ir.EventFilter]:
    """Existence counts that differ only in how far back they look (`no activity within
    30d`, `... 60d`, ...): each is "the youngest such event is younger than D", so one
    MIN(age) serves them all. Returns id -> the filter without its window."""
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
        pinned: datetime | None = None,
    ):
        """`pinned`: as_of as a naive UTC datetime, if the query is for one instant."""
        self.model, self.dialect, self.mapping, self.as_of_us = model, dialect, mapping, as_of_us
        self.cte_names = cte_names
        # What instant window bounds count back from, if anything (else windows test ages):
        # a pinned as_of, read as an untyped literal; for a view of "now", the query's now in
        # the event-time column's type, when the mapping knows that type.
        self.bounds_from: datetime | exp.Expression | None = None
        if dialect.reads_untyped_instants:
            if pinned is not None:
                self.bounds_from = pinned
            elif mapping.event_time_zoned is not None:
                self.bounds_from = dialect.now_as(zoned=mapping.event_time_zoned)
        self.columns = Names(dialect)
        self.lead = self.columns.fresh("lead_key")
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

    def plan(self) -> EventPlan:
        """The per-event aggregates over one scan; sequences over a second, smaller one."""
        ctes: list[tuple[str, exp.Select]] = []
        results: list[AggregateCte] = []
        plain = [a for a in self.model.aggregates if not isinstance(a, ir.Sequence)]
        sequences = [a for a in self.model.aggregates if isinstance(a, ir.Sequence)]
        if plain:
            types = self.model.event_types_read(plain)
            scan = self.cte_names.fresh("scan")
            existence = _existence_counts(self.model)
            shared = _shared_youngest(existence, plain)
            ctes.append(
                (
                    scan,
                    self._scan(types, ir.properties_read(plain), bool(shared) or _windowed(plain)),
                )
            )

            flag_groups = _flag_groups(existence, plain, shared)
            flagged = {a.id for group in flag_groups for a in group}

            def value(aggregate: ir.AggregateNode) -> exp.Expression:
                if aggregate.id in shared:
                    return self._some_within(aggregate, shared[aggregate.id], scan, types)
                return self._aggregate(aggregate, scan, types)

            cte, result = self._grouped(
                "agg",
                scan,
                [a for a in plain if a.id not in flagged],
                value,
                [[(a.id, self._condition(a.filter, scan, types)) for a in g] for g in flag_groups],
            )
            ctes.append(cte)
            results.append(result)
        if sequences:
            # The window sorts every row it reads: only the sequences' own event types.
            types = self.model.event_types_read(sequences)
            scan = self.cte_names.fresh("sequence_scan")
            ctes.append(
                (scan, self._scan(types, ir.properties_read(sequences), _windowed(sequences)))
            )
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
        flag_groups: Sequence[Sequence[tuple[str, exp.Expression]]] = (),
    ) -> tuple[tuple[str, exp.Select], AggregateCte]:
        """A CTE `prefix` with one row per lead of `source`, each aggregate's value, and per
        group of (existence count id, condition) a column of flags: bit i set if some event
        meets the i-th condition."""
        names = {a.id: self.columns.fresh("agg", a.id) for a in aggregates}
        lead = column(self.lead, source)
        select = exp.select(lead).from_(ident(source)).group_by(lead.copy())
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
        name = self.cte_names.fresh(prefix)
        return (name, select), AggregateCte(name, self.lead, names, bits)

    # ---- scan ------------------------------------------------------------------------------

    def _scan(self, types: tuple[str, ...], props: list[str], bounded: bool) -> exp.Select:
        """Events of these types at or before as_of, with their age in microseconds (and
        their time, if windows are `bounded` by instants)."""
        m = self.mapping
        alias = "e"
        time = column(m.event_time, alias)
        age = exp.Sub(this=self.as_of_us(), expression=self.dialect.source_epoch_us(time.copy()))
        instants = self.bounds_from is not None and bounded
        times = [exp.alias_(time.copy(), ident(self.time))] if instants else []
        select = (
            exp.select(
                exp.alias_(column(m.event_lead, alias), ident(self.lead)),
                exp.alias_(column(m.event_type, alias), ident(self.type)),
                exp.alias_(age, ident(self.age)),
                *times,
                *(exp.alias_(column(m.column(p), alias), ident(self.props[p])) for p in props),
            )
            .from_(source_table(m, m.events_table, alias))
            .where(_is_type(column(m.event_type, alias), types))
        )
        return select.where(self._age_test(False, 0, time, age))

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
            partition_by=[self._partition_key(table)],
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

    def _partition_key(self, table: str) -> exp.Expression:
        """The lead key, for the window's sort: a text key in code-point order (Postgres: C
        collation, a byte comparison instead of the locale's; the partitions are the same)."""
        lead = column(self.lead, table)
        (key,) = [f for f in self.model.lead_fields if f.name == self.model.key]
        return self.dialect.ordered_string(lead) if key.type is ir.Type.STRING else lead

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
