"""The SQL target: a renderer of the logical plan (compiler/plan.py) as one sqlglot SELECT
with one CTE per step (docs/architecture.md).

    [instants]  the instants, when the query evaluates several (every later step is per instant)
    scan -> agg                         one pass over events, one GROUP BY lead (aggregates.py)
    [sequence_scan -> sequenced -> sequence_agg]    the same for sequences, over their types only
    base        leads LEFT JOIN the aggs; aggregates of leads without events filled in (0, FALSE)
    points      one column per rule: its points after its own max (reset rules: fired)
    totals      per score: rules summed, group caps, reset
    [clamped]   per score with a clamp: the total clamped
    scored      per score: rounding (ir.round_score's steps)
    derived_N   composites, tiers, percentile tiers, matrices, flags, by dependency level
    [shifted_X] before a step reading shifted references: the same lead's row at the
                instant minus the shift, joined (the query then keeps the requested instants)

Each CTE selects the previous one's columns plus its own, so every later expression reads
names, never repeats a subexpression (where an engine would inline a step and recompute its
columns per use, the dialect fences it). The final SELECT lists exactly model.output_columns
(after the key, `as_of` when the query evaluates several instants). The scores' assembly is
compiler/assembly.py's, folded into sqlglot expressions (`_SqlAssembly`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from ...compiler import ir
from ...compiler.assembly import (
    CLAMP,
    GROUPS,
    RESET,
    ScoreAssembly,
    Stage,
    fold,
    in_cents,
    rule_points,
)
from ...compiler.plan import (
    INSTANT,
    AccountLookup,
    Group,
    Instants,
    Join,
    LeadInstant,
    OutputColumn,
    Plan,
    Project,
    Ranked,
    RollUp,
    RuleColumn,
    Scan,
    Shift,
    StageColumn,
    Step,
    Window,
    build_plan,
)
from ...compiler.plan_analysis import Derived
from ...compiler.sources import DEFAULT_SOURCES, ConfigError, SourceMapping
from .aggregates import AggregateCte, EventRenderer, InstantsCte
from .dialects import Dialect, get_dialect
from .errors import UnsupportedConstruct
from .expressions import ExpressionCompiler, Scope, number, round_half_away, when_true
from .names import Names, as_written, column, ident
from .relations import Relations, SchemaRelations
from .rollups import RollupRenderer

AsOf = datetime | Sequence[datetime] | LeadInstant | None
VIEW_SUFFIX = {ir.LEAD: "scores", ir.ACCOUNT: "account_scores"}  # `<model>_<suffix>`


@dataclass(frozen=True)
class View:
    name: str
    query: exp.Expression


def select_scores(
    model: ir.Model,
    dialect: str,
    *,
    as_of: AsOf = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
    relations: Relations | None = None,
) -> exp.Select:
    """One SELECT (with CTEs) giving one row per lead and exactly model.output_columns;
    `as_of` several instants: one row per lead and instant, with `as_of` after the key; a
    LeadInstant: each lead at its own instant, one row per lead whose column has a value.
    `relations` names the source tables (default: as the mapping says)."""
    target = target_of(dialect, mapping)
    return as_written(_render(model, target, as_of, mapping, relations).query(), target)


def select_account_scores(
    model: ir.Model,
    dialect: str,
    *,
    as_of: AsOf = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
    relations: Relations | None = None,
) -> exp.Select:
    """One SELECT giving one row per account (with or without leads) and exactly
    model.account_output_columns (with several instants, `as_of` after the key): the same
    plan as select_scores, read at its last account step."""
    if model.account is None:
        raise ValueError(f"model {model.name} declares no account")
    target = target_of(dialect, mapping)
    query = _render(model, target, as_of, mapping, relations).query(ir.ACCOUNT)
    return as_written(query, target)


def select_step(
    model: ir.Model,
    dialect: str,
    step: str,
    *,
    as_of: AsOf = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
) -> tuple[str, exp.Select]:
    """One step of the model's plan as its own SELECT, reading the steps it depends on by
    their names (the name of each step's relation is `step_relations`'s): with one view per
    step, in plan order, the last gives select_scores's columns (before rounding rule
    points; with shifted references, also the rows of the earlier instants they read,
    which select_scores drops: those whose `requested` column is false)."""
    target = target_of(dialect, mapping)
    builder = _render(model, target, as_of, mapping)
    return builder.step_ctes[step], as_written(builder.step_query(step), target)


def step_relations(
    model: ir.Model,
    dialect: str,
    *,
    as_of: AsOf = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
) -> list[tuple[str, str]]:
    """(plan step, the relation it is rendered as), in plan order."""
    builder = _render(model, target_of(dialect, mapping), as_of, mapping)
    return list(builder.step_ctes.items())


def _instants(as_of: AsOf) -> tuple[datetime, ...] | LeadInstant:
    if as_of is None:
        return ()
    if isinstance(as_of, LeadInstant):
        return as_of
    return (as_of,) if isinstance(as_of, datetime) else tuple(as_of)


def _render(
    model: ir.Model,
    target: Dialect,
    as_of: AsOf,
    mapping: SourceMapping,
    relations: Relations | None = None,
) -> _Builder:
    plan = build_plan(model, _instants(as_of))
    builder = _Builder(plan, target, mapping, relations or SchemaRelations(mapping))
    builder.render()
    return builder


def views_schema(dialect: str, mapping: SourceMapping, schema: str | None) -> str | None:
    """Where the views go: `schema` when given; in BigQuery, else the source dataset (a view
    named without a dataset cannot be created there either)."""
    if schema is None and dialect == "bigquery":
        return mapping.schema
    return schema


def target_of(dialect: str, mapping: SourceMapping) -> Dialect:
    """The dialect, spelling names as the source mapping asks (Snowflake: exact case or not)."""
    return get_dialect(dialect, exact_case=mapping.snowflake_exact_case)


def build_views(
    model: ir.Model,
    dialect: str,
    *,
    as_of: datetime | None = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
    relations: Relations | None = None,
) -> list[View]:
    """The views to create, in order: `<model>_scores`, then `<model>_account_scores` for a
    model with an account. `relations` names the tables they read (default: as the mapping
    says). Each view is the whole plan up to its entity's last step (the account view's
    lead steps are the lead view's, computed again when it is read)."""
    check_view_sources(dialect, mapping)
    target = target_of(dialect, mapping)
    builder = _render(model, target, as_of, mapping, relations)
    entities = [ir.LEAD] if model.account is None else [ir.LEAD, ir.ACCOUNT]
    views = []
    for entity in entities:
        name = f"{model.name}_{VIEW_SUFFIX[entity]}"
        Names(target, outputs=(name,))  # the view's own name must fit the target too
        views.append(View(name, as_written(builder.query(entity), target)))
    return views


