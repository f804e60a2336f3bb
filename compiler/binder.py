"""The binder: every name in a model's files, where it stands, what it refers to and its type.

The checker resolves names as it builds the IR but keeps no positions; tools do (the
language server's hover, go to definition, references and rename). A name is keyed by what
it refers to: `("name", x)` for anything in the model's one namespace (lead fields, event
types, consts, segments, outputs), `("prop", p)` for an event property (events share one
wide table, so a property name is one column whichever event declares it), `("account", f)`
for an account field (their own namespace: bare inside account outputs, `account.f` from a
lead). Spans, not AST
nodes, key the table: equal nodes at different places are different uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from . import ast, ir, rollups
from .symbols import DECL_KINDS, Symbol, Symbols

Key = tuple[str, str]
PROPERTY_ARGUMENT = ("count_distinct", "sum")  # `sum(invite_sent within 30d, seats)`
# The value type of each output kind (a score is a number, a tier names a band, ...).
OUTPUT_TYPES = {
    "score": ir.Type.NUMBER,
    "composite": ir.Type.NUMBER,
    "tier": ir.Type.STRING,
    "percentile_tier": ir.Type.STRING,
    "matrix": ir.Type.STRING,
    "flag": ir.Type.BOOL,
    "segment": ir.Type.BOOL,
}


@dataclass(frozen=True)
class Binding:
    key: Key
    span: ast.Span  # the name alone
    definition: bool
    symbol: Symbol | None  # its entry in the declaration table; None for a property or unknown
    type: ir.Type | None  # the value it stands for, when it is a value
    optional: bool = False  # a lead field or property that may be missing


@dataclass(frozen=True)
class Bindings:
    bindings: tuple[Binding, ...]
    _by_line: dict[tuple[str, int], list[Binding]] = field(init=False, repr=False, compare=False)
    _by_key: dict[Key, list[Binding]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_line: dict[tuple[str, int], list[Binding]] = {}
        by_key: dict[Key, list[Binding]] = {}
        for binding in self.bindings:
            by_line.setdefault((binding.span.file, binding.span.line), []).append(binding)
            by_key.setdefault(binding.key, []).append(binding)
        object.__setattr__(self, "_by_line", by_line)
        object.__setattr__(self, "_by_key", by_key)

    def at(self, file: str, line: int, column: int) -> Binding | None:
        """The name under a 1-based position, if any (its end column included)."""
        for binding in self._by_line.get((file, line), ()):
            if binding.span.column <= column <= binding.span.end_column:
                return binding
        return None

    def definitions(self, key: Key) -> list[ast.Span]:
        return [b.span for b in self._by_key.get(key, ()) if b.definition]

    def references(self, key: Key, include_definitions: bool = True) -> list[ast.Span]:
        return [
            b.span for b in self._by_key.get(key, ()) if include_definitions or not b.definition
        ]


def bind(modules: Mapping[str, ast.Module], symbols: Symbols | None) -> Bindings:
    """The bindings of every name in `modules` (the root and the files it imports); types
    come from the declaration table when there is one."""
    properties = frozenset(
        prop.name.text
        for module in modules.values()
        for decl in module.decls
        if isinstance(decl, ast.EventDecl)
        for prop in decl.properties
    )
    account_fields = frozenset(
        f.name.text
        for module in modules.values()
        for decl in module.decls
        if isinstance(decl, ast.AccountDecl)
        for f in decl.fields
    )
    typer = _Typer(symbols)
    return Bindings(
        tuple(
            typer.bind(key, span, definition)
            for module in modules.values()
            for key, span, definition in _module(module, _Names(properties, account_fields))
        )
    )


@dataclass(frozen=True)
class _Names:
    """What a bare or qualified name may be, beside the one namespace."""

    properties: frozenset[str]
    account_fields: frozenset[str]
    in_account: bool = False  # inside an account output, outside its roll-ups

    def account(self, in_account: bool) -> _Names:
        return dataclasses.replace(self, in_account=in_account)


@dataclass(frozen=True)
class _Typer:
    symbols: Symbols | None

    def bind(self, key: Key, span: ast.Span, definition: bool) -> Binding:
        kind, name = key
        symbols = self.symbols
        if symbols is None:
            return Binding(key, span, definition, None, None)
        if kind == "account":
            typed = symbols.account_field(name)
            return Binding(
                key, span, definition, None, typed and typed.type, bool(typed and typed.optional)
            )
        if kind == "prop":
            prop = next(
                (p for e in symbols.event_types for p in e.properties if p.name == name), None
            )
            type_ = symbols.properties.get(name)
            return Binding(key, span, definition, None, type_, bool(prop and prop.optional))
        symbol = symbols.names.get(name)
        if symbol is None:
            return Binding(key, span, definition, None, None)
        if symbol.kind == "field":
            typed = symbols.lead_field(name)
            return Binding(
                key, span, definition, symbol, typed and typed.type, bool(typed and typed.optional)
            )
        if symbol.kind == "const":
            assert isinstance(symbol.decl, ast.ConstDecl)
            return Binding(key, span, definition, symbol, _literal_type(symbol.decl.value))
        return Binding(key, span, definition, symbol, OUTPUT_TYPES.get(symbol.kind))


def _literal_type(node: ast.Expr) -> ir.Type | None:
    if isinstance(node, ast.Neg):
        return _literal_type(node.operand)
    if isinstance(node, ast.Number):
        return ir.Type.NUMBER if any(c in node.text for c in ".eE") else ir.Type.INT
    return {ast.String: ir.Type.STRING, ast.Bool: ir.Type.BOOL}.get(type(node))


Use = tuple[Key, ast.Span, bool]  # what, where, whether it declares


def _module(module: ast.Module, names: _Names) -> Iterator[Use]:
    for decl in module.decls:
        if isinstance(decl, ast.LeadDecl):
            for lead_field in decl.fields:
                yield ("name", lead_field.name.text), lead_field.name.span, True
        elif isinstance(decl, ast.AccountDecl):
            for account_field in decl.fields:
                yield ("account", account_field.name.text), account_field.name.span, True
        elif isinstance(decl, ast.TestDecl):
            yield from _test(decl, names)
        elif type(decl) in DECL_KINDS:
            yield ("name", decl.name.text), decl.name.span, True
            if isinstance(decl, ast.EventDecl):
                for prop in decl.properties:
                    yield ("prop", prop.name.text), prop.name.span, True
            elif isinstance(decl, ast.TierDecl | ast.PercentileTierDecl):
                yield ("name", decl.source.text), decl.source.span, False
            elif isinstance(decl, ast.MatrixDecl):
                yield ("name", decl.rows.text), decl.rows.span, False
                yield ("name", decl.columns.text), decl.columns.span, False
            in_account = getattr(decl, "entity", ir.LEAD) == ir.ACCOUNT
            yield from _uses(decl, names.account(in_account), in_where=False)


def _test(test: ast.TestDecl, names: _Names) -> Iterator[Use]:
    for pair in test.account or ():
        yield ("account", pair.key.text), pair.key.span, False
    blocks = [(test.lead, test.events), *((lead.record, lead.events) for lead in test.leads)]
    for record, events in blocks:
        for pair in record:
            yield ("name", pair.key.text), pair.key.span, False
        for event in events:
            yield ("name", event.type.text), event.type.span, False
            for pair in event.properties:
                yield ("prop", pair.key.text), pair.key.span, False
    for expect in test.expects:
        yield from _uses(expect, names, in_where=False)


def _uses(node: object, names: _Names, in_where: bool) -> Iterator[Use]:
    """Names used below `node`; after `where`, a bare name is a property (or a const); inside
    an account output, an account field; a roll-up's argument reads leads."""
    if isinstance(node, tuple):
        for item in node:
            yield from _uses(item, names, in_where)
        return
    if not isinstance(node, ast.Node):
        return
    if isinstance(node, ast.Name):
        if in_where and node.name in names.properties:
            kind = "prop"
        elif names.in_account and node.name in names.account_fields:
            kind = "account"
        else:
            kind = "name"
        yield (kind, node.name), node.span, False
        return
    if isinstance(node, ast.QualifiedName):
        span = node.span
        start = span.end_column - len(node.name)
        name_span = dataclasses.replace(
            span, column=start, line=span.end_line, start=span.end - len(node.name)
        )
        account_field = node.qualifier == "account" and node.name in names.account_fields
        yield ("account" if account_field else "name", node.name), name_span, False
        return
    if isinstance(node, ast.Call) and rollups.is_rollup(node):
        yield from _uses(node.args, names.account(False), in_where=False)
        return
    if isinstance(node, ast.Call) and node.function in PROPERTY_ARGUMENT and len(node.args) == 2:
        yield from _uses(node.args[0], names, in_where)
        yield from _uses(node.args[1], names, True)
        return
    if isinstance(node, ast.Where):
        yield from _uses(node.source, names, in_where)
        yield from _uses(node.condition, names, True)
        return
    for child in ast.children(node):
        yield from _uses(child, names, in_where)
