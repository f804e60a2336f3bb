"""The syntax of a `.score` file as frozen dataclasses, each node carrying its source span.

The AST is what the user wrote, names unresolved: the checker gives names their meaning
and `compiler.lower` turns the checked model into the IR the targets consume.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import cache


@dataclass(frozen=True, order=True)
class Span:
    """A region of one source file; lines and columns are 1-based, offsets 0-based."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<generated>", 0, 0, 0, 0)


@dataclass(frozen=True)
class Node:
    """A piece of one file: equality and hashing include the span, so the same text at two
    places is two nodes (a table keyed by nodes keeps both). `same_syntax` compares what
    was written, wherever it stands."""

    span: Span = field(default=NO_SPAN, repr=False, kw_only=True)


@cache
def child_fields(cls: type) -> tuple[str, ...]:
    """The names of a node class's fields but its span, in declaration (source) order;
    looked up once per class, as every walk over the tree asks for them."""
    return tuple(f.name for f in fields(cls) if f.name != "span")


def children(node: Node) -> Iterator[object]:
    """A node's field values but its span (nodes, tuples of nodes, plain values)."""
    return (getattr(node, name) for name in child_fields(type(node)))


def walk(node: object) -> Iterator[Node]:
    """The node (or tuple of nodes) and every node below it, depth first, in source order."""
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item)
        return
    if not isinstance(node, Node):
        return
    yield node
    for child in children(node):
        yield from walk(child)


def syntax_key(node: object) -> object:
    """A hashable value equal for nodes written alike, wherever they stand (spans left out):
    for finding the same condition twice, or comparing a file with its formatted text."""
    if isinstance(node, tuple):
        return tuple(syntax_key(item) for item in node)
    if isinstance(node, Node):
        return (type(node), *(syntax_key(child) for child in children(node)))
    return node


def same_syntax(left: object, right: object) -> bool:
    return syntax_key(left) == syntax_key(right)


@dataclass(frozen=True)
class Ident(Node):
    text: str


# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class Number(Expr):
    value: float
    text: str


@dataclass(frozen=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True)
class Duration(Expr):
    """A length of time such as `7d`; `seconds` is exact for every unit the language has."""

    seconds: float
    text: str


@dataclass(frozen=True)
class Regex(Expr):
    pattern: str
    flags: str


@dataclass(frozen=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class QualifiedName(Expr):
    """`lead.industry`, `account.heat` (the lead's account), `leads.fit` (inside a roll-up):
    the qualifier is checked."""

    qualifier: str
    name: str


@dataclass(frozen=True)
class Call(Expr):
    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True)