def check_view_sources(dialect: str, mapping: SourceMapping) -> None:
    """A view BigQuery would refuse to create is a ConfigError saying what to set."""
    if dialect == "bigquery" and not mapping.schema:
        # "A reference inside of a view must be qualified with a dataset".
        raise ConfigError(
            "BigQuery views must name their source tables with a dataset (a view ignores the "
            'default dataset): set schema = "DATASET" (or "PROJECT.DATASET") under [sources] '
            "in scorelang.toml, or pass --source-schema DATASET"
        )


def union_all(selects: Iterable[exp.Query]) -> exp.Query:
    """Every row of every query, duplicates kept."""
    return functools.reduce(lambda a, b: exp.union(a, b, distinct=False), selects)


def _union_all(rows: list[exp.Select], alias: str) -> exp.Subquery:
    """Every row of `rows`, as a subquery named `alias`."""
    return exp.Subquery(this=union_all(rows), alias=ident(alias))


def _micros(seconds: float) -> exp.Expression:
    """A duration in whole microseconds, as an integer literal."""
    return exp.Literal.number(round(seconds * 1_000_000))


# The column of a score's stage held by a step before the score's own column.
_STAGE_PREFIX = {GROUPS: "unclamped", RESET: "unclamped", CLAMP: "clamped"}


