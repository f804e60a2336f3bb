"""The intermediate representation every target consumes: what to aggregate per lead and
what each rule awards. Names are resolved, constants and segments inlined, types known.

Semantics (docs/language.md is the user-facing statement of the same contract):

* **Point in time.** An evaluation has an instant `as_of` (UTC). An event's *age* is
  `as_of - at` in seconds. Events with age < 0 (after `as_of`) do not exist.
* **Windows.** `Window(min_age, max_age)` keeps events with `min_age <= age < max_age`
  (seconds). `within D` is `Window(0, D)`; `between D1 and D2 ago` is `Window(D1, D2)`;
  no window keeps every event with age >= 0.
* **Missing values.** A field, property or aggregate may be missing (None / NULL). Every
  predicate (`Compare`, `InList`, `Between`, `StringTest`, `Matches`) with a missing operand
  is False, never missing; `Not`, `And`, `Or` work on those two-valued results. Arithmetic
  and functions with a missing operand give missing; `x / 0` is missing.
* **Arithmetic** is IEEE double: integer operands are converted before `/`.
* **Aggregates** (one value per lead): `Count`, `CountDistinct`, `PeriodCount`,
  `DecayedSum`, `LinearDecaySum` and `Sum` are 0 for a lead with no matching event;
  `Last`/`First` are missing then; `Sequence` is False.
* **Entities.** What is scored: `Model.entities`, the lead and, when the model declares
  one, the account (each with its key and fields); every output and every aggregate belongs
  to one (`entity`). A lead's account is the account whose key equals the lead's
  `Model.account_link` field; a lead whose link is missing or names no account row has no
  account. An account may have no leads.
* **Accounts.** An account output reads its own fields (`AccountField`), roll-ups over its
  leads (`Rollup`), account aggregates (over the events of all its leads) and other account
  outputs. A lead output may read its account's fields and outputs (`AccountField`, and
  references to outputs whose `entity` is the account): missing when the lead has no
  account. Lead outputs a roll-up reads are computed before the account's outputs, and lead
  outputs reading account outputs after them (compiler.output_graph orders the outputs
  across entities; cycles are refused when checking).
* **Shifts.** A reference to an aggregate or an output may carry a `shift` (seconds, 0:
  now): it reads that value for the same lead evaluated at `as_of - shift` (events after
  that instant do not exist for it). What a shifted reference reads must not itself read a
  shifted value (compiler.plan refuses a shift of a shift).
* **Types and missingness.** Every expression carries its `type` and `may_be_missing`, so
  no target re-derives them (`Expr`).
* **Scores.** points of each rule (after its own `cap`), summed per group and capped at
  the group's `cap` (upper bound only), summed over the score; then 0 if any reset rule
  fired; then clamped; then rounded to 2 decimals half away from zero (`round_score`).
  Composite scores, tiers, matrices and flags see the rounded values.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from .ast import NO_SPAN, Span

LEAD = "lead"  # `lead { ... }`: every model has it
ACCOUNT = "account"  # `account { ... }`: optional; leads link to it through Model.account_link


class Type(enum.Enum):
    STRING = "string"
    INT = "int"
    NUMBER = "number"
    BOOL = "bool"
    TIMESTAMP = "timestamp"

    @property
    def numeric(self) -> bool:
        return self in (Type.INT, Type.NUMBER)


# Every double at least this large is a whole number: rounding leaves it as it is.
INTEGRAL = 2.0**52
_QUANTA = tuple(Decimal(1).scaleb(-digits) for digits in range(10))  # 1, 0.1, ... 1e-9


def round_score(value: float, digits: int = 2) -> float:
    """Round to 2 (or `digits`) decimals, half away from zero, after absorbing binary noise
    at 9 decimals.

    `0.285` is stored as 0.28499999999999998; a person expects 0.29. Every SQL target
    does the same: the double as DECIMAL(38, 9), then ROUND(_, 2) on the decimal.
    """
    if not abs(value) < INTEGRAL:  # already whole (or inf/nan): Decimal would overflow
        return float(value)
    nine = Decimal(repr(float(value))).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
    return float(nine.quantize(_QUANTA[digits], rounding=ROUND_HALF_UP))


# ---- expressions over one lead (and, inside event filters, one event) --------------------


@dataclass(frozen=True)
class Expr:
    """Every expression carries its `type` and whether it `may_be_missing`, so targets
    read them instead of re-deriving them. Leaves get both when built (references to
    outputs, missingness from lowering: compiler.outputs); inner nodes compute theirs from
    their operands when built, once."""

    # Computed by the node (__post_init__), or a keyword lowering sets from the model (the
    # references to outputs); never part of equality.
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)

    if TYPE_CHECKING:
        type: Type


@dataclass(frozen=True)
class Literal(Expr):
    value: str | int | float | bool
    type: Type


@dataclass(frozen=True)
class LeadField(Expr):
    """May be missing whatever the declaration: records reach the evaluator unchecked (test
    blocks, explain), and a missing required field must read as missing, not fail."""

    name: str
    type: Type
    may_be_missing: bool = field(default=True, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class AccountField(Expr):
    """A field of an account. Inside an account output, of the account being scored; inside a
    lead output, of the lead's account, missing when the lead has none. May be missing
    whatever the declaration, like `LeadField`."""

    name: str
    type: Type
    may_be_missing: bool = field(default=True, init=False, repr=False, compare=False)


ROLLUPS = ("sum", "max", "avg", "count", "count_distinct")


@dataclass(frozen=True)
class Rollup(Expr):
    """An aggregate over the leads of the account being scored (only inside account outputs).

    `value` and `where` are lead-context expressions (lead fields, lead outputs, lead
    aggregates), evaluated for each of the account's leads. A lead counts when `where` is
    absent or True. Then over the values of the leads that count, missing values ignored (as
    SQL aggregates do):

    * `sum`: their sum (0 when none; INT for an INT value, else NUMBER);
    * `max`: the largest (missing when none; the value's type);
    * `avg`: their mean (missing when none), or with `top` N the mean of the N largest (fewer
      when fewer; missing when none);
    * `count`: the number of leads that count (`value` is None: `count(leads where C)`);
    * `count_distinct`: the number of distinct non-missing values (0 when none).
    """

    func: str  # one of ROLLUPS
    value: Expr | None
    where: Expr | None = None
    top: int | None = None  # avg of the top N only
    type: Type = field(default=Type.NUMBER, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.func in ("count", "count_distinct"):
            kind = Type.INT
        elif self.func == "avg" or self.value is None:
            kind = Type.NUMBER
        else:
            kind = self.value.type
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "may_be_missing", self.func in ("max", "avg"))


@dataclass(frozen=True)
class EventProp(Expr):
    """A property of the event being filtered; only inside `EventFilter.where`. May be
    missing: optional, or not a property of every event type the filter reads."""

    name: str
    type: Type
    may_be_missing: bool = field(default=True, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class AggregateRef(Expr):
    """The value of `Model.aggregates[id]` for this lead (missing: Last/First of no event)."""

    id: str
    type: Type
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)
    shift: float = field(default=0, kw_only=True)  # seconds before as_of (ir docstring)

    def __post_init__(self) -> None:
        object.__setattr__(self, "may_be_missing", self.type is Type.TIMESTAMP)


@dataclass(frozen=True)
class ScoreRef(Expr):
    """A score's rounded value (rule-based or composite). The referenced output's `entity`
    says whose value it is: from a lead, an account output reads its account's value, missing
    when the lead has no account (lowering sets `may_be_missing`). The same holds for
    `TierRef`, `MatrixRef` and `FlagRef` (a flag of no account reads as False)."""

    name: str
    type: Type = field(default=Type.NUMBER, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=False, kw_only=True, repr=False, compare=False)
    shift: float = field(default=0, kw_only=True)


@dataclass(frozen=True)
class TierRef(Expr):
    """Missing outside a batch (a percentile tier) or when its score is."""

    name: str
    type: Type = field(default=Type.STRING, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=True, kw_only=True, repr=False, compare=False)
    shift: float = field(default=0, kw_only=True)


@dataclass(frozen=True)
class MatrixRef(Expr):
    name: str
    type: Type = field(default=Type.STRING, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=True, kw_only=True, repr=False, compare=False)
    shift: float = field(default=0, kw_only=True)


@dataclass(frozen=True)
class FlagRef(Expr):
    name: str
    type: Type = field(default=Type.BOOL, init=False, repr=False, compare=False)
    shift: float = field(default=0, kw_only=True)


Reference = AggregateRef | ScoreRef | TierRef | MatrixRef | FlagRef


def is_shifted(node: object) -> bool:
    """A reference read at an earlier instant than the evaluation's (`shift` > 0)."""
    return isinstance(node, Reference) and node.shift != 0


def referenced(node: Reference) -> str:
    """The aggregate's id or the output's name a reference reads."""
    return node.id if isinstance(node, AggregateRef) else node.name


@dataclass(frozen=True)
class Func(Expr):
    """lower(s), upper(s), len(s), email_domain(s) (the lower-cased part after the last
    `@`, missing without one), days_since(ts) (real days from ts to as_of), min(a, b, ...),
    max(a, b, ...) (missing if any argument is), abs(x), round(x, n) (half away from zero)."""

    name: str
    args: tuple[Expr, ...]
    type: Type
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = self.name == "email_domain" or any(a.may_be_missing for a in self.args)
        object.__setattr__(self, "may_be_missing", missing)


@dataclass(frozen=True)
class Arith(Expr):
    """Integer operands give an integer, except for `/`; `x / 0` is missing."""

    op: str  # + - * /
    left: Expr
    right: Expr
    type: Type = field(default=Type.NUMBER, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        integral = self.op != "/" and self.left.type is self.right.type is Type.INT
        object.__setattr__(self, "type", Type.INT if integral else Type.NUMBER)
        nonzero = isinstance(self.right, Literal) and self.right.value != 0
        missing = self.left.may_be_missing or (
            not nonzero if self.op == "/" else self.right.may_be_missing
        )
        object.__setattr__(self, "may_be_missing", missing)


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr
    type: Type = field(default=Type.NUMBER, init=False, repr=False, compare=False)
    may_be_missing: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", self.operand.type)
        object.__setattr__(self, "may_be_missing", self.operand.may_be_missing)


@dataclass(frozen=True)
class Predicate(Expr):
    """A condition: a predicate with a missing operand is False, never missing."""

    type: Type = field(default=Type.BOOL, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class Compare(Predicate):
    """`==`/`!=` on strings are exact; timestamps compare as instants."""

    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList(Predicate):
    """Membership in literal options; `not in` (negated) is False too when value is missing."""

    value: Expr
    options: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between(Predicate):
    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class StringTest(Predicate):
    op: str  # contains | starts_with | ends_with
    value: Expr
    operand: Expr


@dataclass(frozen=True)
class Matches(Predicate):
    """Unanchored, case-sensitive search with a pattern of the checker's portable subset
    (`/i` is already spelt out in it: compiler.regex.ascii_case_insensitive)."""

    value: Expr
    pattern: str


@dataclass(frozen=True)
class IsMissing(Predicate):
    operand: Expr
    negated: bool = False  # is present


@dataclass(frozen=True)
class And(Predicate):
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or(Predicate):
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not(Predicate):
    operand: Expr


def transform(node: Expr, change: Callable[[Expr], Expr]) -> Expr:
    """`node` rebuilt bottom-up with `change` applied to every subexpression (each node's
    derived type and missingness recomputed from its changed operands)."""
    changes: dict[str, object] = {}
    for f in fields(node):
        if not f.init:
            continue
        value = getattr(node, f.name)
        if isinstance(value, Expr):
            changes[f.name] = transform(value, change)
        elif isinstance(value, tuple) and value and all(isinstance(v, Expr) for v in value):
            changes[f.name] = tuple(transform(v, change) for v in value)
    rebuilt = replace(node, **changes) if changes else node
    return change(rebuilt)


def without_shifts(model: Model) -> Model:
    """`model` with every shifted reference reading the evaluation's own instant: what a
    shifted reference reads does not itself read shifted values (compiler.plan refuses a
    shift of a shift), so this model gives those values at any instant."""

    def now(node: Expr) -> Expr:
        return replace(node, shift=0) if is_shifted(node) else node

    def rule(r: PointsRule | ResetRule) -> PointsRule | ResetRule:
        if isinstance(r, EachRule):
            return replace(r, quantity=now(r.quantity))
        return replace(r, condition=transform(r.condition, now))

    def score(s: Score) -> Score:
        items = tuple(
            replace(i, rules=tuple(rule(r) for r in i.rules)) if isinstance(i, Group) else rule(i)
            for i in s.items
        )
        return replace(s, items=items, resets=tuple(rule(r) for r in s.resets))

    return replace(
        model,
        scores=tuple(score(s) for s in model.scores),
        composites=tuple(replace(c, expr=transform(c.expr, now)) for c in model.composites),
        flags=tuple(replace(f, condition=transform(f.condition, now)) for f in model.flags),
    )


# ---- per-lead aggregates over events -----------------------------------------------------


@dataclass(frozen=True)
class Window:
    min_age: float  # seconds, inclusive
    max_age: float  # seconds, exclusive


@dataclass(frozen=True)
class EventFilter:
    """Events of these types (all declared types for `activity`), at or before as_of,
    whose properties satisfy `where`, inside `window`."""

    types: tuple[str, ...]
    where: Expr | None = None
    window: Window | None = None


@dataclass(frozen=True)
class Aggregate:
    """One value per entity over events: a lead aggregate reads the lead's events, an
    account aggregate (`entity` ACCOUNT) the events of all the account's leads (0 or missing,
    as for a lead without events, for an account without leads or events)."""

    id: str
    entity: str = field(default=LEAD, kw_only=True)


@dataclass(frozen=True)
class Count(Aggregate):
    filter: EventFilter


@dataclass(frozen=True)
class CountDistinct(Aggregate):
    """Distinct non-missing values of one property."""

    filter: EventFilter
    prop: str


@dataclass(frozen=True)
class Sum(Aggregate):
    """Sum of one numeric property; missing values are skipped."""

    filter: EventFilter
    prop: str


@dataclass(frozen=True)
class Last(Aggregate):
    """Latest event time, missing if none."""

    filter: EventFilter


@dataclass(frozen=True)
class First(Aggregate):
    """Earliest event time, missing if none."""

    filter: EventFilter


@dataclass(frozen=True)
class DecayedSum(Aggregate):
    """Sum over events of 0.5 ** (age / half_life)."""

    filter: EventFilter
    half_life: float  # seconds


@dataclass(frozen=True)
class LinearDecaySum(Aggregate):
    """Sum over events of max(0, 1 - percent / 100 * floor(age / period))."""

    filter: EventFilter
    percent: float
    period: float  # seconds


@dataclass(frozen=True)
class PeriodCount(Aggregate):
    """Number of distinct periods floor(age / period) holding at least one event: at most
    one award per period, periods counted back from as_of (`once per D`)."""

    filter: EventFilter
    period: float  # seconds


@dataclass(frozen=True)
class Sequence(Aggregate):
    """True if some event a of `first` and b of `second` have a.at <= b.at <= a.at + gap
    (the same event may be both a and b when it matches both filters)."""

    first: EventFilter
    second: EventFilter
    gap: float  # seconds


AggregateNode = (
    Count
    | CountDistinct
    | Sum
    | Last
    | First
    | DecayedSum
    | LinearDecaySum
    | PeriodCount
    | Sequence
)


def event_filters(aggregate: AggregateNode) -> tuple[EventFilter, ...]:
    """The filters an aggregate reads events through: a sequence has two."""
    if isinstance(aggregate, Sequence):
        return (aggregate.first, aggregate.second)
    return (aggregate.filter,)


def subexpressions(node: object) -> Iterator[Expr]:
    """Every expression inside `node` (itself included; an expression, a declaration, or a
    tuple or list of them), depth first."""
    if isinstance(node, Expr):
        yield node
    if isinstance(node, tuple | list):
        for item in node:
            yield from subexpressions(item)
    elif is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            yield from subexpressions(getattr(node, f.name))


def properties_read(
    aggregates: Iterable[AggregateNode], event_type: str | None = None
) -> list[str]:
    """The event properties these aggregates read (of events of `event_type`, if given), first
    use first: the columns a scan of events for them selects."""
    used: dict[str, None] = {}
    for aggregate in aggregates:
        if isinstance(aggregate, CountDistinct | Sum) and (
            event_type is None or event_type in aggregate.filter.types
        ):
            used[aggregate.prop] = None
        for event_filter in event_filters(aggregate):
            if event_type is None or event_type in event_filter.types:
                for node in subexpressions(event_filter.where):
                    if isinstance(node, EventProp):
                        used[node.name] = None
    return list(used)


def aggregate_type(aggregate: Aggregate) -> Type:
    if isinstance(aggregate, Count | CountDistinct | PeriodCount):
        return Type.INT
    if isinstance(aggregate, Last | First):
        return Type.TIMESTAMP
    if isinstance(aggregate, Sequence):
        return Type.BOOL
    return Type.NUMBER


# ---- rules and outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class WhenRule:
    """`points` once if `condition` holds."""

    id: str
    label: str
    condition: Expr
    points: float
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class EachRule:
    """`points * quantity` (quantity an INT or NUMBER aggregate), then capped: with cap M,
    min(total, M) for positive points and max(total, -M) for negative points."""

    id: str
    label: str
    quantity: AggregateRef
    points: float
    cap: float | None = None
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class ResetRule:
    """Sets the score to 0 when `condition` holds, whatever else fired (before clamp)."""

    id: str
    label: str
    condition: Expr
    span: Span = field(default=NO_SPAN, compare=False)


PointsRule = WhenRule | EachRule


@dataclass(frozen=True)
class Group:
    """Rules whose summed points are capped at `cap` (an upper bound only)."""

    label: str
    cap: float
    rules: tuple[PointsRule, ...]


@dataclass(frozen=True)
class Score:
    name: str
    description: str | None
    items: tuple[PointsRule | Group, ...]
    resets: tuple[ResetRule, ...] = ()
    clamp: tuple[float, float] | None = None
    entity: str = LEAD

    @property
    def rules(self) -> tuple[PointsRule | ResetRule, ...]:
        """Every rule in source order of declaration kind: points rules, then resets."""
        flat: list[PointsRule | ResetRule] = []
        for item in self.items:
            flat.extend(item.rules if isinstance(item, Group) else (item,))
        return (*flat, *self.resets)


@dataclass(frozen=True)
class Composite:
    """A score computed from other scores; rounded like every score."""

    name: str
    description: str | None
    expr: Expr
    entity: str = LEAD


@dataclass(frozen=True)
class Tier:
    """First band whose bound the source score reaches (>=) wins; the last has no bound."""

    name: str
    source: str
    bands: tuple[tuple[str, float | None], ...]
    entity: str = LEAD


@dataclass(frozen=True)
class PercentileTier:
    """Bands relative to the scored batch. With N leads and g the number of leads whose
    score is strictly greater, a lead is in the first band `top X%` with g * 100 < X * N;
    the last band has no bound. Ties always share a band."""

    name: str
    source: str
    bands: tuple[tuple[str, float | None], ...]
    entity: str = LEAD


@dataclass(frozen=True)
class Matrix:
    """Cell = letter of the row tier's band (A, B, ...) + number of the column's (1, 2, ...)."""

    name: str
    rows: str
    columns: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    entity: str = LEAD


@dataclass(frozen=True)
class Flag:
    """`needs_bands`: the percentile tiers the condition reads, directly or through matrices
    and other flags. Outside a batch they have no band, and the flag is then False."""

    name: str
    condition: Expr
    needs_bands: tuple[str, ...] = ()
    entity: str = LEAD


@dataclass(frozen=True)
class FieldType:
    name: str
    type: Type
    optional: bool = False


@dataclass(frozen=True)
class EventType:
    name: str
    properties: tuple[FieldType, ...]


@dataclass(frozen=True)
class TestEvent:
    type: str
    at: datetime
    properties: tuple[tuple[str, str | int | float | bool | datetime | None], ...]


TestValue = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class Expectation:
    """A condition over the outputs (ScoreRef, TierRef, FlagRef, MatrixRef) of one entity:
    the account's (`entity` ACCOUNT), or a lead's: the lead whose key is `lead`, or the test's
    only lead when `lead` is None."""

    condition: Expr
    text: str
    span: Span = field(default=NO_SPAN, compare=False)
    entity: str = LEAD
    lead: str | None = None


@dataclass(frozen=True)
class TestLead:
    """One lead of an account test, with its own events."""

    record: tuple[tuple[str, TestValue], ...]
    events: tuple[TestEvent, ...]


@dataclass(frozen=True)
class TestCase:
    """A test block. A lead test has `lead` and `events`; an account test has the `account`
    record and its `leads` (each lead's link field set to the account's key when the block
    leaves it out), `lead` and `events` then empty."""

    name: str
    lead: tuple[tuple[str, TestValue], ...]
    events: tuple[TestEvent, ...]
    as_of: datetime
    expectations: tuple[Expectation, ...]
    span: Span = field(default=NO_SPAN, compare=False)
    account: tuple[tuple[str, TestValue], ...] | None = None
    leads: tuple[TestLead, ...] = ()


@dataclass(frozen=True)
class Entity:
    """A kind of thing that is scored, with its key and fields; every output belongs to one:
    `lead` always, `account` when declared (`account { ... }`)."""

    name: str
    key: str
    fields: tuple[FieldType, ...]


@dataclass(frozen=True)
class EntityOutputs:
    """The outputs of one entity, per kind, in the IR's order."""

    scores: tuple[Score, ...]
    composites: tuple[Composite, ...]
    tiers: tuple[Tier, ...]
    percentile_tiers: tuple[PercentileTier, ...]
    matrices: tuple[Matrix, ...]
    flags: tuple[Flag, ...]

    @property
    def score_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scores) + tuple(c.name for c in self.composites)

    @property
    def names(self) -> tuple[str, ...]:
        """Every output's name, in column order."""
        return (
            *self.score_names,
            *(t.name for t in self.tiers),
            *(t.name for t in self.percentile_tiers),
            *(m.name for m in self.matrices),
            *(f.name for f in self.flags),
        )


@dataclass(frozen=True)
class Model:
    """A checked model. Outputs of every entity share the kind tuples (`scores`, ...; each
    says its `entity`): a consumer that only handles leads reads `outputs_of(LEAD)`,
    `score_names` and `output_columns`, which are the lead's. Within one entity and kind,
    outputs come in dependency order; across kinds and entities (a lead score reading an
    account tier that rolls up a lead composite) compiler.output_graph.OutputGraph gives the
    order: scores, composites, tiers, percentile tiers, matrices, flags is an evaluation order
    only for a model without an account.

    `key` and `lead_fields` are the lead entity's (`entities` holds it); `account` is the
    account entity when declared, and `account_link` the lead field holding its key (None:
    no lead has an account)."""

    name: str
    description: str | None
    key: str
    lead_fields: tuple[FieldType, ...]
    event_types: tuple[EventType, ...]
    aggregates: tuple[AggregateNode, ...]
    scores: tuple[Score, ...]
    composites: tuple[Composite, ...] = ()
    tiers: tuple[Tier, ...] = ()
    percentile_tiers: tuple[PercentileTier, ...] = ()
    matrices: tuple[Matrix, ...] = ()
    flags: tuple[Flag, ...] = ()
    tests: tuple[TestCase, ...] = ()
    account: Entity | None = None
    account_link: str | None = None
    entities: tuple[Entity, ...] = field(init=False, repr=False, compare=False)
    _aggregates: Mapping[str, AggregateNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lead = Entity(LEAD, self.key, self.lead_fields)
        entities = (lead,) if self.account is None else (lead, self.account)
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "_aggregates", {a.id: a for a in self.aggregates})

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    def outputs_of(self, entity: str) -> EntityOutputs:
        """The outputs of one entity (none for an entity the model does not declare)."""

        return EntityOutputs(
            *(
                tuple(o for o in getattr(self, f.name) if o.entity == entity)
                for f in fields(EntityOutputs)
            )
        )

    def aggregates_of(self, entity: str) -> tuple[AggregateNode, ...]:
        return tuple(a for a in self.aggregates if a.entity == entity)

    def entity_of_output(self, name: str) -> str:
        """The entity an output (by name: one namespace across entities) belongs to."""
        for f in fields(EntityOutputs):
            for output in getattr(self, f.name):
                if output.name == name:
                    return output.entity
        raise KeyError(name)

    @property
    def score_names(self) -> tuple[str, ...]:
        """The lead's scores and composites (`outputs_of(ACCOUNT).score_names`: the account's)."""
        return self.outputs_of(LEAD).score_names

    @property
    def used_event_types(self) -> tuple[str, ...]:
        """The event types some aggregate reads: the SQL scan filters to these."""
        return self.event_types_read(self.aggregates)

    def event_types_read(self, aggregates: Iterable[AggregateNode]) -> tuple[str, ...]:
        """The event types these aggregates read, in declaration order."""
        used = {t for a in aggregates for f in event_filters(a) for t in f.types}
        return tuple(t.name for t in self.event_types if t.name in used)

    def columns_of(self, entity: str) -> tuple[str, ...]:
        """The columns of every target's result for one entity, in order: its key, scores,
        tiers, percentile tiers, matrices, flags, then one column per rule of its scores (its
        points after its own `max`, rounded like a score; a boolean for reset rules). Empty for
        an entity the model does not declare."""
        if entity not in (e.name for e in self.entities):
            return ()
        outputs = self.outputs_of(entity)
        rule_ids = tuple(rule.id for score in outputs.scores for rule in score.rules)
        return (self.entity(entity).key, *outputs.names, *rule_ids)

    @property
    def output_columns(self) -> tuple[str, ...]:
        """The lead view's columns (`columns_of(LEAD)`): the Python evaluator's lead rows and
        the `<model>_scores` view agree."""
        return self.columns_of(LEAD)

    @property
    def account_output_columns(self) -> tuple[str, ...]:
        """The account view's columns (`columns_of(ACCOUNT)`; empty without an account): the
        Python evaluator's account rows and the `<model>_account_scores` view agree."""
        return self.columns_of(ACCOUNT)

    def aggregate(self, id: str) -> AggregateNode:
        return self._aggregates[id]