class Arith(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # and | or
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class In(Expr):
    value: Expr
    options: Expr
    negated: bool = False


@dataclass(frozen=True)
class Between(Expr):
    """`x between lo and hi`, inclusive at both ends."""

    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class StringTest(Expr):
    op: str  # contains | starts_with | ends_with
    value: Expr
    operand: Expr


@dataclass(frozen=True)
class Matches(Expr):
    value: Expr
    pattern: Regex | Name


@dataclass(frozen=True)
class IsMissing(Expr):
    operand: Expr
    negated: bool = False  # `is present`


@dataclass(frozen=True)
class TopN(Expr):
    """`top 3 leads.engagement`: the N largest values, only inside `avg(...)` of leads."""

    count: Number
    operand: Expr


# Event sets. A bare `Name` naming an event type is an event set too; these add to it.


@dataclass(frozen=True)
class Activity(Expr):
    """Any event of any declared type."""


@dataclass(frozen=True)
class Visited(Expr):
    """`visited "/path"`: page views of a URL; a trailing `*` makes it a prefix."""

    path: str


@dataclass(frozen=True)
class Where(Expr):
    source: Expr
    condition: Expr


@dataclass(frozen=True)
class Within(Expr):
    """`E within D`: events with `as_of - D < at <= as_of`. Also the gap of a sequence."""

    source: Expr
    duration: Duration


@dataclass(frozen=True)
class BetweenAgo(Expr):
    """`E between D1 and D2 ago`: events with `as_of - D2 < at <= as_of - D1`."""

    source: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class No(Expr):
    operand: Expr


@dataclass(frozen=True)
class Then(Expr):
    """`A then B within D`, parsed as `Then(A, Within(B, D))`; the checker reads the gap."""

    first: Expr
    second: Expr


# ---- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Points(Node):
    sign: int  # +1 or -1
    value: Number | Name


@dataclass(frozen=True)
class Reset(Node):
    pass


@dataclass(frozen=True)
class MaxOption(Node):
    value: Number | Name


@dataclass(frozen=True)
class DecayOption(Node):
    half_life: Duration


@dataclass(frozen=True)
class LinearDecayOption(Node):
    percent: Number
    period: Duration


@dataclass(frozen=True)
class OncePerOption(Node):
    period: Duration


EachOption = MaxOption | DecayOption | LinearDecayOption | OncePerOption


@dataclass(frozen=True)
class WhenRule(Node):
    condition: Expr
    award: Points | Reset
    label: String | None = None


@dataclass(frozen=True)
class EachRule(Node):
    events: Expr
    points: Points
    options: tuple[EachOption, ...] = ()
    label: String | None = None


@dataclass(frozen=True)
class GroupRule(Node):
    name: String
    max: Number | Name
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class ClampRule(Node):
    low: Number
    high: Number


Rule = WhenRule | EachRule | GroupRule | ClampRule


# ---- declarations ------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeRef(Node):
    name: str
    optional: bool = False


@dataclass(frozen=True)
class FieldDecl(Node):
    name: Ident
    type: TypeRef
    key: bool = False
    link: bool = False  # `account`: the lead field holding its account's key


@dataclass(frozen=True)
class ModelDecl(Node):
    name: Ident
    description: str | None = None


@dataclass(frozen=True)
class ImportDecl(Node):
    path: String


@dataclass(frozen=True)
class LeadDecl(Node):
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class AccountDecl(Node):
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class EventDecl(Node):
    name: Ident
    properties: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class ConstDecl(Node):
    name: Ident
    value: Expr


@dataclass(frozen=True)
class SegmentDecl(Node):
    name: Ident
    condition: Expr


@dataclass(frozen=True)
class ScoreDecl(Node):
    name: Ident
    description: str | None
    rules: tuple[Rule, ...]
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class CompositeDecl(Node):
    name: Ident
    description: str | None
    expr: Expr
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class TierBand(Node):
    label: Ident
    bound: Number | None  # None: the final catch-all band


@dataclass(frozen=True)
class TierDecl(Node):
    name: Ident
    source: Ident
    bands: tuple[TierBand, ...]
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class PercentileBand(Node):
    label: Ident
    top_percent: Number | None


@dataclass(frozen=True)
class PercentileTierDecl(Node):
    name: Ident
    source: Ident
    bands: tuple[PercentileBand, ...]
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class MatrixDecl(Node):
    """Cells are named by the row tier's band letter (A, B, ...) and the column's number."""

    name: Ident
    rows: Ident
    columns: Ident
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class FlagDecl(Node):
    name: Ident
    condition: Expr
    entity: str = "lead"  # "account": declared `account score ...`


@dataclass(frozen=True)
class Pair(Node):
    key: Ident
    value: Expr


@dataclass(frozen=True)
class TestEvent(Node):
    type: Ident
    properties: tuple[Pair, ...]
    at: Expr


@dataclass(frozen=True)
class Expect(Node):
    """`expect C` reads the lead's outputs; `expect account C` the account's; `expect lead
    "k" C` those of the test's lead whose key is k."""

    condition: Expr
    tier: bool = False  # written `expect tier x == "a"`; kept for the formatter
    account: bool = False
    lead: String | None = None


@dataclass(frozen=True)
class TestLead(Node):
    """A lead of an account test with the events written after it."""

    record: tuple[Pair, ...]
    events: tuple[TestEvent, ...] = ()


@dataclass(frozen=True)
class TestDecl(Node):
    """A lead test (`lead`, `events`), or an account test (`account` set): then every lead
    block with the events after it is one of `leads`."""

    name: String
    lead: tuple[Pair, ...] = ()
    events: tuple[TestEvent, ...] = ()
    as_of: Expr | None = None
    expects: tuple[Expect, ...] = ()
    account: tuple[Pair, ...] | None = None
    leads: tuple[TestLead, ...] = ()


Decl = (
    ModelDecl
    | ImportDecl
    | LeadDecl
    | AccountDecl
    | EventDecl
    | ConstDecl
    | SegmentDecl
    | ScoreDecl
    | CompositeDecl
    | TierDecl
    | PercentileTierDecl
    | MatrixDecl
    | FlagDecl
    | TestDecl
)


@dataclass(frozen=True)
class Comment(Node):
    text: str


@dataclass(frozen=True)
class Module(Node):
    """One parsed file. Comments are kept apart, by position, for the formatter."""

    path: str
    source: str
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = ()