class _SqlAssembly:
    """A score's assembly (compiler/assembly.py) as sqlglot expressions over `table`, whose
    columns hold each rule's points and the stages earlier steps computed."""

    def __init__(
        self,
        builder: _Builder,
        assembly: ScoreAssembly | None,
        table: str,
        compiler: ExpressionCompiler,
    ):
        self.builder, self.assembly, self.table, self.compiler = builder, assembly, table, compiler
        self.double = builder.dialect.cast_double

    def raw(self, rule: ir.PointsRule) -> exp.Expression:
        if isinstance(rule, ir.WhenRule):
            fired = when_true(self.compiler.condition(rule.condition))
            points = exp.case().when(fired, number(rule.points)).else_(exp.Literal.number(0))
            return self.double(points)
        quantity = self.compiler.number(rule.quantity)
        return exp.Mul(this=self.double(number(rule.points)), expression=quantity)

    def fired(self, rule: ir.ResetRule) -> exp.Expression:
        return column(rule.id, self.table)

    def points(self, rule: ir.PointsRule) -> exp.Expression:
        return column(rule.id, self.table)

    def stage(self, name: str) -> exp.Expression | None:
        assert self.assembly is not None
        held = self.builder.stage_columns.get((self.assembly.score.name, name))
        return None if held is None else column(held, self.table)

    def sum(self, terms: list[exp.Expression]) -> exp.Expression:
        return self.builder._sum(terms)

    def rule_cap(self, value: exp.Expression, bound: float, upper: bool) -> exp.Expression:
        cap = self.double(number(bound))
        inside = (exp.LT if upper else exp.GT)(this=value, expression=cap)
        return exp.case().when(inside, value.copy()).else_(cap.copy())

    def group_cap(self, value: exp.Expression, cap: float) -> exp.Expression:
        bound = self.double(number(cap))
        return (
            exp.case().when(exp.LT(this=bound, expression=value), bound.copy()).else_(value.copy())
        )

    def reset_if(self, value: exp.Expression, fired: list[exp.Expression]) -> exp.Expression:
        zero = self.double(exp.Literal.number(0))
        return exp.case().when(exp.or_(*fired), zero).else_(value)

    def clamp(self, value: exp.Expression, low: float, high: float) -> exp.Expression:
        lo, hi = self.double(number(low)), self.double(number(high))
        return (
            exp.case()
            .when(exp.LT(this=value, expression=lo), lo.copy())
            .when(exp.GT(this=value.copy(), expression=hi), hi.copy())
            .else_(value.copy())
        )

    def round(self, value: exp.Expression) -> exp.Expression:
        return round_half_away(self.builder.dialect, value, 2)


