"""Where every name is declared and used, across a model's files, built from the AST.

The checker resolves names but keeps no positions of the uses; the editor needs them for
go to definition, references and rename. A name is keyed by what it refers to: `("name", x)`
for anything in the model's one namespace (lead fields, event types, consts, segments,
outputs), `("prop", p)` for an event property (events share one wide table, so a property
name means one column whichever event declares it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..compiler import ast
from ..compiler.symbols import DECL_KINDS

Key = tuple[str, str]
PROPERTY_ARGUMENT = ("count_distinct", "sum")  # `sum(invite_sent within 30d, seats)`


@dataclass(frozen=True)
class Occurrence:
    key: Key
    span: ast.Span  # the name alone
    definition: bool


@dataclass(frozen=True)
class SymbolIndex:
    occurrences: tuple[Occurrence, ...]

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based position, if any (its end column included)."""
        for occurrence in self.occurrences:
            span = occurrence.span
            if span.file == file and span.line == line and span.column <= column <= span.end_column:
                return occurrence
        return None

    def definitions(self, key: Key) -> list[ast.Span]:
        return [o.span for o in self.occurrences if o.key == key and o.definition]

    def references(self, key: Key, include_definitions: bool = True) -> list[ast.Span]:
        return [
            o.span
            for o in self.occurrences
            if o.key == key and (include_definitions or not o.definition)
        ]


def build_index(modules: Mapping[str, ast.Module]) -> SymbolIndex:
    properties = frozenset(
        prop.name.text
        for module in modules.values()
        for decl in module.decls
        if isinstance(decl, ast.EventDecl)
        for prop in decl.properties
    )
    occurrences: list[Occurrence] = []
    for module in modules.values():
        occurrences.extend(_module(module, properties))
    return SymbolIndex(tuple(occurrences))


def _module(module: ast.Module, properties: frozenset[str]) -> Iterator[Occurrence]:
    for decl in module.decls:
        if isinstance(decl, ast.LeadDecl):
            for field in decl.fields:
                yield Occurrence(("name", field.name.text), field.name.span, True)
        elif isinstance(decl, ast.TestDecl):
            yield from _test(decl, properties)
        elif type(decl) in DECL_KINDS:
            yield Occurrence(("name", decl.name.text), decl.name.span, True)
            if isinstance(decl, ast.EventDecl):
                for prop in decl.properties:
                    yield Occurrence(("prop", prop.name.text), prop.name.span, True)
            elif isinstance(decl, ast.TierDecl | ast.PercentileTierDecl):
                yield Occurrence(("name", decl.source.text), decl.source.span, False)
            elif isinstance(decl, ast.MatrixDecl):
                yield Occurrence(("name", decl.rows.text), decl.rows.span, False)
                yield Occurrence(("name", decl.columns.text), decl.columns.span, False)
            yield from _uses(decl, properties, in_where=False)


def _test(test: ast.TestDecl, properties: frozenset[str]) -> Iterator[Occurrence]:
    for pair in test.lead:
        yield Occurrence(("name", pair.key.text), pair.key.span, False)
    for event in test.events:
        yield Occurrence(("name", event.type.text), event.type.span, False)
        for pair in event.properties:
            yield Occurrence(("prop", pair.key.text), pair.key.span, False)
    for expect in test.expects:
        yield from _uses(expect, properties, in_where=False)


def _uses(node: object, properties: frozenset[str], in_where: bool) -> Iterator[Occurrence]:
    """Names used below `node`; after `where`, a bare name is a property (or a const)."""
    if isinstance(node, tuple):
        for item in node:
            yield from _uses(item, properties, in_where)
        return
    if not isinstance(node, ast.Node):
        return
    if isinstance(node, ast.Name):
        kind = "prop" if in_where and node.name in properties else "name"
        yield Occurrence((kind, node.name), node.span, False)
        return
    if isinstance(node, ast.QualifiedName):
        span = node.span
        start = span.end_column - len(node.name)
        name_span = dataclasses.replace(
            span, column=start, line=span.end_line, start=span.end - len(node.name)
        )
        yield Occurrence(("name", node.name), name_span, False)
        return
    if isinstance(node, ast.Call) and node.function in PROPERTY_ARGUMENT and len(node.args) == 2:
        yield from _uses(node.args[0], properties, in_where)
        yield from _uses(node.args[1], properties, True)
        return
    if isinstance(node, ast.Where):
        yield from _uses(node.source, properties, in_where)
        yield from _uses(node.condition, properties, True)
        return
    for f in dataclasses.fields(node):
        if f.name != "span":
            yield from _uses(getattr(node, f.name), properties, in_where)