class _Builder:
    """Renders a plan as CTEs, one per step, each named after its step."""

    def __init__(self, plan: Plan, dialect: Dialect, mapping: SourceMapping, relations: Relations):
        model = plan.model
        self.plan, self.model, self.dialect, self.mapping = plan, model, dialect, mapping
        self.relations = relations
        # Output names are one namespace across entities; the keys may share a name.
        outputs = (*model.output_columns, *model.account_output_columns)
        self.names = Names(dialect, outputs=tuple(dict.fromkeys(outputs)))
        sources = (mapping.leads_table, mapping.events_table)
        if model.account is not None:
            sources += (mapping.entity(ir.ACCOUNT).table,)
        self.cte_names = Names(dialect, reserved=sources)
        joins = [s for s in plan.steps if isinstance(s, Join)]
        self.fields = {model.key: model.key} | {
            name: self.names.fresh("lead", name) for name in joins[0].fields if name != model.key
        }
        # An account's fields: its own in the account steps, its leads' account's in theirs.
        self.account_fields = {
            name: self.names.fresh("account", name)
            for join in joins
            for name in (*join.account_fields, *(join.fields if join.entity == ir.ACCOUNT else ()))
        }
        self.aggregates = {a.id: self.names.fresh("agg", a.id) for a in model.aggregates}
        self.rollups = RollupRenderer(self, self.names) if model.account is not None else None
        self.instants: InstantsCte | None = None
        if not plan.single_instant:
            if INSTANT in model.output_columns:
                raise ValueError(
                    f"an output is named `{INSTANT}`, the column of the instant when a query "
                    "evaluates several: rename it"
                )
            per_lead = plan.per_entity is not None
            self.instants = InstantsCte(
                self.cte_names.fresh("instants"),
                self.names.fresh("as_of_us"),
                INSTANT,
                self.names.fresh("instant_lead") if per_lead else None,
                self.names.fresh("own_as_of_us") if per_lead and plan.shifts else None,
            )
        # With shifts, whether a row's instant was asked for (the others are read, not output).
        self.requested = self.names.fresh("requested") if plan.shifts else None
        self.shifted: dict[ir.Reference, str] = {}  # shifted reference -> its column
        self.ctes: list[tuple[str, exp.Select]] = []
        self.step_ctes: dict[str, str] = {}  # plan step -> its CTE
        self.stages: set[str] = set()  # per-lead CTEs whose columns later ones read again
        self.stage_columns: dict[tuple[str, str], str] = {}  # (score, assembly stage) -> column

    @property
    def pinned(self) -> datetime | None:
        """as_of as naive UTC, if the query is for one pinned instant."""
        return self.plan.instants[0] if len(self.plan.instants) == 1 else None

    def as_of_us(self, table: str) -> exp.Expression:
        """The instant's microseconds, for a row of `table`."""
        if self.instants is not None:
            return column(self.instants.column, table)
        if self.pinned is None:
            return self.dialect.once(self.dialect.epoch_us(exp.CurrentTimestamp()))
        return self.dialect.epoch_us(self.dialect.pinned_instant(self.pinned))

    def compiler(self, table: str, entity: str = ir.LEAD) -> ExpressionCompiler:
        """Expressions over a row of `table`, one of `entity`'s steps."""
        own_key = self.model.account.key if entity == ir.ACCOUNT and self.model.account else None

        def account_field(name: str) -> exp.Expression:
            return column(name if name == own_key else self.account_fields[name], table)

        if entity == ir.ACCOUNT:
            assert self.rollups is not None

            def lead_field(name: str) -> exp.Expression:
                raise UnsupportedConstruct(
                    "E504", f"lead field {name} outside a roll-up", self.dialect.name
                )

            scope = Scope(
                lead_field=lead_field,
                aggregate=lambda id: column(self.aggregates[id], table),
                output=lambda name: column(name, table),
                account_field=account_field,
                rollup=lambda node: column(self.rollups.columns[node], table),  # type: ignore[union-attr]
            )
        else:
            scope = Scope(
                lead_field=lambda name: column(self.fields[name], table),
                aggregate=lambda id: column(self.aggregates[id], table),
                output=lambda name: column(name, table),
                shifted=lambda ref: column(self.shifted[ref], table),
                account_field=account_field,
            )
        return ExpressionCompiler(self.dialect, scope, lambda: self.as_of_us(table))

    def stage(self, name: str, columns: Iterable[tuple[str, exp.Expression]], previous: str) -> str:
        """A CTE selecting `previous`'s columns and these."""
        cte = self.cte_names.fresh(name)
        every = exp.Column(this=exp.Star(), table=ident(previous))
        added = (exp.alias_(value, ident(alias)) for alias, value in columns)
        select = exp.select(every, *added).from_(ident(previous))
        self.ctes.append((cte, select))
        self.stages.add(cte)
        return cte

    # ---- the plan -------------------------------------------------------------------------

    def render(self) -> None:
        """Every step of the plan as a CTE, in order."""
        events = EventRenderer(
            self.model,
            self.dialect,
            self.mapping,
            self.relations,
            self.as_of_us,
            self.instants,
            self._instant_bounds() and (self.pinned or True),
        )
        scanned: dict[str, tuple[str, ...]] = {}  # step -> the event types its rows have
        nearest: dict[str, str] = {}
        results: dict[str, AggregateCte] = {}  # grouped step -> its CTE
        for step in self.plan.steps:
            match step:
                case Instants():
                    assert self.instants is not None
                    select = self._lead_instants(step) if step.per_entity else self._instants(step)
                    self.ctes.append((self.instants.name, select))
                    self.step_ctes[step.name] = self.instants.name
                case Scan():
                    self._add(step, events.scan(step))
                    scanned[step.name] = step.types
                case Window():
                    (source,) = step.inputs
                    select, nearest = events.window(step, self.step_ctes[source], scanned[source])
                    self._add(step, select)
                    scanned[step.name] = scanned[source]
                case Group():
                    (source,) = step.inputs
                    name = self.cte_names.fresh(step.name)
                    select, result = events.group(
                        step, self.step_ctes[source], name, scanned[source], nearest
                    )
                    self._add(step, select, name)
                    results[step.name] = result
                case Join():
                    grouped = [results[i] for i in step.inputs if i in results]
                    self._add(step, self._join(step, grouped))
                    if step.entity == ir.ACCOUNT and not step.fields:
                        self.stages.add(self.step_ctes[step.name])
                case Shift():
                    self._add(step, self._shift(step))
                    self.stages.add(self.step_ctes[step.name])
                case Project():
                    self._project(step)
                case Ranked():
                    assert self.rollups is not None
                    (source,) = step.inputs
                    self._add(step, self.rollups.ranked(step, self.step_ctes[source]))
                case RollUp():
                    assert self.rollups is not None
                    name = self.cte_names.fresh(step.name)
                    (source,) = step.inputs
                    select, result = self.rollups.rollup(step, self.step_ctes[source], name)
                    self._add(step, select, name)
                    results[step.name] = result
                case AccountLookup():
                    self._add(step, self._lookup(step))
                    self.stages.add(self.step_ctes[step.name])

    def _instant_bounds(self) -> bool:
        """The plan's single-instant rewrite applied (compiler/plan.pin_single_instant)."""
        return all(s.instant_bounds for s in self.plan.steps if isinstance(s, Scan))

    def _add(self, step: Step, select: exp.Select, name: str | None = None) -> None:
        name = name or self.cte_names.fresh(step.name)
        self.ctes.append((name, select))
        self.step_ctes[step.name] = name

    def query(self, entity: str = ir.LEAD) -> exp.Select:
        """The whole plan as one SELECT: its CTEs (up to the entity's last step), then exactly
        the entity's output columns."""
        final = self.step_ctes[self.plan.final(entity).name]
        # A rule's points already in cents (integer points, counts) are output as they are.
        points = {
            r.id
            for score in self.model.scores
            for r in score.rules
            if not isinstance(r, ir.ResetRule) and not in_cents(r)
        }
        outputs = [
            exp.alias_(round_half_away(self.dialect, column(name, final), 2), ident(name))
            if name in points
            else column(name, final)
            for name in self.model.columns_of(entity)
        ]
        if self.plan.several_output:
            assert self.instants is not None
            instant = column(self.instants.timestamp, final)
            outputs.insert(1, exp.alias_(instant, ident(INSTANT)))
        select = exp.select(*outputs).from_(ident(final))
        if self.requested is not None:
            select = select.where(column(self.requested, final))
        needed = [name for name, _ in self.ctes].index(final) + 1
        for name, query in self.ctes[:needed]:
            if name in self.stages:
                query = self.dialect.fence(query)
            # Each CTE copied once: with_'s default copies the growing SELECT every time.
            select = select.with_(ident(name), as_=query.copy(), copy=False)
        return select

    def step_query(self, step: str) -> exp.Select:
        """One step as its own SELECT, reading its inputs by their names."""
        cte = self.step_ctes[step]
        return next(query for name, query in self.ctes if name == cte)

    def _instants(self, step: Instants) -> exp.Select:
        """One row per instant: its epoch microseconds and the instant itself (and, with
        shifts, whether it was asked for; the query's now minus a shift has no timestamp,
        never output)."""
        assert self.instants is not None
        d, names = self.dialect, self.instants
        if step.instants:
            values = [
                (d.epoch_us(d.pinned_instant(i)), d.pinned_instant(i), asked)
                for i, asked in step.rows()
            ]
        else:
            now = d.once(d.epoch_us(exp.CurrentTimestamp()))
            values = [(now, exp.CurrentTimestamp(), True)] + [
                (exp.Sub(this=now.copy(), expression=_micros(s)), exp.Null(), False)
                for s in step.shifts
            ]
        rows = []
        for us, timestamp, asked in values:
            row = exp.select(
                exp.alias_(us, ident(names.column)), exp.alias_(timestamp, ident(names.timestamp))
            )
            if self.requested is not None:
                row = row.select(exp.alias_(exp.Boolean(this=asked), ident(self.requested)))
            rows.append(row)
        return exp.select(exp.Star()).from_(_union_all(rows, "i"))

    def _lead_instants(self, step: Instants) -> exp.Select:
        """One row per lead whose column has a value: its instant, the column plus the offset
        (and, with shifts, its instant minus each shift, not asked for)."""
        assert self.instants is not None and step.per_entity is not None
        m, names, offset = self.mapping, self.instants, step.per_entity.offset
        assert names.lead is not None
        time = column(m.column(step.per_entity.column), "l")
        own = self.dialect.source_epoch_us(time.copy())
        if offset:
            own = (exp.Add if offset > 0 else exp.Sub)(this=own, expression=_micros(abs(offset)))
        lead = column(m.column(self.model.key), "l")
        select = (
            exp.select(exp.alias_(lead, ident(names.lead)), exp.alias_(own, ident(names.column)))
            .from_(self.relations.source(m.leads_table, "l"))
            .where(exp.Not(this=exp.Is(this=time, expression=exp.Null())))
        )
        if not step.shifts:
            return select
        assert names.own is not None and self.requested is not None
        shift_us = self.names.fresh("shift_us")
        shifts = [
            exp.select(
                exp.alias_(_micros(shift), ident(shift_us)),
                exp.alias_(exp.Boolean(this=shift == 0), ident(self.requested)),
            )
            for shift in (0.0, *step.shifts)
        ]
        earlier = exp.Sub(this=column(names.column, "o"), expression=column(shift_us, "s"))
        return (
            exp.select(
                column(names.lead, "o"),
                exp.alias_(earlier, ident(names.column)),
                exp.alias_(column(names.column, "o"), ident(names.own)),
                column(self.requested, "s"),
            )
            .from_(exp.Subquery(this=select, alias=ident("o")))
            .join(_union_all(shifts, "s"), join_type="CROSS")
        )

    def _join(self, step: Join, results: list[AggregateCte]) -> exp.Select:
        """The entity's rows (from its source table, or from an earlier step's rows), LEFT
        JOIN the grouped inputs, aggregates and roll-ups filled in."""
        m, alias, at = self.mapping, "l", "i"
        if step.entity == ir.LEAD:
            key = self.model.key
            select = exp.select(
                *(exp.alias_(column(m.column(f), alias), ident(c)) for f, c in self.fields.items())
            ).from_(self.relations.source(m.leads_table, alias))
            select = self._with_account_fields(select, step, alias)
        elif step.fields:
            key = step.fields[0]
            columns = {key: key} | {f: self.account_fields[f] for f in step.fields[1:]}
            select = exp.select(
                *(
                    exp.alias_(column(m.entity_column(ir.ACCOUNT, f), alias), ident(c))
                    for f, c in columns.items()
                )
            ).from_(self.relations.source(m.entity(ir.ACCOUNT).table, alias))
        else:  # an earlier account phase's rows: their instants already there
            key = self.model.entity(ir.ACCOUNT).key
            select = exp.select(exp.Column(this=exp.Star(), table=ident(alias))).from_(
                exp.Table(
                    this=ident(self.step_ctes[step.inputs[0]]),
                    alias=exp.TableAlias(this=ident(alias)),
                )
            )
            at = alias
        if self.instants is not None and at != alias:
            instants = self.instants
            lead_key = column(m.column(self.model.key), alias)  # per-lead instants: leads only
            select = instants.joined(select, at, lead_key).select(column(instants.column, at))
            # Per lead, the instant's own timestamp is not output; its own instant partitions.
            kept = instants.own if instants.lead else instants.timestamp
            if kept is not None:
                select = select.select(column(kept, at))
            if self.requested is not None:
                select = select.select(column(self.requested, at))
        raws: dict[str, exp.Expression] = {}
        own_key = column(m.entity_column(step.entity, key) if step.fields else key, alias)
        for result in results:
            on = exp.EQ(this=own_key.copy(), expression=column(result.lead_column, result.name))
            if self.instants is not None:
                same = exp.EQ(
                    this=column(self.instants.column, at),
                    expression=column(self.instants.column, result.name),
                )
                on = exp.and_(on, same)
            select = select.join(exp.Table(this=ident(result.name)), on=on, join_type="LEFT")
            raws |= result.values()
        for aggregate in step.aggregates:
            filled = self._filled(aggregate, raws[aggregate.id], at)
            select = select.select(exp.alias_(filled, ident(self.aggregates[aggregate.id])))
        if step.rollups or step.rolled_aggregates:
            assert self.rollups is not None
            (rolled,) = (r for r in results if r.name == self.rollups.cte)
            names = {node: self.rollups.columns[node] for node in step.rollups}
            names |= {a: self.aggregates[a.id] for a in step.rolled_aggregates}
            for node, name in names.items():
                filled = self.rollups.filled(node, column(name, rolled.name))
                select = select.select(exp.alias_(filled, ident(name)))
        return select

    def _with_account_fields(self, select: exp.Select, step: Join, leads: str) -> exp.Select:
        """The lead rows with their account's fields that lead outputs read (missing without
        an account: a LEFT JOIN on the lead's account key)."""
        if not step.account_fields:
            return select
        m, alias = self.mapping, "a"
        account = self.model.entity(ir.ACCOUNT)
        assert self.model.account_link is not None
        on = exp.EQ(
            this=column(m.column(self.model.account_link), leads),
            expression=column(m.entity_column(ir.ACCOUNT, account.key), alias),
        )
        table = self.relations.source(m.entity(ir.ACCOUNT).table, alias)
        select = select.join(table, on=on, join_type="LEFT")
        for name in step.account_fields:
            value = column(m.entity_column(ir.ACCOUNT, name), alias)
            select = select.select(exp.alias_(value, ident(self.account_fields[name])))
        return select

    def _lookup(self, step: AccountLookup) -> exp.Select:
        """The lead rows with their account's outputs: missing without an account (a flag:
        False, as the IR reads a flag of no account)."""
        leads, accounts = (self.step_ctes[i] for i in step.inputs)
        key = self.model.entity(ir.ACCOUNT).key
        assert self.model.account_link is not None
        on = exp.EQ(
            this=column(self.fields[self.model.account_link], "c"),
            expression=column(key, "a"),
        )
        if self.instants is not None:
            us = self.instants.column
            on = exp.and_(on, exp.EQ(this=column(us, "c"), expression=column(us, "a")))
        select = (
            exp.select(exp.Column(this=exp.Star(), table=ident("c")))
            .from_(exp.Table(this=ident(leads), alias=exp.TableAlias(this=ident("c"))))
            .join(
                exp.Table(this=ident(accounts), alias=exp.TableAlias(this=ident("a"))),
                on=on,
                join_type="LEFT",
            )
        )
        flags = {f.name for f in self.model.flags}
        for name in step.outputs:
            value: exp.Expression = column(name, "a")
            if name in flags:
                value = exp.Coalesce(this=value, expressions=[exp.Boolean(this=False)])
            select = select.select(exp.alias_(value, ident(name)))
        return select

    def _shift(self, step: Shift) -> exp.Select:
        """The input's rows, each with the shifted references' values from the row of the
        same entity at its instant minus the shift (none for an instant not evaluated)."""
        assert self.instants is not None
        (source,) = step.inputs
        table, key, us = self.step_ctes[source], self.model.key, self.instants.column
        select = exp.select(exp.Column(this=exp.Star(), table=ident("c"))).from_(
            exp.Table(this=ident(table), alias=exp.TableAlias(this=ident("c")))
        )
        earlier: dict[float, str] = {}
        for ref in step.references:
            if ref.shift not in earlier:
                alias = earlier[ref.shift] = f"s{len(earlier)}"
                before = exp.Sub(this=column(us, "c"), expression=_micros(ref.shift))
                on = exp.and_(
                    exp.EQ(this=column(key, alias), expression=column(key, "c")),
                    exp.EQ(this=column(us, alias), expression=before),
                )
                select = select.join(
                    exp.Table(this=ident(table), alias=exp.TableAlias(this=ident(alias))),
                    on=on,
                    join_type="LEFT",
                )
            name = ir.referenced(ref)
            read = self.aggregates[name] if isinstance(ref, ir.AggregateRef) else name
            self.shifted[ref] = self.names.fresh("shifted", f"{name}_{ref.shift:g}")
            select = select.select(
                exp.alias_(column(read, earlier[ref.shift]), ident(self.shifted[ref]))
            )
        return select

    def _filled(self, aggregate: ir.AggregateNode, raw: exp.Expression, at: str) -> exp.Expression:
        """An aggregate's value for every lead: 0 / FALSE without events, epoch µs for times."""
        if isinstance(aggregate, ir.Last | ir.First):
            return exp.Sub(this=self.as_of_us(at), expression=raw)  # raw is the age in µs
        empty = (
            exp.Boolean(this=False) if isinstance(aggregate, ir.Sequence) else exp.Literal.number(0)
        )
        return exp.Coalesce(this=raw, expressions=[empty])

    def _project(self, step: Project) -> None:
        table = self.step_ctes[step.inputs[0]]
        compiler = self.compiler(table, step.entity)
        columns = []
        for item in step.columns:
            match item:
                case RuleColumn(rule=rule):
                    try:
                        columns.append((rule.id, self._rule(rule, compiler)))
                    except UnsupportedConstruct as refusal:
                        raise refusal.at(rule.span) from None
                case StageColumn(assembly=assembly, stage=stage, output=output):
                    score = assembly.score.name
                    name = score if output else self.names.fresh(_STAGE_PREFIX[stage], score)
                    # An earlier step's column, if one holds the stage; else computed here.
                    algebra = _SqlAssembly(self, assembly, table, compiler)
                    value = fold(assembly, algebra, Stage(stage))
                    columns.append((name, value))
                case OutputColumn(output=output):
                    columns.append((output.name, self._output(output, compiler, table)))
        for item, (name, _) in zip(step.columns, columns, strict=True):
            if isinstance(item, StageColumn):
                self.stage_columns[(item.assembly.score.name, item.stage)] = name
        self.step_ctes[step.name] = self.stage(step.name, columns, table)

    def _rule(
        self, rule: ir.PointsRule | ir.ResetRule, compiler: ExpressionCompiler
    ) -> exp.Expression:
        if isinstance(rule, ir.ResetRule):
            return compiler.condition(rule.condition)
        algebra = _SqlAssembly(self, None, "", compiler)
        return fold(None, algebra, rule_points(rule))

    def _sum(self, terms: Iterable[exp.Expression]) -> exp.Expression:
        """a + b + c, left to right like Python's addition; 0 for no terms."""
        items = list(terms) or [self.dialect.cast_double(exp.Literal.number(0))]
        total = items[0]
        for term in items[1:]:
            total = exp.Add(this=total, expression=term)
        return total

    # ---- composites, tiers, matrices, flags -----------------------------------------------

    def _output(self, node: Derived, compiler: ExpressionCompiler, table: str) -> exp.Expression:
        match node:
            case ir.Composite(expr=expr):
                return round_half_away(self.dialect, compiler.number(expr), 2)
            case ir.Tier(source=source, bands=bands):
                score = compiler.value(ir.ScoreRef(source))
                return self._bands(
                    score,
                    bands,
                    lambda bound: exp.GTE(
                        this=score.copy(), expression=self.dialect.cast_double(number(bound))
                    ),
                )
            case ir.PercentileTier(source=source, bands=bands):
                score = compiler.value(ir.ScoreRef(source))
                return self._percentile(score, bands, compiler, table)
            case ir.Matrix():
                return self._matrix(node, compiler)
            case ir.Flag(condition=condition, needs_bands=needs):
                known = [
                    exp.Not(this=exp.Is(this=compiler.value(ir.TierRef(p)), expression=exp.Null()))
                    for p in needs
                ]
                return (
                    exp.and_(*known, compiler.condition(condition))
                    if known
                    else compiler.condition(condition)
                )
        raise ValueError(f"unknown output {node!r}")

    def _bands(self, score: exp.Expression, bands, reaches) -> exp.Expression:
        """First band whose bound the score reaches; NULL for a missing score."""
        case = exp.case().when(exp.Is(this=score.copy(), expression=exp.Null()), exp.Null())
        for label, bound in bands:
            if bound is None:
                return case.else_(exp.Literal.string(label))
            case = case.when(reaches(bound), exp.Literal.string(label))
        return case

    def _percentile(
        self, score: exp.Expression, bands, compiler: ExpressionCompiler, table: str
    ) -> exp.Expression:
        """ir.PercentileTier: g leads strictly greater, N leads with a score: g * 100 < X * N
        (among the leads at the same instant; per lead, that also share their own instant)."""
        order = exp.Order(
            expressions=[exp.Ordered(this=score.copy(), desc=True, nulls_first=False)]
        )
        by = [compiler.as_of_us()] if self.instants is not None else None
        if by and self.instants and self.instants.own:
            by.insert(0, column(self.instants.own, table))
        rank = exp.Window(this=exp.Rank(), partition_by=by, order=order, over="OVER")
        greater = exp.Sub(this=rank, expression=exp.Literal.number(1))
        scored = exp.Window(
            this=exp.Count(this=score.copy()),
            partition_by=[b.copy() for b in by] if by else None,
            over="OVER",
        )

        def reaches(top: float) -> exp.Expression:
            share = exp.Mul(this=self.dialect.cast_double(number(top)), expression=scored.copy())
            return exp.LT(
                this=exp.Mul(
                    this=exp.Paren(this=greater.copy()), expression=exp.Literal.number(100)
                ),
                expression=share,
            )

        return self._bands(score, bands, reaches)

    def _matrix(self, matrix: ir.Matrix, compiler: ExpressionCompiler) -> exp.Expression:
        rows = compiler.value(ir.TierRef(matrix.rows))
        columns = compiler.value(ir.TierRef(matrix.columns))
        case = exp.case()
        for i, row in enumerate(matrix.row_labels):
            for j, col in enumerate(matrix.column_labels):
                cell = exp.and_(
                    exp.EQ(this=rows.copy(), expression=exp.Literal.string(row)),
                    exp.EQ(this=columns.copy(), expression=exp.Literal.string(col)),
                )
                case = case.when(cell, exp.Literal.string(f"{chr(ord('A') + i)}{j + 1}"))
        return case
